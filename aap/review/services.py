"""Review domain services: conflicts of interest, assignment, reviews, reminders.

The only place where the review domain changes the database. Each function records its
events and queues its e-mails in the same transaction, then commits. No HTTP here.
"""
import re
from collections import defaultdict
from datetime import timedelta

from flask import url_for
from sqlalchemy import func
from sqlalchemy.orm import joinedload, selectinload

from .. import timeutil
from ..database import lock
from ..events import change_state, record
from ..extensions import db
from ..mail import queue_mail
from ..models import Application, Assignment, Association, Conflict, Review, Score, User
from ..models.applications import ADMISSIBLE, IN_REVIEW, REVIEWED
from ..models.review import RECOMMENDATION_LABELS, REVIEW_DRAFT, REVIEW_SUBMITTED
from ..models.users import REVIEWER
from ..textrules import LIKE_ESCAPE, like_pattern
from . import assignment as algorithm

ASSIGNABLE_STATES = (ADMISSIBLE, IN_REVIEW)


class ReviewError(Exception):
    """A refusal to show to the user (French message)."""


class IncompleteReview(ReviewError):
    """Submission refused: `problems` maps form field names to French messages."""

    def __init__(self, problems):
        super().__init__("L'évaluation est incomplète : " + " ".join(problems.values()))
        self.problems = problems


class StaleProposal(ReviewError):
    """The data changed since the proposal was shown: `proposal` is the new one."""

    def __init__(self, proposal):
        super().__init__("Les données ont changé depuis l'affichage de la proposition : "
                         "vérifiez la nouvelle proposition avant de confirmer.")
        self.proposal = proposal


# --- Helpers ------------------------------------------------------------------------------

def _review_link(application):
    return url_for("review.review", application_id=application.id, _external=True)


def _counts(application):
    """(assigned, submitted) reviewers of one file."""
    assigned = db.session.scalar(
        db.select(func.count(Assignment.id)).where(Assignment.application_id == application.id))
    submitted = db.session.scalar(
        db.select(func.count(Review.id)).where(Review.application_id == application.id,
                                               Review.status == REVIEW_SUBMITTED))
    return assigned, submitted


def start_review(application, actor, reason):
    """Admissible → in review: the file's first reviewer is assigned (no change otherwise)."""
    application = lock(application)
    if application.status == ADMISSIBLE:
        change_state(application, IN_REVIEW, actor, reason)


def refresh_state(application, actor):
    """Keep the state of a file in review in line with its reviews, after an assignment, a
    review or a conflict changed: admissible when no reviewer is left, reviewed when at least the
    call's number of reviewers have submitted and nobody assigned is still reviewing, else in
    review. Other states are left alone.
    """
    application = lock(application)
    if application.status not in (IN_REVIEW, REVIEWED):
        return
    assigned, submitted = _counts(application)
    if assigned == 0:
        target, reason = ADMISSIBLE, "Plus aucun évaluateur affecté."
    elif submitted >= application.call.reviewers_per_file and submitted >= assigned:
        target, reason = REVIEWED, "Toutes les évaluations attendues ont été envoyées."
    else:
        target, reason = IN_REVIEW, "Une évaluation est de nouveau attendue."
    if target != application.status:
        change_state(application, target, actor, reason)


def _assignment(application, reviewer):
    return db.session.scalar(db.select(Assignment).where(
        Assignment.application_id == application.id, Assignment.reviewer_id == reviewer.id))


def _review(application, reviewer):
    return db.session.scalar(db.select(Review).options(selectinload(Review.scores)).where(
        Review.application_id == application.id, Review.reviewer_id == reviewer.id))


# --- Conflicts of interest ----------------------------------------------------------------

def declare_conflict(reviewer, association, reason="", application=None):
    """The reviewer declares a link with an association (from their list, or on opening a file).

    Their assignments on that association's files are removed, with their reviews (a review by
    someone in conflict cannot count); each removal is recorded on the file for staff.
    """
    conflict = db.session.scalar(db.select(Conflict).where(
        Conflict.reviewer_id == reviewer.id, Conflict.association_id == association.id))
    if conflict is None:
        conflict = Conflict(reviewer_id=reviewer.id, association_id=association.id,
                            application_id=application.id if application else None,
                            reason=(reason or "").strip())
        db.session.add(conflict)
    elif application is not None and conflict.application_id is None:
        conflict.application_id = application.id
    affected = db.session.scalars(
        db.select(Assignment).options(joinedload(Assignment.application).joinedload(Application.call))
        .join(Application, Application.id == Assignment.application_id)
        .where(Assignment.reviewer_id == reviewer.id, Application.association_id == association.id)
    ).all()
    for assignment in affected:
        target = assignment.application
        review = _review(target, reviewer)
        withdrawn = review.status if review else None
        if review is not None:
            db.session.delete(review)
        db.session.delete(assignment)
        record("conflict_declared", actor=reviewer, application=target, reason=conflict.reason,
               reviewer_id=reviewer.id, assignment_removed=True, review_withdrawn=withdrawn)
        refresh_state(target, reviewer)
    if affected:
        db.session.flush()
        _alert_staff_of_conflict(reviewer, conflict, [a.application for a in affected])
    if not affected:
        record("conflict_declared", actor=reviewer, association_id=association.id, reason=conflict.reason,
               reviewer_id=reviewer.id, application_id_declared=application.id if application else None)
    db.session.commit()
    return conflict


def _alert_staff_of_conflict(reviewer, conflict, applications):
    """Mail the staff: these files lost their reviewer through a conflict; for each, the least
    loaded reviewer who may take it (the one the progress page offers to assign)."""
    from ..associations.bank import staff_recipients
    from .queries import conflict_alerts

    files = []
    for call in {a.call for a in applications}:
        alerts = {alert.application.id: alert for alert in conflict_alerts(call)}
        for application in applications:
            if application.call_id == call.id:
                alert = alerts.get(application.id)
                files.append((application, alert.missing if alert else 0, alert.suggestion if alert else None,
                              url_for("review.progress", call_id=call.id, _external=True)))
    files.sort(key=lambda item: item[0].reference or "")
    subject = (f"Lien d'intérêts déclaré : le dossier {applications[0].reference} a perdu un évaluateur"
               if len(applications) == 1 else
               f"Lien d'intérêts déclaré : {len(applications)} dossiers ont perdu un évaluateur")
    for person in staff_recipients():
        queue_mail(person.email, subject, "review_conflict_staff", kind="review_conflict_staff", user=person,
                   reviewer=reviewer, association=conflict.association, reason=conflict.reason, files=files)


def remove_conflict(reviewer, conflict_id, reason=""):
    conflict = db.session.get(Conflict, conflict_id)
    if conflict is None or conflict.reviewer_id != reviewer.id:
        raise ReviewError("Ce lien d'intérêts est introuvable.")
    if conflict.application_id is not None:
        raise ReviewError("Un lien déclaré à l'ouverture d'un dossier ne peut pas être retiré : "
                          "adressez-vous à l'équipe de la DJEPVA.")
    record("conflict_removed", actor=reviewer, association_id=conflict.association_id,
           reason=(reason or "").strip(), reviewer_id=reviewer.id, declared_reason=conflict.reason)
    db.session.delete(conflict)
    db.session.commit()


def confirm_no_conflict(reviewer, application):
    """« Je n'ai pas de lien avec cette association », before seeing the file's content."""
    assignment = _assignment(application, reviewer)
    if assignment is None:
        raise ReviewError("Ce dossier ne vous est pas affecté.")
    if assignment.no_conflict_confirmed_at is None:
        assignment.no_conflict_confirmed_at = timeutil.now()
        record("no_conflict_confirmed", actor=reviewer, application=application, reviewer_id=reviewer.id)
        db.session.commit()
    return assignment


def search_associations(query, limit=20):
    """Associations whose name, acronym or SIRET matches (for the reviewer's declaration)."""
    query = (query or "").strip()
    if len(query) < 2:
        return []
    digits = query.replace(" ", "")
    contains = like_pattern(query)  # what was typed, « % » and « _ » included, matched literally
    condition = [Association.name.ilike(contains, escape=LIKE_ESCAPE),
                 Association.acronym.ilike(contains, escape=LIKE_ESCAPE)]
    if digits.isdigit():
        condition.append(Association.siret.like(like_pattern(digits, prefix=""), escape=LIKE_ESCAPE))
    return db.session.scalars(
        db.select(Association).where(db.or_(*condition), Association.name != "")
        .order_by(Association.name, Association.id).limit(limit)).all()


# --- Assignment ---------------------------------------------------------------------------

def ineligibility(call, application, reviewer):
    """Why this reviewer may not get this file (French), or None."""
    if reviewer.role != REVIEWER or not reviewer.active:
        return "Cette personne n'est pas un évaluateur actif."
    if application.call_id != call.id:
        return "Ce dossier n'appartient pas à cet appel."
    if application.status not in ASSIGNABLE_STATES:
        return f"Le dossier est à l'état « {application.status_label} » : il ne peut pas recevoir d'évaluateur."
    if _assignment(application, reviewer) is not None:
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
    assignment = _assignment(application, reviewer)
    if assignment is None:
        raise ReviewError("Cet évaluateur n'est pas affecté à ce dossier.")
    review = _review(application, reviewer)
    if review is not None and review.status == REVIEW_SUBMITTED:
        raise ReviewError(f"{reviewer.full_name} a déjà envoyé son évaluation : "
                          "rouvrez-la d'abord si elle doit être retirée.")
    if review is not None:
        db.session.delete(review)
    if assignment.notified_at is not None:  # told of the file, so told it is no longer theirs
        queue_mail(reviewer.email, f"Le dossier {application.reference} ne vous est plus affecté",
                   "review_unassigned", reviewer=reviewer, application=application, call=application.call,
                   draft_deleted=review is not None, dashboard_link=url_for("main.dashboard", _external=True))
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
    mails = notify_reviewers(call, actor, commit=False)
    db.session.commit()
    return proposal, mails


def pending_notifications(call):
    return db.session.scalar(
        db.select(func.count(Assignment.id)).join(Application, Application.id == Assignment.application_id)
        .where(Application.call_id == call.id, Assignment.notified_at.is_(None)))


def notify_reviewers(call, actor, commit=True):
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
        files = [(a.application, _review_link(a.application)) for a in items]
        subject = ("Un dossier vous est affecté" if len(files) == 1
                   else f"{len(files)} dossiers vous sont affectés") + f" — {call.title}"
        queue_mail(reviewer.email, subject, "review_assigned", reviewer=reviewer, call=call, files=files,
                   conflicts_link=url_for("review.my_conflicts", _external=True))
        for assignment in items:
            assignment.notified_at = now
    if by_reviewer:
        record("reviewers_notified", actor=actor, call_id=call.id, reviewer_ids=sorted(by_reviewer),
               assignments=len(assignments))
    if commit:
        db.session.commit()
    return len(by_reviewer)


# --- Reviews ------------------------------------------------------------------------------

def parse_score(text, criterion):
    """« 3 » -> 3; raises ReviewError (French) when not an integer of the criterion's scale."""
    text = ("" if text is None else str(text)).strip()
    if text == "":
        return None
    if not re.fullmatch(r"-?[0-9]{1,9}", text):  # (« --1 », « ² » or 5,000 digits would break int())
        raise ReviewError(f"Saisissez une note entière entre 0 et {criterion.scale_max}.")
    value = int(text)
    if value < 0 or value > criterion.scale_max:
        raise ReviewError(f"La note doit être comprise entre 0 et {criterion.scale_max}.")
    return value


def submission_problems(criteria, scores, recommendation):
    """What is missing to submit: {field name: French message}. scores: {criterion_id: (value, comment)}."""
    problems = {}
    for criterion in criteria:
        value, comment = scores.get(criterion.id, (None, ""))
        if value is None:
            problems[f"score_{criterion.id}"] = f"Notez le critère « {criterion.label} »."
        elif value in (0, criterion.scale_max) and not (comment or "").strip():
            problems[f"comment_{criterion.id}"] = (
                f"Un commentaire est obligatoire pour la note {value} (note "
                f"{'la plus basse' if value == 0 else 'la plus haute'} de l'échelle).")
    if recommendation not in RECOMMENDATION_LABELS:
        problems["recommendation"] = "Choisissez un avis global : favorable, réservé ou défavorable."
    return problems


def can_review(reviewer, application):
    assignment = _assignment(application, reviewer)
    return (assignment is not None and assignment.no_conflict_confirmed_at is not None
            and application.status in (IN_REVIEW, REVIEWED)
            and not db.session.scalar(db.select(func.count(Conflict.id)).where(
                Conflict.reviewer_id == reviewer.id, Conflict.association_id == application.association_id)))


def save_review(application, reviewer, scores, recommendation=None, proposed_amount_cents=None,
                comment="", submit=False):
    """Save the reviewer's draft (any partial content), or submit it when complete.

    scores: {criterion_id: (value or None, comment)}; values are checked against each scale.
    """
    if not can_review(reviewer, application):
        raise ReviewError("Vous ne pouvez pas évaluer ce dossier.")
    review = _review(application, reviewer)
    if review is not None and review.status == REVIEW_SUBMITTED:
        raise ReviewError("Cette évaluation a déjà été envoyée : elle n'est plus modifiable.")
    criteria = application.call.criteria
    for criterion in criteria:
        value = scores.get(criterion.id, (None, ""))[0]
        if value is not None and not (isinstance(value, int) and 0 <= value <= criterion.scale_max):
            raise ReviewError(f"La note du critère « {criterion.label} » doit être comprise entre 0 et "
                              f"{criterion.scale_max}.")
    if recommendation is not None and recommendation not in RECOMMENDATION_LABELS:
        raise ReviewError("Avis global inconnu.")
    if proposed_amount_cents is not None and proposed_amount_cents < 0:
        raise ReviewError("Le montant proposé ne peut pas être négatif.")
    if submit:
        problems = submission_problems(criteria, scores, recommendation)
        if problems:
            raise IncompleteReview(problems)
    now = timeutil.now()
    if review is None:
        review = Review(application_id=application.id, reviewer_id=reviewer.id, status=REVIEW_DRAFT,
                        created_at=now)
        db.session.add(review)
    existing = {s.criterion_id: s for s in review.scores}
    for criterion in criteria:
        value, text = scores.get(criterion.id, (None, ""))
        score = existing.get(criterion.id)
        if score is None:
            score = Score(criterion_id=criterion.id)
            review.scores.append(score)
        score.value = value
        score.comment = (text or "").strip()
    review.recommendation = recommendation
    review.proposed_amount_cents = proposed_amount_cents
    review.comment = (comment or "").strip()
    review.updated_at = now
    if submit:
        _send(review, application, reviewer)
    db.session.commit()
    return review


def _send(review, application, reviewer):
    review.status = REVIEW_SUBMITTED
    review.submitted_at = review.updated_at = timeutil.now()
    record("review_submitted", actor=reviewer, application=application, reviewer_id=reviewer.id,
           recommendation=review.recommendation)
    refresh_state(application, reviewer)


def own_review(application, reviewer):
    """The reviewer's review of the file (draft or sent), or None."""
    return _review(application, reviewer)


def draft_problems(review):
    """What the stored draft lacks to be sent: {field name: French message}."""
    scores = {s.criterion_id: (s.value, s.comment) for s in review.scores}
    return submission_problems(review.application.call.criteria, scores, review.recommendation)


def send_draft(application, reviewer):
    """Send the reviewer's stored draft, as shown on the confirmation page (« Confirmer l'envoi »):
    refused (IncompleteReview) when it lacks anything; the reviewer can no longer change it."""
    if not can_review(reviewer, application):
        raise ReviewError("Vous ne pouvez pas évaluer ce dossier.")
    review = _review(application, reviewer)
    if review is None:
        raise ReviewError("Enregistrez d'abord votre évaluation.")
    review = lock(review)
    if review.status == REVIEW_SUBMITTED:
        raise ReviewError("Cette évaluation a déjà été envoyée : elle n'est plus modifiable.")
    problems = draft_problems(review)
    if problems:
        raise IncompleteReview(problems)
    _send(review, application, reviewer)
    db.session.commit()
    return review


def submit_review(application, reviewer, scores, recommendation=None, proposed_amount_cents=None, comment=""):
    return save_review(application, reviewer, scores, recommendation, proposed_amount_cents, comment, submit=True)


def reopen_review(review, actor, reason=""):
    """Staff reopen a submitted review: it becomes a draft again and its author is told."""
    if review.status != REVIEW_SUBMITTED:
        raise ReviewError("Cette évaluation n'a pas été envoyée : il n'y a rien à rouvrir.")
    review.status = REVIEW_DRAFT
    review.submitted_at = None
    review.updated_at = timeutil.now()
    application = review.application
    record("review_reopened", actor=actor, application=application, reason=(reason or "").strip(),
           reviewer_id=review.reviewer_id)
    queue_mail(review.reviewer.email, f"Votre évaluation du dossier {application.reference} est rouverte",
               "review_reopened", reviewer=review.reviewer, application=application,
               reason=(reason or "").strip(), link=_review_link(application))
    refresh_state(application, actor)
    db.session.commit()
    return review


def outstanding_by_reviewer(call):
    """{reviewer: [applications whose review they have not submitted]} for files in review."""
    submitted = db.select(Review.id).where(
        Review.application_id == Assignment.application_id, Review.reviewer_id == Assignment.reviewer_id,
        Review.status == REVIEW_SUBMITTED).exists()
    rows = db.session.scalars(
        db.select(Assignment)
        .options(joinedload(Assignment.reviewer),
                 joinedload(Assignment.application).joinedload(Application.association))
        .join(Application, Application.id == Assignment.application_id)
        .where(Application.call_id == call.id, Application.status.in_((IN_REVIEW, REVIEWED)), ~submitted)
        .order_by(Assignment.reviewer_id, Application.reference, Application.id)).all()
    result = {}
    for assignment in rows:
        result.setdefault(assignment.reviewer, []).append(assignment.application)
    return result


# Never two reminders to the same reviewer within this time, whatever the call and whoever clicks.
REMINDER_INTERVAL = timedelta(hours=24)


def last_reminders(reviewer_ids):
    """{reviewer id: when staff last reminded them (of any call)}, for those ever reminded."""
    if not reviewer_ids:
        return {}
    return dict(db.session.execute(
        db.select(Assignment.reviewer_id, func.max(Assignment.reminded_at))
        .where(Assignment.reviewer_id.in_(list(reviewer_ids)), Assignment.reminded_at.is_not(None))
        .group_by(Assignment.reviewer_id)).all())


def next_reminder_at(last):
    """When a reviewer last reminded at `last` (or None) may be reminded again (None: now)."""
    return last + REMINDER_INTERVAL if last is not None and last + REMINDER_INTERVAL > timeutil.now() else None


def send_reminders(call, actor, reviewer_ids=None):
    """One reminder e-mail to each chosen reviewer (every one when `reviewer_ids` is None) who
    still has reviews to send for the call, listing those files. A reviewer reminded less than
    REMINDER_INTERVAL ago (of any call) is skipped: a second click, or a colleague's, sends
    nothing. Returns (reminded, skipped): lists of reviewers."""
    outstanding = outstanding_by_reviewer(call)
    if reviewer_ids is not None:
        chosen = set(reviewer_ids)
        outstanding = {r: apps for r, apps in outstanding.items() if r.id in chosen}
    if outstanding:  # concurrent clicks wait here, then see the reminders just sent (SQLite: BEGIN IMMEDIATE)
        db.session.execute(db.select(User.id).where(User.id.in_([r.id for r in outstanding]))
                           .order_by(User.id).with_for_update())
    last = last_reminders([r.id for r in outstanding])
    now = timeutil.now()
    late = call.review_deadline is not None and call.review_deadline < now
    reminded, skipped = [], []
    for reviewer, applications in outstanding.items():
        if next_reminder_at(last.get(reviewer.id)) is not None:
            skipped.append(reviewer)
            continue
        files = [(a, _review_link(a)) for a in applications]
        queue_mail(reviewer.email, f"Rappel : {len(files)} évaluation{'s' if len(files) > 1 else ''} "
                   f"à envoyer — {call.title}", "review_reminder",
                   reviewer=reviewer, call=call, files=files, late=late)
        reminded.append(reviewer)
    for reviewer in reminded:
        db.session.execute(
            db.update(Assignment).where(Assignment.reviewer_id == reviewer.id,
                                        Assignment.application_id.in_([a.id for a in outstanding[reviewer]]))
            .values(reminded_at=now))
    if reminded:
        record("review_reminders_sent", actor=actor, call_id=call.id,
               reviewer_ids=sorted(r.id for r in reminded), skipped_ids=sorted(r.id for r in skipped))
    db.session.commit()
    return reminded, skipped
