"""Accounts against an attacker: sessions that end for good (logout, password change,
deactivation, change of role), invitations that do not tell which addresses have an account,
limits on the e-mails anyone can cause, login slowed down per account and address (never a
lock-out of the owner) with one alert to the owner, and the password rule on every form."""
import html
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask_login.utils import encode_cookie

from aap import timeutil
from aap.associations import services as association_services
from aap.auth import services as auth_services
from aap.extensions import db
from aap.models import Event, LoginAttempt, Message, User
from aap.passwords import check_password

from . import factories
from .conftest import login

NEW_PASSWORD = "girafe-velo-nuage-2031"
LINK_RE = re.compile(r"http://localhost(/\S+)")
DASHBOARD = "/tableau-de-bord"


def text(response):
    return html.unescape(response.get_data(as_text=True))


def main(response):
    page = text(response)
    return page[page.index("<main"):page.index("</main>")]


def location(response):
    return urlsplit(response.headers["Location"]).path


def copy_of_session(app, client):
    """Another browser holding a copy of `client`'s cookies (a stolen or saved cookie jar)."""
    thief = app.test_client()
    for name in ("session", "remember_token"):
        cookie = client.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value, domain="localhost")
    return thief


def sees_dashboard(client, marker):
    response = client.get(DASHBOARD)
    return response.status_code == 200 and marker in text(response)


def mails(to, subject=None):
    return [m for m in factories.outbox() if m.to == to and (subject is None or m.subject == subject)]


# --- sessions end for good ------------------------------------------------------------------------

def test_a_session_cookie_copied_before_logout_no_longer_opens_the_dashboard(app, client, applicant):
    login(client, applicant)
    thief = copy_of_session(app, client)
    assert sees_dashboard(thief, "Réussir Ensemble")  # the copy works while the session lives

    client.post_form("/deconnexion")

    response = thief.get(DASHBOARD)
    assert response.status_code == 302 and location(response) == "/connexion"
    assert "Réussir Ensemble" not in text(thief.get("/compte", follow_redirects=True))
    assert thief.get("/association").status_code == 302
    event = db.session.scalar(db.select(Event).where(Event.action == "logout"))
    assert event is not None and event.actor_id == applicant.id


def test_logout_also_voids_a_remember_me_cookie(app, client, applicant):
    old_id = applicant.get_id()
    with app.test_request_context():
        remember = encode_cookie(old_id)
    login(client, applicant)
    holder = app.test_client()
    holder.set_cookie("remember_token", remember, domain="localhost")
    assert sees_dashboard(holder, "Réussir Ensemble")  # Flask-Login would accept it as it is

    client.post_form("/deconnexion")

    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember, domain="localhost")
    assert fresh.get(DASHBOARD).status_code == 302
    assert holder.get(DASHBOARD).status_code == 302


def test_logout_ends_the_sessions_of_the_account_on_every_device(app, client, applicant):
    login(client, applicant)
    phone = app.test_client()
    login(phone, applicant)
    phone.post_form("/deconnexion")
    assert client.get(DASHBOARD).status_code == 302


def test_a_copied_cookie_stops_working_after_a_password_change(app, client, applicant):
    login(client, applicant)
    thief = copy_of_session(app, client)
    client.post_form("/mot-de-passe/oublie", {"email": applicant.email})
    path = LINK_RE.findall(factories.last_mail_to(applicant.email).body)[0]
    response = app.test_client().post_form(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert thief.get(DASHBOARD).status_code == 302
    assert client.get(DASHBOARD).status_code == 302


@pytest.mark.parametrize("change", ["deactivated", "role_changed", "deactivated_in_sql"])
def test_deactivation_or_change_of_role_ends_every_session(app, client, staff, change):
    login(client, staff)
    thief = copy_of_session(app, client)
    assert thief.get(DASHBOARD).status_code == 200
    version = staff.session_version
    if change == "deactivated":
        staff.active = False
    elif change == "role_changed":
        staff.role = "reviewer"
    else:  # a bulk UPDATE bypasses the ORM: the session loader still refuses the account
        db.session.execute(db.update(User).where(User.id == staff.id).values(active=False))
    db.session.commit()
    if change != "deactivated_in_sql":
        assert staff.session_version == version + 1  # User.end_sessions(), whoever made the change
    for browser in (client, thief):
        response = browser.get(DASHBOARD)
        assert response.status_code == 302 and location(response) == "/connexion"


def test_a_new_account_or_an_unchanged_value_keeps_its_version(app, applicant):
    versions = (applicant.auth_version, applicant.session_version)
    applicant.active = True
    applicant.role = "applicant"
    db.session.commit()
    assert (applicant.auth_version, applicant.session_version) == versions
    fresh = User(email="neuf@example.org", role="reviewer", active=True)
    db.session.add(fresh)
    db.session.commit()
    assert (fresh.auth_version, fresh.session_version) == (1, 1)


def test_logout_keeps_a_pending_reset_link_valid(app, client, applicant):
    login(client, applicant)
    client.post_form("/mot-de-passe/oublie", {"email": applicant.email})
    path = LINK_RE.findall(factories.last_mail_to(applicant.email).body)[0]
    client.post_form("/deconnexion")
    response = app.test_client().post_form(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302 and location(response) == "/connexion"
    db.session.refresh(applicant)
    assert applicant.check_password(NEW_PASSWORD)


# --- invitations tell nothing of existing accounts -------------------------------------------------

def test_member_invitation_answers_the_same_for_an_existing_and_a_new_address(app, client, applicant,
                                                                              other_applicant):
    login(client, applicant)
    answers = []
    for email in ("nouvelle@example.org", other_applicant.email):
        response = client.post_form("/association/membres", {"email": email})
        assert response.status_code == 302 and location(response) == "/association/membres"
        page = main(client.get("/association/membres"))
        alert = re.search(r'<div class="fr-alert[^"]*"[^>]*>.*?</div>', page, re.S).group(0)
        answers.append(alert.replace(email, "ADRESSE"))
    assert answers[0] == answers[1] and "Invitation envoyée à ADRESSE" in answers[0]
    pending = re.search(r'<ul id="invitations">.*?</ul>', page, re.S).group(0)
    assert "nouvelle@example.org" in pending and other_applicant.email in pending
    assert "Un compte existe déjà" not in page
    invitation = factories.last_mail_to("nouvelle@example.org")
    notice = factories.last_mail_to(other_applicant.email)
    assert "/association/rejoindre/" in invitation.body
    assert "/association/rejoindre/" not in notice.body and "a voulu vous inviter" in notice.body
    assert invitation.subject == notice.subject
    db.session.refresh(other_applicant)
    assert other_applicant.association.name == "Une Autre Association"


@pytest.mark.parametrize("existing", [True, False])
def test_member_invitation_quota_is_checked_before_anything_else(app, client, applicant, other_applicant,
                                                                 existing):
    for n in range(association_services.MAX_INVITATIONS_PER_DAY):
        db.session.add(Event(action="member_invited", actor_id=applicant.id,
                             association_id=applicant.association_id, details={"email": f"x{n}@example.org"}))
    db.session.commit()
    login(client, applicant)
    email = other_applicant.email if existing else "nouvelle@example.org"
    response = client.post_form("/association/membres", {"email": email})
    assert response.status_code == 200
    assert "invitations ces dernières 24 heures" in text(response)
    assert "Un compte existe déjà" not in text(response)
    assert mails(email) == []


@pytest.mark.parametrize("existing", [True, False])
def test_member_invitations_to_one_address_are_limited_the_same_way(app, client, applicant, other_applicant,
                                                                    existing):
    login(client, applicant)
    email = other_applicant.email if existing else "nouvelle@example.org"
    for _ in range(3):
        assert client.post_form("/association/membres", {"email": email}).status_code == 302
    response = client.post_form("/association/membres", {"email": email})
    assert response.status_code == 200
    assert f"Une invitation a déjà été envoyée plusieurs fois à {email} dans l'heure" in text(response)
    assert len(mails(email)) == 3


def test_team_invitation_answers_the_same_for_an_existing_and_a_new_address(app, client, staff, applicant):
    login(client, staff)
    data = {"first_name": "Marc", "last_name": "Test", "role": "reviewer", "region_code": ""}
    flashes = []
    for email in ("marc@example.org", applicant.email):
        response = client.post_form("/equipe/inviter", dict(data, email=email))
        assert response.status_code == 302 and location(response) == "/equipe/inviter"
        page = text(client.get("/equipe/inviter"))
        flashes.append(re.search(r"Invitation envoyée à (\S+)\.", page).group(0).replace(email, "ADRESSE"))
    assert flashes[0] == flashes[1]
    db.session.refresh(applicant)
    assert applicant.role == "applicant"
    notice = factories.last_mail_to(applicant.email)
    assert "a voulu vous inviter" in notice.body and "Évaluateur" in notice.body
    assert "/invitation/" not in notice.body


@pytest.mark.parametrize("existing", [True, False])
def test_team_invitation_quota_and_recipient_limit_come_first(app, client, staff, applicant, existing):
    email = applicant.email if existing else "marc@example.org"
    login(client, staff)
    data = {"first_name": "Marc", "last_name": "Test", "role": "reviewer", "region_code": "", "email": email}
    for _ in range(3):
        assert client.post_form("/equipe/inviter", data).status_code == 302
    response = client.post_form("/equipe/inviter", data)
    assert "Une invitation a déjà été envoyée plusieurs fois" in text(response)
    assert len(mails(email)) == 3

    for n in range(auth_services.MAX_TEAM_INVITATIONS_PER_DAY):
        db.session.add(Event(action="user_invited", actor_id=staff.id, details={"email": f"y{n}@example.org"}))
    db.session.commit()
    other = applicant.email if not existing else "autre-marc@example.org"
    response = client.post_form("/equipe/inviter", dict(data, email=other))
    assert "invitations ces dernières 24 heures" in text(response)
    assert "Un compte existe déjà" not in text(response)
    assert mails(other) == []


# --- limits on outgoing mail ------------------------------------------------------------------------

def test_sixteen_reset_requests_queue_at_most_the_limit(app, client, applicant):
    limit, _seconds = app.config["MAIL_LIMITS"]["reset"]
    answers = set()
    for _ in range(16):
        response = client.post_form("/mot-de-passe/oublie", {"email": applicant.email}, follow_redirects=True)
        answers.add(re.search(r"Si un compte existe pour cette adresse[^<]*", text(response)).group(0))
    assert len(answers) == 1  # the same neutral answer every time
    assert len(mails(applicant.email, "Réinitialisation de votre mot de passe")) == limit == 3


def test_the_limit_is_per_recipient_and_per_hour(app, client, applicant, other_applicant):
    for _ in range(5):
        client.post_form("/mot-de-passe/oublie", {"email": applicant.email})
    client.post_form("/mot-de-passe/oublie", {"email": other_applicant.email})
    assert len(mails(other_applicant.email)) == 1
    from aap.models import OutboxMessage
    db.session.execute(db.update(OutboxMessage).values(created_at=timeutil.now() - timedelta(hours=1, seconds=1)))
    db.session.commit()
    client.post_form("/mot-de-passe/oublie", {"email": applicant.email})
    assert len(mails(applicant.email)) == 4


def test_confirmation_resends_and_signups_on_a_taken_address_are_limited(app, client, applicant):
    data = {"first_name": "Léa", "last_name": "Dupré", "email": "lea@asso-exemple.fr", "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD, "association_name": "Les Ailes", "accept": "y"}
    client.post_form("/inscription", data)
    for _ in range(16):
        client.post_form("/inscription/nouveau-lien", {"email": "lea@asso-exemple.fr"})
    assert len(mails("lea@asso-exemple.fr", "Confirmez votre adresse e-mail")) == 3
    for _ in range(16):
        response = app.test_client().post_form("/inscription", dict(data, email=applicant.email))
        assert response.status_code == 200 and "Vérifiez votre messagerie" in text(response)
    assert len(mails(applicant.email, "Tentative de création de compte")) == 2


def test_message_notifications_are_limited_but_every_message_is_kept(app, client, applicant, staff):
    application = factories.submitted_file(factories.call(), applicant.association)
    login(client, staff)
    for n in range(16):
        response = client.post_form(f"/dossiers/{application.id}/messages", {"message_body": f"Question {n}"})
        assert response.status_code == 302
    assert db.session.scalar(db.select(db.func.count(Message.id))) == 16
    assert len(mails(applicant.email)) == app.config["MAIL_LIMITS"]["instruction_message"][0] == 5


# --- login: slowed down, never locked; the owner is told once --------------------------------------

def attempt(client, email, password, address):
    return client.post_form("/connexion", {"email": email, "password": password},
                            environ_base={"REMOTE_ADDR": address})


def test_the_owner_is_not_locked_out_while_an_attacker_hammers_from_one_address(app, applicant):
    attacker, owner = app.test_client(), app.test_client()
    refusals = [text(attempt(attacker, applicant.email, f"essai-{n}", "203.0.113.66")) for n in range(30)]
    assert all("Adresse e-mail ou mot de passe incorrect." in page for page in refusals[:5])
    assert all("Trop de tentatives de connexion. Par sécurité, réessayez dans" in page for page in refusals[5:])
    # Even the right password waits, from that address.
    assert "réessayez dans 30 secondes" in text(attempt(attacker, applicant.email, factories.PASSWORD,
                                                         "203.0.113.66"))
    assert attacker.get(DASHBOARD).status_code == 302
    # The throttled tries test no password and are not recorded.
    assert db.session.scalar(db.select(db.func.count(LoginAttempt.id))) == 5

    owner.environ_base["REMOTE_ADDR"] = "198.51.100.7"  # the owner's own connection, for every request
    response = attempt(owner, applicant.email, factories.PASSWORD, "198.51.100.7")
    assert response.status_code == 302 and location(response) == DASHBOARD
    assert sees_dashboard(owner, "Réussir Ensemble")

    # One alert, however long the attack goes on and from however many addresses.
    for n in range(6):
        attempt(app.test_client(), applicant.email, f"autre-{n}", f"192.0.2.{n}")
    [alert] = mails(applicant.email, "Tentatives de connexion à votre compte")
    assert "mauvais mot de passe" in alert.body and "5 échecs" in alert.body
    assert "/mot-de-passe/oublie" in alert.body


def test_the_delay_grows_after_each_further_failure(app, applicant):
    client = app.test_client()
    for n in range(5):
        attempt(client, applicant.email, f"essai-{n}", "203.0.113.66")

    def age_attempts(seconds):
        for row in db.session.scalars(db.select(LoginAttempt)):
            row.at = row.at - timedelta(seconds=seconds)
        db.session.commit()

    age_attempts(31)  # the first delay (30 s) is over: one more try
    assert "Adresse e-mail ou mot de passe incorrect." in text(attempt(client, applicant.email, "x" * 12,
                                                                       "203.0.113.66"))
    assert "réessayez dans 60 secondes" in text(attempt(client, applicant.email, "x" * 12, "203.0.113.66"))
    age_attempts(61)
    response = attempt(client, applicant.email, factories.PASSWORD, "203.0.113.66")
    assert location(response) == DASHBOARD


def test_the_slow_down_is_the_same_for_an_unknown_address(app, applicant):
    def slowed(email):
        client = app.test_client()
        for n in range(5):
            attempt(client, email, f"essai-{n}", "203.0.113.66")
        return re.search(r'role="alert"><p>(.*?)</p>', text(attempt(client, email, "essai", "203.0.113.66"))).group(1)

    assert slowed(applicant.email) == slowed("personne@example.org")
    assert mails("personne@example.org") == []


def test_spraying_many_accounts_from_one_address_stops_that_address(app, applicant):
    client = app.test_client()
    for n in range(app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        attempt(client, f"inconnu{n}@example.org", "mauvais-mot-de-passe", "203.0.113.9")
    page = text(attempt(client, applicant.email, factories.PASSWORD, "203.0.113.9"))
    assert "Trop de tentatives de connexion depuis votre adresse" in page and "15 minutes" in page
    assert location(attempt(app.test_client(), applicant.email, factories.PASSWORD, "203.0.113.10")) == DASHBOARD


# --- the password rule ------------------------------------------------------------------------------

WEAK = [
    ("aaaaaaaaaaaa", "un seul caractère répété"),
    ("123456789012", "suite de caractères"),
    ("azertyuiopqs", "suite de caractères"),
    ("abcabcabcabc", "motif répété"),
    ("motdepasse2024", "mots de passe les plus courants"),
    ("P@ssw0rd2024!", "mots de passe les plus courants"),
]


def password_message(response):
    """The message shown next to the password field (its DSFR messages group)."""
    match = re.search(r'id="password-messages"[^>]*>\s*<p class="fr-message fr-message--error">([^<]*)<',
                      response.get_data(as_text=True))
    return html.unescape(match.group(1)) if match else ""


@pytest.fixture
def password_forms(app, client, staff, applicant):
    """Each form where a password is chosen: (path, extra fields, personal password, client)."""
    forms = {"inscription": ("/inscription", {"first_name": "Léa", "last_name": "Dupré",
                                              "email": "lea.dupre@asso-exemple.fr",
                                              "association_name": "Les Ailes", "accept": "y"},
                             "Dupre-Lea-2031!x", client)}
    reset_client = app.test_client()
    reset_client.post_form("/mot-de-passe/oublie", {"email": applicant.email})
    forms["reinitialisation"] = (LINK_RE.findall(factories.last_mail_to(applicant.email).body)[0], {},
                                 "asso-Applicant-2031", reset_client)
    with app.test_request_context():
        auth_services.invite(staff, "marc.durand@example.org", "Marc", "Durand", "reviewer")
        association_services.invite_member(applicant.association, applicant, "nadia.benali@example.org")
    forms["invitation"] = (LINK_RE.findall(factories.last_mail_to("marc.durand@example.org").body)[0], {},
                           "durand-vert-2031", app.test_client())
    forms["membre"] = (LINK_RE.findall(factories.last_mail_to("nadia.benali@example.org").body)[0],
                       {"first_name": "Nadia", "last_name": "Benali"}, "nadia-2031-soleil", app.test_client())
    return forms


@pytest.mark.parametrize("form", ["inscription", "reinitialisation", "invitation", "membre"])
def test_weak_passwords_are_refused_on_every_form_in_french(app, password_forms, form):
    path, extra, personal, browser = password_forms[form]
    page = text(browser.get(path))
    assert "Évitez les mots de passe courants, les suites (123456, azerty)" in page  # the hint
    users_before = db.session.scalar(db.select(db.func.count(User.id)))
    for password, reason in WEAK + [(personal, "ni votre nom ni votre adresse e-mail")]:
        response = browser.post_form(path, dict(extra, password=password, password_confirm=password))
        assert response.status_code in (200, 400) and reason in password_message(response), (password, form)
    assert db.session.scalar(db.select(db.func.count(User.id))) == users_before
    assert browser.get(DASHBOARD).status_code == 302
    response = browser.post_form(path, dict(extra, password=NEW_PASSWORD, password_confirm=NEW_PASSWORD))
    assert response.status_code in (200, 302) and password_message(response) == ""


def test_the_services_and_the_command_apply_the_same_rule(app, applicant):
    with app.test_request_context():
        with pytest.raises(auth_services.AuthError, match="un seul caractère répété"):
            auth_services.set_password(applicant, "aaaaaaaaaaaa")
        with pytest.raises(auth_services.AuthError, match="suite de caractères"):
            auth_services.sign_up("x@example.org", "123456789012", "X", "Y", "Asso")
    result = app.test_cli_runner().invoke(args=["create-user", "--email", "chef@example.org", "--role", "admin",
                                                "--password", "azertyuiopqs"])
    assert result.exit_code != 0 and "suite de caractères" in result.output
    assert db.session.scalar(db.select(User).where(User.email == "chef@example.org")) is None


@pytest.mark.parametrize("password", ["un-mot-de-passe-solide", "girafe-velo-nuage-2031", "Tr0ub4dor&3x-plus",
                                      "demo-aap-2026!", "mouton-rouge-42", "Le chat de Léa dort au soleil"])
def test_ordinary_strong_passwords_pass(password):
    check_password(password, email="lea.dupre@asso-exemple.fr", names=("Léa", "Dupré"))


@pytest.mark.parametrize("password, reason", [
    ("p" * 200, "un seul caractère"), ("p" * 201, "ne peut pas dépasser 200"), ("court", "au moins 12"),
    ("1234-5678-9012", "suite de caractères"), ("qwerty123456", "suite de caractères"),
    ("zyxwvutsrqpo", "suite de caractères"), ("1122334411223344", "motif répété"),
    ("Bonjour2024!", "mots de passe les plus courants"), ("iloveyou1234", "mots de passe les plus courants"),
])
def test_trivial_passwords_are_refused_with_their_reason(password, reason):
    with pytest.raises(ValueError, match=reason):
        check_password(password)


@pytest.mark.parametrize("password, email, names", [
    ("lea.dupre-2031!", "lea.dupre@asso-exemple.fr", ()),
    ("Dupré-girafe-2031", "contact@asso-exemple.fr", ("Léa", "Dupré")),
    ("marc-girafe-velo", "marc@example.org", ()),
])
def test_the_person_s_name_and_address_are_refused(password, email, names):
    with pytest.raises(ValueError, match="ni votre nom ni votre adresse e-mail"):
        check_password(password, email=email, names=names)
