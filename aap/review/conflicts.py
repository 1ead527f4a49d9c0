"""Conflicts of interest: a reviewer declares (or withdraws) a link with an association, or
confirms having none before reading a file; the staff are told of the files that lost a reviewer.
"""
from sqlalchemy.orm import joinedload

from .. import timeutil
from ..events import record
from ..extensions import db
from ..mail import queue_mail
from ..models import Application, Assignment, Association, Conflict
from ..textrules import LIKE_ESCAPE, like_pattern
from ..urls import absolute_url
from .errors import ReviewError
from .states import find_assignment, find_review, refresh_state


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
        review = find_review(target, reviewer)
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
                              absolute_url("review.progress", call_id=call.id)))
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
    assignment = find_assignment(application, reviewer)
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
