"""Builders for the review tests: files from several associations, reviewers, assignments."""
from aap import timeutil
from aap.extensions import db
from aap.models import Assignment

from . import factories


def reviewer_user(email, region="11"):
    return factories.user("reviewer", email=email, region_code=region)


def assigned(application, reviewer, confirmed=True, notified=True):
    now = timeutil.now()
    assignment = Assignment(application_id=application.id, reviewer_id=reviewer.id,
                            no_conflict_confirmed_at=now if confirmed else None,
                            notified_at=now if notified else None)
    db.session.add(assignment)
    db.session.commit()
    return assignment
