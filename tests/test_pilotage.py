"""The plan's steering page (/pilotage, issue 18 §4): figures per year (promised by the winners,
achieved by the accepted reports, shares of QPV and rural young people, cost per young person,
amounts granted and paid), per département with the map, the reference figures (admins edit,
staff read), the exports, and the public winners and map of a call once its decisions are
published."""
import csv
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from aap.extensions import db
from aap.models import Application, Decision
from aap.models.followup import ConventionState, PaymentLine, PaymentState, PlanFigure, Report, ReportState
from aap.pilotage import figures, services
from aap.referentiel import DEPARTEMENTS

from . import factories, factories_documents, factories_followup
from .conftest import count_queries


@pytest.fixture
def world(app):
    """A 2025-2027 call with two winners, and files that are not winners (withdrawn, unpublished,
    rejected); one accepted 2025 report, one submitted only; one payment paid, one planned."""
    call = factories.call(slug="aap-pilote", year=2025, years=3)
    paris = factories_documents.association("Mentors de Paris", departement="75", region="11")
    w1 = factories_documents.winner(call, association_record=paris, amount_cents=30_000_00,
                                    per_year=[10_000_00] * 3, young_count=100, share_qpv=50, share_zrr=10,
                                    departements=["75", "93"], title="Des mentors pour Paris et la Seine-Saint-Denis")
    lyon = factories_documents.association("Lyon Mentorat", departement="69")
    w2 = factories_documents.winner(call, association_record=lyon, amount_cents=60_000_00,
                                    per_year=[20_000_00] * 3, young_count=300, share_qpv=20, share_zrr=40,
                                    departements=[], scope="local", title="Mentorat lyonnais")
    withdrawn = factories_documents.winner(call, name="Retirée", amount_cents=50_000_00, young_count=1000,
                                           departements=["13"])
    withdrawn.status = "withdrawn"
    factories_documents.winner(call, name="Pas encore publiée", amount_cents=40_000_00, young_count=2000,
                               published=False, departements=["13"])
    factories_documents.winner(call, name="Refusée", outcome="rejected", amount_cents=None, young_count=3000,
                               departements=["13"])
    db.session.commit()
    c1 = factories_followup.convention(w1, ConventionState.IN_FORCE)
    c2 = factories_followup.convention(w2, ConventionState.IN_FORCE)
    db.session.add_all([
        Report(convention_id=c1.id, year=2025, due_on=date(2026, 6, 30), state=ReportState.ACCEPTED,
               young_count=80, young_qpv=40, young_frr=8),
        Report(convention_id=c2.id, year=2025, due_on=date(2026, 6, 30), state=ReportState.SUBMITTED,
               young_count=999, young_qpv=999, young_frr=999),
        PaymentLine(convention_id=c1.id, year=2025, kind="advance", amount_cents=6_000_00,
                    planned_on=date(2025, 7, 1), state=PaymentState.PAID, paid_on=date(2025, 7, 10)),
        PaymentLine(convention_id=c1.id, year=2025, kind="balance", amount_cents=4_000_00,
                    planned_on=date(2025, 11, 30), state=PaymentState.PLANNED),
        PaymentLine(convention_id=c2.id, year=2025, kind="advance", amount_cents=12_000_00,
                    planned_on=date(2025, 7, 1), state=PaymentState.REQUESTED),
    ])
    db.session.commit()
    return {"call": call, "w1": w1, "w2": w2}


def test_figures_per_year_promised_achieved_shares_costs_and_amounts(world):
    data = figures.compute(world["call"].id)
    by_year = {row.year: row for row in data.years}
    assert sorted(by_year) == [2025, 2026, 2027]
    y2025 = by_year[2025]
    assert (y2025.winners, y2025.promised, y2025.achieved, y2025.reports) == (2, 400, 80, 1)
    # Promised shares weighted by young_count: (100 × 50 + 300 × 20) / 400 and (100 × 10 + 300 × 40) / 400.
    assert y2025.share_qpv_promised == pytest.approx(27.5)
    assert y2025.share_frr_promised == pytest.approx(32.5)
    assert y2025.share_qpv_achieved == pytest.approx(50.0)
    assert y2025.share_frr_achieved == pytest.approx(10.0)
    assert y2025.granted_cents == 30_000_00 and y2025.paid_cents == 6_000_00
    assert y2025.cost_promised_cents == 75_00 and y2025.cost_achieved_cents == 375_00
    y2026 = by_year[2026]
    assert (y2026.winners, y2026.promised, y2026.achieved, y2026.granted_cents, y2026.paid_cents) == (
        2, 400, 0, 30_000_00, 0)
    assert y2026.cost_achieved_cents is None and y2026.share_qpv_achieved is None
    assert data.winner_count == 2
    assert data.totals.granted_cents == 90_000_00 and data.totals.promised == 1200

    only_2026 = figures.compute(world["call"].id, 2026)
    assert [row.year for row in only_2026.years] == [2026]


def test_figures_per_departement_split_evenly_or_head_office(world):
    rows = {row.code: row for row in figures.compute(world["call"].id).departements}
    assert len(rows) == len(DEPARTEMENTS) == 101
    assert (rows["75"].winners, rows["75"].young, rows["75"].amount_cents) == (1, 50, 15_000_00)
    assert (rows["93"].winners, rows["93"].young, rows["93"].amount_cents) == (1, 50, 15_000_00)
    # No département of action: the head office's (Lyon).
    assert (rows["69"].winners, rows["69"].young, rows["69"].amount_cents) == (1, 300, 60_000_00)
    # Withdrawn, unpublished and rejected files count nowhere.
    assert rows["13"].winners == 0 and rows["13"].young == 0
    year_rows = {row.code: row for row in figures.compute(world["call"].id, 2026).departements}
    assert year_rows["75"].amount_cents == 5_000_00 and year_rows["69"].amount_cents == 20_000_00


def test_the_page_shows_figures_map_legend_table_and_reference_figures(world, client, login_as, staff):
    services.ensure_reference_figures()
    db.session.commit()
    login_as(staff)
    response = client.get(f"/pilotage/?appel={world['call'].id}&annee=2025")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    paths = re.findall(r'<path id="carte-departements-([0-9AB]+)"[^>]*>\s*<title>([^<]*)</title>', html)
    assert sorted(code for code, _ in paths) == sorted(d.code for d in DEPARTEMENTS)
    titles = dict(paths)
    assert titles["75"] == "Paris (75) : 50 jeunes, 1 lauréat, 5\u202f000\xa0€"
    assert titles["976"].startswith("Mayotte (976) : 0 jeunes, 0 lauréat")
    assert "aap-map__legend" in html and "aucun" in html
    assert "CC BY 4.0" in html  # the attribution of the geometry
    table = html[html.index('id="tableau-departements"'):]
    table = table[:table.index("</table>")]
    assert "Paris (75)" in table and "Rhône (69)" in table and "Bouches-du-Rhône" not in table
    years = html[html.index('id="tableau-annees"'):]
    years = years[:years.index("</table>")]
    assert "<th scope=\"row\">2025</th>" in years and "2026" not in years  # the year filter
    assert "27,5&nbsp;% / 50&nbsp;%" in years and "75\xa0€ / 375\xa0€" in years
    # The reference figures are read by staff (all calls; the call's filter shows the list below).
    assert "40\u202f000" in html and "150\u202f000" in html
    assert "Modifier les chiffres de référence" not in html  # staff do not edit them
    # The measure changes the colours, not the figures.
    by_winners = client.get(f"/pilotage/?appel={world['call'].id}&mesure=winners").get_data(as_text=True)
    assert "<strong>Lauréats</strong>" in by_winners


def test_the_export_buttons_have_visible_labels(world, client, login_as, staff):
    """In a group of buttons, DSFR shows only the icon of a button that carries one unless the
    group says where icons go (fr-btns-group--icon-left): the labels are then visible."""
    login_as(staff)
    html = client.get("/pilotage/").get_data(as_text=True)
    group = html.split('id="exports"')[1].split("</ul>")[0]
    assert 'class="fr-btns-group fr-btns-group--inline-md fr-btns-group--icon-left"' in group
    assert ">Télécharger (CSV)</a>" in group and ">Télécharger (Excel)</a>" in group


def test_all_calls_show_reference_years_in_the_table(world, client, login_as, admin):
    services.ensure_reference_figures()
    db.session.commit()
    login_as(admin)
    html = client.get("/pilotage/").get_data(as_text=True)
    years = html[html.index('id="tableau-annees"'):]
    years = years[:years.index("</table>")]
    for year in ("2021", "2024", "2025", "2026", "2027"):
        assert f'<th scope="row">{year}</th>' in years
    assert "Modifier les chiffres de référence" in html


def test_exports_have_the_same_typed_figures(world, client, login_as, staff, app):
    login_as(staff)
    from aap.database import writing
    with writing():
        response = client.get(f"/pilotage/export.csv?appel={world['call'].id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8-sig")
    blocks = text.split("\r\n\r\n")
    years = list(csv.reader(io.StringIO(blocks[0]), delimiter=";"))
    assert years[0][0] == "Année" and years[1][:6] == ["2025", "", "", "2", "400", "80"]
    assert years[1][10] == "30000.0" and years[1][11] == "6000.0" and years[1][12] == "75.0"
    departements = list(csv.reader(io.StringIO(blocks[1]), delimiter=";"))
    assert ["75", "Paris", "1", "50", "15000.0"] in departements

    with writing():
        response = client.get(f"/pilotage/export.xlsx?appel={world['call'].id}&annee=2025")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook["Par année"]
    header = [cell.value for cell in sheet[1]]
    row = {title: cell for title, cell in zip(header, sheet[2])}
    assert row["Année"].value == 2025 and isinstance(row["Jeunes prévus"].value, int)
    assert row["Jeunes prévus"].value == 400
    assert row["Montant accordé (€)"].value == 30000 and "€" in row["Montant accordé (€)"].number_format
    assert row["Part QPV prévue"].value == pytest.approx(0.275) and "%" in row["Part QPV prévue"].number_format
    assert sheet.max_row == 2  # the year filter
    places = workbook["Par département"]
    found = {r[0]: r for r in places.iter_rows(min_row=2, values_only=True)}
    assert found["93"][2:] == (1, 50, 5000)
    assert len([code for code in found if code and code != "Total"]) == 101


def test_reference_figures_admins_edit_staff_read(app, client, login_as, admin, staff):
    assert services.ensure_reference_figures() == 2
    db.session.commit()
    assert services.ensure_reference_figures() == 0  # idempotent
    login_as(staff)
    assert client.get("/pilotage/chiffres-de-reference").status_code == 403
    assert client.post_form("/pilotage/chiffres-de-reference",
                            {"year": "2021", "young_people": "1", "label": "x"}).status_code == 403
    assert db.session.scalar(db.select(PlanFigure.young_people).where(PlanFigure.year == 2021)) == 40000
    staff_page = client.get("/pilotage/").get_data(as_text=True)
    assert "40\u202f000" in staff_page and "plus de 135\u202f000" in staff_page  # staff read them, with their source
    client.post_form("/deconnexion")
    login_as(admin)
    page = client.get("/pilotage/chiffres-de-reference").get_data(as_text=True)
    assert "40\u202f000" in page and "Sénat" in page
    bad = client.post_form("/pilotage/chiffres-de-reference", {"year": "2022", "young_people": "beaucoup",
                                                                "label": "Sénat"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "Saisissez un nombre entier." in html and 'value="Sénat"' in html
    ok = client.post_form("/pilotage/chiffres-de-reference", {"year": "2021", "young_people": "72000",
                                                               "label": "Sénat, avis PLF 2026"})
    assert ok.status_code == 302
    figure = db.session.scalar(db.select(PlanFigure).where(PlanFigure.year == 2021))
    assert (figure.young_people, figure.label) == (72000, "Sénat, avis PLF 2026")
    assert services.ensure_reference_figures() == 0 and figure.young_people == 72000  # an admin's change stays
    assert client.post_form("/pilotage/chiffres-de-reference/supprimer", {"year": "2024"}).status_code == 302
    assert db.session.scalar(db.select(PlanFigure).where(PlanFigure.year == 2024)) is None


@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_associations_and_reviewers_are_refused(app, client, login_as, role, request):
    login_as(request.getfixturevalue(role))
    for url in ("/pilotage/", "/pilotage/export.csv", "/pilotage/export.xlsx", "/pilotage/chiffres-de-reference"):
        assert client.get(url).status_code == 403, url


def test_public_page_lists_winners_only_after_publication(app, client):
    call = factories.call(slug="aap-public", year=2025, years=1, status="closed", opens_in_days=-60,
                          closes_in_days=-30)
    marseille = factories_documents.association("Mentorat du Sud", departement="13", region="93")
    marseille.commune = "Marseille"
    factories_documents.winner(call, association_record=marseille, amount_cents=45_000_00,
                                        published=False, departements=["13", "83"],
                                        title="Un mentor pour chaque lycéen")
    factories_documents.winner(call, name="Non retenue", outcome="rejected", amount_cents=None, published=False)
    db.session.commit()
    before = client.get("/appels/aap-public").get_data(as_text=True)
    assert "Mentorat du Sud" not in before and 'id="laureats"' not in before and "carte-publique" not in before

    for decision in db.session.scalars(db.select(Decision).join(Application).where(Application.call_id == call.id)):
        decision.published_at = factories_documents.PUBLISHED_AT
    db.session.commit()
    html = client.get("/appels/aap-public").get_data(as_text=True)
    listing = html[html.index('id="liste-laureats"'):]
    listing = listing[:listing.index("</table>")]
    assert "Mentorat du Sud" in listing and "Marseille" in listing and "Bouches-du-Rhône (13)" in listing
    assert "Un mentor pour chaque lycéen" in listing and "45\u202f000" in listing
    assert "Non retenue" not in html  # only winners
    for private in ("contact@example.org", "04 72 00 00 00", "FR76", "Claire Martin", "73282932000074", "note"):
        assert private not in listing, private
    paths = re.findall(r'<path id="carte-publique-([0-9AB]+)"[^>]*>\s*<title>([^<]*)</title>', html)
    assert len(paths) == 101
    titles = dict(paths)
    assert titles["83"] == "Var (83) : 1 lauréat" and "€" not in titles["13"] and "jeunes" not in titles["13"]
    assert "Var (83)" in html[html.index('id="laureats-departements"'):]


def test_the_page_runs_a_fixed_number_of_queries(app, client, login_as, staff):
    call = factories.call(slug="aap-requetes", year=2025, years=3)

    def add_winners(n, start):
        for i in range(n):
            application, convention = factories_followup.winner_convention(
                call, ConventionState.IN_FORCE, name=f"Lauréat {start + i}", amount_cents=30_000_00,
                departements=["75", "13"])
            db.session.add(Report(convention_id=convention.id, year=2025, due_on=date(2026, 6, 30),
                                  state=ReportState.ACCEPTED, young_count=10, young_qpv=1, young_frr=1))
            db.session.add(PaymentLine(convention_id=convention.id, year=2025, kind="advance",
                                       amount_cents=1_000_00, planned_on=date(2025, 7, 1), state=PaymentState.PAID))
        db.session.commit()

    login_as(staff)
    add_winners(2, 0)
    client.get("/pilotage/")
    with count_queries() as few:
        assert client.get("/pilotage/").status_code == 200
    add_winners(6, 10)
    client.get("/pilotage/")
    with count_queries() as many:
        html = client.get("/pilotage/").get_data(as_text=True)
    assert "8</span> lauréats" in html.replace("\u202f", "")
    assert many() == few() <= 12
