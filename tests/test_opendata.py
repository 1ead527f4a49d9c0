"""Open data: SCDL « subventions » CSV and the anonymised SQLite file, read back."""
import csv
import io
import re
import sqlite3

import pytest
from stdnum.fr import siret as stdnum_siret

from aap.documents.opendata import SCDL_COLUMNS, build_opendata_sqlite, build_scdl_csv
from aap.extensions import db
from aap.models import Event

from . import factories
from .factories_documents import association, review, winner

OFFICIAL_COLUMNS = [
    "nomAttribuant", "idAttribuant", "dateConvention", "referenceDecision", "nomBeneficiaire",
    "idBeneficiaire", "rnaBeneficiaire", "objet", "montant", "nature", "conditionsVersement",
    "datesPeriodeVersement", "idRAE", "notificationUE", "pourcentageSubvention", "dispositifAide",
]
PERSONAL = re.compile(r"iban|bic|account|holder|email|mail|phone|representative|address|first_name|last_name|"
                      r"reviewer|attestation", re.I)


@pytest.fixture
def results(app, reviewer):
    annual = factories.call(slug="aap-od", year=2025, advance_percent=50)
    first = winner(annual, amount_cents=42_500_50, title="Mentorat « Premiers pas » vers l'emploi",
                   summary="Des binômes mentor-jeune dans les quartiers prioritaires de Lyon.")
    second = winner(annual, association_record=association("Élan Rural", departement="13", region="93"),
                    amount_cents=30_000_00, summary="Mentorat de lycéens en zone rurale, avec des agriculteurs.")
    winner(annual, name="Liste d'attente", outcome="waitlisted", amount_cents=None)
    winner(annual, name="Pas encore publiée", published=False)
    review(first, reviewer, [5, 5, 5])
    return annual, first, second


def read_csv(content):
    assert not content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8")
    reader = csv.reader(io.StringIO(text))
    rows = list(reader)
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def test_scdl_has_exactly_the_columns_and_valid_values(app, results):
    call, first, second = results
    header, rows = read_csv(build_scdl_csv(call))
    assert header == OFFICIAL_COLUMNS == SCDL_COLUMNS
    assert len(rows) == 2  # only published « selected » decisions
    by_ref = {r["referenceDecision"]: r for r in rows}
    row = by_ref[first.reference]
    assert row["idAttribuant"] == "11000007200014" and stdnum_siret.is_valid(row["idAttribuant"])
    assert row["nomAttribuant"].endswith("(DJEPVA)")
    for r in rows:
        assert re.fullmatch(r"\d{14}", r["idBeneficiaire"]) and re.fullmatch(r"W\d{9}", r["rnaBeneficiaire"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["dateConvention"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}(/\d{4}-\d{2}-\d{2})?", r["datesPeriodeVersement"])
        assert re.fullmatch(r"\d+\.\d{2}", r["montant"])
        assert r["nature"] == "aide en numéraire" and r["notificationUE"] == "non"
        assert r["conditionsVersement"] in ("unique", "échelonné")
        assert 0.01 <= float(r["pourcentageSubvention"]) <= 1
        assert len(r["objet"]) <= 256 and r["dispositifAide"] == call.title
    assert row["montant"] == "42500.50" and by_ref[second.reference]["montant"] == "30000.00"
    assert row["dateConvention"] == "2025-06-12"
    assert row["conditionsVersement"] == "échelonné"
    assert row["datesPeriodeVersement"] == "2025-06-12/2026-06-30"
    assert row["nomBeneficiaire"] == "Réussir Ensemble"
    assert "Premiers pas" in row["objet"]


def test_scdl_single_payment_and_configured_grantor(app):
    call = factories.call(slug="aap-unique", year=2025, advance_percent=100)
    winner(call)
    app.config["AAP_GRANTOR_SIRET"] = "13000000000006"
    _, rows = read_csv(build_scdl_csv(call))
    assert rows[0]["conditionsVersement"] == "unique"
    assert rows[0]["datesPeriodeVersement"] == "2025-06-12"
    assert rows[0]["idAttribuant"] == "13000000000006"


def test_opendata_sqlite_holds_aggregates_only(app, results, tmp_path):
    """Outcomes and régions, counted; no row per file (see test_injection_and_exports.py for the
    scan of every cell and the small groups)."""
    call, first, second = results
    path = build_opendata_sqlite(call, tmp_path / "resultats.sqlite")
    conn = sqlite3.connect(path)
    tables = {name for (name,) in conn.execute("select name from sqlite_master where type='table'")}
    assert tables == {"outcomes", "regions", "about"}
    for table in tables:
        columns = [row[1] for row in conn.execute(f"pragma table_info({table})")]
        assert not [c for c in columns if PERSONAL.search(c)], (table, columns)
    dump = "\n".join(conn.iterdump())
    for secret in ("FR7630006000011234567890189", "AGRIFRPP", "contact@example.org", "Claire Martin",
                   "04 72 00 00 00", "12 rue de la République", "evaluateur@example.org", "Réussir Ensemble",
                   "Élan Rural", first.reference, second.reference, "agriculteurs", "Premiers pas"):
        assert secret not in dump
    outcomes = conn.execute("select outcome, files, amount_granted from outcomes order by sort_order").fetchall()
    # The unpublished « selected » decision stays secret: counted with the files without a decision.
    assert outcomes == [("Retenu", 2, 72500.5), ("Liste d'attente", 1, None), ("Sans décision publiée", 1, None)]
    regions = conn.execute("select region, outcome, files, amount_granted from regions").fetchall()
    other = "Autres régions (moins de 3 dossiers : secret statistique)"
    assert sorted(regions) == sorted([
        ("Auvergne-Rhône-Alpes", "Retenu", 1, 42500.5), ("Provence-Alpes-Côte d'Azur", "Retenu", 1, 30000.0),
        (other, "Liste d'attente", 1, None), (other, "Sans décision publiée", 1, None)])
    about = dict(conn.execute("select key, value from about"))
    assert about["call"] == call.title and about["min_group"] == "3" and "SCDL" in about["method"]


def test_staff_downloads_and_cli(app, client, login_as, staff, results, tmp_path):
    call = results[0]
    login_as(staff)
    response = client.get(f"/instruction/appels/{call.id}/subventions.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert read_csv(response.data)[0] == OFFICIAL_COLUMNS
    response = client.get(f"/instruction/appels/{call.id}/resultats.sqlite")
    assert response.status_code == 200 and response.data.startswith(b"SQLite format 3")
    formats = sorted(e.details["format"] for e in db.session.query(Event).filter_by(action="export"))
    assert formats == ["opendata", "scdl"]

    runner = app.test_cli_runner()
    csv_path, db_path = tmp_path / "s.csv", tmp_path / "r.sqlite"
    result = runner.invoke(args=["export", "scdl", "--call", call.slug, "-o", str(csv_path)])
    assert result.exit_code == 0, result.output
    assert read_csv(csv_path.read_bytes())[0] == OFFICIAL_COLUMNS and "2 subvention(s)" in result.output
    result = runner.invoke(args=["export", "opendata", "--call", call.slug, "-o", str(db_path)])
    assert result.exit_code == 0, result.output
    assert sqlite3.connect(db_path).execute("select files from outcomes where outcome = 'Retenu'").fetchone() == (2,)


def test_unknown_call_is_404_for_staff(client, login_as, staff):
    login_as(staff)
    assert client.get("/instruction/appels/999/subventions.csv").status_code == 404
