"""Builders for the documents tests: winners with published decisions, reviews with scores."""
from datetime import datetime, timezone

from aap import timeutil
from aap.extensions import db
from aap.models import Association, Decision, Review, Score

from . import factories

PUBLISHED_AT = datetime(2025, 6, 12, 9, 30, tzinfo=timezone.utc)


def association(name, departement="69", region="84"):
    record = Association(name=name)
    db.session.add(record)
    db.session.commit()
    return factories.complete_identity(record, departement=departement, region=region)


def winner(call, association_record=None, name="Réussir Ensemble", amount_cents=42_500_00, per_year=None,
           published=True, outcome="selected", **fields):
    """A submitted application of the call with a decision (published and selected by default)."""
    association_record = association_record or association(name)
    application = factories.application(call, association_record, status="submitted", **fields)
    decision = Decision(application_id=application.id, outcome=outcome, amount_cents=amount_cents,
                        amount_per_year=per_year or [], decided_at=timeutil.now(),
                        published_at=PUBLISHED_AT if published else None)
    db.session.add(decision)
    application.status = outcome
    db.session.commit()
    return application


def review(application, reviewer, values, recommendation="favorable", status="submitted", comment=""):
    """A review whose scores are given in the order of the call's criteria."""
    record = Review(application_id=application.id, reviewer_id=reviewer.id, status=status,
                    recommendation=recommendation, comment=comment,
                    submitted_at=timeutil.now() if status == "submitted" else None)
    db.session.add(record)
    db.session.flush()
    for criterion, value in zip(application.call.criteria, values):
        db.session.add(Score(review_id=record.id, criterion_id=criterion.id, value=value,
                             comment=comment or f"Commentaire {criterion.label[:20]}"))
    db.session.commit()
    return record
