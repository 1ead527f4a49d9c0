"""Configuration from the environment, and the SQLite engine settings."""
import io
import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import event, text

from aap import config as config_module
from aap import create_app
from aap.extensions import db
from aap.instruction import services as instruction
from aap.urls import absolute_url

from . import factories
from .conftest import make_app

MB = 1024 * 1024

ENV_NAMES = ("SECRET_KEY", "DATABASE_URL", "AAP_ENV", "MAIL_BACKEND", "MAIL_PORT", "MAIL_USE_TLS",
             "MAIL_SEND_AFTER_REQUEST", "AAP_UPLOAD_FOLDER", "AAP_MAX_FILE_SIZE", "AAP_GRANTOR_SIRET",
             "AAP_GRANTOR_NAME", "AAP_DOCUMENTS_WORKERS")


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_secret_key_generated_once_in_development_and_reused(tmp_path, clean_env):
    first = config_module.load(tmp_path, {"AAP_ENV": "development"})
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert first["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first["SECRET_KEY"]) >= 40
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = config_module.load(tmp_path, {"AAP_ENV": "development"})
    assert second["SECRET_KEY"] == first["SECRET_KEY"]
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left
    other = config_module.load(tmp_path / "ailleurs", {"AAP_ENV": "development"})
    assert other["SECRET_KEY"] != first["SECRET_KEY"]


def test_secret_key_from_the_environment_wins(tmp_path, clean_env):
    clean_env.setenv("SECRET_KEY", "cle-de-l-environnement")
    assert config_module.load(tmp_path, {"AAP_ENV": "development"})["SECRET_KEY"] == "cle-de-l-environnement"
    assert not (tmp_path / "secret_key").exists()


def test_secret_key_required_in_production(tmp_path, clean_env):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config_module.load(tmp_path, {"AAP_ENV": "production"})
    clean_env.setenv("AAP_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(instance_path=tmp_path)
    assert not (tmp_path / "secret_key").exists()  # never generated in production
    clean_env.setenv("SECRET_KEY", "une-vraie-cle")
    config = config_module.load(tmp_path)
    assert config["SECRET_KEY"] == "une-vraie-cle" and config["AAP_ENV"] == "production"
    assert config["SESSION_COOKIE_SECURE"] is True and config["MAIL_BACKEND"] == "smtp"


def test_empty_secret_key_file_is_an_error(tmp_path, clean_env):
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(RuntimeError, match="secret_key"):
        config_module.load(tmp_path, {"AAP_ENV": "development"})


@pytest.mark.parametrize("given, expected", [
    ("postgres://aap:pw@db.example:5432/aap", "postgresql+psycopg://aap:pw@db.example:5432/aap"),
    ("postgresql://aap@localhost/aap", "postgresql+psycopg://aap@localhost/aap"),
    ("postgresql+psycopg://aap@localhost/aap", "postgresql+psycopg://aap@localhost/aap"),
    ("sqlite:////srv/aap/aap.sqlite3", "sqlite:////srv/aap/aap.sqlite3"),
])
def test_database_url_is_normalised(tmp_path, clean_env, given, expected):
    clean_env.setenv("DATABASE_URL", given)
    assert config_module.load(tmp_path, {"AAP_ENV": "testing"})["SQLALCHEMY_DATABASE_URI"] == expected


def test_default_database_is_a_sqlite_file_in_instance(tmp_path, clean_env):
    config = config_module.load(tmp_path, {"AAP_ENV": "testing"})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'aap.sqlite3'}"
    assert config["UPLOAD_FOLDER"] == str(tmp_path / "uploads")
    assert config["MAIL_FOLDER"] == str(tmp_path / "mail")


def test_mail_settings_from_the_environment(tmp_path, clean_env):
    clean_env.setenv("MAIL_PORT", "2525")
    clean_env.setenv("MAIL_USE_TLS", "yes")
    clean_env.setenv("MAIL_BACKEND", "smtp")
    config = config_module.load(tmp_path, {"AAP_ENV": "development"})
    assert config["MAIL_PORT"] == 2525 and config["MAIL_USE_TLS"] is True and config["MAIL_BACKEND"] == "smtp"


def test_overrides_win(tmp_path, clean_env):
    config = config_module.load(tmp_path, {"AAP_ENV": "testing", "LOGIN_WINDOW_SECONDS": 5})
    assert config["LOGIN_WINDOW_SECONDS"] == 5 and config["TESTING"] is True
    assert config["WTF_CSRF_ENABLED"] is True  # tests keep CSRF on


def sqlite_only(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite engine settings")


@pytest.mark.real_db  # a second connection of its own
def test_sqlite_pragmas_on_a_file_database(app):
    sqlite_only(app)
    assert db.engine.url.database.endswith(".sqlite3")
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 15000


def test_sqlite_foreign_keys_are_enforced(app):
    sqlite_only(app)
    from sqlalchemy.exc import IntegrityError

    from aap.models import User
    db.session.add(User(email="orphelin@example.org", role="applicant", association_id=424242))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.real_db  # the transaction a request begins itself, not a savepoint
@pytest.mark.parametrize("method, expected", [("GET", "BEGIN"), ("POST", "BEGIN IMMEDIATE")])
def test_sqlite_writing_requests_take_the_write_lock_first(app, method, expected):
    sqlite_only(app)
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    db.session.remove()
    event.listen(db.engine, "before_cursor_execute", before)
    try:
        with app.test_request_context("/", method=method):
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert statements[0] == expected


def test_trusted_hosts(tmp_path, clean_env):
    clean_env.delenv("AAP_TRUSTED_HOSTS", raising=False)
    clean_env.setenv("AAP_BASE_URL", "https://aap.jeunesse.gouv.fr")
    production = config_module.load(tmp_path, {"AAP_ENV": "production", "SECRET_KEY": "k"})
    assert production["BASE_URL"] == "https://aap.jeunesse.gouv.fr"
    assert production["TRUSTED_HOSTS"][0] == "aap.jeunesse.gouv.fr"
    assert config_module.load(tmp_path, {"AAP_ENV": "testing"})["TRUSTED_HOSTS"] is None
    clean_env.setenv("AAP_TRUSTED_HOSTS", "a.example, b.example")
    assert config_module.load(tmp_path, {"AAP_ENV": "production", "SECRET_KEY": "k"})["TRUSTED_HOSTS"] == [
        "a.example", "b.example"]
    assert production["TRUSTED_PROXIES"] == 0  # X-Forwarded-* ignored unless told


def test_wtforms_messages_are_french(app):
    from flask_wtf import FlaskForm
    from wtforms import IntegerField, SelectField

    from aap.forms import select_choices

    class Form(FlaskForm):
        count = IntegerField("Nombre")
        kind = SelectField("Type", choices=select_choices([("a", "A")]))

    with app.test_request_context("/", method="POST", data={"count": "douze", "kind": "z"}):
        form = Form(meta={"csrf": False})
        assert not form.validate()
        assert form.count.errors == ["N'est pas un entier valide."]
        assert form.kind.errors == ["N'est pas un choix valide."]


def test_create_user_command(app):
    from aap.models import User
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "--email", " Chef@Example.org ", "--role", "admin",
                                 "--password", "un-mot-de-passe-solide", "--first-name", "Céline"])
    assert result.exit_code == 0, result.output
    assert "Compte créé : chef@example.org (Administrateur)" in result.output
    user = db.session.scalar(db.select(User).where(User.email == "chef@example.org"))
    assert user.role == "admin" and user.email_confirmed_at is not None
    assert user.check_password("un-mot-de-passe-solide")

    again = runner.invoke(args=["create-user", "--email", "chef@example.org", "--role", "staff",
                                "--password", "un-autre-mot-de-passe"])
    assert again.exit_code != 0 and "Un compte existe déjà" in again.output
    short = runner.invoke(args=["create-user", "--email", "x@example.org", "--role", "staff", "--password", "court"])
    assert short.exit_code != 0 and "au moins 12 caractères" in short.output
    assert runner.invoke(args=["is-empty"]).output.strip() == "no"


# --- every setting in one place -------------------------------------------------------------

AAP = Path(config_module.__file__).parent
README = AAP.parent / "README.md"
READS = re.compile(r"""(?:environ\.get|environ\[|getenv|_bool)\(?\s*["']([A-Z][A-Z0-9_]*)["']""")


def test_every_environment_variable_is_read_in_config_and_listed_in_the_readme():
    elsewhere = sorted(f"{path.relative_to(AAP)}: {name}" for path in AAP.rglob("*.py") if path.name != "config.py"
                       or path.parent != AAP for name in READS.findall(path.read_text(encoding="utf-8")))
    assert elsewhere == []
    names = set(READS.findall((AAP / "config.py").read_text(encoding="utf-8")))
    assert {"SECRET_KEY", "AAP_BASE_URL", "AAP_MAX_FILE_SIZE", "AAP_GRANTOR_SIRET"} <= names
    rows = {line.split("|")[1].strip() for line in README.read_text(encoding="utf-8").splitlines()
            if line.startswith("| `")}
    assert sorted(name for name in names if f"`{name}`" not in rows) == []


def test_documents_settings_from_the_environment(tmp_path, clean_env):
    clean_env.setenv("AAP_GRANTOR_SIRET", "13000000000006")
    clean_env.setenv("AAP_GRANTOR_NAME", "Préfecture de région")
    clean_env.setenv("AAP_DOCUMENTS_WORKERS", "4")
    config = config_module.load(tmp_path, {"AAP_ENV": "testing"})
    assert (config["AAP_GRANTOR_SIRET"], config["AAP_GRANTOR_NAME"], config["DOCUMENTS_WORKERS"]) == (
        "13000000000006", "Préfecture de région", 4)
    clean_env.delenv("AAP_GRANTOR_SIRET")
    assert config_module.load(tmp_path, {"AAP_ENV": "testing"})["AAP_GRANTOR_SIRET"] == "11000007200014"


def test_the_request_limit_follows_the_file_limit(tmp_path, clean_env):
    assert config_module.load(tmp_path, {"AAP_ENV": "testing"})["MAX_CONTENT_LENGTH"] == 12 * MB
    clean_env.setenv("AAP_MAX_FILE_SIZE", str(3 * MB))
    config = config_module.load(tmp_path, {"AAP_ENV": "testing"})
    assert (config["MAX_FILE_SIZE"], config["MAX_CONTENT_LENGTH"]) == (3 * MB, 5 * MB)
    assert config_module.load(tmp_path, {"AAP_ENV": "testing", "MAX_FILE_SIZE": 20 * MB})["MAX_CONTENT_LENGTH"] \
        == 22 * MB
    assert config_module.load(tmp_path, {"AAP_ENV": "testing", "MAX_CONTENT_LENGTH": 7})["MAX_CONTENT_LENGTH"] == 7


def test_the_413_page_names_the_configured_file_limit(tmp_path):
    app = make_app(tmp_path, MAX_FILE_SIZE=3 * MB)
    assert app.config["MAX_CONTENT_LENGTH"] == 5 * MB
    response = app.test_client().post("/connexion", data={"file": (io.BytesIO(b"x" * 6 * MB), "gros.pdf")})
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "Fichier trop volumineux" in page
    assert "dépasse la taille autorisée (3 Mo par fichier)" in page and "10 Mo" not in page


# --- links in e-mails ---------------------------------------------------------------------------

PUBLIC = "https://aap.example.gouv.fr/sub"


def test_links_in_mails_are_built_from_base_url_with_its_path(app, client, applicant, staff):
    """Behind a proxy the request's host is not the public one, and a mail sent by a command or
    the worker has no request: every link comes from BASE_URL, its path (/sub) included."""
    app.config["BASE_URL"] = PUBLIC
    response = client.post_form("/mot-de-passe/oublie", {"email": applicant.email})
    assert response.status_code == 302
    body = factories.last_mail_to(applicant.email).body
    link = re.search(r"https://\S+/mot-de-passe/reinitialiser/\S+", body).group(0)
    assert link.startswith(PUBLIC + "/mot-de-passe/reinitialiser/") and "localhost" not in body
    # The path under /sub is the app's own: the proxy strips the prefix.
    assert client.get(link[len(PUBLIC):]).status_code == 200

    application = factories.application(factories.call(), applicant.association)
    instruction.post_message(application, staff, "Merci d'envoyer le budget signé.")  # no request here
    body = factories.last_mail_to(applicant.email).body
    assert f"{PUBLIC}/candidatures/{application.id}#messages" in body
    with app.test_request_context("/", base_url="http://10.0.0.7:8000"):
        assert absolute_url("applications.show", application_id=application.id) == \
            f"{PUBLIC}/candidatures/{application.id}"
