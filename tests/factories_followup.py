"""Builders for the follow-up tests (issue 18): a winner's convention in a given state. Each part
of the follow-up adds the builders its tests share here."""
from datetime import date, datetime, timezone

from aap.documents.data import convention_number
from aap.extensions import db
from aap.models import Convention
from aap.models.followup import ConventionState

from . import factories_documents


def convention(application, state=ConventionState.ISSUED, number=None):
    """The convention row of a winning `application` in `state`, without its PDF (staff dates set
    as the state implies: returned 2025-06-25, countersigned and in force 2025-07-01)."""
    count = db.session.query(Convention).count()
    record = Convention(application_id=application.id, data_fingerprint="0" * 64,
                        number=number or convention_number(application.call, 800 + count + 1), state=state)
    if state != ConventionState.ISSUED:
        record.association_signed_at = datetime(2025, 6, 25, 10, tzinfo=timezone.utc)
    if state in (ConventionState.COUNTERSIGNED, ConventionState.IN_FORCE, ConventionState.AMENDED,
                 ConventionState.TERMINATED):
        record.countersigned_at = datetime(2025, 7, 1, 9, tzinfo=timezone.utc)
        record.signed_at = date(2025, 7, 1)
        record.state_signatory = "Jeanne Martin, sous-directrice"
    if state in (ConventionState.IN_FORCE, ConventionState.AMENDED, ConventionState.TERMINATED):
        record.in_force_at = datetime(2025, 7, 1, 10, tzinfo=timezone.utc)
    db.session.add(record)
    db.session.commit()
    return record


def winner_convention(call, state=ConventionState.ISSUED, **fields):
    """A new winner of `call` (factories_documents.winner) and its convention in `state`."""
    application = factories_documents.winner(call, **fields)
    return application, convention(application, state)
