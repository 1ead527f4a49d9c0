"""The convention's budget as granted (issue 17 §2) and its payments within the term (§3).

Annex II is the project's budget by nature (Cerfa n° 12156*06) as the grant is made: each year
balanced, its State line equal to the amount of article 4; a winner granted less than it asked
adjusts its budget first (applications.adjustment), and no convention is issued before. The
payments of article 5 all fall within the convention's term, each year's within that year.
"""
import datetime
import io
import re
from datetime import date

import pytest
from pypdf import PdfReader

from aap.applications import adjustment
from aap.applications import budget as B
from aap.documents import services
from aap.documents.convention import build_convention_pdf, payments, presentation
from aap.documents.data import convention_data, last_payment_date, payment_plan, winners
from aap.extensions import db
from aap.models import Call, Convention, Event
from aap.money import format_euros

from . import factories
from .conftest import demo_app
from .factories_documents import winner


def pdf_text(content):
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    text = text.replace("\u202f", " ").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text)


def annex_figures(data):
    """From the data of a convention: (grant line per year, charges per year, products per year)
    of annex II, and the amounts per year of article 4."""
    shown = presentation(data)
    annex = shown["annex"]
    grant = next(row for row in annex.products if row.line.code == B.GRANT)
    return ([int(c or 0) for c in grant.cells], [s.charges for s in annex.per_year],
            [s.products for s in annex.per_year], [row["cents"] for row in shown["schedule"]])


# --- every winner of the demo ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    yield from demo_app(tmp_path_factory)


def demo_winners():
    call = db.session.scalar(db.select(Call).where(Call.slug == "aap-2025"))
    return call, winners(call.id)


def test_every_demo_winner_has_a_balanced_annex_whose_grant_line_is_article_4(demo):
    with demo.app_context():
        call, applications = demo_winners()
        assert len(applications) == 67
        waiting, adjusted, reduced = [], 0, 0
        for application in applications:
            state = adjustment.adjustment(application)
            reduced += sum(state.requested) > application.decision.amount_cents
            data = convention_data(application, "N")
            if data["budget"] is None:
                assert state.required and services.budget_refusal(application)
                waiting.append(application.reference)
                continue
            adjusted += state.status == adjustment.ADJUSTED
            grant, charges, products, article_4 = annex_figures(data)
            assert grant == article_4 == application.decision.amount_per_year, application.reference
            assert sum(grant) == data["decision"]["amount_cents"] == application.decision.amount_cents
            assert charges == products and all(charges), application.reference
        # Most winners granted less than they asked have adjusted their budget; two wait for it.
        assert reduced >= 10 and adjusted == reduced - 2 and len(waiting) == 2
        # The deposited budget stays as deposited.
        adjusted_file = next(a for a in applications
                             if adjustment.adjustment(a).status == adjustment.ADJUSTED)
        assert B.clean(adjusted_file.budget, call.years) != adjusted_file.decision.adjusted_budget
        assert db.session.scalar(db.select(db.func.count(Event.id)).where(Event.action == "budget_adjusted")) \
            == adjusted


def test_demo_convention_pdf_shows_the_budget_as_granted_and_payments_within_the_term(demo):
    with demo.app_context():
        call, applications = demo_winners()
        application = next(a for a in applications if adjustment.adjustment(a).status == adjustment.ADJUSTED)
        data = convention_data(application, "1J1M-2025-CPO-0001")
        text = pdf_text(build_convention_pdf(data))
        grant, charges, products, _ = annex_figures(data)
        annex = text[text.index("Annexe II — Budget du projet"):text.index("Annexe III")]

        def fmt(cents):
            euros, rest = divmod(cents, 100)
            return f"{euros:,}".replace(",", " ") + f",{rest:02d} €"

        assert "74 – Subventions d'exploitation – État : DJEPVA" in annex
        assert "Cerfa n° 12156*06" in annex and "Subvention demandée" not in annex
        assert (f"État : DJEPVA (subvention de la présente convention) {' '.join(fmt(c) for c in grant)} "
                f"{fmt(sum(grant))}") in annex
        assert f"Total des charges {' '.join(fmt(c) for c in charges)} {fmt(sum(charges))}" in annex
        assert f"Total des produits {' '.join(fmt(c) for c in products)} {fmt(sum(products))}" in annex
        # Article 5: each year's payments in that year, none after 30 November 2027.
        article_5 = text[text.index("Modalités de versement"):text.index("Aucun versement n'intervient")]
        assert "au plus tard le 30 novembre 2027" in article_5 and "2028" not in article_5
        assert "reste toutefois en vigueur après ce terme jusqu'à l'examen" in text
        assert "au plus tard le 30 juin 2028" in text


# --- the payments ---------------------------------------------------------------------------------

@pytest.mark.parametrize("years, percent", [(1, 50), (1, 100), (3, 50), (3, 100), (3, 0), (2, 33)])
def test_every_payment_falls_in_its_own_year_within_the_term(years, percent):
    year_list = [2025 + i for i in range(years)]
    amounts = [30_000_01 + i for i in range(years)]
    plan = payment_plan(year_list, amounts, percent)
    assert sum(p["cents"] for p in plan) == sum(amounts)
    for p in plan:
        assert sum(q["cents"] for q in plan if q["year"] == p["year"]) == amounts[year_list.index(p["year"])]
        if p["by"] is None:  # at signature: the first year only
            assert p["year"] == year_list[0]
        else:
            assert date.fromisoformat(p["by"]).year == p["year"]
            assert date(year_list[0], 1, 1) <= date.fromisoformat(p["by"]) <= date(year_list[-1], 12, 31)
        # From the second year on, the balance waits for the previous year's reports.
        if p["year"] > year_list[0] and p["kind"] in ("balance", "single"):
            assert p["after_reports_of"] == p["year"] - 1
    assert all(date.fromisoformat(p["by"]) <= last_payment_date(year_list) for p in plan if p["by"])


def test_annual_convention_pays_its_balance_in_its_year_and_stays_in_force_for_the_report(app):
    call = factories.call(slug="aap-pay", year=2025, advance_percent=60)
    application = winner(call, amount_cents=42_500_00)
    data = convention_data(application, "1J1M-2025-CA-0001")
    assert [(p["label"], p["amount"], p["when"]) for p in payments(data)] == [
        ("Avance", "25\u202f500,00\u00a0€", "à la signature de la convention"),
        ("Solde", "17\u202f000,00\u00a0€", "au plus tard le 30 novembre 2025"),
    ]
    text = pdf_text(build_convention_pdf(data))
    assert "une avance de 60 % de la contribution de l'année, à la signature" in text
    assert "le solde de 40 %, au plus tard le 30 novembre de l'année" in text
    assert "Aucun versement n'intervient après le terme de la convention" in text
    assert ("Elle reste toutefois en vigueur après ce terme jusqu'à l'examen par l'administration des "
            "justificatifs de l'année 2025") in text
    assert "au plus tard le 30 juin 2026" in text


def test_multi_year_later_payments_wait_for_the_previous_report(app):
    call = factories.call(slug="cpo-pay", year=2025, years=3, advance_percent=50)
    application = winner(call, amount_cents=90_000_00, per_year=[30_000_00] * 3)
    rows = payments(convention_data(application, "X"))
    assert [(p["year"], p["label"], p["when"]) for p in rows] == [
        (2025, "Avance", "à la signature de la convention"),
        (2025, "Solde", "au plus tard le 30 novembre 2025"),
        (2026, "Avance", "au plus tard le 31 mars 2026"),
        (2026, "Solde", "après acceptation des justificatifs de l'année 2025, au plus tard le 30 novembre 2026"),
        (2027, "Avance", "au plus tard le 31 mars 2027"),
        (2027, "Solde", "après acceptation des justificatifs de l'année 2026, au plus tard le 30 novembre 2027"),
    ]


# --- the adjustment step --------------------------------------------------------------------------

@pytest.fixture
def reduced(app, applicant):
    """A winner of a 3-year call granted 80 000 € (30 000, 25 000, 25 000) of the 100 000 € asked."""
    call = factories.call(slug="cpo-reduit", year=2025, years=3)
    factories.complete_identity(applicant.association)
    return winner(call, association_record=applicant.association, amount_cents=80_000_00,
                  per_year=[30_000_00, 25_000_00, 25_000_00], requested_cents=100_000_00,
                  requested_per_year=[40_000_00, 30_000_00, 30_000_00])


def budget_post(application, value):
    """The adjustment form's fields for a budget {year: {code: cents}}."""
    data = {}
    for year in B.year_keys(application.call.years):
        for code in B.CODES:
            cents = (value.get(year) or {}).get(code)
            data[B.field_name(year, code)] = "" if cents is None else f"{cents // 100},{cents % 100:02d}"
    return data


def test_association_adjusts_its_budget_before_the_convention(client, login_as, applicant, staff, reduced):
    url = f"/candidatures/{reduced.id}/ajuster-budget"
    deposited = B.clean(reduced.budget, 3)
    login_as(applicant)
    page = client.get(f"/candidatures/{reduced.id}").get_data(as_text=True).replace("&#39;", "'")
    assert "Budget à ajuster avant la convention" in page and "Ajuster votre budget" in page
    assert "Télécharger la convention" not in page
    # No convention before the adjustment.
    response = client.get(f"/candidatures/{reduced.id}/convention.pdf")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "la convention ne peut pas encore être émise" in page.lower()
    assert db.session.scalar(db.select(Convention).where(Convention.application_id == reduced.id)) is None

    # The form: the grant line fixed at the amount granted, read-only.
    form = client.get(url).get_data(as_text=True).replace("&#39;", "'")
    grant_input = re.search(r'<input[^>]*id="budget_1_74_aap"[^>]*>', form).group(0)
    assert "readonly" in grant_input and 'value="30000"' in grant_input.replace("\u202f", "").replace(" ", "")

    # Unbalanced (the deposited charges kept): refused, the message next to the balance of each year.
    response = client.post_form(url, budget_post(reduced, deposited))
    assert response.status_code == 422
    page = response.get_data(as_text=True).replace("&#39;", "'")
    balance_row = page[page.index('id="budget-1-balance"'):]
    assert "Année 2025 : le total des produits" in balance_row.split("</tbody>")[0]
    assert "doit être égal au total des charges" in page
    db.session.refresh(reduced.decision)
    assert reduced.decision.adjusted_budget is None

    # Balanced, with a grant line typed at the amount asked: the grant line stays the amount granted.
    adjusted = B.reduced_to_grant(deposited, [30_000_00, 25_000_00, 25_000_00], 3)
    posted = budget_post(reduced, adjusted)
    posted["budget_1_74_aap"] = "40000"
    response = client.post_form(url, posted)
    assert response.status_code == 303
    db.session.refresh(reduced.decision)
    assert reduced.decision.adjusted_budget == adjusted
    assert [reduced.decision.adjusted_budget[y]["74_aap"] for y in "123"] == [30_000_00, 25_000_00, 25_000_00]
    assert B.clean(reduced.budget, 3) == deposited  # the deposit stays frozen
    page = client.get(f"/candidatures/{reduced.id}").get_data(as_text=True).replace("&#39;", "'")
    assert "Budget ajusté à la subvention accordée" in page and "Télécharger la convention" in page

    # Staff see it adjusted; the convention is issued with it as annex II.
    client.post_form("/deconnexion")
    login_as(staff)
    page = client.get(f"/candidatures/{reduced.id}").get_data(as_text=True).replace("&#39;", "'")
    assert "Budget ajusté à la subvention accordée" in page
    response = client.get(f"/candidatures/{reduced.id}/convention.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    assert ("État : DJEPVA (subvention de la présente convention) 30 000,00 € 25 000,00 € 25 000,00 € "
            "80 000,00 €") in text
    # Issued but not signed: the convention follows the budget (still adjustable); once signed,
    # the budget changes only by amendment (avenant).
    assert adjustment.refusal(reduced) is None
    convention = db.session.scalar(db.select(Convention).where(Convention.application_id == reduced.id))
    convention.signed_at = datetime.date(2025, 7, 1)
    db.session.flush()
    assert "est signée" in adjustment.refusal(reduced) and "par avenant" in adjustment.refusal(reduced)


def test_staff_see_the_step_and_may_adjust_for_the_association(client, login_as, applicant, staff, reduced):
    login_as(staff)
    page = client.get(f"/instruction/appels/{reduced.call_id}/documents").get_data(as_text=True).replace("&#39;", "'")
    assert "Budget à ajuster" in page and "1 lauréat dont la subvention est inférieure" in page
    page = client.get(f"/candidatures/{reduced.id}").get_data(as_text=True).replace("&#39;", "'")
    assert "l'association doit ajuster son budget" in page and "Ajuster le budget pour l'association" in page
    adjusted = B.reduced_to_grant(reduced.budget, [30_000_00, 25_000_00, 25_000_00], 3)
    assert client.post_form(f"/candidatures/{reduced.id}/ajuster-budget",
                            budget_post(reduced, adjusted)).status_code == 303
    page = client.get(f"/instruction/appels/{reduced.call_id}/documents").get_data(as_text=True).replace("&#39;", "'")
    assert "Budget à ajuster" not in page and "budget ajusté le" in page
    # Recorded in the history: staff read who; the association reads « DJEPVA » and the new cost.
    event = db.session.scalar(db.select(Event).where(Event.action == "budget_adjusted"))
    assert event.actor_id == staff.id
    client.post_form("/deconnexion")
    login_as(applicant)
    page = client.get(f"/candidatures/{reduced.id}").get_data(as_text=True).replace("&#39;", "'")
    history = page[page.index("<h2>Historique</h2>"):]
    assert "Budget ajusté à la subvention accordée" in history and "DJEPVA" in history
    before, after = B.totals(reduced.budget, 3)[1].charges, B.totals(adjusted, 3)[1].charges
    assert before > after
    assert f"Coût du projet : {format_euros(after)} (auparavant {format_euros(before)})" in history


def test_only_the_association_and_staff_adjust_and_only_a_reduced_grant(client, login_as, other_applicant,
                                                                         reviewer, applicant, reduced):
    url = f"/candidatures/{reduced.id}/ajuster-budget"
    for user in (other_applicant, reviewer):
        client.post_form("/deconnexion")
        login_as(user)
        assert client.get(url).status_code in (403, 404)
        assert client.post_form(url, budget_post(reduced, reduced.budget)).status_code in (403, 404)
    # A winner granted what it asked has nothing to adjust.
    full = winner(factories.call(slug="aap-plein", year=2025), name="Autre lauréat")
    assert adjustment.adjustment(full).status == adjustment.NOT_NEEDED
    assert services.budget_refusal(full) is None


def test_an_amended_amount_makes_the_adjusted_budget_stale(app, applicant, reduced):
    adjusted = B.reduced_to_grant(reduced.budget, [30_000_00, 25_000_00, 25_000_00], 3)
    adjustment.save_adjusted_budget(reduced, adjusted, applicant)
    db.session.commit()
    assert adjustment.adjustment(reduced).status == adjustment.ADJUSTED
    reduced.decision.amount_per_year = [30_000_00, 20_000_00, 25_000_00]
    reduced.decision.amount_cents = 75_000_00
    db.session.commit()
    assert adjustment.adjustment(reduced).required and services.budget_refusal(reduced)
