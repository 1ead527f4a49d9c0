"""The call's workbook read back with openpyxl: sheets, types, formats, formulas, injection guard."""
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from aap.documents.excel import build_workbook
from aap.extensions import db
from aap.models import Event

from . import factories
from .conftest import count_queries
from .factories_documents import association, review, winner

SHEETS = ["Synthèse", "Lauréats", "Candidatures", "Versements", "Notes détaillées", "Synthèse par région", "Paramètres"]
CABINET_SHEETS = ["Synthèse", "Lauréats", "Candidatures", "Versements", "Synthèse par région", "Paramètres"]


@pytest.fixture
def call_data(app, reviewer):
    call = factories.call(slug="aap-xlsx", year=2025, years=3)
    first = winner(call, name="=HYPERLINK(\"http://evil.example\",\"clic\")", amount_cents=90_000_00,
                   per_year=[30_000_00] * 3, young_count=300, mentor_count=250, share_qpv=40, share_zrr=10,
                   share_ase=5)
    second = winner(call, association_record=association("+33 Association", departement="13", region="93"),
                    amount_cents=60_000_50, per_year=[20_000_50, 20_000_00, 20_000_00], young_count=120,
                    mentor_count=100)
    rejected = winner(call, name="-Refusée", outcome="rejected", amount_cents=None)
    factories.application(call, association("@Brouillon"), status="draft")
    review(first, reviewer, [5, 4, 3], comment="=1+1")   # (5/5 + 4/5 + 3/5) / 3 × 20 = 16
    other = factories.user("reviewer", email="second@example.org")
    review(first, other, [3, 3, 3], recommendation="reserve")  # 12 -> mean 14
    review(rejected, reviewer, [1, 1, 2], recommendation="defavorable")
    return call, first, second, rejected


def load(content):
    return load_workbook(io.BytesIO(content))


def rows_of(sheet):
    return [list(row) for row in sheet.iter_rows()]


def test_sheets_and_headers(app, call_data):
    call = call_data[0]
    wb = load(build_workbook(call.id, author="Agent Test"))
    assert wb.sheetnames == SHEETS
    for name in SHEETS[1:5]:
        ws = wb[name]
        assert ws.freeze_panes == "A2"
        assert all(cell.font.bold for cell in ws[1] if cell.value)
    header = [c.value for c in wb["Lauréats"][1]]
    assert header == ["Référence", "Convention", "Rang", "Association", "Forme juridique", "SIRET",
                      "Identifiant (RNA, registre, décret)", "Région", "Département", "Montant demandé",
                      "Montant accordé", "Accordé 2025", "Accordé 2026", "Accordé 2027", "Échéancier des versements",
                      "Motif de la décision", "Note /20", "Jeunes accompagnés", "Part QPV", "Part FRR", "Part ASE",
                      "Mentors", "IBAN", "E-mail de contact"]
    assert wb["Lauréats"].auto_filter.ref == "A1:X3"
    assert wb["Lauréats"].column_dimensions["D"].width == 40


def test_winners_are_typed_with_formats_and_totals(app, call_data):
    call, first, second, _ = call_data
    ws = load(build_workbook(call.id))["Lauréats"]
    rows = rows_of(ws)
    assert len(rows) == 4  # header, two winners, total
    row = rows[1]
    assert row[0].value == first.reference
    assert row[5].value == "73282932000074" and row[5].data_type == "s"  # SIRET kept as text
    assert row[7].value == "Auvergne-Rhône-Alpes"
    assert row[9].value == first.requested_cents / 100 and row[9].number_format == '#,##0.00 "€"'
    assert row[10].value == 90_000 and isinstance(row[10].value, (int, float))
    assert [c.value for c in row[11:14]] == [30_000, 30_000, 30_000]
    assert row[16].value == pytest.approx(14.0)
    assert row[17].value == 300
    assert row[18].value == pytest.approx(0.4) and row[18].number_format == "0 %"
    assert rows[2][10].value == pytest.approx(60_000.50)
    assert rows[2][16].value is None  # no review
    total = rows[3]
    assert total[0].value == "Total"
    # Totals written as values: a previewer that does not recalculate shows them (issue 17 §11).
    assert total[10].value == pytest.approx(150_000.5) and total[10].data_type == "n"
    assert total[17].value == 420 and total[21].value == 350
    assert total[1].value is None and total[16].value is None


def test_formula_injection_is_neutralised(app, call_data):
    call = call_data[0]
    wb = load(build_workbook(call.id))
    names = {row[1].value: row[1] for row in rows_of(wb["Candidatures"])[1:]}
    evil = names['=HYPERLINK("http://evil.example","clic")']
    assert evil.data_type == "s" and evil.quotePrefix
    assert names["+33 Association"].data_type == "s" and names["+33 Association"].quotePrefix
    assert names["-Refusée"].data_type == "s"
    comments = [row[8] for row in rows_of(wb["Notes détaillées"])[1:] if row[8].value == "=1+1"]
    assert comments and all(c.data_type == "s" for c in comments)
    # and no cell outside the total rows is a formula
    for name in SHEETS:
        for row in rows_of(wb[name]):
            for cell in row:
                if cell.data_type == "f":
                    assert str(cell.value).startswith("=SUM(")


def test_applications_sheet(app, call_data):
    call, first, _second, rejected = call_data
    rows = rows_of(load(build_workbook(call.id))["Candidatures"])
    assert len(rows) == 1 + 3 + 1  # the draft is left out, total row at the end
    by_ref = {r[0].value: r for r in rows[1:-1]}
    row = by_ref[first.reference]
    assert isinstance(row[6].value, datetime) and row[6].number_format == "DD/MM/YYYY HH:MM"
    assert row[8].value == 2 and row[9].value == pytest.approx(14.0)
    assert (row[10].value, row[11].value, row[12].value) == (1, 1, 0)
    assert row[13].value == "Retenu" and row[5].value == "Décision publiée"  # no longer the same twice
    bad = by_ref[rejected.reference]
    assert bad[5].value == "Décision publiée" and bad[13].value == "Non retenu"
    assert bad[12].value == 1 and bad[9].value == pytest.approx(round(80 / 15, 2))


def test_detailed_scores_and_regions_and_parameters(app, call_data):
    call = call_data[0]
    wb = load(build_workbook(call.id, author="Agent Test <agent@example.org>"))
    detail = rows_of(wb["Notes détaillées"])
    assert len(detail) == 1 + 3 * 3
    assert detail[1][3].value == "Solidité structurelle" and detail[1][5].value == 5 and detail[1][6].value == 5
    assert detail[1][9].value == "Favorable"
    regions = rows_of(wb["Synthèse par région"])
    assert [r[0].value for r in regions] == ["Région", "Auvergne-Rhône-Alpes", "Provence-Alpes-Côte d'Azur", "Total"]
    assert regions[1][2].value == 90_000 and regions[2][2].value == pytest.approx(60_000.5)
    assert regions[3][2].value == pytest.approx(150_000.5) and regions[3][1].value == 2
    params = {r[0].value: r[1] for r in rows_of(wb["Paramètres"]) if r and r[0].value}
    assert params["Appel à projets"].value == call.title
    assert params["Auteur de l'export"].value == "Agent Test <agent@example.org>"
    assert isinstance(params["Date de l'export"].value, datetime)
    assert params["Avance à la signature"].value == 0.5 and params["Avance à la signature"].number_format == "0 %"
    assert params["Budget"].value == 1_000_000 and params["Budget"].number_format == '#,##0.00 "€"'
    assert "Diversité territoriale" in params


def test_query_count_does_not_grow_with_files(app):
    call = factories.call(slug="aap-count", year=2025)
    winner(call, name="A")
    with count_queries() as small:
        build_workbook(call.id)
    for i in range(6):
        winner(call, name=f"B{i}")
    with count_queries() as big:
        build_workbook(call.id)
    assert big() == small()


def test_staff_downloads_workbook_and_it_is_recorded(client, login_as, staff, call_data):
    call = call_data[0]
    login_as(staff)
    response = client.get(f"/instruction/appels/{call.id}/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert load(response.data).sheetnames == SHEETS
    event = db.session.query(Event).filter_by(action="export").one()
    assert event.call_id == call.id and event.details["format"] == "xlsx" and event.actor_id == staff.id


@pytest.mark.parametrize("who", ["applicant", "reviewer"])
def test_non_staff_cannot_export(request, client, login_as, call_data, who):
    call = call_data[0]
    login_as(request.getfixturevalue(who))
    for url in (f"/instruction/appels/{call.id}/export.xlsx", f"/instruction/appels/{call.id}/subventions.csv",
                f"/instruction/appels/{call.id}/resultats.sqlite", f"/instruction/appels/{call.id}/documents"):
        assert client.get(url).status_code == 403


def test_anonymous_cannot_export(client, call_data):
    call = call_data[0]
    response = client.get(f"/instruction/appels/{call.id}/export.xlsx")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_cli_export_xlsx(app, call_data, tmp_path):
    call = call_data[0]
    output = tmp_path / "out" / "laureats.xlsx"
    result = app.test_cli_runner().invoke(args=["export", "xlsx", "--call", call.slug, "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert load(output.read_bytes()).sheetnames == SHEETS
    result = app.test_cli_runner().invoke(args=["export", "xlsx", "--call", "nope", "-o", str(output)])
    assert result.exit_code != 0 and "Aucun appel" in result.output


# --- issue 17 §11: the workbook for the cabinet ------------------------------------------------

def _synthesis(wb):
    return {row[0].value: [c.value for c in row] for row in wb["Synthèse"].iter_rows() if row and row[0].value}


def test_synthesis_sheet_gives_the_call_budget_outcomes_coverage_and_every_region(app, call_data):
    call, first, second, _rejected = call_data
    first.departements, second.departements = ["69", "38"], ["13"]
    winner(call, association_record=association("Bretons", departement="35", region="53"), outcome="rejected",
           amount_cents=None)
    db.session.commit()
    wb = load(build_workbook(call.id, author="Agent Test"))
    assert wb.sheetnames[0] == "Synthèse"
    ws = wb["Synthèse"]
    assert ws["A1"].value == f"Synthèse de l'appel à projets « {call.title} »"
    assert ws["A2"].value.startswith("Diffusion restreinte")
    lines = _synthesis(wb)
    assert isinstance(lines["Date d'extraction"][1], datetime)
    assert lines["Statut de l'appel"][1] == call.status_label
    assert lines["Enveloppe"][1] == 1_000_000
    assert lines["Accordé aux lauréats"][1] == pytest.approx(150_000.5)
    assert lines["Reste"][1] == pytest.approx(849_999.5)
    envelopes = [e / 100 for e in call.envelopes]
    assert lines[2025][1:4] == [pytest.approx(envelopes[0]), pytest.approx(50_000.5),
                                pytest.approx(envelopes[0] - 50_000.5)]
    assert lines[2026][2] == 50_000 and lines[2027][2] == 50_000
    assert lines["Retenu"][1:3] == [2, pytest.approx(150_000.5)]
    assert lines["Non retenu"][1] == 2 and lines["Liste d'attente"][1] == 0
    assert lines["Total des dossiers déposés"][1] == 4  # (the draft is not a candidate)
    # Coverage in both meanings (aap/selection/budget.py), always named.
    assert lines["Régions, par siège (région du siège des lauréats)"][1:3] == [2, 18]
    assert lines["Régions, par territoires d'action (où les jeunes sont accompagnés)"][1:3] == [2, 18]
    assert lines["Départements, par territoires d'action"][1:3] == [3, 101]
    # Every région of the candidates, with 0 where no winner; totals as values.
    assert lines["Bretagne"][1:4] == [0, 0, 0]
    assert lines["Auvergne-Rhône-Alpes"][1:4] == [1, 90_000, 1]
    assert lines["Provence-Alpes-Côte d'Azur"][1:4] == [1, pytest.approx(60_000.5), 1]
    assert lines["Total"][1:3] == [2, pytest.approx(150_000.5)]
    assert not [c for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_every_sheet_prints_landscape_fitted_to_width_with_its_header_repeated(app, call_data):
    wb = load(build_workbook(call_data[0].id))
    for name in SHEETS:
        ws = wb[name]
        assert ws.page_setup.orientation == "landscape", name
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1, name
        assert ws.page_setup.fitToHeight == 0, name
        assert ws.print_title_rows == ("$1:$2" if name == "Synthèse" else "$1:$1"), name
        assert ws.oddHeader.center.text == "Diffusion restreinte", name


def test_winners_sheet_has_number_schedule_rank_and_reason(app, call_data):
    call, first, second, _ = call_data
    first.decision.reason = "Projet solide, forte présence en quartiers prioritaires."
    db.session.commit()
    from .factories_documents import signed
    signed(first, number="1J1M-2025-CPO-0003")
    rows = rows_of(load(build_workbook(call.id))["Lauréats"])
    header = [c.value for c in rows[0]]
    by_ref = {r[0].value: dict(zip(header, [c.value for c in r])) for r in rows[1:-1]}
    row = by_ref[first.reference]
    assert row["Convention"] == "1J1M-2025-CPO-0003" and by_ref[second.reference]["Convention"] is None
    assert row["Rang"] == 1  # 14/20, the best score of the call (the rejected file has 5.33)
    assert row["Motif de la décision"] == "Projet solide, forte présence en quartiers prioritaires."
    schedule = row["Échéancier des versements"]
    assert schedule.startswith("2025 : ") and "2026 : " in schedule and "2027 : " in schedule
    assert "à la signature" in schedule and "30/11/2027" in schedule
    assert row["IBAN"] == "FR76 3000 6000 0112 3456 7890 189" and row["E-mail de contact"] == "contact@example.org"
    assert row["Forme juridique"] == "Association loi 1901"


def _every_text(wb):
    texts = []
    for ws in wb.worksheets:
        texts += [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
        texts += [ws.oddHeader.center.text or "", ws.oddFooter.left.text or "", ws.oddFooter.right.text or ""]
    return texts


def test_cabinet_version_has_no_reviewer_names_iban_or_email_anywhere(app, call_data):
    call = call_data[0]
    internal = _every_text(load(build_workbook(call.id, author="Agent Test <agent@example.org>")))
    secrets = ("Reviewer Test", "FR76 3000", "@", "Commentaire ", "=1+1")
    assert all(any(s in t for t in internal) for s in secrets)  # (the internal version has each)
    secrets += ("FR7630006000",)
    wb = load(build_workbook(call.id, author="Agent Test", cabinet=True))
    assert wb.sheetnames == CABINET_SHEETS
    texts = _every_text(wb)
    for secret in secrets:
        assert not [t for t in texts if secret in t], secret
    assert wb["Synthèse"]["A2"].value.startswith("Version pour le cabinet")
    assert all(ws.oddHeader.center.text == "Version pour le cabinet" for ws in wb.worksheets)
    header = [c.value for c in wb["Lauréats"][1]]
    assert "IBAN" not in header and "E-mail de contact" not in header and "Échéancier des versements" in header


def test_staff_downloads_the_cabinet_version(client, login_as, staff, call_data):
    call = call_data[0]
    login_as(staff)
    response = client.get(f"/instruction/appels/{call.id}/export.xlsx?version=cabinet")
    assert response.status_code == 200 and "-cabinet.xlsx" in response.headers["Content-Disposition"]
    wb = load(response.data)
    assert wb.sheetnames == CABINET_SHEETS
    assert not [t for t in _every_text(wb) if "@" in t or "Reviewer" in t]
    event = db.session.query(Event).filter_by(action="export").one()
    assert event.details["format"] == "xlsx-cabinet"
