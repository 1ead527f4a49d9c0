"""Assigning reviewers to files, by hand or from the automatic proposal (the pure algorithm is
aap/review/allocation.py), and telling each reviewer of their new files in one e-mail.

apply_assignment and notify_reviewers flush: the caller (the view) commits the unit of work.
"""
from collections import defaultdict

from sqlalchemy import func
from sqlalchemy.orm import joinedload

from .. import timeutil
from ..database import lock
from ..events import record
from ..extensions import db
from ..mail import queue_mail
from ..models import Application, Assignment, Conflict, User
from ..models.review import REVIEW_SUBMITTED
from ..models.users import REVIEWER
from ..urls import absolute_url
from . import allocation as algorithm
from .errors import ReviewError, StaleProposal
from .states import ASSIGNABLE_STATES, find_assignment, find_review, refresh_state, review_link, start_review


def ineligibility(call, application, reviewer):
    """Why this reviewer may not get this file (French), or None."""
    if reviewer.role != REVIEWER or not reviewer.active:
        return "Cette personne n'est pas un évaluateur actif."
    if application.call_id != call.id:
        return "Ce dossier n'appartient pas à cet appel."
    if application.status not in ASSIGNABLE_STATES:
        return f"Le dossier est à l'état « {application.status_label} » : il ne peut pas recevoir d'évaluateur."
    if find_assignment(application, reviewer) is not None:
        return "Cet évaluateur est déjà affecté à ce dossier."
    if db.session.scalar(db.select(func.count(Conflict.id)).where(
            Conflict.reviewer_id == reviewer.id, Conflict.association_id == application.association_id)):
        return "Cet évaluateur a déclaré un lien d'intérêts avec cette association."
    if call.avoid_same_region and reviewer.region_code and reviewer.region_code == application.region_code:
        return ("Cet évaluateur est de la même région que l'association, et l'appel exclut "
                "les évaluations dans sa propre région.")
    return None


def assign(application, reviewer, actor):
    """Staff assign one reviewer to one file (notified later, with their other new files)."""
    application = lock(application)
    problem = ineligibility(application.call, application, reviewer)
    if problem:
        raise ReviewError(f"{reviewer.full_name} ne peut pas être affecté à ce dossier : {problem}")
    assignment = Assignment(application_id=application.id, reviewer_id=reviewer.id, assigned_by_id=actor.id)
    db.session.add(assignment)
    start_review(application, actor, "Affectation des évaluateurs.")
    record("reviewer_assigned", actor=actor, application=application, reviewer_id=reviewer.id, manual=True)
    db.session.commit()
    return assignment


def unassign(application, reviewer, actor):
    assignment = find_assignment(application, reviewer)
    if assignment is None:
        raise ReviewError("Cet évaluateur n'est pas affecté à ce dossier.")
    review = find_review(application, reviewer)
    if review is not None and review.status == REVIEW_SUBMITTED:
        raise ReviewError(f"{reviewer.full_name} a déjà envoyé son évaluation : "
                          "rouvrez-la d'abord si elle doit être retirée.")
    if review is not None:
        db.session.delete(review)
    if assignment.notified_at is not None:  # told of the file, so told it is no longer theirs
        queue_mail(reviewer.email, f"Le dossier {application.reference} ne vous est plus affecté",
                   "review_unassigned", reviewer=reviewer, application=application, call=application.call,
                   draft_deleted=review is not None, dashboard_link=absolute_url("main.dashboard"))
    db.session.delete(assignment)
    record("reviewer_unassigned", actor=actor, application=application, reviewer_id=reviewer.id,
           draft_deleted=review is not None)
    refresh_state(application, actor)
    db.session.commit()


def active_reviewers():
    """Reviewers who can be assigned: active accounts that have been activated."""
    return db.session.scalars(
        db.select(User).where(User.role == REVIEWER, User.active.is_(True), User.password_hash.is_not(None))
        .order_by(User.last_name, User.first_name, User.id)).all()


def assignment_inputs(call):
    """The algorithm's inputs for a call, read in a fixed number of queries."""
    applications = db.session.scalars(
        db.select(Application).options(joinedload(Application.association))
        .where(Application.call_id == call.id, Application.status.in_(ASSIGNABLE_STATES))
        .order_by(Application.id)).all()
    reviewers = active_reviewers()
    assigned = defaultdict(set)
    loads = defaultdict(int)
    for application_id, reviewer_id in db.session.execute(
            db.select(Assignment.application_id, Assignment.reviewer_id)
            .join(Application, Application.id == Assignment.application_id)
            .where(Application.call_id == call.id)):
        assigned[application_id].add(reviewer_id)
        loads[reviewer_id] += 1
    by_association = defaultdict(list)
    for application in applications:
        by_association[application.association_id].append(application.id)
    conflicts = set()
    if by_association:
        for reviewer_id, association_id in db.session.execute(
                db.select(Conflict.reviewer_id, Conflict.association_id)
                .where(Conflict.association_id.in_(list(by_association)))):
            conflicts.update((reviewer_id, application_id) for application_id in by_association[association_id])
    files = [algorithm.FileSpec(a.id, a.region_code, frozenset(assigned[a.id])) for a in applications]
    specs = [algorithm.ReviewerSpec(r.id, r.region_code) for r in reviewers]
    return {"applications": applications, "reviewers": reviewers, "files": files, "specs": specs,
            "conflicts": conflicts, "loads": {r.id: loads[r.id] for r in reviewers}}


def propose_assignment(call):
    """Compute (without saving) the automatic assignment. Returns (proposal, inputs)."""
    inputs = assignment_inputs(call)
    proposal = algorithm.propose(inputs["files"], inputs["specs"], inputs["conflicts"],
                                 call.reviewers_per_file, call.avoid_same_region, inputs["loads"])
    return proposal, inputs


def apply_assignment(call, actor, signature):
    """Apply the proposal that was shown (identified by its signature), then notify reviewers.

    The proposal is recomputed from the current data: if it is not the one shown, nothing is
    applied and StaleProposal carries the new one.
    """
    proposal, inputs = propose_assignment(call)
    if proposal.signature != signature:
        raise StaleProposal(proposal)
    applications = {a.id: a for a in inputs["applications"]}
    for application_id, reviewer_id in proposal.pairs:
        db.session.add(Assignment(application_id=application_id, reviewer_id=reviewer_id,
                                  assigned_by_id=actor.id))
    for application_id in sorted({a for a, _ in proposal.pairs}):
        application = applications[application_id]
        reviewers = [r for a, r in proposal.pairs if a == application_id]
        start_review(application, actor, "Affectation automatique des évaluateurs.")
        record("reviewer_assigned", actor=actor, application=application, reviewer_ids=reviewers, manual=False)
    record("auto_assignment_applied", actor=actor, call_id=call.id, pairs=len(proposal.pairs),
           uncovered=[fid for fid, _ in proposal.uncovered], signature=proposal.signature)
    db.session.flush()
    return proposal, notify_reviewers(call, actor)


def pending_notifications(call):
    return db.session.scalar(
        db.select(func.count(Assignment.id)).join(Application, Application.id == Assignment.application_id)
        .where(Application.call_id == call.id, Assignment.notified_at.is_(None)))


def notify_reviewers(call, actor):
    """One e-mail per reviewer listing all their assignments not yet notified. Returns the count."""
    assignments = db.session.scalars(
        db.select(Assignment)
        .options(joinedload(Assignment.reviewer),
                 joinedload(Assignment.application).joinedload(Application.association))
        .join(Application, Application.id == Assignment.application_id)
        .where(Application.call_id == call.id, Assignment.notified_at.is_(None))
        .order_by(Assignment.reviewer_id, Application.reference, Application.id)).all()
    by_reviewer = defaultdict(list)
    for assignment in assignments:
        by_reviewer[assignment.reviewer_id].append(assignment)
    now = timeutil.now()
    for items in by_reviewer.values():
        reviewer = items[0].reviewer
        files = [(a.application, review_link(a.application)) for a in items]
        subject = ("Un dossier vous est affecté" if len(files) == 1
                   else f"{len(files)} dossiers vous sont affectés") + f" — {call.title}"
        queue_mail(reviewer.email, subject, "review_assigned", reviewer=reviewer, call=call, files=files,
                   conflicts_link=absolute_url("review.my_conflicts"))
        for assignment in items:
            assignment.notified_at = now
    if by_reviewer:
        record("reviewers_notified", actor=actor, call_id=call.id, reviewer_ids=sorted(by_reviewer),
               assignments=len(assignments))
    db.session.flush()
    return len(by_reviewer)
