"""The application form: starting a draft, the six sections, validation, concurrent edits,
autosave and a session that expired while typing."""
import re

import pytest

from aap.extensions import db
from aap.models import Application, Event

from . import factories
from . import factories_applications as fa
from .conftest import login


def fresh(application):
    db.session.expire_all()
    return db.session.get(Application, application.id)


# --- starting -----------------------------------------------------------------------------------

def test_start_creates_one_draft_per_association_and_call(client, applicant, login_as, call):
    login_as(applicant)
    response = client.post_form(f"/candidatures/nouvelle/{call.id}")
    assert response.status_code == 302
    application = db.session.scalar(db.select(Application).where(Application.call_id == call.id))
    assert application.status == "draft" and application.association_id == applicant.association_id
    assert response.headers["Location"].endswith(f"/candidatures/{application.id}/projet")
    assert db.session.scalar(db.select(Event).where(Event.application_id == application.id,
                                                    Event.action == "application_created"))
    again = client.post_form(f"/candidatures/nouvelle/{call.id}")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/candidatures/{application.id}")
    assert db.session.query(Application).count() == 1


def test_start_refused_for_a_closed_or_unpublished_call(client, applicant, login_as, app):
    closed = factories.call(slug="ferme", opens_in_days=-30, closes_in_days=-1)
    draft_call = factories.call(slug="brouillon", status="draft")
    login_as(applicant)
    response = client.post_form(f"/candidatures/nouvelle/{closed.id}", follow_redirects=True)
    assert "pas ouvert aux candidatures" in response.get_data(as_text=True)
    assert client.post_form(f"/candidatures/nouvelle/{draft_call.id}").status_code == 404
    assert db.session.query(Application).count() == 0


def test_start_is_for_applicants_only(client, reviewer, login_as, call):
    login_as(reviewer)
    assert client.post_form(f"/candidatures/nouvelle/{call.id}").status_code == 403


# --- sections -----------------------------------------------------------------------------------

def test_section_page_has_stepper_version_and_external_autosave_script(client, applicant, login_as, application):
    login_as(applicant)
    html = client.get(fa.section_url(application, "projet")).get_data(as_text=True)
    assert "fr-stepper" in html and "Étape 1 sur 6" in html
    assert fa.hidden_version(html) == application.version
    assert "app/autosave.js" in html and f"/candidatures/{application.id}/projet/brouillon" in html
    assert 'aria-live="polite"' in html and 'id="autosave-status"' in html
    # CSP: no inline script, no inline style.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html and " onclick=" not in html


@pytest.mark.parametrize("section", ["projet", "jeunes", "territoires", "budget", "pieces", "attestation"])
def test_every_section_renders(client, applicant, login_as, application, section):
    login_as(applicant)
    response = client.get(fa.section_url(application, section))
    assert response.status_code == 200
    assert f"Étape {['projet', 'jeunes', 'territoires', 'budget', 'pieces', 'attestation'].index(section) + 1} sur 6" \
        in response.get_data(as_text=True)


def test_unknown_section_is_404(client, applicant, login_as, application):
    login_as(applicant)
    assert client.get(fa.section_url(application, "secrets")).status_code == 404


def test_draft_accepts_incomplete_section(client, applicant, login_as, application):
    login_as(applicant)
    version = application.version
    response = fa.post_section(client, application, "projet", {"title": "Un titre seulement"})
    assert response.status_code == 303
    saved = fresh(application)
    assert saved.title == "Un titre seulement" and saved.summary == ""
    assert saved.mentoring_duration_months is None
    assert saved.version == version + 1


def test_valid_sections_are_saved_typed(client, applicant, login_as, application):
    login_as(applicant)
    for section in ("projet", "jeunes", "territoires", "budget"):
        response = fa.post_section(client, application, section, fa.VALID[section], action="continuer")
        assert response.status_code == 303, response.get_data(as_text=True)
    saved = fresh(application)
    assert saved.title == "Mentorat pour les jeunes des quartiers"
    assert saved.mentoring_duration_months == 9 and saved.young_count == 300 and saved.share_qpv == 40
    assert saved.age_min == 16 and saved.age_max == 25
    assert saved.scope == "regional" and saved.departements == ["42", "69"]
    assert saved.total_cost_cents == 300_000_00 and saved.requested_cents == 100_000_50
    # The budget section is the Cerfa table; the amount requested, the cost and the co-funders follow it.
    assert saved.budget == {"1": {"64": 300_000_00, "74_aap": 100_000_50, "74_region": 50_000_00, "75": 149_999_50}}
    assert saved.cofunding == [{"funder": "Région(s)", "amount_cents": 50_000_00},
                               {"funder": "75 – Autres produits de gestion courante", "amount_cents": 149_999_50}]


def test_continue_goes_to_next_section(client, applicant, login_as, application):
    login_as(applicant)
    response = fa.post_section(client, application, "jeunes", {"young_count": "12"}, action="continuer")
    assert response.headers["Location"].endswith(f"/candidatures/{application.id}/territoires")


def test_saved_values_are_shown_back(client, applicant, login_as, call):
    login_as(applicant)
    application = fa.draft(call, applicant.association)
    html = client.get(fa.section_url(application, "budget")).get_data(as_text=True)
    assert 'value="300000"' in html and 'value="100000"' in html and 'value="50000"' in html
    assert 'id="budget_1_74_region"' in html


BAD_VALUES = [
    ("jeunes", {"young_count": "-5"}, "young_count", "entier positif"),
    ("jeunes", {"young_count": "douze"}, "young_count", "nombre entier"),
    ("jeunes", {"mentor_count": "0"}, "mentor_count", "entier positif"),
    ("jeunes", {"mentor_count": "2,5"}, "mentor_count", "nombre entier"),
    ("jeunes", {"share_qpv": "120"}, "share_qpv", "entre 0 et 100"),
    ("jeunes", {"share_ase": "-1"}, "share_ase", "entre 0 et 100"),
    ("jeunes", {"share_dropout": "beaucoup"}, "share_dropout", "nombre en chiffres"),
    ("jeunes", {"age_min": "25", "age_max": "16"}, "age_max", "supérieur ou égal"),
    ("projet", {"mentoring_duration_months": "3"}, "mentoring_duration_months", "au moins 6 mois"),
    ("projet", {"title": "x" * 300}, "title", "255 caractères"),
    ("budget", {"budget_1_64": "-100"}, "budget_1_64", "ne peut pas être négatif"),
    ("budget", {"budget_1_74_aap": "abc"}, "budget_1_74_aap", "Saisissez un montant"),
    ("budget", {"budget_1_74_aap": "12,345"}, "budget_1_74_aap", "deux décimales"),
    # The budget's coherence (balance, amount within the call's bounds, not above the cost) does not
    # stop a draft from being saved: it is checked at deposit (tests/test_budget.py).
    ("territoires", {"departements": ["69", "999"]}, "departements", "Département inconnu"),
    ("territoires", {"scope": "planetaire"}, "scope", "Choisissez"),
    ("attestation", {"attestation_name": "Claire Martin"}, "attest", "Cochez la case"),
]


@pytest.mark.parametrize("section,data,field,message", BAD_VALUES)
def test_bad_values_are_refused_in_french_and_kept(client, applicant, login_as, application,
                                                   section, data, field, message):
    login_as(applicant)
    version = application.version
    response = fa.post_section(client, application, section, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="resume-erreurs"' in html and f'href="#{field}"' in html
    assert message in html
    assert f'id="{field}-messages"' in html
    # What was typed is shown back.
    for name, value in data.items():
        for one in value if isinstance(value, list) else [value]:
            if name in ("scope", "departements", "cofunding_0_status"):
                continue
            assert f'value="{one}"' in html or f">{one}</textarea>" in html
    # The invalid field is not saved (the valid ones are: see tests/test_draft_merge.py).
    saved = fresh(application)
    stored = {"budget_1_64": "budget", "budget_1_74_aap": "budget", "attest": "attestation_name"}
    assert getattr(saved, stored.get(field, field)) in (None, "", [], {})
    if len(data) == 1:
        assert saved.version == version
        assert db.session.scalar(db.select(Event).where(Event.action == "draft_saved")) is None


def test_annual_call_has_no_per_year_fields(client, applicant, login_as, application):
    login_as(applicant)
    html = client.get(fa.section_url(application, "budget")).get_data(as_text=True)
    assert 'id="budget_1_64"' in html and "budget_2_" not in html


# --- concurrent edits ---------------------------------------------------------------------------

def test_concurrent_edit_does_not_overwrite_and_shows_both_values(app, applicant, application):
    colleague = fa.member(applicant.association)
    alice, karim = app.test_client(), app.test_client()
    login(alice, applicant)
    login(karim, colleague)
    start = fa.hidden_version(karim.get(fa.section_url(application, "projet")).get_data(as_text=True))

    assert fa.post_section(alice, application, "projet", {"title": "Titre d'Alice"}, version=start).status_code == 303
    response = fa.post_section(karim, application, "projet", {"title": "Titre de Karim"}, version=start)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Un autre membre de l'association a modifié" in html
    assert "Titre d&#39;Alice" in html and "Titre de Karim" in html
    assert "Titre du projet" in html
    assert fresh(application).title == "Titre d'Alice"

    # Karim keeps his text: the page carries the new version, resubmitting saves it.
    newer = fa.hidden_version(html)
    assert newer == fresh(application).version
    assert fa.post_section(karim, application, "projet", {"title": "Titre de Karim"}, version=newer).status_code == 303
    assert fresh(application).title == "Titre de Karim"


def test_stale_save_of_other_fields_is_merged(app, applicant, application):
    colleague = fa.member(applicant.association)
    alice, karim = app.test_client(), app.test_client()
    login(alice, applicant)
    login(karim, colleague)
    start = application.version
    assert fa.post_section(alice, application, "jeunes", {"young_count": "50"}, version=start).status_code == 303
    # Karim's form still has the old version but he changed another field: nothing to arbitrate.
    response = fa.post_section(karim, application, "jeunes", {"young_count": "50", "mentor_count": "40"},
                               version=start)
    assert response.status_code == 303
    saved = fresh(application)
    assert saved.young_count == 50 and saved.mentor_count == 40


def test_autosave_conflict_answers_json(app, applicant, application):
    colleague = fa.member(applicant.association)
    alice, karim = app.test_client(), app.test_client()
    login(alice, applicant)
    login(karim, colleague)
    start = application.version
    assert fa.autosave(alice, application, "projet", {"summary": "Résumé d'Alice"}, version=start).json["ok"]
    answer = fa.autosave(karim, application, "projet", {"summary": "Résumé de Karim"}, version=start)
    assert answer.status_code == 409
    assert answer.json["conflict"] is True
    assert answer.json["theirs"] == {"summary": "Résumé d'Alice"}
    assert answer.json["fields"][0]["yours"] == "Résumé de Karim"
    assert answer.json["fields"][0]["by"] == applicant.full_name
    assert answer.json["version"] == fresh(application).version
    assert fresh(application).summary == "Résumé d'Alice"


# --- autosave and session expiry ------------------------------------------------------------------

def test_autosave_saves_and_answers_json(client, applicant, login_as, application):
    login_as(applicant)
    version = application.version
    answer = fa.autosave(client, application, "projet", {"title": "Brouillon automatique"})
    assert answer.status_code == 200
    assert answer.json["ok"] is True and answer.json["version"] == version + 1
    assert re.fullmatch(r"Brouillon enregistré à \d{1,2} h \d{2}", answer.json["saved_at_label"])
    assert fresh(application).title == "Brouillon automatique"
    # Nothing changed: no new version.
    again = fa.autosave(client, application, "projet", {"title": "Brouillon automatique"})
    assert again.json["version"] == version + 1


def test_autosave_reports_errors_and_saves_the_valid_fields(client, applicant, login_as, application):
    login_as(applicant)
    answer = fa.autosave(client, application, "jeunes", {"share_qpv": "150", "young_count": "12"})
    assert answer.status_code == 422
    assert "entre 0 et 100" in answer.json["errors"]["share_qpv"][0]
    assert answer.json["saved"] == ["young_count"]
    assert fresh(application).young_count == 12 and fresh(application).share_qpv is None


def test_autosave_needs_the_csrf_header(client, applicant, login_as, application):
    login_as(applicant)
    response = client.post(fa.section_url(application, "projet") + "/brouillon",
                           data={"title": "x", "version": str(application.version)})
    assert response.status_code == 400
    assert fresh(application).title == ""


def test_text_autosaved_before_the_session_expired_is_there_after_login(app, applicant, application):
    browser = app.test_client()
    login(browser, applicant)
    long_text = "Nos mentors sont recrutés parmi les salariés de nos entreprises partenaires."
    assert fa.autosave(browser, application, "projet", {"mentor_recruitment": long_text}).json["ok"]
    assert fresh(application).mentor_recruitment == long_text

    # The session expires (cookie gone): the next autosave is refused, not silently lost...
    browser.delete_cookie("session", domain="localhost")
    refused = browser.post(fa.section_url(application, "projet") + "/brouillon",
                           data={"mentor_recruitment": long_text + " Et plus.", "version": "99"})
    assert refused.status_code in (302, 400)
    assert fresh(application).mentor_recruitment == long_text

    # ... and after logging in again, the autosaved text is in the form.
    login(browser, applicant)
    html = browser.get(fa.section_url(application, "projet")).get_data(as_text=True)
    assert long_text in html


def test_logout_login_keeps_autosaved_text(client, applicant, login_as, application):
    login_as(applicant)
    fa.autosave(client, application, "jeunes", {"young_count": "77"})
    client.post_form("/deconnexion")
    assert client.get(fa.section_url(application, "jeunes")).status_code == 302
    login_as(applicant)
    assert 'value="77"' in client.get(fa.section_url(application, "jeunes")).get_data(as_text=True)


# --- what may be edited -------------------------------------------------------------------------

def test_submitted_file_is_read_only(client, applicant, login_as, call):
    application = factories.application(call, applicant.association, status="submitted")
    login_as(applicant)
    html = client.get(fa.section_url(application, "projet")).get_data(as_text=True)
    assert 'id="section-form"' not in html and "Mentorat pour les jeunes des quartiers" in html
    response = fa.post_section(client, application, "projet", {"title": "Changé après dépôt"})
    assert response.status_code == 303
    assert fresh(application).title == "Mentorat pour les jeunes des quartiers"
    assert fa.autosave(client, application, "projet", {"title": "Changé"}).status_code == 403


def test_incomplete_file_reopens_only_the_requested_sections(client, applicant, staff, login_as, call):
    application = factories.application(call, applicant.association, status="submitted")
    fa.make_incomplete(application, ["budget"], staff)
    login_as(applicant)
    assert fa.post_section(client, application, "budget", {"budget_1_64": "310000", "budget_1_74_aap": "100000"}
                           ).status_code == 303
    assert fresh(application).total_cost_cents == 310_000_00
    fa.post_section(client, application, "projet", {"title": "Autre titre"})
    assert fa.autosave(client, application, "jeunes", {"young_count": "1"}).status_code == 403
    saved = fresh(application)
    assert saved.title == "Mentorat pour les jeunes des quartiers" and saved.young_count == 300
    assert 'id="section-form"' not in client.get(fa.section_url(application, "projet")).get_data(as_text=True)


def test_draft_is_read_only_after_the_deadline(client, applicant, login_as, app, monkeypatch):
    from datetime import timedelta

    from aap import timeutil
    call = factories.call(slug="bientot-clos", closes_in_days=1)
    application = fa.draft(call, applicant.association)
    login_as(applicant)
    later = call.closes_at + timedelta(seconds=1)
    monkeypatch.setattr(timeutil, "now", lambda: later)
    response = client.get(fa.section_url(application, "projet"))
    assert response.status_code == 200 and 'id="section-form"' not in response.get_data(as_text=True)
    fa.post_section(client, application, "projet", {"title": "Trop tard"})
    assert fresh(application).title == "Mentorat pour les jeunes des quartiers"
