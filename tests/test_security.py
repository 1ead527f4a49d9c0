"""Security defaults: CSRF, role checks, security headers, session cookie, French error pages."""
import html
import re
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from flask import abort

from aap.extensions import db
from aap.models import LoginAttempt, User

from . import factories
from .conftest import make_app


def text(response):
    return html.unescape(response.get_data(as_text=True))


# --- CSRF -------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, data", [
    ("/connexion", {"email": "asso@example.org", "password": "un-mot-de-passe-solide"}),
    ("/inscription", {"email": "x@example.org"}),
    ("/mot-de-passe/oublie", {"email": "asso@example.org"}),
])
def test_post_without_csrf_token_is_refused_in_french(client, applicant, url, data):
    response = client.post(url, data=data)
    assert response.status_code == 400
    page = text(response)
    assert 'lang="fr"' in page and "Session expirée" in page
    assert "Le formulaire a expiré ou n'est pas valide" in page
    assert db.session.scalar(db.select(db.func.count(User.id))) == 1
    assert client.get("/tableau-de-bord").status_code == 302  # not logged in


def test_post_with_a_forged_csrf_token_is_refused(client, applicant):
    client.get("/connexion")
    response = client.post("/connexion", data={"email": applicant.email, "password": "un-mot-de-passe-solide",
                                               "csrf_token": "IjEyMyI.forged.token"})
    assert response.status_code == 400


def test_csrf_token_of_another_session_is_refused(app, client, applicant):
    other = app.test_client()
    token = other.csrf_token()
    client.get("/connexion")
    response = client.post("/connexion", data={"email": applicant.email, "password": "un-mot-de-passe-solide",
                                               "csrf_token": token})
    assert response.status_code == 400


def test_csrf_header_is_accepted_for_fetch(client, applicant, login_as):
    login_as(applicant)
    token = client.csrf_token()
    response = client.post("/deconnexion", headers={"X-CSRFToken": token})
    assert response.status_code == 302
    assert client.get("/tableau-de-bord").status_code == 302


# --- role checks ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["staff", "reviewer", "applicant"])
def test_audit_log_is_admin_only(client, login_as, role, request):
    login_as(request.getfixturevalue(role))
    response = client.get("/administration/journal")
    assert response.status_code == 403
    page = text(response)
    assert "Accès refusé" in page and "Vous n'avez pas les droits nécessaires" in page


def test_audit_log_for_admin_and_anonymous(client, admin, login_as):
    response = client.get("/administration/journal")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/connexion"
    login_as(admin)
    response = client.get("/administration/journal")
    assert response.status_code == 200
    assert "login" in text(response)  # the admin's own login is in the journal


@pytest.mark.parametrize("role, heading", [
    ("applicant", "Tableau de bord de Réussir Ensemble"),
    ("reviewer", "Mes évaluations"),
    ("staff", "Tableau de bord DJEPVA"),
    ("admin", "Tableau de bord DJEPVA"),
])
def test_each_role_lands_on_its_dashboard(client, login_as, request, role, heading):
    login_as(request.getfixturevalue(role))
    response = client.get("/tableau-de-bord")
    assert response.status_code == 200
    assert heading in text(response)


def test_menu_depends_on_the_role(client, login_as, staff, applicant, app):
    login_as(staff)
    assert 'href="/equipe/inviter"' in text(client.get("/tableau-de-bord"))
    other = app.test_client()
    other.post_form("/connexion", {"email": applicant.email, "password": "un-mot-de-passe-solide"})
    page = text(other.get("/tableau-de-bord"))
    assert 'href="/equipe/inviter"' not in page and 'href="/administration/journal"' not in page


@pytest.mark.real_db  # adds routes to its app
def test_roles_required_decorator(app, client, login_as, reviewer, staff, admin):
    from aap.permissions import admin_required, reviewer_required, staff_required

    @app.route("/_test/staff")
    @staff_required
    def _staff():
        return "ok-staff"

    @app.route("/_test/reviewer")
    @reviewer_required
    def _reviewer():
        return "ok-reviewer"

    @app.route("/_test/admin")
    @admin_required
    def _admin():
        return "ok-admin"

    assert client.get("/_test/staff").status_code == 302
    login_as(reviewer)
    assert client.get("/_test/reviewer").status_code == 200
    assert client.get("/_test/staff").status_code == 403
    login_as_other = app.test_client()
    login_as_other.post_form("/connexion", {"email": staff.email, "password": "un-mot-de-passe-solide"})
    assert login_as_other.get("/_test/staff").status_code == 200  # staff
    assert login_as_other.get("/_test/reviewer").status_code == 403
    assert login_as_other.get("/_test/admin").status_code == 403
    third = app.test_client()
    third.post_form("/connexion", {"email": admin.email, "password": "un-mot-de-passe-solide"})
    assert third.get("/_test/staff").status_code == 200  # admin counts as staff
    assert third.get("/_test/admin").status_code == 200


def test_object_checks(app, applicant, other_applicant, reviewer, staff):
    from aap import timeutil
    from aap.models import Assignment, Conflict
    from aap.permissions import can_edit_application, can_view_application

    from . import factories

    call = factories.call()
    mine = factories.application(call, applicant.association)
    draft = factories.application(factories.call(slug="aap-autre"), applicant.association, status="draft")
    assert can_view_application(applicant, mine)
    assert not can_view_application(other_applicant, mine)
    assert can_view_application(staff, mine)
    assert not can_view_application(reviewer, mine)  # not assigned
    assignment = Assignment(reviewer_id=reviewer.id, application_id=mine.id)
    db.session.add(assignment)
    db.session.commit()
    assert not can_view_application(reviewer, mine)  # assigned, but no absence of conflict confirmed yet
    assignment.no_conflict_confirmed_at = timeutil.now()
    db.session.commit()
    assert can_view_application(reviewer, mine)
    db.session.add(Conflict(reviewer_id=reviewer.id, association_id=applicant.association_id))
    db.session.commit()
    assert not can_view_application(reviewer, mine)  # conflict of interest
    assert can_edit_application(applicant, draft)
    assert not can_edit_application(other_applicant, draft)
    assert not can_edit_application(staff, draft)


@pytest.mark.real_db  # adds routes to its app
def test_get_application_or_404(app, client, applicant, other_applicant):
    from aap.permissions import get_application_or_404

    from . import factories

    call = factories.call()
    record = factories.application(call, applicant.association)

    @app.route("/_test/dossier/<int:application_id>")
    def _dossier(application_id):
        return get_application_or_404(application_id).title

    assert client.get(f"/_test/dossier/{record.id}").status_code == 404  # anonymous
    client.post_form("/connexion", {"email": other_applicant.email, "password": "un-mot-de-passe-solide"})
    assert client.get(f"/_test/dossier/{record.id}").status_code == 404
    owner = app.test_client()
    owner.post_form("/connexion", {"email": applicant.email, "password": "un-mot-de-passe-solide"})
    assert owner.get(f"/_test/dossier/{record.id}").status_code == 200
    assert owner.get("/_test/dossier/999999").status_code == 404


# --- headers and cookies ----------------------------------------------------------------------

def check_security_headers(response):
    csp = response.headers.get("Content-Security-Policy", "")
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip())
    assert directives.get("script-src") == "'self'", csp
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in csp
    assert directives.get("object-src") == "'none'"
    assert directives.get("frame-ancestors") == "'none'" or response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in ("same-origin", "strict-origin-when-cross-origin",
                                                       "no-referrer")


@pytest.mark.parametrize("url", ["/", "/connexion", "/inscription", "/accessibilite", "/page-inexistante",
                                 "/static/app/app.css", "/tableau-de-bord"])
def test_security_headers_on_every_page(client, url):
    check_security_headers(client.get(url))


def test_security_headers_when_logged_in_and_no_cache(client, applicant, login_as):
    login_as(applicant)
    response = client.get("/tableau-de-bord")
    check_security_headers(response)
    assert response.headers.get("Cache-Control") == "no-store"
    check_security_headers(client.get("/administration/journal"))  # 403
    check_security_headers(client.post("/deconnexion"))  # 400 CSRF


def test_no_inline_script_in_pages(client, applicant, login_as):
    import re
    pages = [client.get(url) for url in ("/", "/connexion")]
    login_as(applicant)
    pages += [client.get(url) for url in ("/tableau-de-bord", "/compte")]
    for response in pages:
        url, page = response.request.path, response.get_data(as_text=True)
        assert response.status_code == 200, url
        tags = re.findall(r"<script\b[^>]*>", page)
        assert tags, url  # the pages load the application's scripts: the loop below checks something
        for tag in tags:
            assert "src=" in tag, (url, tag)
        assert not re.search(r"\son[a-z]+\s*=", page), url


def test_session_cookie_flags(client, applicant):
    response = client.post_form("/connexion", {"email": applicant.email, "password": "un-mot-de-passe-solide"})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # testing profile (plain http)


def test_production_cookies_are_secure(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = make_app(tmp_path, AAP_ENV="production", SECRET_KEY="une-cle-de-production-tres-longue")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["MAIL_SEND_AFTER_REQUEST"] is False
    assert app.config["TESTING"] is False

    @app.route("/_test/session")
    def _set_session():
        from flask import session
        session["x"] = 1
        return "ok"

    with app.app_context():
        db.create_all()
        response = app.test_client().get("/_test/session", base_url="https://localhost")
        cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert response.headers.get("Strict-Transport-Security")
        db.drop_all()
        db.session.remove()
        db.engine.dispose()


# --- error pages ------------------------------------------------------------------------------

def test_404_page_in_french(client):
    response = client.get("/cette-page-n-existe-pas")
    assert response.status_code == 404
    page = text(response)
    assert 'lang="fr"' in page and "Page non trouvée" in page and "La page que vous cherchez est introuvable" in page


@pytest.mark.real_db  # adds routes to its app
def test_403_page_in_french(app, client):
    @app.route("/_test/interdit")
    def _forbidden():
        abort(403)

    response = client.get("/_test/interdit")
    assert response.status_code == 403
    assert "Accès refusé" in text(response)


def test_405_page_in_french(client):
    response = client.get("/deconnexion")
    assert response.status_code == 405
    assert "Méthode non autorisée" in text(response)


def test_500_page_in_french(tmp_path):
    app = make_app(tmp_path, PROPAGATE_EXCEPTIONS=False)

    @app.route("/_test/panne")
    def _broken():
        raise RuntimeError("boom")

    with app.app_context():
        db.create_all()
        response = app.test_client().get("/_test/panne")
        assert response.status_code == 500
        page = text(response)
        assert 'lang="fr"' in page and "Erreur inattendue" in page and "boom" not in page
        check_security_headers(response)
        db.drop_all()
        db.session.remove()
        db.engine.dispose()


def test_500_after_a_database_error_still_renders(tmp_path):
    """A failed flush leaves the session unusable: the error page must roll back first."""
    app = make_app(tmp_path, PROPAGATE_EXCEPTIONS=False)

    @app.route("/_test/doublon")
    def _duplicate():
        db.session.add(User(email="double@example.org", role="staff"))
        db.session.add(User(email="double@example.org", role="staff"))
        db.session.flush()
        return "unreachable"

    with app.app_context():
        db.create_all()
        client = app.test_client()
        response = client.get("/_test/doublon")
        assert response.status_code == 500 and "Erreur inattendue" in text(response)
        db.drop_all()
        db.session.remove()
        db.engine.dispose()


def test_too_large_upload_in_french(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = client.post("/connexion", data={"email": "x" * 500})
    assert response.status_code == 413
    assert "Fichier trop volumineux" in text(response)


# --- host header and reverse proxies ----------------------------------------------------------

@contextmanager
def built_app(tmp_path, **overrides):
    """An app with its own settings, on a fresh database."""
    app = make_app(tmp_path, **overrides)
    with app.app_context():
        db.drop_all()
        db.create_all()
        try:
            yield app
        finally:
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def test_production_refuses_a_forged_host_so_reset_links_cannot_be_poisoned(tmp_path, monkeypatch):
    for name in ("SECRET_KEY", "AAP_TRUSTED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    with built_app(tmp_path, AAP_ENV="production", SECRET_KEY="cle-de-production", SERVER_NAME=None,
                   BASE_URL="https://aap.example.gouv.fr") as app:
        user = factories.user("applicant", email="cible@example.org", association_name="Asso")
        forged = app.test_client()
        response = forged.get("/mot-de-passe/oublie", base_url="https://evil.example")
        assert response.status_code == 400 and "Requête invalide" in text(response)
        response = forged.post("/mot-de-passe/oublie", data={"email": user.email},
                               base_url="https://evil.example")
        assert response.status_code == 400
        assert factories.outbox() == []

        client = app.test_client()
        page = client.get("/mot-de-passe/oublie", base_url="https://aap.example.gouv.fr")
        token = re.search(r'name="csrf-token" content="([^"]+)"', text(page)).group(1)
        # Over HTTPS, Flask-WTF also checks the Referer (sent by browsers: Referrer-Policy same-origin).
        response = client.post("/mot-de-passe/oublie", data={"email": user.email, "csrf_token": token},
                               base_url="https://aap.example.gouv.fr",
                               headers={"Referer": "https://aap.example.gouv.fr/mot-de-passe/oublie"})
        assert response.status_code == 302
        assert "https://aap.example.gouv.fr/mot-de-passe/reinitialiser/" in factories.last_mail_to(user.email).body


def test_trusted_proxy_gives_the_client_address_to_the_rate_limit(tmp_path):
    with built_app(tmp_path, TRUSTED_PROXIES=1, LOGIN_MAX_FAILURES_PER_ADDRESS=3) as app:
        user = factories.user("applicant", email="asso@example.org", association_name="Asso")
        client = app.test_client()

        def attempt(address, email, password="mauvais-mot-de-passe"):
            return client.post_form("/connexion", {"email": email, "password": password},
                                    headers={"X-Forwarded-For": address})

        for n in range(3):
            attempt("198.51.100.1", f"inconnu{n}@example.org")
        assert "Trop de tentatives" in text(attempt("198.51.100.1", user.email, factories.PASSWORD))
        response = attempt("198.51.100.2", user.email, factories.PASSWORD)
        assert response.status_code == 302  # another client behind the same proxy
        addresses = set(db.session.scalars(db.select(LoginAttempt.ip)))
        assert addresses == {"198.51.100.1", "198.51.100.2"}


def test_forwarded_for_is_ignored_without_a_trusted_proxy(tmp_path):
    with built_app(tmp_path, LOGIN_MAX_FAILURES_PER_ADDRESS=3) as app:
        user = factories.user("applicant", email="asso@example.org", association_name="Asso")
        client = app.test_client()
        for n in range(3):
            client.post_form("/connexion", {"email": f"inconnu{n}@example.org", "password": "mauvais"},
                             headers={"X-Forwarded-For": f"203.0.113.{n}"})
        response = client.post_form("/connexion", {"email": user.email, "password": factories.PASSWORD},
                                    headers={"X-Forwarded-For": "203.0.113.99"})
        assert "Trop de tentatives" in text(response)  # spoofing the header does not escape the lock
