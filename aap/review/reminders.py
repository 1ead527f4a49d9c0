"""Reminding reviewers of the reviews they still owe (never twice within REMINDER_INTERVAL).
"""
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy.orm import joinedload

from .. import timeutil
from ..events import record
from ..extensions import db
from ..mail import queue_mail
from ..models import Application, Assignment, Review, User
from ..models.applications import IN_REVIEW, REVIEWED
from ..models.review import REVIEW_SUBMITTED
from .states import review_link


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
        files = [(a, review_link(a)) for a in applications]
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
