"""Fixtures: the app on a fresh database (SQLite, or PostgreSQL with TEST_DATABASE_URL),
a test client that knows the CSRF token, one account per role, a real SMTP server."""
import os
import re
import socket
from contextlib import contextmanager

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event

from aap import create_app
from aap.extensions import db

from . import factories

CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


class Client(FlaskClient):
    """A test client that adds the session's CSRF token to form posts."""

    def open(self, *args, **kwargs):
        # The app fixture keeps one app context for the whole test and Flask reuses it for
        # every request, so `g` would outlive a request: Flask-Login's current user and
        # Flask-WTF's CSRF token would leak into the next request (of any client). Start each
        # request with an empty `g`, as in production.
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)

    def csrf_token(self):
        page = self.get("/accessibilite")
        match = CSRF_RE.search(page.get_data(as_text=True))
        assert match, "no CSRF token on the page"
        return match.group(1)

    def post_form(self, url, data=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)


def database_url(tmp_path):
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite3'}"


def make_app(tmp_path, **overrides):
    url = database_url(tmp_path)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    config = {
        "AAP_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": url,
        "UPLOAD_FOLDER": str(tmp_path / "instance" / "uploads"),
        "DOCUMENTS_FOLDER": str(tmp_path / "instance" / "documents"),
        "MAIL_FOLDER": str(tmp_path / "instance" / "mail"),
        "SERVER_NAME": "localhost",
        "BASE_URL": "http://localhost",
    }
    config.update(overrides)
    return create_app(config, instance_path=tmp_path / "instance")


@contextmanager
def fresh_app(tmp_path):
    """The app on an empty database, inside its app context; everything dropped afterwards."""
    app = make_app(tmp_path)
    app.test_client_class = Client
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path):
    with fresh_app(tmp_path) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def applicant(app):
    return factories.user("applicant", email="asso@example.org", association_name="Réussir Ensemble")


@pytest.fixture
def other_applicant(app):
    return factories.user("applicant", email="autre@example.org", association_name="Une Autre Association")


@pytest.fixture
def reviewer(app):
    return factories.user("reviewer", email="evaluateur@example.org", region_code="84")


@pytest.fixture
def staff(app):
    return factories.user("staff", email="agent@example.org")


@pytest.fixture
def admin(app):
    return factories.user("admin", email="admin@example.org")


def login(client, user, password=factories.PASSWORD):
    response = client.post_form("/connexion", {"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


@pytest.fixture
def login_as(client):
    def _login(user):
        login(client, user)
        return client
    return _login


@contextmanager
def count_queries():
    """Count the SQL statements run inside the block: `with count_queries() as n: ...; n()`."""
    statements = []

    def before(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield lambda: len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", before)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPRecorder:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on loopback; the app is configured to deliver to it."""
    from aiosmtpd.controller import Controller

    handler = SMTPRecorder()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    handler.port = port
    yield handler
    controller.stop()
