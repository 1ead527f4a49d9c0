"""Builders for the review tests: files from several associations, reviewers, assignments."""
from aap import timeutil
from aap.extensions import db
from aap.models import Assignment, Association

from . import factories


def submitted_file(call, association_name, region="84", status="submitted", **fields):
    """An association of that région with a submitted (or later) application to the call."""
    association = Association(name=association_name)
    db.session.add(association)
    db.session.commit()
    factories.complete_identity(association, departement="69" if region == "84" else "35", region=region)
    association.name = association_name
    association.account_holder = association_name
    db.session.commit()
    return factories.application(call, association, status=status, **fields)


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
