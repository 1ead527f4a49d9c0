"""The demo's follow-up of the 2025 call (aap/demo/followup.py): conventions signed or not yet
returned, payments, yearly reports with a late one, complements and a recovery, the demo
association's file through every step, and the rules holding in the data (plans summing to the
grant, no balance before the previous year's report, reminders coherent with the dates)."""
import io
import threading
from collections import Counter
from datetime import date, datetime, timedelta

import pypdf
import pytest

from aap import timeutil
from aap.applications import files
from aap.applications.deposits import fingerprint
from aap.database import writing
from aap.demo.accounts import DEMO_PASSWORD
from aap.demo.builder import paris
from aap.documents.data import winners
from aap.extensions import db
from aap.followup import payments, report_review, reports, signature
from aap.models import Application, Call, Convention, Event, OutboxMessage, PieceRequest, User
from aap.models.followup import (
    DOCUMENT_ASSOCIATION_SIGNED,
    DOCUMENT_COUNTERSIGNED,
    PAYMENT_BALANCE,
    ConventionState,
    PaymentLine,
    PaymentState,
    PlanFigure,
    Recovery,
    RecoveryState,
    Report,
    ReportState,
)

from .conftest import demo_app, login

TODAY = paris(2026, 12, 3, 9)  # the demo's « now »
C, P, R = ConventionState, PaymentState, ReportState


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    yield from demo_app(tmp_path_factory)


def issued_conventions():
    call = db.session.scalar(db.select(Call).where(Call.slug == "aap-2025"))
    return call, db.session.scalars(db.select(Convention).where(Convention.stored_name.is_not(None))
                                    .order_by(Convention.id)).all()


def demo_file():
    return db.session.scalar(db.select(Application).where(Application.reference == "1J1M-2025-0136"))


def test_conventions_signed_or_awaited(demo):
    call, conventions = issued_conventions()
    states = Counter(c.state for c in conventions)
    assert states == {C.IN_FORCE: 60, C.ISSUED: 5}
    assert len(conventions) == len(winners(call.id)) - 2  # two winners still have their budget to adjust
    for convention in conventions:
        if convention.state == C.IN_FORCE:
            returned = [d for d in convention.documents if d.kind == DOCUMENT_ASSOCIATION_SIGNED]
            assert len(returned) == 1 and returned[0].uploaded_at == convention.association_signed_at
            assert convention.generated_at < convention.association_signed_at < convention.countersigned_at \
                < convention.in_force_at < paris(2025, 9, 30)
            assert convention.signed_at == timeutil.to_paris(convention.countersigned_at).date()
            assert convention.state_signatory and convention.commitment_number
        else:
            # Issued in November 2026, once their budget was adjusted, not returned yet.
            adjusted = convention.application.decision.adjusted_at
            assert paris(2026, 11, 1) < adjusted < convention.generated_at < TODAY
            assert convention.documents == [] and convention.payments == [] and convention.reports == []
    scanned = Counter(d.signature["kind"] for c in conventions for d in c.documents)
    assert scanned == {"scanned": 59, "digital": 2}


def test_convention_reminders_are_coherent(demo):
    _call, conventions = issued_conventions()
    waiting = [c for c in conventions if c.state == C.ISSUED]
    reminded = [c for c in waiting if c.reminder_count]
    assert len(reminded) == 1 and reminded[0].reminder_count == 1
    assert reminded[0].reminded_at - reminded[0].generated_at > timedelta(days=15)
    # On the demo's day no reminder is due; two days later the reminded one is due again (with the
    # one issued on 19 November, 15 days before).
    assert signature.due_reminders(now=TODAY) == []
    later = TODAY + timedelta(days=2)
    due = signature.due_reminders(now=later)
    assert reminded[0] in due and len(due) == 2
    assert all(c.generated_at <= later - timedelta(days=15) for c in due)
    # Conventions returned more than 15 days after their issue were reminded once, before.
    for convention in conventions:
        if convention.state == C.IN_FORCE and convention.reminder_count:
            assert convention.generated_at + timedelta(days=15) < convention.reminded_at \
                < convention.association_signed_at
    events = db.session.scalar(db.select(db.func.count(Event.id)).where(Event.action == "convention_reminded"))
    assert events == sum(c.reminder_count for c in conventions)


def test_payment_lines_by_state_and_plans_summing_to_the_grant(demo):
    lines = db.session.scalars(db.select(PaymentLine)).all()
    states = Counter((line.year, line.kind, line.state) for line in lines)
    for year, kind in ((2025, "advance"), (2025, "balance"), (2026, "advance")):
        assert states[(year, kind, P.PAID)] == 60
    assert states[(2026, PAYMENT_BALANCE, P.PAID)] >= 40
    assert states[(2026, PAYMENT_BALANCE, P.REQUESTED)] >= 1
    assert states[(2026, PAYMENT_BALANCE, P.SUSPENDED)] == 1
    assert states[(2026, PAYMENT_BALANCE, P.PLANNED)] >= 8
    assert states[(2027, "advance", P.PLANNED)] == states[(2027, "balance", P.PLANNED)] == 60
    by_convention = {}
    for line in lines:
        if line.state != P.CANCELLED:
            by_convention.setdefault(line.convention, []).append(line)
        if line.state in (P.REQUESTED, P.PAID):
            assert line.chorus_reference and line.requested_on <= date(2026, 12, 2)
            assert line.requested_on >= timeutil.to_paris(line.convention.in_force_at).date()
        if line.state == P.PAID:
            assert line.requested_on < line.paid_on <= date(2026, 12, 2)
    assert len(by_convention) == 60
    for convention, live in by_convention.items():
        assert sum(line.amount_cents for line in live) == convention.application.decision.amount_cents


def test_no_balance_put_to_payment_before_the_previous_report_is_accepted(demo):
    reports_by = {(r.convention_id, r.year): r for r in db.session.scalars(db.select(Report))}
    checked = 0
    for line in db.session.scalars(db.select(PaymentLine).where(
            PaymentLine.state.in_((P.REQUESTED, P.PAID)))):
        year = payments.awaits_report(line)
        if year is None:
            continue
        report = reports_by[(line.convention_id, year)]
        assert report.state == R.ACCEPTED, line.convention.number
        assert timeutil.to_paris(report.reviewed_at).date() <= line.requested_on
        assert payments.balance_refusal(line) is None
        checked += 1
    assert checked >= 41
    # The balances still planned wait for their report, and the service says so.
    waiting = db.session.scalars(db.select(PaymentLine).where(
        PaymentLine.state == P.PLANNED, PaymentLine.year == 2026, PaymentLine.kind == PAYMENT_BALANCE)).all()
    assert waiting and all("compte rendu 2025" in payments.balance_refusal(line) for line in waiting)


def test_reports_by_state_late_complements_and_recovery(demo):
    all_reports = db.session.scalars(db.select(Report)).all()
    states = Counter((r.year, r.state) for r in all_reports)
    assert states[(2025, R.ACCEPTED)] >= 45
    assert states[(2025, R.SUBMITTED)] == 7
    assert states[(2025, R.INCOMPLETE)] == 1 and states[(2025, R.DRAFT)] == 1
    assert states[(2026, R.DRAFT)] == states[(2027, R.DRAFT)] == 60
    for report in all_reports:
        assert report.due_on == date(report.year + 1, 6, 30)
        if report.state != R.DRAFT:
            assert reports.missing_report_items(report) == [], report.id
            assert report.fingerprint == fingerprint(report.snapshot)
            assert report.snapshot["late"] == (timeutil.to_paris(report.submitted_at).date() > report.due_on)
    # 2026: not due yet; the demo file's and four others in progress.
    assert sum(1 for r in all_reports if r.year == 2026 and r.young_count) == 5

    # One late report: not submitted, reminded before and after its due date, its balance suspended.
    late = report_review.late_reports(now=TODAY)
    assert [r.year for r in late] == [2025] and late[0].state == R.DRAFT
    report = late[0]
    assert report.reminded_before_at < paris(2026, 6, 30) < report.reminded_after_at < TODAY
    sent = db.session.scalars(db.select(Event).where(Event.action == "report_reminder_sent",
                                                     Event.application_id == report.application.id)).all()
    assert sorted(e.details["late"] for e in sent) == [False, True]
    balance = next(line for line in report.convention.payments if line.year == 2026 and line.kind == "balance")
    assert balance.state == P.SUSPENDED and "non déposé" in balance.suspended_reason

    # One sent back for complements: a request tied to the report, open, not due yet.
    incomplete = next(r for r in all_reports if r.state == R.INCOMPLETE)
    request = report_review.open_complement_request(incomplete)
    assert request.report_id == incomplete.id and request.due_at > TODAY
    assert db.session.scalar(db.select(db.func.count(PieceRequest.id)).where(PieceRequest.report_id.is_not(None))) == 1
    assert not report_review.is_late(incomplete, now=TODAY)

    # One underspend: accepted, its recovery issued, of the amount the rule suggests.
    recovery = db.session.scalars(db.select(Recovery)).one()
    assert recovery.state == RecoveryState.ISSUED and recovery.title_reference and recovery.issued_on
    assert recovery.report.state == R.ACCEPTED
    assert recovery.amount_cents == report_review.suggested_recovery_cents(recovery.report) > 0
    # No other accepted report leaves any grant unused.
    for report in all_reports:
        if report.state == R.ACCEPTED and report is not recovery.report:
            assert report_review.suggested_recovery_cents(report) == 0


def test_the_demo_association_file_walks_every_step(demo):
    application = demo_file()
    convention = db.session.scalar(db.select(Convention).where(Convention.application_id == application.id))
    assert convention.state == C.IN_FORCE and convention.data_fingerprint  # the real convention, rendered
    returned, countersigned = convention.documents
    assert (returned.kind, countersigned.kind) == (DOCUMENT_ASSOCIATION_SIGNED, DOCUMENT_COUNTERSIGNED)
    first = returned.signature["signatures"]
    assert returned.signature["kind"] == "digital" and len(first) == 1
    assert first[0]["signer"] == application.association.representative_name
    assert first[0]["intact"] and not first[0]["modified_after_signing"]
    assert datetime.fromisoformat(first[0]["signed_at"]) == convention.association_signed_at
    both = countersigned.signature["signatures"]
    assert [s["signer"] for s in both] == [application.association.representative_name, "Sophie Lambert"]
    assert all(s["intact"] and not s["modified_after_signing"] for s in both)
    assert signature.served_document(convention) == countersigned
    lines = {(line.year, line.kind): line.state for line in convention.payments}
    assert lines == {(2025, "advance"): P.PAID, (2025, "balance"): P.PAID, (2026, "advance"): P.PAID,
                     (2026, "balance"): P.REQUESTED, (2027, "advance"): P.PLANNED, (2027, "balance"): P.PLANNED}
    report_2025, report_2026, report_2027 = convention.reports
    assert report_2025.state == R.ACCEPTED and {p.code for p in report_2025.pieces} == {
        "accounts", "activity_report", "auditor_report"}
    assert report_2025.submitted_at < paris(2026, 6, 30) and not report_2025.snapshot["late"]
    assert report_2026.state == R.DRAFT and report_2026.young_count and report_2026.account == ""
    assert report_2027.state == R.DRAFT and report_2027.young_count is None
    # Its journal: every step dated in the story, none on the day the demo was built.
    actions = [e.action for e in db.session.scalars(db.select(Event).where(
        Event.application_id == application.id, Event.at > paris(2025, 7, 1)).order_by(Event.at, Event.id))]
    assert actions[:4] == ["convention_returned", "convention_countersigned", "convention_commitment_recorded",
                           "convention_in_force"]
    for action in ("payment_paid", "report_submitted", "report_accepted", "payment_requested", "report_draft_saved"):
        assert action in actions


def test_the_demo_association_reads_its_follow_up(demo):
    application = demo_file()
    member = db.session.scalar(db.select(User).where(User.email == "association@demo.aap.fr"))
    client = demo.test_client()
    login(client, member, password=DEMO_PASSWORD)
    response = client.get(f"/suivi/dossiers/{application.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    convention = db.session.scalar(db.select(Convention).where(Convention.application_id == application.id))
    assert convention.number in page and "Sophie Lambert" in page
    assert "2100533406" in page or "Mis en paiement" in page
    # The signed version served is the countersigned PDF, both signatures in it.
    served = signature.served_document(convention)
    reader = pypdf.PdfReader(io.BytesIO(files.path_of(served.stored_name).read_bytes()))
    assert "Convention" in reader.pages[0].extract_text()
    assert len([f for f in reader.get_fields().values() if f.get("/FT") == "/Sig"]) == 2


def test_nothing_left_to_send_and_nothing_dated_after_the_story(demo):
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 0
    # (the other tests' logins aside)
    assert db.session.scalar(db.select(db.func.max(Event.at)).where(Event.action != "login")) < TODAY
    latest = db.session.scalar(db.select(db.func.max(Report.updated_at)))
    assert latest < TODAY
    assert db.session.scalar(db.select(db.func.max(PaymentLine.updated_at))) < TODAY


def test_plan_reference_figures(demo):
    figures = {f.year: f for f in db.session.scalars(db.select(PlanFigure))}
    assert figures[2021].young_people == 40_000 and figures[2024].young_people == 150_000
    assert "plus de 150\u202f000" in figures[2024].label
    admin = db.session.scalar(db.select(User).where(User.email == "admin@demo.aap.fr"))
    assert figures[2024].updated_at < TODAY and figures[2024].updated_by_id == admin.id


def pdf_text(data):
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_bulk_conventions_render_from_their_issued_data_and_their_scans_say_they_are_demo_copies(demo):
    """The bulk files' conventions are issued without their file (rendering 65 would be slow): the
    first download renders the real one, even once frozen by the association's signature; the copy
    « returned signed » says it is a demonstration stand-in, not a convention."""
    from aap.documents import services as documents
    _call, conventions = issued_conventions()
    bulk = [c for c in conventions if c.application.reference != "1J1M-2025-0136"]
    assert len(bulk) == 64 and not any(documents.convention_path(c).exists() for c in bulk)
    staff = db.session.scalar(db.select(User).where(User.email == "instructeur@demo.aap.fr"))
    client = demo.test_client()
    login(client, staff, password=DEMO_PASSWORD)

    # Not returned yet: the staff's download renders the convention itself, with its articles.
    waiting = next(c for c in bulk if c.state == C.ISSUED)
    with writing():
        response = client.get(f"/candidatures/{waiting.application_id}/convention.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert waiting.number in text and waiting.application.association.name in text
    assert "Article 1 — Objet de la convention" in text and "Article 5 — Modalités de versement" in text
    assert "démonstration" not in text

    # In force (frozen): the download serves the scan, a demo copy that says so.
    signed = next(c for c in bulk if c.state == C.IN_FORCE)
    response = client.get(f"/candidatures/{signed.application_id}/convention.pdf")
    assert response.status_code == 200
    scan = " ".join(pdf_text(response.data).split())
    assert f"Exemplaire de démonstration : copie numérisée de la convention n° {signed.number} signée" in scan
    assert "il n'est pas la convention" in scan and signed.application.association.name in scan
    # Its convention, frozen and never rendered, renders from its issued data (the call's archive does
    # the same), once.
    db.session.expire_all()
    application = db.session.get(Application, signed.application_id)
    convention, path, regenerated = documents.ensure_convention(application)
    assert regenerated and convention.state == C.IN_FORCE and path.exists()
    text = pdf_text(path.read_bytes())
    assert signed.number in text and "Article 1 — Objet de la convention" in text
    assert convention.commitment_number in text
    assert documents.ensure_convention(application)[2] is False


def test_the_demo_clock_is_per_context_and_ends_with_its_block():
    at = paris(2025, 7, 2, 10, 5)
    before = timeutil.now()
    with timeutil.frozen(at):
        assert timeutil.now() == at and payments.now() == at  # also where `now` was imported by name
        seen = []
        thread = threading.Thread(target=lambda: seen.append(timeutil.now()))
        thread.start()
        thread.join()
        assert seen[0] >= before  # another thread (a request served meanwhile) keeps the real time
    assert before <= timeutil.now() <= datetime.now(timeutil.PARIS) + timedelta(seconds=1)
    assert timeutil.now().year >= 2026 and timeutil.now() != at
