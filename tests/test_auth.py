"""Accounts through HTTP and through the services: sign-up and confirmation, login and logout,
`next=`, password reset, invitations, rate limiting."""
import html
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import session

from aap import timeutil
from aap.auth import services
from aap.auth.tokens import make_token, read_token
from aap.auth.views import safe_next
from aap.extensions import db
from aap.models import Association, Event, LoginAttempt, User

from . import factories

NEW_PASSWORD = "encore-un-mot-de-passe-robuste"
LINK_RE = re.compile(r"http://localhost(/\S+)")


def link_in(message):
    """The local path of the (only) link of an e-mail of the outbox."""
    paths = LINK_RE.findall(message.body)
    assert paths, message.body
    return paths[0]


def text(response):
    return html.unescape(response.get_data(as_text=True))


def location(response):
    return urlsplit(response.headers["Location"]).path


def signup_data(**changes):
    data = {"first_name": "Léa", "last_name": "Dupré", "email": "lea@asso-exemple.fr",
            "password": "un-mot-de-passe-assez-long", "password_confirm": "un-mot-de-passe-assez-long",
            "association_name": "Les Ailes du Mentorat", "accept": "y"}
    data.update(changes)
    return data


def login(client, email, password=factories.PASSWORD, url="/connexion", **kwargs):
    return client.post_form(url, {"email": email, "password": password}, **kwargs)


def is_logged_in(client):
    return client.get("/tableau-de-bord").status_code == 200


# --- sign-up and e-mail confirmation ----------------------------------------------------------

def test_signup_creates_association_and_applicant_and_queues_confirmation(client):
    response = client.post_form("/inscription", signup_data(email="  Lea@Asso-Exemple.FR "))
    assert response.status_code == 200
    assert "Vérifiez votre messagerie" in text(response)

    user = db.session.scalar(db.select(User).where(User.email == "lea@asso-exemple.fr"))
    assert user is not None and user.role == "applicant"
    assert user.association.name == "Les Ailes du Mentorat"
    assert user.email_confirmed_at is None
    assert user.password_hash and "un-mot-de-passe" not in user.password_hash
    mail = factories.last_mail_to("lea@asso-exemple.fr")
    assert mail.subject == "Confirmez votre adresse e-mail"
    assert "Les Ailes du Mentorat" in mail.body and "/inscription/confirmer/" in mail.body
    assert db.session.scalar(db.select(Event).where(Event.action == "account_created")) is not None


def test_signup_refuses_short_password_in_french_and_keeps_the_values(client):
    response = client.post_form("/inscription", signup_data(password="court", password_confirm="court"))
    page = text(response)
    assert response.status_code == 200
    assert "Le mot de passe doit comporter au moins 12 caractères." in page
    # The message is next to the password field (its DSFR messages group).
    assert re.search(r'id="password-messages"[^>]*>\s*<p class="fr-message fr-message--error">'
                     r'Le mot de passe doit comporter au moins 12 caractères', page)
    assert 'value="Les Ailes du Mentorat"' in page
    assert 'value="lea@asso-exemple.fr"' in page and 'value="Léa"' in page
    assert 'value="court"' not in page  # passwords are never sent back
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0
    assert factories.outbox() == []


def test_signup_other_french_messages(client):
    response = client.post_form("/inscription", signup_data(
        email="pas-une-adresse", password_confirm="un-autre-mot-de-passe-long", accept=""))
    page = text(response)
    assert "Saisissez une adresse e-mail valide" in page
    assert "Les deux mots de passe ne sont pas identiques." in page
    assert "Vous devez accepter le traitement de vos données" in page
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_signup_twice_answers_the_same_and_creates_nothing(client, app):
    first = client.post_form("/inscription", signup_data())
    users = db.session.scalar(db.select(db.func.count(User.id)))
    associations = db.session.scalar(db.select(db.func.count(Association.id)))

    other = app.test_client()
    second = other.post_form("/inscription", signup_data(first_name="Intrus", association_name="Autre"))
    assert second.status_code == first.status_code == 200

    def main(response):
        page = text(response)
        return page[page.index("<main"):page.index("</main>")]

    assert main(second) == main(first)
    assert db.session.scalar(db.select(db.func.count(User.id))) == users == 1
    assert db.session.scalar(db.select(db.func.count(Association.id))) == associations == 1
    # The owner of the address is told, by e-mail only.
    mails = [m for m in factories.outbox() if m.to == "lea@asso-exemple.fr"]
    assert [m.subject for m in mails] == ["Confirmez votre adresse e-mail", "Tentative de création de compte"]
    assert "/mot-de-passe/oublie" in mails[1].body


def test_confirmation_link_then_login(client):
    client.post_form("/inscription", signup_data())
    refused = login(client, "lea@asso-exemple.fr", "un-mot-de-passe-assez-long")
    assert refused.status_code == 200
    assert "Votre adresse e-mail n'est pas encore confirmée" in text(refused)
    assert not is_logged_in(client)

    response = client.get(link_in(factories.last_mail_to("lea@asso-exemple.fr")))
    assert response.status_code == 302 and location(response) == "/connexion"
    assert "Votre adresse e-mail est confirmée" in text(client.get("/connexion"))
    user = services.find_user("lea@asso-exemple.fr")
    assert user.email_confirmed_at is not None

    response = login(client, "lea@asso-exemple.fr", "un-mot-de-passe-assez-long")
    assert response.status_code == 302 and location(response) == "/tableau-de-bord"
    assert "Les Ailes du Mentorat" in text(client.get("/tableau-de-bord"))


def test_expired_confirmation_link_is_refused(client, app):
    client.post_form("/inscription", signup_data())
    path = link_in(factories.last_mail_to("lea@asso-exemple.fr"))
    app.config["TOKEN_MAX_AGE"] = dict(app.config["TOKEN_MAX_AGE"], confirm=-1)
    response = client.get(path)
    assert response.status_code == 302 and location(response) == "/inscription/nouveau-lien"
    assert "Ce lien de confirmation n'est pas valide ou a expiré" in text(client.get(location(response)))
    assert services.find_user("lea@asso-exemple.fr").email_confirmed_at is None


@pytest.mark.parametrize("mangle", [
    lambda token: token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"),
    lambda token: "nimportequoi",
])
def test_garbled_confirmation_link_is_refused(client, mangle):
    client.post_form("/inscription", signup_data())
    path = link_in(factories.last_mail_to("lea@asso-exemple.fr"))
    prefix, token = path.rsplit("/", 1)
    response = client.get(f"{prefix}/{mangle(token)}")
    assert response.status_code == 302 and location(response) == "/inscription/nouveau-lien"
    assert services.find_user("lea@asso-exemple.fr").email_confirmed_at is None


def test_a_token_is_only_good_for_its_purpose(app, applicant):
    with app.test_request_context():
        token = make_token(applicant, "confirm")
        assert read_token(token, "confirm") == applicant
        assert read_token(token, "reset") is None
        assert read_token(token, "invite") is None


def test_resend_confirmation(client):
    client.post_form("/inscription", signup_data())
    response = client.post_form("/inscription/nouveau-lien", {"email": "lea@asso-exemple.fr"})
    assert response.status_code == 302
    assert len([m for m in factories.outbox() if m.to == "lea@asso-exemple.fr"]) == 2
    # Same answer for an unknown address, and nothing sent.
    response = client.post_form("/inscription/nouveau-lien", {"email": "inconnu@example.org"})
    assert response.status_code == 302
    assert not [m for m in factories.outbox() if m.to == "inconnu@example.org"]


# --- login, logout, session, next= -------------------------------------------------------------

def test_login_wrong_password_in_french(client, applicant):
    response = login(client, applicant.email, "mauvais-mot-de-passe")
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in text(response)
    assert not is_logged_in(client)


def test_login_unknown_email_says_the_same(client, applicant):
    wrong = text(login(client, applicant.email, "mauvais-mot-de-passe"))
    unknown = text(login(client, "personne@example.org", "mauvais-mot-de-passe"))
    assert "Adresse e-mail ou mot de passe incorrect." in unknown
    message = re.compile(r'<div class="fr-alert fr-alert--error fr-mb-3w" role="alert"><p>(.*?)</p>')
    assert message.search(wrong).group(1) == message.search(unknown).group(1)


def test_login_then_logout_by_post_with_csrf(client, applicant):
    response = login(client, applicant.email)
    assert response.status_code == 302 and location(response) == "/tableau-de-bord"
    assert is_logged_in(client)
    assert applicant.last_login_at is not None

    assert client.get("/deconnexion").status_code == 405
    assert client.post("/deconnexion").status_code == 400  # no CSRF token
    assert is_logged_in(client)

    response = client.post_form("/deconnexion")
    assert response.status_code == 302 and location(response) == "/"
    assert not is_logged_in(client)
    response = client.get("/tableau-de-bord")
    assert response.status_code == 302 and location(response) == "/connexion"


def test_session_is_renewed_at_login(client, applicant):
    client.get("/connexion")
    with client.session_transaction() as sess:
        sess["planted"] = "valeur posée avant la connexion"
        csrf_before = sess.get("csrf_token")
    assert csrf_before
    login(client, applicant.email)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("_user_id") == applicant.get_id()
        assert sess.get("csrf_token") != csrf_before


def test_session_cookie_changes_at_login(client, applicant):
    client.get("/connexion")
    before = client.get_cookie("session").value
    login(client, applicant.email)
    assert client.get_cookie("session").value != before


@pytest.mark.parametrize("target, expected", [
    ("/tableau-de-bord", "/tableau-de-bord"),
    ("/compte?onglet=1", "/compte"),
    ("https://evil.example", "/tableau-de-bord"),
    ("//evil.example", "/tableau-de-bord"),
    ("/\\evil.example", "/tableau-de-bord"),
    ("\\\\evil.example", "/tableau-de-bord"),
    ("/\t/evil.example", "/tableau-de-bord"),
    ("javascript:alert(1)", "/tableau-de-bord"),
    ("evil.example", "/tableau-de-bord"),
])
def test_next_accepts_local_paths_only(client, applicant, target, expected):
    response = login(client, applicant.email, query_string={"next": target})
    assert response.status_code == 302
    parts = urlsplit(response.headers["Location"])
    assert parts.netloc in ("", "localhost")
    assert parts.path == expected


def test_safe_next_unit():
    assert safe_next("/appels/2026?x=1") == "/appels/2026?x=1"
    for bad in (None, "", "http://evil.example/", "//evil.example", "/\\evil.example", "/\n/evil.example",
                "/ /evil.example", "///evil.example", "evil", "/\x00x"):
        assert safe_next(bad) is None, bad


def test_login_page_redirects_anonymous_then_back(client, applicant):
    response = client.get("/compte")
    assert response.status_code == 302
    parts = urlsplit(response.headers["Location"])
    assert parts.path == "/connexion" and "next=%2Fcompte" in parts.query
    response = client.post_form(f"/connexion?{parts.query}", {"email": applicant.email,
                                                                "password": factories.PASSWORD})
    assert location(response) == "/compte"


def test_inactive_account_cannot_log_in(client, applicant):
    applicant.active = False
    db.session.commit()
    response = login(client, applicant.email)
    assert "Adresse e-mail ou mot de passe incorrect." in text(response)
    assert not is_logged_in(client)


# --- password reset ---------------------------------------------------------------------------

def reset_path(client, user):
    response = client.post_form("/mot-de-passe/oublie", {"email": user.email})
    assert response.status_code == 302
    mail = factories.last_mail_to(user.email)
    assert mail.subject == "Réinitialisation de votre mot de passe"
    return link_in(mail)


def test_password_reset_single_use_and_old_password_refused(client, applicant):
    path = reset_path(client, applicant)
    assert path.startswith("/mot-de-passe/reinitialiser/")
    assert client.get(path).status_code == 200

    short = client.post_form(path, {"password": "trop-court", "password_confirm": "trop-court"})
    assert "Le mot de passe doit comporter au moins 12 caractères." in text(short)

    response = client.post_form(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302 and location(response) == "/connexion"

    # Single use: the same link is refused, GET or POST.
    again = client.get(path)
    assert again.status_code == 302 and location(again) == "/mot-de-passe/oublie"
    assert "n'est pas valide, a expiré ou a déjà servi" in text(client.get("/mot-de-passe/oublie"))
    again = client.post_form(path, {"password": "un-troisieme-mot-de-passe", "password_confirm":
                                    "un-troisieme-mot-de-passe"})
    assert again.status_code == 302

    assert "Adresse e-mail ou mot de passe incorrect." in text(login(client, applicant.email))
    assert location(login(client, applicant.email, NEW_PASSWORD)) == "/tableau-de-bord"


def test_password_reset_link_expires(client, app, applicant):
    path = reset_path(client, applicant)
    app.config["TOKEN_MAX_AGE"] = dict(app.config["TOKEN_MAX_AGE"], reset=-1)
    response = client.post_form(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302 and location(response) == "/mot-de-passe/oublie"
    db.session.refresh(applicant)
    assert applicant.check_password(factories.PASSWORD)


def test_password_reset_logs_out_other_sessions(client, app, applicant):
    elsewhere = app.test_client()
    login(elsewhere, applicant.email)
    assert is_logged_in(elsewhere)

    path = reset_path(client, applicant)
    client.post_form(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    response = elsewhere.get("/tableau-de-bord")
    assert response.status_code == 302 and location(response) == "/connexion"


def test_password_reset_unknown_email_answers_the_same(client, applicant):
    known = client.post_form("/mot-de-passe/oublie", {"email": applicant.email})
    unknown = client.post_form("/mot-de-passe/oublie", {"email": "personne@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert [m.to for m in factories.outbox()] == [applicant.email]


def test_reset_confirms_an_unconfirmed_address(client, app):
    user = factories.user("applicant", email="nonconfirme@example.org", association_name="Asso",
                          confirmed=False)
    path = reset_path(client, user)
    client.post_form(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    db.session.refresh(user)
    assert user.email_confirmed_at is not None
    assert location(login(client, user.email, NEW_PASSWORD)) == "/tableau-de-bord"


# --- invitations ------------------------------------------------------------------------------

def invite_data(**changes):
    data = {"first_name": "Marc", "last_name": "Évaluateur", "email": "marc@example.org",
            "role": "reviewer", "region_code": "84"}
    data.update(changes)
    return data


def test_staff_invites_a_reviewer_who_sets_a_password(client, app, staff, login_as):
    login_as(staff)
    assert "Inviter un évaluateur ou un agent" in text(client.get("/equipe/inviter"))
    response = client.post_form("/equipe/inviter", invite_data())
    assert response.status_code == 302
    invited = services.find_user("marc@example.org")
    assert invited.role == "reviewer" and invited.region_code == "84"
    assert invited.password_hash is None and invited.invited_by_id == staff.id
    mail = factories.last_mail_to("marc@example.org")
    assert "Évaluateur" in mail.body and staff.full_name in mail.body
    path = link_in(mail)

    guest = app.test_client()
    page = guest.get(path)
    assert page.status_code == 200 and "Activer votre compte" in text(page)
    short = guest.post_form(path, {"password": "court", "password_confirm": "court"})
    assert "au moins 12 caractères" in text(short)
    response = guest.post_form(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302 and location(response) == "/tableau-de-bord"
    assert "Mes évaluations" in text(guest.get("/tableau-de-bord"))

    # Single use.
    other = app.test_client()
    response = other.get(path)
    assert response.status_code == 302 and location(response) == "/connexion"
    assert "Ce lien d'invitation n'est pas valide" in text(other.get("/connexion"))
    response = other.post_form(path, {"password": "mot-de-passe-du-pirate", "password_confirm":
                                      "mot-de-passe-du-pirate"})
    assert response.status_code == 302 and not is_logged_in(other)
    db.session.refresh(invited)
    assert invited.check_password(NEW_PASSWORD)


def test_staff_cannot_invite_an_admin(client, staff, login_as):
    login_as(staff)
    assert 'value="admin"' not in text(client.get("/equipe/inviter"))
    response = client.post_form("/equipe/inviter", invite_data(role="admin", email="chef@example.org"))
    assert response.status_code == 200
    assert "N'est pas un choix valide" in text(response)
    assert services.find_user("chef@example.org") is None
    with pytest.raises(services.AuthError):
        services.invite(staff, "chef@example.org", "Chef", "Test", "admin")
    with pytest.raises(services.AuthError):
        services.invite(staff, "chef@example.org", "Chef", "Test", "applicant")
    assert services.find_user("chef@example.org") is None


def test_admin_invites_an_admin(client, app, admin, login_as):
    login_as(admin)
    response = client.post_form("/equipe/inviter", invite_data(role="admin", email="chef@example.org",
                                                               region_code=""))
    assert response.status_code == 302
    invited = services.find_user("chef@example.org")
    assert invited.role == "admin" and invited.region_code is None
    guest = app.test_client()
    guest.post_form(link_in(factories.last_mail_to("chef@example.org")),
                    {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert guest.get("/administration/journal").status_code == 200


def test_invitation_to_an_existing_address_answers_as_for_a_new_one(client, staff, applicant, login_as):
    # Changed on purpose (issue 13, point 9): « Un compte existe déjà » told anyone who could
    # invite which addresses have an account. The owner is told by e-mail instead.
    login_as(staff)
    response = client.post_form("/equipe/inviter", invite_data(email=applicant.email), follow_redirects=True)
    assert f"Invitation envoyée à {applicant.email}." in text(response)
    assert "Un compte existe déjà" not in text(response)
    db.session.refresh(applicant)
    assert applicant.role == "applicant" and applicant.check_password(factories.PASSWORD)
    mail = factories.last_mail_to(applicant.email)
    assert "a voulu vous inviter" in mail.body and "/mot-de-passe/oublie" in mail.body


def test_invitation_link_expires(client, app, staff):
    with app.test_request_context():
        invited = services.invite(staff, "marc@example.org", "Marc", "Test", "reviewer")
    path = link_in(factories.last_mail_to("marc@example.org"))
    app.config["TOKEN_MAX_AGE"] = dict(app.config["TOKEN_MAX_AGE"], invite=-1)
    response = client.get(path)
    assert response.status_code == 302 and location(response) == "/connexion"
    assert invited.password_hash is None


@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_only_staff_may_invite(client, login_as, role, applicant, reviewer):
    login_as({"applicant": applicant, "reviewer": reviewer}[role])
    assert client.get("/equipe/inviter").status_code == 403
    assert client.post_form("/equipe/inviter", invite_data()).status_code == 403
    assert services.find_user("marc@example.org") is None


def test_anonymous_invite_page_redirects_to_login(client):
    response = client.get("/equipe/inviter")
    assert response.status_code == 302 and location(response) == "/connexion"


# --- rate limiting ----------------------------------------------------------------------------

LOCKED = "Trop de tentatives de connexion"


def test_five_failures_slow_down_that_address_on_that_account_only(client, app, applicant):
    # Changed on purpose (issue 13, point 13): five failures used to lock the account for
    # everybody, its owner included, for 15 minutes; now only the address that failed waits.
    for attempt in range(5):
        response = login(client, applicant.email, f"mauvais-{attempt}",
                         environ_base={"REMOTE_ADDR": "10.0.0.1"})
        assert "Adresse e-mail ou mot de passe incorrect." in text(response)
    response = login(client, applicant.email, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert response.status_code == 200
    assert LOCKED in text(response) and "réessayez dans 30 secondes" in text(response)
    assert not is_logged_in(client)
    # Other accounts still log in from the same address, and the owner from another one.
    other = factories.user("staff", email="autre-agent@example.org")
    assert location(login(client, other.email, environ_base={"REMOTE_ADDR": "10.0.0.1"})) == "/tableau-de-bord"
    owner = app.test_client()
    assert location(login(owner, applicant.email, environ_base={"REMOTE_ADDR": "10.0.0.2"})) == "/tableau-de-bord"


def test_failures_from_many_addresses_do_not_lock_the_owner(client, applicant):
    for attempt in range(5):
        login(client, applicant.email, f"mauvais-{attempt}", environ_base={"REMOTE_ADDR": f"10.0.0.{attempt}"})
    assert location(login(client, applicant.email)) == "/tableau-de-bord"


def test_locked_message_is_the_same_whether_the_email_exists(client, applicant):
    def locked_page(email):
        for attempt in range(5):
            login(client, email, f"mauvais-{attempt}")
        return text(login(client, email, "peu-importe-le-mot-de-passe"))

    message = re.compile(r'role="alert"><p>(.*?)</p>')
    known = message.search(locked_page(applicant.email)).group(1)
    unknown = message.search(locked_page("personne@example.org")).group(1)
    assert LOCKED in known
    assert known == unknown


def test_address_locked_after_twenty_failures(client, app, applicant):
    for attempt in range(20):
        login(client, f"inconnu{attempt}@example.org", "mauvais-mot-de-passe",
              environ_base={"REMOTE_ADDR": "192.0.2.7"})
    response = login(client, applicant.email, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert LOCKED in text(response)
    # The account itself is not locked: from another address it works.
    elsewhere = app.test_client()
    response = login(elsewhere, applicant.email, environ_base={"REMOTE_ADDR": "192.0.2.8"})
    assert location(response) == "/tableau-de-bord"


def test_lock_ends_with_the_window(client, app, applicant):
    for attempt in range(5):
        login(client, applicant.email, f"mauvais-{attempt}")
    assert LOCKED in text(login(client, applicant.email))
    past = timeutil.now() - timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"] + 1)
    db.session.execute(db.update(LoginAttempt).values(at=past))
    db.session.commit()
    assert location(login(client, applicant.email)) == "/tableau-de-bord"


def test_successes_do_not_count_and_attempts_are_recorded(app, applicant):
    with app.test_request_context():
        for _ in range(6):
            assert services.authenticate(applicant.email, factories.PASSWORD, "203.0.113.1", app.config)
        with pytest.raises(services.AuthError):
            services.authenticate(applicant.email.upper(), "mauvais", "203.0.113.1", app.config)
    attempts = db.session.scalars(db.select(LoginAttempt).order_by(LoginAttempt.id)).all()
    assert [a.success for a in attempts] == [True] * 6 + [False]
    assert attempts[-1].email == applicant.email and attempts[-1].ip == "203.0.113.1"


def test_account_page(client, applicant, login_as):
    login_as(applicant)
    page = text(client.get("/compte"))
    assert applicant.email in page and "Association" in page


def test_logout_clears_the_session(client, applicant):
    login(client, applicant.email)
    client.post_form("/deconnexion")
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_user_loader_ignores_garbage(app):
    from aap.auth.views import load_user
    with app.test_request_context():
        assert load_user("abc") is None
        assert load_user("1:x") is None
        assert load_user("999:1") is None
        assert session.get("_user_id") is None
