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
    """A submitted application of the call with a decision (published and selected by default).
    A winner asked for what it is granted (its budget fits the grant: no adjustment, see
    applications.adjustment), unless requested_cents is given."""
    association_record = association_record or association(name)
    if outcome == "selected" and amount_cents and "requested_cents" not in fields:
        years = max(int(call.years or 1), 1)
        base, rest = divmod(amount_cents, years)
        fields["requested_cents"] = amount_cents
        fields["requested_per_year"] = per_year or [base + (rest if i == 0 else 0) for i in range(years)]
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


def signed(application, day=None, number=None):
    """The application's convention, numbered and signed on `day` (2025-06-20 by default), without
    rendering its PDF: the open data publishes signed conventions only."""
    from datetime import date

    from aap.documents.data import convention_number
    from aap.models import Convention

    count = db.session.query(Convention).count()
    convention = Convention(application_id=application.id, data_fingerprint="0" * 64, stored_name=f"test-{count}.pdf",
                            number=number or convention_number(application.call, 900 + count + 1),
                            signed_at=day if day is not None else date(2025, 6, 20))
    db.session.add(convention)
    db.session.commit()
    return convention
