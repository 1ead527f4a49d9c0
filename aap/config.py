"""Settings read from the environment.

AAP_ENV selects the profile: development (default), production or testing.
"""
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance"


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(env, instance_path):
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if env == "production":
        raise RuntimeError("SECRET_KEY must be set in production")
    if env == "testing":
        return "testing-secret-key"
    # Development: generated once and kept in instance/.
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load(instance_path, overrides=None):
    """Build the config dict for one app."""
    overrides = overrides or {}
    env = overrides.get("AAP_ENV") or os.environ.get("AAP_ENV", "development")
    instance_path = Path(instance_path)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'aap.sqlite3'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://"):]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]

    config = {
        "AAP_ENV": env,
        "SECRET_KEY": _secret_key(env, instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "UPLOAD_FOLDER": os.environ.get("AAP_UPLOAD_FOLDER", str(instance_path / "uploads")),
        "DOCUMENTS_FOLDER": os.environ.get("AAP_DOCUMENTS_FOLDER", str(instance_path / "documents")),
        "MAX_FILE_SIZE": int(os.environ.get("AAP_MAX_FILE_SIZE", 10 * 1024 * 1024)),
        "MAX_APPLICATION_FILES_SIZE": int(os.environ.get("AAP_MAX_APPLICATION_SIZE", 50 * 1024 * 1024)),
        "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
        # Mail: "file" (instance/mail/*.eml), "console" or "smtp".
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "smtp" if env == "production" else "file"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", 25)),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "AAP 1 jeune 1 mentor <ne-pas-repondre@aap.jeunesse.gouv.fr>"),
        "MAIL_FOLDER": str(instance_path / "mail"),
        "MAIL_MAX_ATTEMPTS": int(os.environ.get("MAIL_MAX_ATTEMPTS", 5)),
        # Deliver queued mail right after each request (development convenience).
        "MAIL_SEND_AFTER_REQUEST": _bool("MAIL_SEND_AFTER_REQUEST", env == "development"),
        "BASE_URL": os.environ.get("AAP_BASE_URL", "http://127.0.0.1:5000"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env == "production",
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "TOKEN_MAX_AGE": {"confirm": 7 * 86400, "reset": 3600, "invite": 14 * 86400, "member": 14 * 86400},
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
        "LOGIN_WINDOW_SECONDS": 15 * 60,
        "TESTING": env == "testing",
    }
    if env == "testing":
        config["MAIL_BACKEND"] = os.environ.get("MAIL_BACKEND_TESTING", "smtp")
        config["MAIL_SEND_AFTER_REQUEST"] = False
        config["WTF_CSRF_ENABLED"] = True
    config.update(overrides)
    return config
