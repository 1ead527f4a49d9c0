"""The project budget (issue 14, trap 5): the table of Cerfa 12156*06's « budget du projet »,
its totals and checks (aap/applications/budget.py), the deposit refused with the message next to
the field, the amount requested derived from the State line for the rest of the application, the
budget shown to staff, reviewers and on the receipt, and the migration of the former fields."""
import importlib.util
import io
import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from aap.applications import budget as B
from aap.applications import completeness
from aap.extensions import db
from aap.models import Application
from aap.selection import ranking
from aap.selection.services import split_per_year

from . import factories
from . import factories_applications as fa
from . import factories_instruction as fi
from .conftest import login
from .test_migrations import migrating_app  # noqa: F401 (the fixture of a database migrated step by step)

EURO = 100


def fresh(application):
    db.session.expire_all()
    return db.session.get(Application, application.id)


def texts(problems):
    return " ".join(p.message for p in problems)


# --- pure functions -------------------------------------------------------------------------------

def test_lines_follow_cerfa_12156():
    charges = [line.code for line in B.LINES if line.side == B.CHARGES]
    products = [line.code for line in B.LINES if line.side == B.PRODUCTS]
    assert charges == ["60", "61", "62", "63", "64", "65", "66", "67", "68"]
    assert [c for c in products if "_" not in c] == ["70", "73", "75", "76", "78"]
    assert products[2] == B.GRANT and all(c.startswith("74_") for c in products[2:13])
    assert [line.code for line in B.LINES if line.side in (B.KIND_CHARGES, B.KIND_PRODUCTS)] == ["86", "87"]


def test_totals_keep_contributions_in_kind_apart():
    cells = {"60": 10_000 * EURO, "64": 90_000 * EURO, "86": 5_000 * EURO,
             B.GRANT: 40_000 * EURO, "74_region": 35_000 * EURO, "75": 25_000 * EURO, "87": 5_000 * EURO}
    sums = B.year_totals(cells)
    assert (sums.charges, sums.products, sums.grant) == (100_000 * EURO, 100_000 * EURO, 40_000 * EURO)
    assert (sums.kind_charges, sums.kind_products) == (5_000 * EURO, 5_000 * EURO)
    assert sums.difference == sums.kind_difference == 0
    assert B.share_text(sums.grant, sums.charges) == "40,0\u00a0%"
    assert B.difference_text(0) == "Budget équilibré"
    assert B.difference_text(-12_000 * EURO) == "Il manque 12\u202f000\u00a0€ de produits"
    assert B.difference_text(500 * EURO) == "Les produits dépassent les charges de 500\u00a0€"
    assert B.problems({"1": cells}, 1, 2026, 10_000 * EURO, 150_000 * EURO) == []


@pytest.mark.parametrize("grant, charges, text", [(1, 3, "33,3"), (2, 3, "66,7"), (1, 8, "12,5"),
                                                  (1, 16, "6,3"), (3, 3, "100,0"), (0, 7, "0,0")])
def test_share_is_rounded_half_up_as_in_the_browser(grant, charges, text):
    assert B.share_text(grant, charges) == text + "\u00a0%"
    assert B.share_text(5, 0) == ""


def test_the_budget_of_the_issue_is_refused():
    """Issue 14: a total cost of 200,000 €, a request of 150,000 € and co-funding of 405,000 € were
    « complet »."""
    value = {"1": {"64": 200_000 * EURO, B.GRANT: 150_000 * EURO, "74_region": 405_000 * EURO}}
    found = B.problems(value, 1, 2026, 10_000 * EURO, 150_000 * EURO)
    assert [p.code for p in found] == ["balance"]
    assert found[0].message == ("Le total des produits (555\u202f000\u00a0€) doit être égal au total des charges "
                                "(200\u202f000\u00a0€) : les produits dépassent les charges de 355\u202f000\u00a0€.")
    assert found[0].anchor == "budget-1-balance"
    assert found[0].item.startswith("Le budget : le total des produits")


def test_a_request_above_the_cost_or_outside_the_call_is_refused():
    value = {"1": {"64": 100_000 * EURO, B.GRANT: 160_000 * EURO}}
    found = B.problems(value, 1, 2026, 10_000 * EURO, 150_000 * EURO)
    assert {p.code for p in found} == {"balance", B.GRANT}
    assert "dépasse le coût total du projet (100\u202f000\u00a0€)" in texts(found)
    assert "dépasse le maximum de l'appel (150\u202f000\u00a0€)" in texts(found)
    low = B.problems({"1": {"64": 5_000 * EURO, B.GRANT: 5_000 * EURO}}, 1, 2026, 10_000 * EURO, 150_000 * EURO)
    assert [p.text for p in low] == ["le montant demandé (5\u202f000\u00a0€) est inférieur au minimum de l'appel "
                                     "(10\u202f000\u00a0€)."]
    assert low[0].anchor == "budget_1_74_aap"


def test_contributions_in_kind_balance_on_their_own():
    value = {"1": {"64": 50_000 * EURO, B.GRANT: 50_000 * EURO, "86": 8_000 * EURO, "87": 6_000 * EURO}}
    found = B.problems(value, 1, 2026)
    assert [(p.code, p.anchor) for p in found] == [("kind", "budget_1_87")]
    assert "ligne 87, 6\u202f000\u00a0€" in found[0].message and "ligne 86, 8\u202f000\u00a0€" in found[0].message


def test_an_empty_budget_is_missing_and_a_partial_one_says_what_to_fill():
    assert B.problems({}, 1, 2026) == [] and B.problems({"1": {}}, 1, 2026) == []
    found = B.problems({"1": {"75": 1_000 * EURO}}, 1, 2026)
    assert [p.code for p in found] == [B.GRANT, "60"]


def test_each_year_of_a_multi_year_budget_balances():
    balanced = {"64": 100_000 * EURO, B.GRANT: 40_000 * EURO, "75": 60_000 * EURO}
    value = {"1": balanced, "2": dict(balanced, **{"75": 50_000 * EURO}), "3": {"64": 90_000 * EURO}}
    found = B.problems(value, 3, 2027, 10_000 * EURO, 150_000 * EURO)
    assert [(p.year, p.code, p.year_label) for p in found] == [("2", "balance", "2028"), ("3", B.GRANT, "2029"),
                                                              ("3", "balance", "2029")]
    assert found[0].message.startswith("Année 2028 : le total des produits")
    assert found[0].item.startswith("Le budget, année 2028 : le total des produits")
    assert found[0].anchor == "budget-2-balance"
    # The amount requested is the sum of the years' State lines: they cannot disagree.
    derived = B.derived(value, 3)
    assert derived["requested_per_year"] == [40_000 * EURO, 40_000 * EURO, 0]
    assert derived["requested_cents"] == 80_000 * EURO == sum(derived["requested_per_year"])
    assert derived["total_cost_cents"] == 290_000 * EURO
    # The whole request within the call's bounds: 3 × 60 000 € is above a maximum of 150 000 €.
    over = {k: {"64": 60_000 * EURO, B.GRANT: 60_000 * EURO} for k in ("1", "2", "3")}
    found = B.problems(over, 3, 2027, 10_000 * EURO, 150_000 * EURO)
    assert [p.text for p in found] == ["le montant demandé sur les 3 ans (180\u202f000\u00a0€) dépasse le maximum "
                                       "de l'appel (150\u202f000\u00a0€)."]


def test_derived_fields_of_the_rest_of_the_application():
    value = {"1": {"64": 90_000 * EURO, "86": 4_000 * EURO, B.GRANT: 50_000 * EURO, "74_region": 30_000 * EURO,
                   "74_commune": 10_000 * EURO, "87": 4_000 * EURO}}
    assert B.derived(value, 1) == {
        "requested_cents": 50_000 * EURO, "requested_per_year": [50_000 * EURO], "total_cost_cents": 90_000 * EURO,
        "cofunding": [{"funder": "Région(s)", "amount_cents": 30_000 * EURO},
                      {"funder": "Commune(s)", "amount_cents": 10_000 * EURO}]}
    # Every other resource, so that the convention's « total des ressources » is the products' total.
    other = B.derived({"1": {"64": 10, B.GRANT: 4, "70": 1, "75": 5}}, 1)["cofunding"]
    assert other == [{"funder": "70 – Ventes de produits finis, de marchandises, prestations de services",
                      "amount_cents": 1}, {"funder": "75 – Autres produits de gestion courante", "amount_cents": 5}]
    assert B.derived({}, 3) == {"requested_cents": None, "requested_per_year": [], "total_cost_cents": None,
                                "cofunding": []}


def test_clean_keeps_the_calls_years_and_known_lines():
    assert B.clean({"1": {"64": 5, "99": 7, "60": None}, "4": {"64": 1}}, 2) == {"1": {"64": 5}, "2": {}}


# --- the migration of the former fields ------------------------------------------------------------

def migration():
    path = next(Path(__file__).resolve().parents[1].glob("migrations/versions/*_project_budget_by_nature.py"))
    spec = importlib.util.spec_from_file_location("budget_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_carries_the_former_fields_into_the_budget():
    m = migration()
    value, remark = m.legacy_budget(300_000 * EURO, 90_000 * EURO, [40_000 * EURO, 30_000 * EURO, 20_000 * EURO],
                                    [{"funder": "Conseil régional", "amount_cents": 30_000 * EURO, "status": "obtenu"},
                                     {"funder": "Fonds social européen (FSE+)", "amount_cents": 9_000 * EURO,
                                      "status": "demande"}], 3)
    assert value["1"] == {B.GRANT: 40_000 * EURO, "64": 100_000 * EURO, "74_region": 10_000 * EURO,
                          "74_europe": 3_000 * EURO}
    assert [value[k][B.GRANT] for k in ("1", "2", "3")] == [40_000 * EURO, 30_000 * EURO, 20_000 * EURO]
    derived = B.derived(value, 3)
    assert derived["requested_cents"] == 90_000 * EURO and derived["total_cost_cents"] == 300_000 * EURO
    assert "charges de personnel (ligne 64)" in remark
    assert "Conseil régional : 30\u202f000\u00a0€ (obtenu)" in remark and "(demandé)" in remark
    # An annual call, a request without split, a funder whose name says nothing.
    value, _ = m.legacy_budget(None, 50_000 * EURO, [], [{"funder": "Amis du quartier", "amount_cents": 1_000,
                                                          "status": None}], 1)
    assert value == {"1": {B.GRANT: 50_000 * EURO, "74_public": 1_000}}
    assert m.legacy_budget(None, None, [], [], 3) == ({}, "")
    assert [m.funder_line(n) for n in ("Ville de Lyon", "Métropole de Lyon", "Conseil départemental du Rhône",
                                       "CAF du Rhône", "Fondation de France", "DRAJES", "Aspiration")] == [
        "74_commune", "74_epci", "74_departement", "74_social", "74_prive", "74_etat", "74_public"]


# --- the form and the deposit ----------------------------------------------------------------------

# A page posts every cell (a cell left out keeps its stored amount): the factory's draft has a
# « Région(s) » line, emptied here.
BALANCED = {"budget_1_62": "30 000", "budget_1_64": "150 000", "budget_1_74_aap": "60 000",
            "budget_1_74_epci": "30 000", "budget_1_74_region": "", "budget_1_75": "90 000"}


def test_the_budget_page_shows_the_cerfa_table_with_its_totals(client, applicant, login_as, call):
    application = fa.empty_draft(call, applicant.association, applicant)
    login_as(applicant)
    assert fa.post_section(client, application, "budget", BALANCED).status_code == 303
    html = client.get(fa.section_url(application, "budget")).get_data(as_text=True)
    for label in ("60 – Achats", "64 – Charges de personnel", "74 – Subventions d'exploitation",
                  "Intercommunalité(s) : EPCI", "86 – Emplois des contributions volontaires en nature",
                  "87 – Contributions volontaires en nature", "Cerfa n° 12156*06"):
        assert label in html, label
    # Totals rendered by the server (right without JavaScript), in the elements budget.js updates.
    assert re.search(r'data-budget-out="charges" data-budget-year="1">180\u202f000\u00a0€<', html)
    assert re.search(r'data-budget-out="products" data-budget-year="1">180\u202f000\u00a0€<', html)
    assert re.search(r'data-budget-out="difference" data-budget-year="1"[^>]*>Budget équilibré<', html)
    assert re.search(r'data-budget-out="share" data-budget-year="1">33,3\u00a0%<', html)
    assert 'src="/static/app/budget.js"' in html and 'inputmode="decimal"' in html


def test_an_unbalanced_budget_is_saved_as_a_draft_but_refused_at_deposit(client, applicant, login_as, call):
    application = fa.complete_draft(call, applicant)
    assert completeness.missing_items(application) == []
    login_as(applicant)
    # The issue's budget: 200 000 € of cost, 150 000 € requested, 405 000 € of co-funding.
    unbalanced = {"budget_1_64": "200 000", "budget_1_74_aap": "150 000", "budget_1_74_region": "405 000",
                  "budget_1_75": ""}
    assert fa.post_section(client, application, "budget", unbalanced).status_code == 303  # a draft is work in progress
    saved = fresh(application)
    assert saved.requested_cents == 150_000 * EURO and saved.total_cost_cents == 200_000 * EURO
    page = client.get(fa.section_url(application, "budget")).get_data(as_text=True)
    assert "Les produits dépassent les charges de 355\u202f000\u00a0€" in page   # the difference, shown

    response = client.post_form(f"/candidatures/{application.id}/deposer", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert fresh(application).status == "draft" and fresh(application).reference is None
    assert "Le budget : le total des produits (555\u202f000\u00a0€) doit être égal au total des charges" in html
    assert f'href="/candidatures/{application.id}/budget#budget-1-balance"' in html
    # The message next to the field the link points at.
    page = client.get(fa.section_url(application, "budget")).get_data(as_text=True)
    row = page[page.index('id="budget-1-balance"'):]
    row = row[:row.index("Part de la subvention")]
    assert ("Le total des produits (555\u202f000\u00a0€) doit être égal au total des charges "
            "(200\u202f000\u00a0€)") in row


def test_a_request_above_the_cost_is_refused_next_to_the_state_line(client, applicant, login_as, call):
    application = fa.complete_draft(call, applicant)
    login_as(applicant)
    fa.post_section(client, application, "budget", {"budget_1_64": "100 000", "budget_1_74_aap": "120 000"})
    labels = " ".join(i.label for i in completeness.missing_items(fresh(application)))
    assert "le montant demandé (120\u202f000\u00a0€) dépasse le coût total du projet (100\u202f000\u00a0€)" in labels
    page = client.get(fa.section_url(application, "budget")).get_data(as_text=True)
    after_state_line = page[page.index('id="budget_1_74_aap"'):]
    after_state_line = after_state_line[:after_state_line.index('id="budget_1_74_etat"')]
    assert "Le montant demandé (120\u202f000\u00a0€) dépasse le coût total du projet" in after_state_line


def test_a_balanced_budget_is_deposited_and_the_request_follows_it(app, client, applicant, login_as, call):
    application = fa.complete_draft(call, applicant)
    login_as(applicant)
    assert fa.post_section(client, application, "budget", BALANCED).status_code == 303
    assert completeness.missing_items(fresh(application)) == []
    assert client.post_form(f"/candidatures/{application.id}/deposer").status_code == 303
    saved = fresh(application)
    assert saved.status == "submitted"
    assert (saved.requested_cents, saved.requested_per_year, saved.total_cost_cents) == (
        60_000 * EURO, [60_000 * EURO], 180_000 * EURO)
    assert saved.cofunding == [{"funder": "Intercommunalité(s) : EPCI", "amount_cents": 30_000 * EURO},
                               {"funder": "75 – Autres produits de gestion courante", "amount_cents": 90_000 * EURO}]
    assert saved.snapshot["sections"]["budget"]["budget"] == {"1": {
        "62": 30_000 * EURO, "64": 150_000 * EURO, B.GRANT: 60_000 * EURO, "74_epci": 30_000 * EURO,
        "75": 90_000 * EURO}}
    # The receipt shows the amount requested and the table.
    receipt = client.get(f"/candidatures/{application.id}/recepisse.pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt.data)).pages)
    assert "Budget du projet" in text and "Total des charges" in text and "Budget équilibré" in text
    assert "60 000" in text.replace("\u202f", " ").replace("\u00a0", " ")
    assert "62 – Autres services extérieurs" in text


def test_the_request_deposited_is_the_budgets_whatever_was_stored(app, applicant, call):
    """A draft whose stored amount disagrees with its budget (taken from an earlier call, say) is
    deposited with the budget's amount."""
    application = fa.complete_draft(call, applicant, requested_cents=999, total_cost_cents=1,
                                    budget={"1": {"64": 90_000 * EURO, B.GRANT: 60_000 * EURO, "75": 30_000 * EURO}})
    fa.submit_now(application, applicant)
    saved = fresh(application)
    assert (saved.requested_cents, saved.total_cost_cents, saved.requested_per_year) == (
        60_000 * EURO, 90_000 * EURO, [60_000 * EURO])


def test_a_multi_year_budget_is_one_budget_per_year(client, applicant, login_as, app):
    call = factories.call(slug="cpo", years=3)
    application = fa.complete_draft(call, applicant)
    login_as(applicant)
    page = client.get(fa.section_url(application, "budget")).get_data(as_text=True)
    for year in (call.year, call.year + 1, call.year + 2):
        assert f'<th scope="col">{year}</th>' in page
    data = {}
    for k, grant in ((1, "40 000"), (2, "30 000"), (3, "30 000")):
        data.update({f"budget_{k}_64": "100 000", f"budget_{k}_74_aap": grant, f"budget_{k}_74_region": "",
                     f"budget_{k}_75": "60 000" if k == 1 else "70 000"})
    data["budget_3_75"] = "60 000"   # the third year lacks 10 000 € of products
    assert fa.post_section(client, application, "budget", data).status_code == 303
    saved = fresh(application)
    assert saved.requested_per_year == [40_000 * EURO, 30_000 * EURO, 30_000 * EURO]
    assert saved.requested_cents == 100_000 * EURO and saved.total_cost_cents == 300_000 * EURO
    items = [i for i in completeness.missing_items(saved) if i.section == "budget"]
    assert [i.field for i in items] == ["budget-3-balance"]
    assert items[0].label.startswith(f"Le budget, année {call.year + 2} : le total des produits (90 000 €)")
    page = client.get(fa.section_url(application, "budget")).get_data(as_text=True)
    assert "Il manque 10\u202f000\u00a0€ de produits" in page
    assert re.search(r'data-budget-out="charges" data-budget-year="all">300\u202f000\u00a0€<', page)
    data["budget_3_75"] = "70 000"
    fa.post_section(client, application, "budget", data)
    assert completeness.missing_items(fresh(application)) == []
    # What selection and conventions read: the split per year of the request, as typed.
    saved = fresh(application)
    assert split_per_year(saved.requested_cents, 3, saved.requested_per_year) == [40_000 * EURO, 30_000 * EURO,
                                                                                  30_000 * EURO]


def test_an_invalid_amount_keeps_the_other_cells(client, applicant, login_as, call):
    application = fa.empty_draft(call, applicant.association, applicant)
    login_as(applicant)
    response = fa.post_section(client, application, "budget", dict(BALANCED, budget_1_62="30 000 euros ?"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="budget_1_62-messages"' in html
    saved = fresh(application)
    assert saved.budget["1"]["64"] == 150_000 * EURO and "62" not in saved.budget["1"]


def test_ranking_reads_the_request_derived_from_the_budget(client, applicant, login_as, call):
    application = fa.complete_draft(call, applicant)
    login_as(applicant)
    fa.post_section(client, application, "budget", BALANCED)
    client.post_form(f"/candidatures/{application.id}/deposer")
    db.session.execute(db.update(Application).where(Application.id == application.id).values(status="reviewed"))
    db.session.commit()
    rows = ranking.load(db.session.get(type(call), call.id)).rows
    assert [(row.application.id, row.application.requested_cents) for row in rows] == [(application.id, 60_000 * EURO)]


def test_staff_and_reviewers_read_the_budget_table(app, applicant, staff, reviewer, call):
    application = factories.application(call, applicant.association, status="submitted")
    fi.assign(reviewer, application)
    for user, url in ((staff, f"/candidatures/{application.id}"), (applicant, f"/candidatures/{application.id}"),
                      (reviewer, f"/evaluation/dossiers/{application.id}")):
        client = app.test_client()
        login(client, user)
        html = client.get(url).get_data(as_text=True)
        assert "Total des charges" in html and "64 – Charges de personnel" in html, user.role
        assert "Total des produits" in html and "Budget équilibré" in html and "33,3\u00a0%" in html, user.role
        assert "data-budget" not in html.replace("data-budget-", "") and "budget_1_64" not in html  # read, not filled


def _filler(column):
    """A value for a NOT NULL column of a reflected table (the schema of an older revision)."""
    import datetime

    import sqlalchemy as sa
    kind = column.type
    if isinstance(kind, sa.JSON):
        return []
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, (sa.Integer, sa.Numeric)):
        return 1
    if isinstance(kind, (sa.DateTime, sa.Date)) or "time" in type(kind).__name__.lower():
        return datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    return "x"


def _insert(connection, table, **values):
    row = {c.name: _filler(c) for c in table.columns
           if not c.nullable and not c.primary_key and c.server_default is None and c.name not in values}
    return connection.execute(table.insert().values(**row, **values)).inserted_primary_key[0]


def test_migration_converts_the_stored_applications(migrating_app):  # noqa: F811 (the fixture imported above)
    import sqlalchemy as sa
    from flask_migrate import upgrade

    upgrade(revision=migration().down_revision)
    metadata = sa.MetaData()
    metadata.reflect(bind=db.engine)
    calls, applications, associations = (metadata.tables[n] for n in ("calls", "applications", "associations"))
    with db.engine.begin() as connection:
        call_id = _insert(connection, calls, years=3, slug="cpo-2025")
        association_id = _insert(connection, associations)
        draft = _insert(connection, applications, call_id=call_id, association_id=association_id, status="draft",
                        total_cost_cents=200_000 * EURO, requested_cents=150_000 * EURO,
                        requested_per_year=[50_000 * EURO] * 3,
                        cofunding=[{"funder": "Région Bretagne", "amount_cents": 405_000 * EURO, "status": "obtenu"}])
        empty = _insert(connection, applications, call_id=call_id, association_id=_insert(connection, associations),
                        status="draft", requested_per_year=[], cofunding=[])
    upgrade()
    with db.engine.connect() as connection:
        rows = dict(connection.execute(sa.text("SELECT id, budget FROM applications")).all())
        comment = connection.execute(sa.text("SELECT budget_comment FROM applications WHERE id = :id"),
                                     {"id": draft}).scalar_one()
    converted = {int(k): (json.loads(v) if isinstance(v, str) else v) for k, v in rows.items()}
    assert [converted[draft][k][B.GRANT] for k in ("1", "2", "3")] == [50_000 * EURO] * 3
    assert [converted[draft][k]["74_region"] for k in ("1", "2", "3")] == [135_000 * EURO] * 3
    assert sum(converted[draft][k]["64"] for k in ("1", "2", "3")) == 200_000 * EURO
    assert B.derived(converted[draft], 3)["requested_cents"] == 150_000 * EURO
    # The gap shows: nothing is invented to balance it.
    assert [p.code for p in B.problems(converted[draft], 3, 2025)] == ["balance"] * 3
    assert "Région Bretagne : 405\u202f000\u00a0€ (obtenu)" in comment
    assert converted[empty] == {}


def test_the_convention_reads_the_cost_and_resources_derived_from_the_budget(client, applicant, login_as, call):
    from aap import timeutil
    from aap.documents.convention import presentation
    from aap.documents.data import convention_data
    from aap.models import Decision

    application = fa.complete_draft(call, applicant)
    login_as(applicant)
    fa.post_section(client, application, "budget", BALANCED)
    client.post_form(f"/candidatures/{application.id}/deposer")
    db.session.add(Decision(application_id=application.id, outcome="selected", amount_cents=60_000 * EURO,
                            amount_per_year=[60_000 * EURO], published_at=timeutil.now()))
    db.session.commit()
    shown = presentation(convention_data(fresh(application)))
    # Annex II is the budget itself (granted as asked): charges equal to products.
    assert shown["total_cost"] == "180\u202f000,00\u00a0€"
    assert (shown["annex"].overall.charges, shown["annex"].overall.products, shown["annex"].overall.grant) == (
        180_000 * EURO, 180_000 * EURO, 60_000 * EURO)
    assert shown["share_of_cost"] == "33,3 %"
