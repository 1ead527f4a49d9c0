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


def year_report(convention_record, year, state=None, due_on=None):
    """The convention's report of `year` in `state` (a draft by default), due 30 June of the next
    year unless told otherwise, without its contents (PAY's tests of the balance rule)."""
    from aap.models.followup import Report, ReportState
    record = Report(convention_id=convention_record.id, year=year, state=state or ReportState.DRAFT,
                    due_on=due_on or date(year + 1, 6, 30))
    db.session.add(record)
    db.session.commit()
    return record


def planned_convention(call, association_record=None, **fields):
    """A winner of `call` whose convention is in force (since 2025-07-01) with its payment lines
    planned (aap/followup/payments.plan_payments)."""
    from aap.followup import payments
    application = factories_documents.winner(call, association_record=association_record, **fields)
    record = convention(application, ConventionState.IN_FORCE)
    payments.plan_payments(record, None)
    db.session.commit()
    return application, record


def report(call, association_record, state=None, **fields):
    """A winner of `call` for `association_record`, its convention in force and its yearly reports
    opened (reports.open_reports); returns the first year's report (in `state` when given)."""
    from aap.followup.reports import open_reports
    application = factories_documents.winner(call, association_record, **fields)
    record = convention(application, ConventionState.IN_FORCE)
    reports = open_reports(record, None)
    db.session.commit()
    first = reports[0]
    if state is not None:
        first.state = state
        db.session.commit()
    return first
