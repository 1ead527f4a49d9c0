"""Fixtures: the app, a test client that knows the CSRF token, one account per role, a real SMTP
server.

The database schema is created once per pytest worker (a SQLite file, or with TEST_DATABASE_URL a
PostgreSQL database of the worker's own, e.g. aap_test_gw0) and every test runs inside a
transaction rolled back at its end: the session is bound to that outer transaction with
join_transaction_mode="create_savepoint", so the application's own commit() and rollback() work
on savepoints. A test that needs real commits (threads, other connections, a backup) or an app
of its own (routes added) is marked `real_db`: its `app` is then built on a database of its own,
created empty and dropped afterwards, as are the apps of make_app() and fresh_app() (the browser
tests' live server, the migrations)."""
import os
import re
import socket
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import current_app, g, has_app_context
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as SessionBase
from itsdangerous import BadSignature
from sqlalchemy import create_engine, event, make_url
from sqlalchemy.pool import NullPool

from aap import create_app
from aap.extensions import db

from . import factories, factories_applications

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
        """The token of a page, as a browser reads it; fetched again only when the session's own
        token changed (a login starts a new session), since a page per form post was a tenth of
        the suite's time."""
        held = self._session_csrf()
        cached = getattr(self, "_csrf", None)
        if held is not None and cached is not None and cached[0] == held:
            return cached[1]
        page = self.get("/accessibilite")
        match = CSRF_RE.search(page.get_data(as_text=True))
        assert match, "no CSRF token on the page"
        self._csrf = (self._session_csrf(), match.group(1))
        return match.group(1)

    def _session_csrf(self):
        """The raw CSRF token in the session cookie (None without one)."""
        app = self.application
        cookie = self.get_cookie(app.config["SESSION_COOKIE_NAME"],
                                 domain=app.config.get("SERVER_NAME") or "localhost")
        if cookie is None:
            return None
        try:
            return app.session_interface.get_signing_serializer(app).loads(cookie.value).get("csrf_token")
        except BadSignature:  # a cookie a test forged or signed with another key: read a page again
            return None

    def post_form(self, url, data=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self.post(url, data=data, **kwargs)


WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
_created_databases = set()


def _postgres_url():
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return make_url(url)


def _admin_engine(base):
    return create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def worker_database(suffix=""):
    """A PostgreSQL database of this worker's own (aap_test_gw0, aap_test_gw0_real...), created
    empty on first use next to TEST_DATABASE_URL's database: xdist workers never share one."""
    base = _postgres_url()
    name = f"{base.database}_{WORKER}{suffix}"
    if name not in _created_databases:
        engine = _admin_engine(base)
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        _created_databases.add(name)
    return base.set(database=name).render_as_string(hide_password=False)


def pytest_sessionfinish(session):
    base = _postgres_url()
    if base is None or not _created_databases:
        return
    engine = _admin_engine(base)
    with engine.connect() as connection:
        for name in _created_databases:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def database_url(tmp_path):
    """The database of an app with real commits: a SQLite file under tmp_path, or this worker's
    own PostgreSQL database for such apps."""
    if _postgres_url() is not None:
        return worker_database("_real")
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


def folders(tmp_path):
    instance = Path(tmp_path) / "instance"
    return {"UPLOAD_FOLDER": str(instance / "uploads"), "DOCUMENTS_FOLDER": str(instance / "documents"),
            "MAIL_FOLDER": str(instance / "mail")}


def make_app(tmp_path, **overrides):
    config = {"AAP_ENV": "testing", **folders(tmp_path), "SERVER_NAME": "localhost", "BASE_URL": "http://localhost"}
    config.update(overrides)
    if "SQLALCHEMY_DATABASE_URI" not in config:
        config["SQLALCHEMY_DATABASE_URI"] = database_url(tmp_path)
    app = create_app(config, instance_path=tmp_path / "instance")
    app.test_client_class = Client
    return app


@contextmanager
def fresh_app(tmp_path):
    """The app on an empty database with real commits, inside its app context; everything
    dropped afterwards."""
    app = make_app(tmp_path)
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(scope="session")
def shared_app(tmp_path_factory):
    """One app and one schema per worker, for the tests run in a rolled-back transaction."""
    root = tmp_path_factory.mktemp("shared")
    url = worker_database() if _postgres_url() is not None else f"sqlite:///{root / 'shared.sqlite3'}"
    app = make_app(root, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


@contextmanager
def rolled_back(app):
    """Inside the app's context: everything the block writes (commits included, which become
    savepoints) is rolled back at its end."""
    connection = db.engine.connect()
    transaction = connection.begin()

    # Flask-SQLAlchemy's Session.get_bind() answers with the app's engine whatever the session's
    # `bind`: the app's sessions get the connection instead, and join its transaction (the
    # sessions of any other app, such as one a test builds with make_app, keep their engine).
    def get_bind(session, *args, **kwargs):
        if current_app._get_current_object() is app:
            return connection
        return SessionBase.get_bind(session, *args, **kwargs)

    factory = db.session.session_factory
    factory.class_.get_bind = get_bind
    factory.configure(join_transaction_mode="create_savepoint")
    db.session.remove()
    try:
        yield connection
    finally:
        db.session.remove()
        del factory.kw["join_transaction_mode"], factory.class_.get_bind  # back to the defaults
        transaction.rollback()
        connection.close()


@pytest.fixture
def app(request, tmp_path):
    """The app inside its app context, on an empty database. Each test has its own folders for
    uploads, documents and mail; its writes are rolled back at its end (or, for a test marked
    real_db, the database is dropped)."""
    if request.node.get_closest_marker("real_db"):
        with fresh_app(tmp_path) as app:
            yield app
        return
    app = request.getfixturevalue("shared_app")
    config, instance_path = dict(app.config), app.instance_path
    app.config.update(folders(tmp_path))
    app.instance_path = str(tmp_path / "instance")
    try:
        with app.app_context(), rolled_back(app):
            yield app
    finally:
        app.config.clear()
        app.config.update(config)
        app.instance_path = instance_path


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def call(app):
    """An open call (test files that need another one define their own `call`)."""
    return factories.call()


@pytest.fixture
def application(call, applicant):
    """The applicant's empty draft to the call."""
    return factories_applications.empty_draft(call, applicant.association, applicant)


@pytest.fixture
def own_file(call, applicant):
    """A submitted file of the applicant's association."""
    return factories.submitted_file(call, applicant.association)


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


def demo_app(tmp_path_factory):
    """The demo data on a database of its own (a generator for a module-scoped fixture:
    `yield from demo_app(tmp_path_factory)`), inside its app context."""
    from aap.demo import build_demo

    app = make_app(tmp_path_factory.mktemp("demo"))
    with app.app_context():
        db.drop_all()
        db.create_all()
        build_demo(seed=2025)
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
