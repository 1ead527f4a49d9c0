"""Open data: SCDL « subventions » CSV and the anonymised SQLite file, read back."""
import csv
import io
import re
import sqlite3
from datetime import date, datetime, timezone
from html import unescape
from pathlib import Path

import pytest
from stdnum.fr import siret as stdnum_siret

from aap.documents.opendata import SCDL_COLUMNS, build_opendata_sqlite, build_scdl_csv, scdl_rows
from aap.extensions import db
from aap.models import Call, Convention, Event

from . import factories
from .factories_documents import association, review, signed, winner

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
    signed(first, date(2025, 6, 20), number="1J1M-2025-CA-0007")
    signed(second, date(2025, 7, 1))
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
    assert len(rows) == 2  # only published « selected » decisions (whose convention is signed)
    by_ref = {r["referenceDecision"]: r for r in rows}
    row = by_ref["1J1M-2025-CA-0007"]  # the convention's number (issue 17 §10)
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
    second_row = next(r for r in rows if r is not row)
    assert row["montant"] == "42500.50" and second_row["montant"] == "30000.00"
    assert row["dateConvention"] == "2025-06-20"  # the day of signature, not of the decision (issue 17 §10)
    assert row["conditionsVersement"] == "échelonné"
    assert row["datesPeriodeVersement"] == "2025-06-20/2025-11-30"  # the last payment within the term (issue 17 §3)
    assert row["nomBeneficiaire"] == "Réussir Ensemble"
    assert "Premiers pas" in row["objet"]


def test_scdl_single_payment_and_configured_grantor(app):
    call = factories.call(slug="aap-unique", year=2025, advance_percent=100)
    signed(winner(call), date(2025, 6, 12))
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


# --- issue 17 §10: SCDL « subventions » 2.1.1, signed conventions only -----------------------

# The constraints of the Table Schema « scdl/subventions » version 2.1.1 (schema.data.gouv.fr,
# scdl/subventions/2.1.1: schema.json and its documentation), for the columns this export fills.
SCDL_2_1_1 = {
    "version": "2.1.1",
    "required": ["nomAttribuant", "idAttribuant", "dateConvention", "referenceDecision", "nomBeneficiaire",
                 "idBeneficiaire", "objet", "montant", "nature", "conditionsVersement", "datesPeriodeVersement",
                 "notificationUE", "pourcentageSubvention", "dispositifAide"],
    "patterns": {
        "idAttribuant": r"^\d{14}$",
        "idBeneficiaire": r"^\d{14}$",
        "rnaBeneficiaire": r"^W\d{9}$",
        "datesPeriodeVersement": r"^[0-9]{4}\-[0-9]{2}\-[0-9]{2}(\/[0-9]{4}\-[0-9]{2}\-[0-9]{2})?$",
    },
    "enums": {"nature": {"aide en numéraire", "aide en nature", "aide en numéraire;aide en nature",
                         "aide en nature;aide en numéraire"},
              "notificationUE": {"oui", "non"}},
    "max_length": {"objet": 256, "conditionsVersement": 256, "idRAE": 5},
}


def assert_scdl_row(row):
    """One CSV row against SCDL_2_1_1 (a value missing is the empty string)."""
    assert list(row) == SCDL_COLUMNS
    for column in SCDL_2_1_1["required"]:
        assert row[column] != "", column
    for column, pattern in SCDL_2_1_1["patterns"].items():
        assert row[column] == "" or re.fullmatch(pattern, row[column]), (column, row[column])
    for column, allowed in SCDL_2_1_1["enums"].items():
        assert row[column] in allowed, (column, row[column])
    for column, limit in SCDL_2_1_1["max_length"].items():
        assert len(row[column]) <= limit, column
    date.fromisoformat(row["dateConvention"])  # type date: ISO 8601
    for part in row["datesPeriodeVersement"].split("/"):
        date.fromisoformat(part)
    assert stdnum_siret.is_valid(row["idAttribuant"]) and stdnum_siret.is_valid(row["idBeneficiaire"])
    assert float(row["montant"]) > 0 and re.fullmatch(r"\d+(\.\d+)?", row["montant"])  # a number, dot decimal
    assert 0.01 <= float(row["pourcentageSubvention"]) <= 1
    assert row["conditionsVersement"] in ("unique", "échelonné", "autre") or len(row["conditionsVersement"]) <= 256


def test_scdl_rows_follow_the_schema_2_1_1(app, results):
    call = results[0]
    _, rows = read_csv(build_scdl_csv(call))
    assert rows
    for row in rows:
        assert_scdl_row(row)


def test_unsigned_winners_are_left_out_and_the_page_says_how_many(app, client, login_as, staff):
    call = factories.call(slug="aap-sign", year=2025, advance_percent=50)
    first = winner(call, name="Signée")
    winner(call, name="Pas encore signée")
    unsigned_with_convention = winner(call, name="Générée, non signée")
    signed(first, date(2025, 7, 2), number="1J1M-2025-CA-0001")
    signed(unsigned_with_convention, None).signed_at = None
    db.session.commit()
    _, rows = read_csv(build_scdl_csv(call))
    assert [r["nomBeneficiaire"] for r in rows] == ["Signée"]
    assert rows[0]["referenceDecision"] == "1J1M-2025-CA-0001" and rows[0]["dateConvention"] == "2025-07-02"
    login_as(staff)
    page = client.get(f"/instruction/appels/{call.id}/documents").get_data(as_text=True)
    assert "2 conventions non signées ne figurent pas encore dans le fichier" in page
    assert "signée par l'État le 2 juillet 2025" in unescape(page) and "Suivi de la subvention" in page


def test_staff_countersign_and_the_grant_enters_the_open_data(app, client, login_as, staff):
    """The day the State countersigns (aap/followup/signature.countersign) is dateConvention."""
    from aap.models.followup import ConventionState
    call = factories.call(slug="aap-sign2", year=2025, advance_percent=100)
    application = winner(call)
    convention = signed(application, None)
    convention.signed_at = None
    convention.state = ConventionState.ASSOCIATION_SIGNED
    convention.association_signed_at = datetime(2025, 6, 25, 10, tzinfo=timezone.utc)
    db.session.commit()
    assert scdl_rows(call) == []
    login_as(staff)
    url = f"/suivi/conventions/{convention.id}/contreseing"
    prefix = f"convention-{convention.id}-countersign-"
    # In the future, or before the association's return (25 June 2025): refused next to the field.
    response = client.post_form(url, {prefix + "day": "2099-01-01", prefix + "signatory": "Jeanne Martin"})
    assert response.status_code == 422
    assert "ne peut pas être dans le futur" in response.get_data(as_text=True)
    response = client.post_form(url, {prefix + "day": "01/06/2025", prefix + "signatory": "Jeanne Martin"})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and "ne peut pas précéder le retour" in html and "(25 juin 2025)" in html
    assert 'value="01/06/2025"' in html  # what was typed stays
    db.session.expire_all()
    assert db.session.get(Convention, convention.id).signed_at is None
    response = client.post_form(url, {prefix + "day": "2025-06-30", prefix + "signatory": "Jeanne Martin"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Convention, convention.id).signed_at == date(2025, 6, 30)
    event = db.session.query(Event).filter_by(action="convention_countersigned").one()
    assert event.application_id == application.id and event.details["day"] == "2025-06-30"
    [row] = scdl_rows(call)
    assert row["dateConvention"] == "2025-06-30" and row["referenceDecision"] == convention.number


@pytest.mark.parametrize("who", ["applicant", "reviewer"])
def test_only_staff_record_a_signature(request, client, login_as, who):
    from aap.models.followup import ConventionState
    call = factories.call(slug="aap-sign3", year=2025)
    convention = signed(winner(call))
    convention.state = ConventionState.ASSOCIATION_SIGNED
    db.session.commit()
    login_as(request.getfixturevalue(who))
    response = client.post_form(f"/suivi/conventions/{convention.id}/contreseing",
                                {f"convention-{convention.id}-countersign-day": "2025-06-30"})
    assert response.status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(Convention, convention.id).state == ConventionState.ASSOCIATION_SIGNED


def test_dispositif_aide_is_the_call_aid_scheme_identifier_when_set(app, results):
    call = results[0]
    call.aid_scheme_id = "65d5b6c7-102c-4440-ac3b-768f708edc0a"
    db.session.commit()
    assert {row["dispositifAide"] for row in scdl_rows(call)} == {"65d5b6c7-102c-4440-ac3b-768f708edc0a"}


def test_the_grantor_siret_setting_is_documented():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert re.search(r"^\| `AAP_GRANTOR_SIRET` \| `\d{14}` \|.*idAttribuant", readme, re.M)


def test_staff_set_the_aid_scheme_identifier_in_the_call_form(client, login_as, staff):
    from .test_calls import call_form

    login_as(staff)
    form = call_form(aid_scheme_id=" 65d5b6c7-102c-4440-ac3b-768f708edc0a ")
    assert client.post_form("/instruction/appels/nouveau", form).status_code == 302
    call = db.session.scalar(db.select(Call).where(Call.slug == "aap-2027"))
    assert call.aid_scheme_id == "65d5b6c7-102c-4440-ac3b-768f708edc0a"
    page = unescape(client.get(f"/instruction/appels/{call.id}").get_data(as_text=True))
    assert "Identifiant du dispositif d'aide" in page and "65d5b6c7-102c-4440-ac3b-768f708edc0a" in page
    response = client.post_form(f"/instruction/appels/{call.id}", {**form, "aid_scheme_id": "x" * 121})
    assert "ne peut pas dépasser 120 caractères" in unescape(response.get_data(as_text=True))
