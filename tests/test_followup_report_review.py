"""Staff's review of the yearly reports (issue 18 §3): accepting, asking for complements, the
amount to recover (« reversement ») and its recovery, the reminders, the late flags on the
dashboards, the staff list and the « rapport attendu » filter of the messages to many."""
import html
from datetime import date, datetime, timedelta, timezone

import pytest

from aap import timeutil
from aap.extensions import db
from aap.followup import report_review
from aap.instruction import bulk
from aap.instruction.services import piece_requests_for
from aap.models import Event, PieceRequest
from aap.models.followup import ConventionState, RecoveryState, ReportState

from . import factories, factories_documents, factories_followup
from .conftest import count_queries

GRANT = 42_500_00


@pytest.fixture
def call(app):
    return factories.call(slug="aap-2025", year=2025, status="closed")


@pytest.fixture
def winner(call, applicant):
    """The applicant's winning file, its convention in force and its 2025 report deposited."""
    application = factories_documents.winner(call, association_record=applicant.association)
    convention = factories_followup.convention(application, ConventionState.IN_FORCE)
    report = factories_followup.year_report(convention, 2025, ReportState.SUBMITTED)
    report.submitted_at = datetime(2026, 6, 1, 10, tzinfo=timezone.utc)
    db.session.commit()
    return application, convention, report


def _financial(report, charges, others=0):
    """The compte rendu financier: personnel charges achieved, this grant and a region's grant."""
    report.financial = {"charges": {"64": charges, "86": 5_000_00},
                        "products": {"74_aap": GRANT, "74_region": others, "87": 5_000_00}}
    db.session.commit()


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _mails(to=None):
    return [m for m in factories.outbox() if to is None or m.to == to]


# --- recovery amounts: the rule of the convention's control clause ---------------------------------

def test_recovery_amounts_underspend_gives_back_the_unused_grant():
    # Cost 80 000 €, 30 000 € of it paid by the region: 50 000 € left to the State's grant of 60 000 €.
    assert report_review.unused_grant_cents(60_000_00, {"64": 80_000_00}, {"74_aap": 60_000_00,
                                                                          "74_region": 30_000_00}) == 10_000_00


def test_recovery_amounts_overspend_gives_back_nothing():
    assert report_review.unused_grant_cents(60_000_00, {"64": 120_000_00}, {"74_aap": 60_000_00,
                                                                           "74_region": 30_000_00}) == 0


def test_recovery_amounts_are_capped_at_the_grant():
    # Other products paid for everything: the whole grant, never more.
    assert report_review.unused_grant_cents(60_000_00, {"64": 20_000_00}, {"74_region": 50_000_00}) == 60_000_00
    assert report_review.unused_grant_cents(60_000_00, {"64": 0}, {}) == 60_000_00


def test_recovery_amounts_leave_contributions_in_kind_and_the_grant_line_out():
    # 86/87 (volunteering) count on neither side; this call's grant line is not an « other product ».
    with_kind = report_review.unused_grant_cents(60_000_00, {"64": 50_000_00, "86": 40_000_00},
                                                 {"74_aap": 60_000_00, "87": 40_000_00})
    assert with_kind == 10_000_00


def test_suggested_recovery_reads_the_report_and_the_year_grant(winner):
    _application, _convention, report = winner
    assert report_review.suggested_recovery_cents(report) is None  # nothing typed: nothing suggested
    _financial(report, charges=40_000_00)
    assert report_review.year_grant_cents(report) == GRANT
    assert report_review.suggested_recovery_cents(report) == 2_500_00


# --- accepting ------------------------------------------------------------------------------------

def test_staff_accepts_a_report_and_members_are_told(client, login_as, staff, applicant, winner):
    application, convention, report = winner
    login_as(staff)
    mails_before = len(_mails(applicant.email))
    # Not undone: staff tick what will happen first, or nothing happens (the message by the box).
    response = client.post_form(f"/suivi/comptes-rendus/{report.id}/accepter")
    assert response.status_code == 422 and "Cochez la case pour confirmer l'acceptation." in _text(response)
    assert "La demande a expiré" not in _text(response)
    db.session.refresh(report)
    assert report.state == ReportState.SUBMITTED and len(_mails(applicant.email)) == mails_before
    response = client.post_form(f"/suivi/comptes-rendus/{report.id}/accepter", {"confirmed": "y"})
    assert response.status_code == 302 and response.location.endswith(f"/suivi/comptes-rendus/{report.id}#examen")
    db.session.refresh(report)
    assert report.state == ReportState.ACCEPTED and report.reviewed_by_id == staff.id and report.reviewed_at
    mail = _mails(applicant.email)[-1]
    assert "compte rendu 2025" in mail.subject and "accepté" in mail.body
    assert f"/suivi/dossiers/{application.id}#comptes-rendus" in mail.body
    # Twice: refused next to the button, nothing changed.
    response = client.post_form(f"/suivi/comptes-rendus/{report.id}/accepter", {"confirmed": "y"})
    assert response.status_code == 422 and "seul un compte rendu déposé peut être accepté" in _text(response)


def test_acceptance_mail_names_the_balance_it_frees(app, staff, applicant, call):
    from aap.followup import payments
    from aap.models.followup import PAYMENT_BALANCE, PaymentLine, PaymentState
    multi = factories.call(slug="aap-2025-cpo", year=2025, years=3, status="closed")
    application = factories_documents.winner(multi, association_record=applicant.association,
                                             amount_cents=90_000_00, per_year=[30_000_00] * 3)
    convention = factories_followup.convention(application, ConventionState.IN_FORCE)
    payments.plan_payments(convention, None)
    report = factories_followup.year_report(convention, 2025, ReportState.SUBMITTED)
    balance = db.session.scalar(db.select(PaymentLine).where(
        PaymentLine.convention_id == convention.id, PaymentLine.kind == PAYMENT_BALANCE, PaymentLine.year == 2026))
    assert balance is not None and balance.state == PaymentState.PLANNED
    report_review.accept_report(report, staff)
    db.session.commit()
    body = _mails(applicant.email)[-1].body
    assert "Le solde 2026" in body and "peut désormais être mis en paiement" in body


# --- complements ----------------------------------------------------------------------------------

def test_complements_create_a_request_tied_to_the_report(client, login_as, staff, applicant, winner):
    application, _convention, report = winner
    due = timeutil.to_paris(timeutil.now()).date() + timedelta(days=20)
    login_as(staff)
    response = client.post_form(f"/suivi/comptes-rendus/{report.id}/complements", {
        "complements_message": "Joignez les comptes annuels approuvés par l'assemblée générale.",
        "complements_due_on": due.isoformat()})
    assert response.status_code == 302
    db.session.refresh(report)
    assert report.state == ReportState.INCOMPLETE
    request = db.session.scalar(db.select(PieceRequest).where(PieceRequest.report_id == report.id))
    assert request.application_id == application.id and request.due_at == timeutil.end_of_day_paris(due)
    assert request.message.startswith("Joignez les comptes annuels")
    mail = _mails(applicant.email)[-1]
    assert "Compte rendu 2025 : des compléments sont demandés" in mail.subject
    assert "Joignez les comptes annuels approuvés" in mail.body and timeutil.format_date(due) in mail.body
    # The file's own requests for pieces (instruction) do not list it.
    assert piece_requests_for(application) == []
    # The association reads it in its history, in its own words, with the message.
    from aap.applications.history import association_history
    rows = [r for r in association_history(application) if "compte rendu 2025" in r.label]
    assert rows and rows[-1].label == "Compléments demandés sur le compte rendu 2025"
    assert "Joignez les comptes annuels" in rows[-1].text and "À compléter avant le" in rows[-1].detail


def test_complements_need_a_future_date_and_keep_the_values(client, login_as, staff, winner):
    _application, _convention, report = winner
    login_as(staff)
    response = client.post_form(f"/suivi/comptes-rendus/{report.id}/complements", {
        "complements_message": "Le tableau des charges est incomplet.", "complements_due_on": "2020-01-10"})
    assert response.status_code == 422
    assert "La date limite de réponse doit être dans le futur." in _text(response)
    assert "Le tableau des charges est incomplet." in _text(response)  # kept
    db.session.refresh(report)
    assert report.state == ReportState.SUBMITTED
    assert db.session.scalar(db.select(PieceRequest).where(PieceRequest.report_id == report.id)) is None


# --- recovery -------------------------------------------------------------------------------------

def test_recovery_is_recorded_at_most_the_grant(client, login_as, staff, winner):
    _application, _convention, report = winner
    login_as(staff)
    response = client.post_form(f"/suivi/comptes-rendus/{report.id}/reversement", {
        "recovery_amount": "50 000", "recovery_reason": "Action réalisée à moitié."})
    assert response.status_code == 422
    assert "ne peut dépasser la subvention de l'année 2025 (42\u202f500\u00a0€)" in _text(response)
    assert 'value="50 000"' in _text(response) and "Action réalisée à moitié." in _text(response)
    response = client.post_form(f"/suivi/comptes-rendus/{report.id}/reversement", {
        "recovery_amount": "2 500", "recovery_reason": ""})
    assert response.status_code == 422 and "Indiquez le motif du reversement" in _text(response)
    response = client.post_form(f"/suivi/comptes-rendus/{report.id}/reversement", {
        "recovery_amount": "2 500", "recovery_reason": "Charges de personnel inférieures au budget."})
    assert response.status_code == 302
    db.session.refresh(report)
    assert report.recovery.amount_cents == 2_500_00 and report.recovery.state == RecoveryState.TO_ISSUE
    # Corrected while the titre is not issued: the same row.
    client.post_form(f"/suivi/comptes-rendus/{report.id}/reversement", {
        "recovery_amount": "3 000", "recovery_reason": "Charges de personnel inférieures au budget."})
    db.session.refresh(report)
    assert report.recovery.amount_cents == 3_000_00


def test_recovery_states_issue_mail_recover_and_waive(client, login_as, staff, applicant, winner):
    application, _convention, report = winner
    recovery = report_review.record_recovery(report, staff, amount_cents=2_500_00, reason="Sous-consommation.")
    db.session.commit()
    login_as(staff)
    url = f"/suivi/comptes-rendus/{report.id}/reversement/etat"
    # Recovered before the titre is issued: refused (not a move of the table), values kept.
    response = client.post_form(url, {"recovery_state": "recovered", "state_day": "2026-07-01"})
    assert response.status_code == 422 and "Changement d'état refusé" in _text(response)
    response = client.post_form(url, {"recovery_state": "issued", "state_day": "2026-07-01", "title_reference": ""})
    assert response.status_code == 422 and "Indiquez la référence du titre de perception." in _text(response)
    response = client.post_form(url, {"recovery_state": "issued", "state_day": "2026-07-01",
                                      "title_reference": "TP-2026-0042"})
    assert response.status_code == 302
    db.session.refresh(recovery)
    assert recovery.state == RecoveryState.ISSUED and recovery.issued_on == date(2026, 7, 1)
    mail = _mails(applicant.email)[-1]
    assert "titre de perception émis" in mail.subject
    assert "2\u202f500\u00a0€" in mail.body and "TP-2026-0042" in mail.body and "Sous-consommation." in mail.body
    response = client.post_form(url, {"recovery_state": "recovered", "state_day": "2026-06-01"})
    assert response.status_code == 422 and "ne peut précéder l'émission du titre" in _text(response)
    response = client.post_form(url, {"recovery_state": "recovered", "state_day": "2026-08-03"})
    assert response.status_code == 302
    db.session.refresh(recovery)
    assert recovery.state == RecoveryState.RECOVERED and recovery.recovered_on == date(2026, 8, 3)
    # Recovered is final.
    with pytest.raises(Exception, match="Changement d'état refusé"):
        report_review.update_recovery(recovery, staff, to_state="waived", reason="Remise gracieuse.")
    db.session.rollback()
    history = [r.label for r in __import__("aap.applications.history", fromlist=["x"]).association_history(application)]
    assert "Titre de perception émis pour le reversement 2025" in history and "Reversement 2025 recouvré" in history


def test_a_waiver_reason_stays_internal(staff, applicant, winner):
    from aap.applications.history import association_history, staff_history
    application, _convention, report = winner
    recovery = report_review.record_recovery(report, staff, amount_cents=1_000_00, reason="Écart sur les achats.")
    with pytest.raises(report_review.ReviewError, match="motif de l'abandon"):
        report_review.update_recovery(recovery, staff, to_state="waived")
    report_review.update_recovery(recovery, staff, to_state="waived", reason="Montant inférieur au seuil interne.")
    db.session.commit()
    rows = association_history(application)
    waived = [r for r in rows if r.label == "Reversement 2025 abandonné par la DJEPVA"]
    assert waived and all("seuil interne" not in (r.text + r.detail) for r in rows)
    recorded = [r for r in rows if r.label == "Reversement demandé sur le compte rendu 2025"][0]
    assert recorded.text == "Écart sur les achats." and "1\u202f000\u00a0€" in recorded.detail
    assert any("seuil interne" in r.text for r in staff_history(application))


# --- who may do and read what --------------------------------------------------------------------

def test_only_staff_review_and_the_association_never_sees_the_block(client, login_as, applicant, reviewer,
                                                                    staff, winner):
    _application, _convention, report = winner
    login_as(applicant)
    for path in ("accepter", "complements", "reversement", "reversement/etat"):
        assert client.post_form(f"/suivi/comptes-rendus/{report.id}/{path}").status_code == 403
    assert client.get("/suivi/comptes-rendus").status_code == 403
    page = client.get(f"/suivi/comptes-rendus/{report.id}")
    assert page.status_code == 200 and "Examen du compte rendu" not in page.text
    assert "Montant suggéré" not in page.text
    client.post_form("/deconnexion")
    login_as(reviewer)
    assert client.get("/suivi/comptes-rendus").status_code == 403
    assert client.get(f"/suivi/comptes-rendus/{report.id}").status_code == 404
    assert client.post_form(f"/suivi/comptes-rendus/{report.id}/accepter").status_code == 403
    db.session.refresh(report)
    assert report.state == ReportState.SUBMITTED
    client.post_form("/deconnexion")
    _financial(report, charges=40_000_00)
    login_as(staff)
    page = client.get(f"/suivi/comptes-rendus/{report.id}")
    assert "Examen du compte rendu 2025 (DJEPVA)" in page.text
    assert 'id="reversement-suggere">2\u202f500\u00a0€' in page.text
    assert 'value="2500"' in page.text or 'value="2 500"' in page.text  # the form prefilled


# --- late flags and reminders ----------------------------------------------------------------------

def _draft_report(call, name, due_on, state=ReportState.DRAFT, association_record=None):
    application = factories_documents.winner(call, name=name, association_record=association_record)
    convention = factories_followup.convention(application, ConventionState.IN_FORCE)
    return application, factories_followup.year_report(convention, 2025, state, due_on=due_on)


def test_late_reports_drafts_past_due_and_complements_past_their_date(app, call, staff):
    today = timeutil.to_paris(timeutil.now()).date()
    _a, late = _draft_report(call, "En Retard", today - timedelta(days=1))
    _b, on_time = _draft_report(call, "À l'heure", today)
    _c, incomplete = _draft_report(call, "À compléter", today - timedelta(days=40), ReportState.INCOMPLETE)
    db.session.add(PieceRequest(application_id=incomplete.convention.application_id, report_id=incomplete.id,
                                message="x", sections=[], due_at=timeutil.now() - timedelta(hours=1)))
    db.session.commit()
    assert report_review.is_late(late) and not report_review.is_late(on_time)
    assert report_review.is_late(incomplete)
    assert {r.id for r in report_review.late_reports()} == {late.id, incomplete.id}
    request = db.session.scalar(db.select(PieceRequest).where(PieceRequest.report_id == incomplete.id))
    request.due_at = timeutil.now() + timedelta(days=3)  # extended: not late any more
    db.session.commit()
    assert not report_review.is_late(incomplete)
    assert {r.id for r in report_review.late_reports()} == {late.id}


def test_dashboards_flag_late_reports(client, login_as, call, staff, applicant, winner):
    today = timeutil.to_paris(timeutil.now()).date()
    _draft_report(call, "Association En Retard", today - timedelta(days=3))
    _own, _conv, _submitted = winner  # one to review
    other_call = factories.call(slug="aap-2025-bis", year=2025, status="closed")
    application = factories_documents.winner(other_call, association_record=applicant.association)
    own_late = factories_followup.year_report(factories_followup.convention(application, ConventionState.IN_FORCE),
                                              2025, due_on=today - timedelta(days=10))
    login_as(staff)
    page = client.get("/tableau-de-bord").text
    assert "1 compte rendu à examiner" in page and "2 comptes rendus en retard" in page
    assert "/suivi/comptes-rendus?retard=1" in page
    client.post_form("/deconnexion")
    login_as(applicant)
    page = client.get("/tableau-de-bord").text
    assert "Comptes rendus annuels à déposer" in page
    assert f"Compte rendu 2025 — {application.reference}" in page and "en retard" in page
    assert "Association En Retard" not in page  # another association's
    assert own_late.id


def test_reminders_before_and_after_the_due_date_never_twice(app, call, applicant):
    application, report = _draft_report(call, "Réussir Ensemble", date(2026, 6, 30),
                                        association_record=applicant.association)
    call.report_reminder_days = 30
    db.session.commit()
    early = datetime(2026, 5, 20, 8, tzinfo=timezone.utc)  # 41 days before: too early
    assert report_review.send_report_reminders(early) == 0
    before = datetime(2026, 6, 5, 8, tzinfo=timezone.utc)
    assert report_review.send_report_reminders(before) == 1
    assert report_review.send_report_reminders(before + timedelta(days=2)) == 0  # not twice
    mail = _mails(applicant.email)[-1]
    assert "à déposer avant le 30 juin 2026" in mail.subject and "au plus tard le 30 juin 2026" in mail.body
    after = datetime(2026, 7, 2, 8, tzinfo=timezone.utc)
    assert report_review.send_report_reminders(after) == 1
    assert report_review.send_report_reminders(after + timedelta(days=5)) == 0
    mail = _mails(applicant.email)[-1]
    assert "en retard" in mail.subject and "il était attendu le 30 juin 2026" in mail.body
    db.session.refresh(report)
    assert report.reminded_before_at and report.reminded_after_at
    assert db.session.query(Event).filter_by(action="report_reminder_sent").count() == 2
    # A report deposited is not reminded.
    _other, deposited = _draft_report(call, "Déjà Déposé", date(2026, 6, 30), ReportState.SUBMITTED)
    assert report_review.send_report_reminders(datetime(2026, 7, 10, tzinfo=timezone.utc)) == 0


def test_the_cli_sends_the_report_reminders(app, call, applicant):
    _draft_report(call, "Réussir Ensemble", date(2020, 6, 30), association_record=applicant.association)
    result = app.test_cli_runner().invoke(args=["followup-reminders"])
    assert result.exit_code == 0, result.output
    assert "Comptes rendus annuels (avant et après l'échéance) : 1 relance(s) envoyée(s)." in result.output


# --- the staff list -----------------------------------------------------------------------------

def test_staff_list_orders_filters_and_shows_recoveries(client, login_as, call, staff, winner):
    today = timeutil.to_paris(timeutil.now()).date()
    own, _convention, to_review = winner
    late_application, _late = _draft_report(call, "Association En Retard", today - timedelta(days=3))
    accepted_application, accepted = _draft_report(call, "Association Acceptée", today, ReportState.SUBMITTED)
    report_review.record_recovery(accepted, staff, amount_cents=1_234_00, reason="Sous-consommation.")
    report_review.accept_report(accepted, staff)
    _upcoming_application, _upcoming = _draft_report(call, "Pas Encore", today + timedelta(days=90))
    db.session.commit()
    login_as(staff)
    page = client.get("/suivi/comptes-rendus").text
    order = [page.index(f'id="comptes-rendus-{key}"') for key in ("review", "late", "accepted")]
    assert order == sorted(order)
    positions = [page.index(a.reference) for a in (own, late_application, accepted_application)]
    assert positions == sorted(positions)
    assert "Pas Encore" not in page  # drafts not due yet: only when asked for
    assert "1\u202f234\u00a0€" in page and "À émettre" in page
    assert f'href="/suivi/comptes-rendus/{to_review.id}"' in page
    late_only = client.get("/suivi/comptes-rendus?retard=1").text
    assert late_application.reference in late_only and own.reference not in late_only
    drafts = client.get("/suivi/comptes-rendus?etat=draft").text
    assert "Pas Encore" in drafts and own.reference not in drafts
    assert "Aucun compte rendu ne correspond" in client.get("/suivi/comptes-rendus?annee=2031&appel=999").text


def test_staff_list_runs_a_bounded_number_of_queries(client, login_as, call, staff):
    today = timeutil.to_paris(timeutil.now()).date()
    states = [ReportState.DRAFT, ReportState.SUBMITTED, ReportState.INCOMPLETE]

    def add(first, last):
        for n in range(first, last):
            _application, report = _draft_report(call, f"Association {n}", today - timedelta(days=n - 10),
                                                 states[n % 3])
            if n % 3 == 1:
                report_review.record_recovery(report, staff, amount_cents=100_00 + n, reason="Écart.")
        db.session.commit()

    def measure():
        client.get("/suivi/comptes-rendus")  # the session's objects, expired by the commit, read again
        with count_queries() as queries:
            page = client.get("/suivi/comptes-rendus")
        assert page.status_code == 200
        return queries(), page.text.count("<tr>")

    add(0, 3)
    login_as(staff)
    few, rows_few = measure()
    add(3, 30)
    many, rows_many = measure()
    assert rows_many > rows_few >= 3 and rows_many >= 25
    assert many == few <= 12, (few, many)


# --- « rapport attendu »: messages to the winners whose report is awaited ---------------------------

def test_bulk_filter_selects_winners_whose_report_is_not_submitted(app, call, staff, winner):
    today = timeutil.to_paris(timeutil.now()).date()
    _submitted_application, _c, _r = winner
    awaited, _draft = _draft_report(call, "Brouillon À Temps", today + timedelta(days=20))
    late, _late = _draft_report(call, "Brouillon En Retard", today - timedelta(days=20))
    assert "rapport-attendu-2025" in bulk.targets(call) and "rapport-attendu-2025" not in bulk.TARGETS
    drafts = bulk.drafts(call, "rapport-attendu-2025", "Votre compte rendu {reference}", "Bonjour {association}")
    assert {d.application.id for d in drafts} == {awaited.id, late.id}
    assert drafts[0].subject.startswith("Votre compte rendu 1J1M")
    drafts = bulk.drafts(call, "rapport-en-retard-2025", "Compte rendu en retard", "Bonjour {association}")
    assert [d.application.id for d in drafts] == [late.id]
    with pytest.raises(bulk.BulkMessageError):  # not a year of this call's conventions
        bulk.drafts(call, "rapport-attendu-2026", "Objet", "Texte")


def test_bulk_page_offers_the_report_filters(client, login_as, call, staff, winner):
    login_as(staff)
    page = client.get(f"/instruction/appels/{call.id}/messages?cible=rapport-en-retard-2025").text
    assert "Lauréats dont le compte rendu 2025 n'est pas encore déposé" in html.unescape(page)
    assert '<option selected value="rapport-en-retard-2025">' in page
