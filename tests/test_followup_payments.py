"""Payments of a convention (issue 18 §2): the lines planned from the decision and article 5 of
the convention, replanned by an amendment, the balance rule, the moves and their mails, the
association's « Versements » section, the staff page and the workbook's « Versements » sheet."""
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from aap.documents.excel import build_workbook
from aap.extensions import db
from aap.followup import payments
from aap.followup.payments import PaymentError
from aap.models.followup import ConventionState, PaymentLine, PaymentState, ReportState

from . import factories, factories_followup
from .conftest import count_queries

pytestmark = pytest.mark.usefixtures("app")

IN_FORCE_DAY = date(2025, 7, 1)


def call_2025(slug="aap-2025-suivi", years=1, advance_percent=50):
    return factories.call(slug=slug, year=2025, years=years, advance_percent=advance_percent, status="closed",
                          opens_in_days=-400, closes_in_days=-300)


def lines_of(convention):
    return db.session.scalars(db.select(PaymentLine).where(PaymentLine.convention_id == convention.id)
                              .order_by(PaymentLine.generation, PaymentLine.year, PaymentLine.planned_on)).all()


def summary(lines):
    return [(line.year, line.kind, line.amount_cents, line.planned_on, line.state.value) for line in lines]


def live_total(convention):
    return sum(line.amount_cents for line in lines_of(convention) if line.state != PaymentState.CANCELLED)


def requested(line, staff, day=date(2025, 7, 10), reference=""):
    payments.request_payment(line, staff, day=day, chorus_reference=reference)
    db.session.commit()
    return line


# --- The schedule ---------------------------------------------------------------------------

def test_plan_single_year_advance_at_entry_into_force_and_balance_by_november(staff):
    _application, convention = factories_followup.planned_convention(call_2025(), amount_cents=42_500_00)
    assert summary(lines_of(convention)) == [
        (2025, "advance", 21_250_00, IN_FORCE_DAY, "planned"),
        (2025, "balance", 21_250_00, date(2025, 11, 30), "planned"),
    ]
    assert live_total(convention) == 42_500_00


def test_plan_three_years_with_the_decisions_amounts_and_the_calls_advance_percent(staff):
    call = call_2025(years=3, advance_percent=60)
    _application, convention = factories_followup.planned_convention(
        call, amount_cents=90_000_00, per_year=[40_000_00, 30_000_00, 20_000_00])
    assert summary(lines_of(convention)) == [
        (2025, "advance", 24_000_00, IN_FORCE_DAY, "planned"),
        (2025, "balance", 16_000_00, date(2025, 11, 30), "planned"),
        (2026, "advance", 18_000_00, date(2026, 1, 1), "planned"),
        # after the 2025 report is due (30 June 2026, article 7)
        (2026, "balance", 12_000_00, date(2026, 7, 1), "planned"),
        (2027, "advance", 12_000_00, date(2027, 1, 1), "planned"),
        (2027, "balance", 8_000_00, date(2027, 7, 1), "planned"),
    ]
    assert live_total(convention) == 90_000_00


def test_plan_without_per_year_amounts_splits_the_total_and_a_full_advance_is_one_line(staff):
    call = call_2025(years=2, advance_percent=100)
    _application, convention = factories_followup.planned_convention(call, amount_cents=50_000_01)
    # 100 %: the first year paid at signature, the second after the first year's report
    assert summary(lines_of(convention)) == [
        (2025, "advance", 25_000_01, IN_FORCE_DAY, "planned"),
        (2026, "balance", 25_000_00, date(2026, 7, 1), "planned"),
    ]


def test_plan_payments_is_idempotent(staff):
    _application, convention = factories_followup.planned_convention(call_2025(), amount_cents=42_500_00)
    before = summary(lines_of(convention))
    again = payments.plan_payments(convention, staff)
    db.session.commit()
    assert len(again) == 2
    assert summary(lines_of(convention)) == before


def test_replan_keeps_what_is_put_to_payment_and_cancels_the_rest(staff):
    call = call_2025(years=2, advance_percent=50)
    _application, convention = factories_followup.planned_convention(
        call, amount_cents=60_000_00, per_year=[30_000_00, 30_000_00])
    first_advance = lines_of(convention)[0]
    requested(first_advance, staff)
    payments.replan(convention, [40_000_00, 20_000_00], [2025, 2026], 1, staff)
    db.session.commit()
    lines = lines_of(convention)
    assert summary([line for line in lines if line.generation == 0]) == [
        (2025, "advance", 15_000_00, IN_FORCE_DAY, "requested"),       # untouched
        (2025, "balance", 15_000_00, date(2025, 11, 30), "cancelled"),
        (2026, "advance", 15_000_00, date(2026, 1, 1), "cancelled"),
        (2026, "balance", 15_000_00, date(2026, 7, 1), "cancelled"),
    ]
    assert summary([line for line in lines if line.generation == 1]) == [
        (2025, "balance", 25_000_00, date(2025, 11, 30), "planned"),   # 40 000 - 15 000 requested
        (2026, "advance", 10_000_00, date(2026, 1, 1), "planned"),
        (2026, "balance", 10_000_00, date(2026, 7, 1), "planned"),
    ]
    assert live_total(convention) == 60_000_00
    # the same generation again changes nothing
    payments.replan(convention, [40_000_00, 20_000_00], [2025, 2026], 1, staff)
    db.session.commit()
    assert len(lines_of(convention)) == 7


def test_replan_refuses_less_than_already_put_to_payment(staff):
    _application, convention = factories_followup.planned_convention(call_2025(), amount_cents=42_500_00)
    requested(lines_of(convention)[0], staff)
    with pytest.raises(PaymentError, match="moins pour 2025"):
        payments.replan(convention, [10_000_00], [2025], 1, staff)
    db.session.rollback()
    assert [line.state for line in lines_of(convention)] == [PaymentState.REQUESTED, PaymentState.PLANNED]


# --- The balance rule -------------------------------------------------------------------------

def test_no_balance_before_the_report(staff):
    """Article 5: from the second year on, the balance is paid once the previous year's report is
    in — the service waits until staff have accepted it."""
    call = call_2025(years=2, advance_percent=50)
    _application, convention = factories_followup.planned_convention(
        call, amount_cents=60_000_00, per_year=[30_000_00, 30_000_00])
    balance_2025, balance_2026 = [line for line in lines_of(convention) if line.kind == "balance"]
    # the first year's balance waits for no report
    assert payments.balance_refusal(balance_2025) is None
    requested(balance_2025, staff)

    with pytest.raises(PaymentError) as refused:
        payments.request_payment(balance_2026, staff, day=date(2026, 7, 15))
    assert refused.value.message == (
        "Le solde 2026 ne peut être mis en paiement qu'une fois le compte rendu 2025 accepté (il n'est pas encore "
        "déposé) : l'article 5 de la convention le verse « à partir de la deuxième année, après l'acceptation par "
        "l'administration des justificatifs de l'année précédente ».")
    db.session.rollback()
    report = factories_followup.year_report(convention, 2025, ReportState.SUBMITTED)
    with pytest.raises(PaymentError, match="il est à l'état « Déposé »"):
        payments.request_payment(balance_2026, staff, day=date(2026, 7, 15))
    db.session.rollback()
    assert db.session.get(PaymentLine, balance_2026.id).state == PaymentState.PLANNED

    report.state = ReportState.ACCEPTED
    db.session.commit()
    requested(balance_2026, staff, day=date(2026, 7, 15), reference="1000123456")
    line = db.session.get(PaymentLine, balance_2026.id)
    assert (line.state, line.requested_on, line.chorus_reference) == (
        PaymentState.REQUESTED, date(2026, 7, 15), "1000123456")


def test_no_payment_of_a_convention_not_in_force(staff):
    _application, convention = factories_followup.planned_convention(call_2025(), amount_cents=42_500_00)
    convention.state = ConventionState.TERMINATED
    db.session.commit()
    with pytest.raises(PaymentError, match="n'est pas en vigueur"):
        payments.request_payment(lines_of(convention)[0], staff, day=date(2025, 7, 10))


@pytest.mark.parametrize("day, chorus, message", [
    (payments.today() + timedelta(days=1), "", "ne peut pas être dans le futur"),
    (date(2025, 6, 30), "", "antérieure à l'entrée en vigueur de la convention (30 juin 2025)"[:45]),
    (date(2025, 7, 10), "=1+1", "La référence Chorus ne contient que"),
])
def test_request_dates_and_chorus_reference_are_checked(staff, day, chorus, message):
    _application, convention = factories_followup.planned_convention(call_2025(), amount_cents=42_500_00)
    with pytest.raises(PaymentError, match=message):
        payments.request_payment(lines_of(convention)[0], staff, day=day, chorus_reference=chorus)


def test_paid_not_before_the_request_nor_in_the_future(staff):
    _application, convention = factories_followup.planned_convention(call_2025(), amount_cents=42_500_00)
    line = requested(lines_of(convention)[0], staff, day=date(2025, 7, 10))
    with pytest.raises(PaymentError, match="antérieure à la mise en paiement"):
        payments.mark_paid(line, staff, day=date(2025, 7, 9))
    db.session.rollback()
    with pytest.raises(PaymentError, match="futur"):
        payments.mark_paid(line, staff, day=payments.today() + timedelta(days=1))
    db.session.rollback()
    payments.mark_paid(line, staff, day=date(2025, 7, 20))
    db.session.commit()
    assert (line.state, line.paid_on) == (PaymentState.PAID, date(2025, 7, 20))


def test_suspend_needs_a_reason_and_resume_plans_again(staff):
    _application, convention = factories_followup.planned_convention(call_2025(), amount_cents=42_500_00)
    line = lines_of(convention)[0]
    with pytest.raises(PaymentError, match="motif"):
        payments.suspend(line, staff, "  ")
    payments.suspend(line, staff, "Coordonnées bancaires à vérifier")
    db.session.commit()
    assert (line.state, line.suspended_reason) == (PaymentState.SUSPENDED, "Coordonnées bancaires à vérifier")
    payments.resume(line, staff)
    db.session.commit()
    assert (line.state, line.suspended_reason) == (PaymentState.PLANNED, "")


# --- Mails ------------------------------------------------------------------------------------

def test_members_are_told_when_put_to_payment_paid_and_suspended(staff, applicant):
    application, convention = factories_followup.planned_convention(
        call_2025(), association_record=applicant.association, amount_cents=42_500_00)
    advance, balance = lines_of(convention)
    requested(advance, staff, day=date(2025, 7, 10), reference="1000123456")
    mail = factories.last_mail_to(applicant.email)
    assert mail.subject == f"[{application.reference}] Versement mis en paiement : avance 2025"
    for text in ("mis en paiement le 10 juillet 2025", "Avance 2025 : 21\u202f250\u00a0€", convention.number,
                 "Référence Chorus : 1000123456", f"/suivi/dossiers/{application.id}#versements"):
        assert text in mail.body, text
    payments.mark_paid(advance, staff, day=date(2025, 7, 24))
    db.session.commit()
    mail = factories.last_mail_to(applicant.email)
    assert mail.subject == f"[{application.reference}] Versement effectué : avance 2025"
    assert "payé le 24 juillet 2025" in mail.body and "Avance 2025 : 21\u202f250\u00a0€" in mail.body
    payments.suspend(balance, staff, "Rapport d'activité intermédiaire attendu")
    db.session.commit()
    mail = factories.last_mail_to(applicant.email)
    assert mail.subject == f"[{application.reference}] Versement suspendu : solde 2025"
    assert "Motif de la suspension :\nRapport d'activité intermédiaire attendu" in mail.body
    assert "Solde 2025 : 21\u202f250\u00a0€" in mail.body


# --- The association's section and the staff's forms ------------------------------------------

def section_html(client, application):
    response = client.get(f"/suivi/dossiers/{application.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_association_reads_its_payments_and_what_is_awaited(login_as, applicant, staff):
    call = call_2025(years=2)
    application, convention = factories_followup.planned_convention(
        call, association_record=applicant.association, amount_cents=60_000_00, per_year=[30_000_00, 30_000_00])
    advance = lines_of(convention)[0]
    requested(advance, staff, reference="1000123456")
    payments.mark_paid(advance, staff, day=date(2025, 7, 20))
    db.session.commit()
    html = section_html(login_as(applicant), application)
    assert 'id="versements"' in html
    assert "Subvention accordée : <strong>60\u202f000\u00a0€" in html
    assert "Déjà versé : <strong>15\u202f000\u00a0€" in html
    assert "Reste à verser : <strong>45\u202f000\u00a0€" in html
    assert "Ce qui est attendu de vous" in html
    assert ("Votre compte rendu 2025, à déposer au plus tard le 30/06/2026 : le solde 2026 (15\u202f000\u00a0€) est "
            "versé après son acceptation.") in html
    assert "le 20/07/2025" in html and "1000123456" in html
    # no staff form for the association
    assert "/mise-en-paiement" not in html and "Actions sur les versements" not in html


def awaited_items(html):
    """The items of the callout « Ce qui est attendu de vous » ([] when there is none)."""
    if 'id="versements-attendu"' not in html:
        return []
    callout = html.split('id="versements-attendu"')[1].split("</div>")[0]
    return [item.split("</li>")[0] for item in callout.split("<li>")[1:]]


def test_what_is_awaited_is_the_next_report_to_file_and_nothing_when_nothing_is(login_as, applicant, staff,
                                                                                   monkeypatch):
    """The demo's case: 2025 report accepted, 2026 balance put to payment, the 2026 report a draft:
    what is awaited is that report (the 2027 balance waits for it), not the 2027 report whose year
    has not begun; once filed, nothing is awaited from the association."""
    monkeypatch.setattr(payments, "today", lambda: date(2026, 12, 3))
    call = call_2025(years=3)
    application, convention = factories_followup.planned_convention(
        call, association_record=applicant.association, amount_cents=90_000_00,
        per_year=[30_000_00, 30_000_00, 30_000_00])
    factories_followup.year_report(convention, 2025, ReportState.ACCEPTED)
    report_2026 = factories_followup.year_report(convention, 2026)
    factories_followup.year_report(convention, 2027)
    client = login_as(applicant)
    assert awaited_items(section_html(client, application)) == [
        "Votre compte rendu 2026, à déposer au plus tard le 30/06/2027 : le solde 2027 (15\u202f000\u00a0€) est "
        "versé après son acceptation."]

    report_2026.state = ReportState.INCOMPLETE
    db.session.commit()
    assert awaited_items(section_html(client, application)) == [
        "Les compléments demandés sur votre compte rendu 2026 : le solde 2027 (15\u202f000\u00a0€) est versé "
        "après son acceptation."]

    report_2026.state = ReportState.SUBMITTED
    db.session.commit()
    html = section_html(client, application)
    assert awaited_items(html) == [] and "Ce qui est attendu de vous" not in html
    assert "Solde 2027 : versé après l&#39;acceptation du compte rendu 2026, déposé et en cours d&#39;examen." in html

    # 2027 has begun: its report (after the last payment) is what is awaited next
    monkeypatch.setattr(payments, "today", lambda: date(2027, 1, 2))
    assert awaited_items(section_html(client, application)) == [
        "Votre compte rendu 2027, à déposer au plus tard le 30/06/2028."]


def test_another_association_and_a_reviewer_see_nothing(client, login_as, applicant, other_applicant, reviewer):
    application, _convention = factories_followup.planned_convention(
        call_2025(), association_record=applicant.association, amount_cents=42_500_00)
    assert login_as(other_applicant).get(f"/suivi/dossiers/{application.id}").status_code == 404
    client.get("/deconnexion")
    assert login_as(reviewer).get(f"/suivi/dossiers/{application.id}").status_code == 404


def test_only_staff_act_on_a_line(login_as, applicant, staff):
    _application, convention = factories_followup.planned_convention(
        call_2025(), association_record=applicant.association, amount_cents=42_500_00)
    line = lines_of(convention)[0]
    client = login_as(applicant)
    response = client.post_form(f"/suivi/versements/{line.id}/mise-en-paiement",
                                {f"mise-{line.id}-day": "2025-07-10"})
    assert response.status_code == 403
    assert client.get("/suivi/versements").status_code == 403
    db.session.refresh(line)
    assert line.state == PaymentState.PLANNED


def test_staff_put_to_payment_with_errors_next_to_fields(login_as, staff, applicant):
    application, convention = factories_followup.planned_convention(
        call_2025(years=2), association_record=applicant.association, amount_cents=60_000_00)
    advance = lines_of(convention)[0]
    balance_2026 = lines_of(convention)[3]
    client = login_as(staff)
    html = section_html(client, application)
    assert "Actions sur les versements" in html
    assert f'action="/suivi/versements/{advance.id}/mise-en-paiement"' in html
    # the blocked balance says why, and offers no « mise en paiement »
    assert f'action="/suivi/versements/{balance_2026.id}/mise-en-paiement"' not in html
    assert "Le solde 2026 ne peut être mis en paiement qu&#39;une fois le compte rendu 2025 accepté" in html

    response = client.post_form(f"/suivi/versements/{advance.id}/mise-en-paiement",
                                {f"mise-{advance.id}-day": "2099-01-01",
                                 f"mise-{advance.id}-chorus_reference": "1000-77"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "La date ne peut pas être dans le futur." in page
    assert 'value="2099-01-01"' in page and 'value="1000-77"' in page
    db.session.refresh(advance)
    assert advance.state == PaymentState.PLANNED

    response = client.post_form(f"/suivi/versements/{advance.id}/mise-en-paiement",
                                {f"mise-{advance.id}-day": "10/07/2025",
                                 f"mise-{advance.id}-chorus_reference": "1000-77"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/suivi/dossiers/{application.id}#versement-{advance.id}")
    db.session.refresh(advance)
    assert (advance.state, advance.requested_on, advance.chorus_reference) == (
        PaymentState.REQUESTED, date(2025, 7, 10), "1000-77")

    response = client.post_form(f"/suivi/versements/{advance.id}/suspension", {f"suspension-{advance.id}-reason": ""})
    assert response.status_code == 422
    assert "Indiquez le motif de la suspension" in response.get_data(as_text=True)

    response = client.post_form(f"/suivi/versements/{advance.id}/paiement", {f"paye-{advance.id}-day": "2025-07-21"})
    assert response.status_code == 302
    db.session.refresh(advance)
    assert (advance.state, advance.paid_on) == (PaymentState.PAID, date(2025, 7, 21))
    assert client.post_form("/suivi/versements/99999/paiement", {}).status_code == 404


def test_history_tells_the_association_of_its_payments(login_as, applicant, staff):
    application, convention = factories_followup.planned_convention(
        call_2025(), association_record=applicant.association, amount_cents=42_500_00)
    requested(lines_of(convention)[0], staff, day=date(2025, 7, 10), reference="1000123456")
    from aap.applications.history import association_history
    rows = [(row.label, row.detail) for row in association_history(application)]
    assert ("Versement mis en paiement",
            "Avance 2025 : 21\u202f250\u00a0€ — le 10 juillet 2025 — référence Chorus 1000123456") in rows


# --- The staff page and the workbook ----------------------------------------------------------

def test_staff_page_lists_the_months_payments_across_calls_with_bounded_queries(login_as, staff):
    call = call_2025(years=2)
    other = call_2025(slug="aap-2025-bis")
    files = [factories_followup.planned_convention(call if i % 2 else other, amount_cents=40_000_00)
             for i in range(30)]
    client = login_as(staff)
    with count_queries() as queries:
        response = client.get("/suivi/versements?mois=2026-07&page=2")
    assert response.status_code == 200
    assert queries() <= 12, queries()
    html = response.get_data(as_text=True)
    assert "Versements à effectuer" in html and "juillet 2026" in html
    # July 2026: every 2025 line (planned before) and the 2-year calls' 2026 lines planned by 1 July:
    # 15 one-year conventions x 2 lines, 15 two-year ones x 4; the 2026 balances last, flagged
    assert "90 versements — page 2 sur 2" in html
    assert html.count(">Bloqué<") == 15
    assert "Attend l&#39;acceptation du compte rendu 2025 (non déposé)" in html
    application, convention = files[1]
    assert f"/suivi/dossiers/{application.id}#versement-" in html

    response = client.get(f"/suivi/versements?mois=2025-07&appel={other.id}")
    html = response.get_data(as_text=True)
    assert "15 versements" in html  # only the advances planned at 1 July 2025 of the other call
    assert "Avance 2025" in html and "Solde" not in html.split("<tbody>")[1]

    response = client.get("/suivi/versements?mois=2025-13")
    assert response.status_code == 200
    assert "Indiquez un mois au format AAAA-MM" in response.get_data(as_text=True)

    response = client.get(f"/suivi/versements.xlsx?mois=2025-07&appel={other.id}")
    ws = load_workbook(io.BytesIO(response.data))["Versements à effectuer"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 16  # 15 lines and the total
    assert isinstance(rows[0][7], (int, float)) and rows[0][7] == 20_000  # a number, not text
    assert isinstance(rows[0][8], datetime) and rows[0][8].date() == IN_FORCE_DAY
    assert rows[-1][7] == 300_000.0


def test_workbook_has_a_versements_sheet_typed(staff):
    call = call_2025(years=2)
    application, convention = factories_followup.planned_convention(call, amount_cents=60_000_00)
    requested(lines_of(convention)[0], staff, day=date(2025, 7, 10), reference="1000123456")
    payments.mark_paid(lines_of(convention)[0], staff, day=date(2025, 7, 20))
    db.session.commit()
    for cabinet in (False, True):
        ws = load_workbook(io.BytesIO(build_workbook(call.id, cabinet=cabinet)))["Versements"]
        header = [cell.value for cell in ws[1]]
        assert header == ["Appel", "Référence", "Association", "SIRET", "Convention", "Année", "Versement",
                          "Montant", "Date prévue", "Mis en paiement le", "Payé le", "État", "Référence Chorus"]
        assert ws.print_title_rows == "$1:$1" and ws.auto_filter.ref == "A1:M5"
        first = [cell for cell in ws[2]]
        assert [c.value for c in first[:7]] == [call.slug, application.reference, application.association.name,
                                                application.association.siret, convention.number, 2025, "Avance"]
        assert first[7].value == 15_000.0 and first[7].number_format == '#,##0.00 "€"'
        assert [c.value for c in first[8:11]] == [datetime(2025, 7, 1), datetime(2025, 7, 10), datetime(2025, 7, 20)]
        assert first[8].is_date and first[8].number_format == "DD/MM/YYYY"
        assert [c.value for c in first[11:]] == ["Payé", "1000123456"]
        assert ws.cell(row=6, column=8).value == 60_000.0  # the total


def test_staff_page_counts_the_balances_waiting_for_a_report_apart(login_as, staff):
    """« À mettre en paiement » adds up what can be paid this month; a balance waiting for the
    previous year's report is counted apart, « bloqués, compte rendu attendu »."""
    _application, two_years = factories_followup.planned_convention(call_2025(years=2), amount_cents=40_000_00)
    factories_followup.planned_convention(call_2025(slug="aap-2025-bis"), amount_cents=40_000_00)
    report = factories_followup.year_report(two_years, 2025, ReportState.SUBMITTED)
    totals = payments.to_make_totals(date(2026, 7, 31))
    assert totals[PaymentState.PLANNED] == (5, 70_000_00)
    assert totals[payments.BLOCKED_REPORT] == (1, 10_000_00)
    client = login_as(staff)
    html = client.get("/suivi/versements?mois=2026-07").get_data(as_text=True)
    assert ("À mettre en paiement : <strong>5</strong> versements, <strong>70\u202f000\u00a0€</strong>" in html)
    assert ("Bloqués, compte rendu attendu : <strong>1</strong> solde, <strong>10\u202f000\u00a0€</strong>" in html)

    report.state = ReportState.ACCEPTED
    db.session.commit()
    html = client.get("/suivi/versements?mois=2026-07").get_data(as_text=True)
    assert "À mettre en paiement : <strong>6</strong> versements, <strong>80\u202f000\u00a0€</strong>" in html
    assert "Bloqués, compte rendu attendu" not in html

    # nothing to pay: said so, the blocked balance apart
    report.state = ReportState.SUBMITTED
    db.session.commit()
    html = client.get(f"/suivi/versements?mois=2026-07&appel={two_years.application.call_id}"
                      "&etat=planned").get_data(as_text=True)
    assert "À mettre en paiement : <strong>3</strong>" in html
    for line in lines_of(two_years):
        if line.year == 2025 or line.kind == "advance":
            line.state = PaymentState.PAID
    db.session.commit()
    html = client.get(f"/suivi/versements?mois=2026-07&appel={two_years.application.call_id}"
                      "&etat=planned").get_data(as_text=True)
    assert "À mettre en paiement : aucun versement" in html and "Bloqués, compte rendu attendu" in html
    report.state = ReportState.ACCEPTED
    two_years.state = ConventionState.TERMINATED
    db.session.commit()
    totals = payments.to_make_totals(date(2026, 7, 31))
    assert totals[PaymentState.PLANNED] == (2, 40_000_00)
    assert totals[payments.BLOCKED_CONVENTION] == (1, 10_000_00)


def test_the_payments_table_stacks_on_small_screens_and_the_sections_are_spaced(app, login_as, applicant, staff):
    """At 375 px the schedule is read one block per line, each cell after its column's name (the
    state included: app.css .aap-table-stack); the « Avenants » and « Versements » sections have the
    same margins as the others, so that a heading never sticks to what precedes it."""
    application, _convention = factories_followup.planned_convention(
        call_2025(), association_record=applicant.association, amount_cents=42_500_00)
    html = section_html(login_as(applicant), application)
    table = html.split('id="versements"')[1].split("</table>")[0]
    assert '<table class="aap-table-stack">' in table
    for label in ("Montant", "Date prévue", "État", "Référence Chorus"):
        assert table.count(f'data-label="{label}"') == 2  # one per line
    from pathlib import Path
    css = (Path(__file__).resolve().parents[1] / "aap" / "static" / "app" / "app.css").read_text()
    assert ".fr-table > table.aap-table-stack td[data-label]::before { content: attr(data-label);" in css

    from .conftest import login
    staff_client = app.test_client()
    login(staff_client, staff)
    html = section_html(staff_client, application)
    assert '<section class="fr-mt-6w fr-mb-6w" id="avenants"' in html
    assert '<section class="fr-mt-6w fr-mb-6w" id="versements"' in html
    staff_table = staff_client.get("/suivi/versements?mois=2025-12").get_data(as_text=True)
    assert '<table class="aap-table-stack">' in staff_table and 'data-label="État"' in staff_table


def test_staff_actions_title_says_a_balance_is_blocked_waiting_for_a_report(login_as, staff):
    """The accordion of a balance waiting for the previous year's report says why it is not
    offered for payment, not « prévu »."""
    application, convention = factories_followup.planned_convention(call_2025(years=2), amount_cents=40_000_00)
    html = section_html(login_as(staff), application)
    balance_2026 = next(line for line in lines_of(convention) if (line.year, line.kind) == (2026, "balance"))
    advance_2026 = next(line for line in lines_of(convention) if (line.year, line.kind) == (2026, "advance"))
    accordion = html.split(f'aria-controls="actions-versement-{balance_2026.id}">')[1].split("</button>")[0]
    assert accordion == "Solde 2026 — 10\u202f000\u00a0€ (bloqué : compte rendu 2025 attendu)"
    accordion = html.split(f'aria-controls="actions-versement-{advance_2026.id}">')[1].split("</button>")[0]
    assert accordion.endswith("(prévu)")
    # filed and examined by staff: said so
    factories_followup.year_report(convention, 2025, ReportState.SUBMITTED)
    html = section_html(login_as(staff), application)
    accordion = html.split(f'aria-controls="actions-versement-{balance_2026.id}">')[1].split("</button>")[0]
    assert accordion == "Solde 2026 — 10 000 € (bloqué : compte rendu 2025 en cours d&#39;examen)"


def late_convention(association_record=None):
    """A one-year 2025 convention put in force on 15 December 2025: its balance is planned after
    the 30 November that article 5 sets."""
    from aap.followup import payments as payment_service
    from aap.models.followup import ConventionState as State

    from . import factories_documents
    application = factories_documents.winner(call_2025(), association_record=association_record,
                                             amount_cents=42_500_00)
    convention = factories_followup.convention(application, State.IN_FORCE)
    convention.in_force_at = datetime(2025, 12, 15, 10, tzinfo=timezone.utc)
    payment_service.plan_payments(convention, None)
    db.session.commit()
    return application, convention


def test_a_line_planned_after_its_deadline_is_flagged_for_both(app, login_as, applicant, staff):
    application, convention = late_convention(applicant.association)
    balance = next(line for line in lines_of(convention) if line.kind == "balance")
    assert balance.planned_on == date(2025, 12, 15) and payments.past_deadline(balance)
    html = section_html(login_as(applicant), application)
    row = html.split(f'id="versement-{balance.id}"')[1].split("</tr>")[0]
    assert "au plus tard le 30/11/2025" in row and "Hors délai conventionnel" in row
    advance = next(line for line in lines_of(convention) if line.kind == "advance")
    assert "Hors délai conventionnel" not in html.split(f'id="versement-{advance.id}"')[1].split("</tr>")[0]

    from .conftest import login
    staff_client = app.test_client()
    login(staff_client, staff)
    assert "Hors délai conventionnel" in section_html(staff_client, application)
    listing = staff_client.get("/suivi/versements?mois=2025-12").get_data(as_text=True)
    rows = listing.split("<tbody>")[1].split("</tbody>")[0].split("</tr>")
    late_rows = [row for row in rows if "Hors délai conventionnel" in row]
    assert len(late_rows) == 1 and "Solde 2025" in late_rows[0] and "au plus tard le 30/11/2025" in late_rows[0]
