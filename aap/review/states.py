"""Where a file stands in review: its state follows its assignments and reviews (admissible,
in review, reviewed), and the lookups the review services share.
"""
from sqlalchemy import func
from sqlalchemy.orm import selectinload

from ..database import lock
from ..events import change_state
from ..extensions import db
from ..models import Assignment, Review
from ..models.applications import ADMISSIBLE, IN_REVIEW, REVIEWED
from ..models.review import REVIEW_SUBMITTED
from ..urls import absolute_url

ASSIGNABLE_STATES = (ADMISSIBLE, IN_REVIEW)


def review_link(application):
    return absolute_url("review.review", application_id=application.id)


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


def find_assignment(application, reviewer):
    return db.session.scalar(db.select(Assignment).where(
        Assignment.application_id == application.id, Assignment.reviewer_id == reviewer.id))


def find_review(application, reviewer):
    return db.session.scalar(db.select(Review).options(selectinload(Review.scores)).where(
        Review.application_id == application.id, Review.reviewer_id == reviewer.id))
