"""Settings read from the environment.

AAP_ENV selects the profile: development (default), production or testing.
"""
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance"
# Room in a request for the fields of a form beside its file, and the multipart framing.
REQUEST_OVERHEAD = 2 * 1024 * 1024


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(env, instance_path, overrides):
    key = overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY")
    if key:
        return key
    if env == "production":
        raise RuntimeError("SECRET_KEY must be set in production")
    if env == "testing":
        return "testing-secret-key"
    # Development: generated once and kept in instance/, readable by the owner only.
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written to a private temporary file, then linked into place: a concurrent process
        # never reads a half-written key, and the first one to link wins.
        temporary = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it to generate a new key")
    return key


def _trusted_hosts(env, base_url):
    """Host names the app answers to. In production, requests for any other Host are refused
    (400). Links put in e-mails are built from BASE_URL (aap/urls.py), never from the request's
    host; refusing a forged Host header keeps it so for any link built from the request."""
    configured = os.environ.get("AAP_TRUSTED_HOSTS")
    if configured:
        return [host.strip() for host in configured.split(",") if host.strip()]
    if env != "production":
        return None
    return [urlsplit(base_url).hostname or "localhost", "localhost", "127.0.0.1"]


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

    base_url = os.environ.get("AAP_BASE_URL", "http://127.0.0.1:5000")
    config = {
        "AAP_ENV": env,
        "SECRET_KEY": _secret_key(env, instance_path, overrides),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "UPLOAD_FOLDER": os.environ.get("AAP_UPLOAD_FOLDER", str(instance_path / "uploads")),
        "DOCUMENTS_FOLDER": os.environ.get("AAP_DOCUMENTS_FOLDER", str(instance_path / "documents")),
        "MAX_FILE_SIZE": int(os.environ.get("AAP_MAX_FILE_SIZE", 10 * 1024 * 1024)),
        "MAX_APPLICATION_FILES_SIZE": int(os.environ.get("AAP_MAX_APPLICATION_SIZE", 50 * 1024 * 1024)),
        "DOCUMENTS_WORKERS": int(os.environ.get("AAP_DOCUMENTS_WORKERS", 2)),
        # The grantor printed on conventions and in the open data (SCDL idAttribuant, nomAttribuant).
        "AAP_GRANTOR_SIRET": os.environ.get("AAP_GRANTOR_SIRET", "11000007200014"),
        # The host of the service, as the « Mentions légales » name it (name, then address).
        "AAP_HOSTING": os.environ.get(
            "AAP_HOSTING", "Ministère chargé de la jeunesse, 95 avenue de France, 75650 Paris Cedex 13"),
        "AAP_GRANTOR_NAME": os.environ.get(
            "AAP_GRANTOR_NAME", "Direction de la jeunesse, de l'éducation populaire et de la vie associative (DJEPVA)"),
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
        # The worker (`flask --app aap worker`) always delivers the outbox; in development the web
        # process also delivers right after each request, so that `flask run` alone sends mail.
        "MAIL_SEND_AFTER_REQUEST": _bool("MAIL_SEND_AFTER_REQUEST", env == "development"),
        # Jobs (aap/jobs.py): a worker renews its lease on a job under way every third of it; a job
        # whose lease ran out (its worker died) is taken again by another worker.
        "JOB_LEASE_SECONDS": int(os.environ.get("AAP_JOB_LEASE_SECONDS", 60)),
        "WORKER_POLL_SECONDS": float(os.environ.get("AAP_WORKER_POLL_SECONDS", 2)),
        "BASE_URL": base_url,
        "TRUSTED_HOSTS": _trusted_hosts(env, overrides.get("BASE_URL", base_url)),
        # Number of reverse proxies in front of the app (nginx…): their X-Forwarded-For and
        # X-Forwarded-Proto are then trusted, so that login rate limits count the real client
        # address and HTTPS is recognised. 0 (default): the headers are ignored (not spoofable).
        "TRUSTED_PROXIES": int(os.environ.get("AAP_TRUSTED_PROXIES", 0)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env == "production",
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        # WTForms' own messages (« Not a valid choice »…) in French, from its bundled
        # catalogues (aap/web.py sets the locale); Flask-WTF's i18n would need Flask-Babel.
        "WTF_I18N_ENABLED": False,
        "TOKEN_MAX_AGE": {"confirm": 7 * 86400, "reset": 3600, "invite": 14 * 86400, "member": 14 * 86400},
        # Login attempts (aap/auth/services.py), counted over LOGIN_WINDOW_SECONDS: on one account
        # from one address, the first LOGIN_FREE_FAILURES failures cost nothing, then each new try
        # waits LOGIN_DELAY_SECONDS, doubled after every further failure (never more than the
        # window): the owner, from any other address, is never locked out. One address is
        # stopped for the window after LOGIN_MAX_FAILURES_PER_ADDRESS failures on any accounts.
        # The owner is told by e-mail after LOGIN_ALERT_FAILURES failures from anywhere.
        "LOGIN_FREE_FAILURES": 5,
        "LOGIN_DELAY_SECONDS": 30,
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
        "LOGIN_ALERT_FAILURES": 5,
        "LOGIN_WINDOW_SECONDS": 15 * 60,
        # At most `count` e-mails of a kind to one address in `seconds` (aap/mail.py): the mails
        # anyone can cause. An invitation and its notice to an address that already has an
        # account share one kind, so that the limit tells nothing about the account.
        "MAIL_LIMITS": {
            "confirm": (3, 3600),
            "signup_existing": (2, 3600),
            "reset": (3, 3600),
            "invite": (3, 3600),
            "member_invite": (3, 3600),
            "instruction_message": (5, 3600),
            "login_alert": (1, 24 * 3600),
            # Backs review.reminders.REMINDER_INTERVAL: never two reminders to a reviewer within 24 hours.
            "review_reminder": (1, 24 * 3600),
        },
        "TESTING": env == "testing",
        # Werkzeug's default (scrypt) in production; the tests hash hundreds of passwords.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000" if env == "testing" else "scrypt",
    }
    if env == "testing":
        config["MAIL_BACKEND"] = os.environ.get("MAIL_BACKEND_TESTING", "smtp")
        config["MAIL_SEND_AFTER_REQUEST"] = False
        config["WTF_CSRF_ENABLED"] = True
    config.update(overrides)
    # One uploaded file, plus room for the other fields of its form and the multipart framing:
    # a larger request is refused (413) before it is read.
    config.setdefault("MAX_CONTENT_LENGTH", config["MAX_FILE_SIZE"] + REQUEST_OVERHEAD)
    return config
