"""Accounts: sign-up, confirmation, login with rate limiting, logout, reset, invitations."""
import math
import secrets
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import func
from werkzeug.security import check_password_hash

from .. import timeutil
from ..database import writing
from ..events import record
from ..extensions import db
from ..mail import mail_limit_reached, queue_mail
from ..models import Association, Event, LoginAttempt, User
from ..models.users import ADMIN, APPLICANT, REVIEWER, ROLE_LABELS, STAFF, hash_password
from ..urls import absolute_url
from ..validators import check_password_strength
from .tokens import make_token

MAX_TEAM_INVITATIONS_PER_DAY = 50  # per inviter: the answer never says whether an account exists
TOO_MANY_TEAM_INVITATIONS = ("Vous avez déjà envoyé {n} invitations ces dernières 24 heures. "
                             "Réessayez demain.")
INVITED_RECENTLY = ("Une invitation a déjà été envoyée plusieurs fois à {email} dans l'heure : "
                    "pour éviter les envois répétés, réessayez plus tard.")


class AuthError(Exception):
    """A refusal to show to the user (French message)."""


def normalise_email(email):
    return (email or "").strip().lower()


def find_user(email):
    return db.session.scalar(db.select(User).where(User.email == normalise_email(email)))


@lru_cache(maxsize=1)
def _dummy_hash():
    return hash_password(secrets.token_urlsafe(16))


def _check_password(password, email, first_name, last_name):
    """The password rule (aap/passwords.py), again in the services: the forms apply it first."""
    try:
        check_password_strength(password, email=email, names=(first_name, last_name))
    except ValueError as error:
        raise AuthError(str(error)) from None


def _send_confirmation(user):
    link = absolute_url("auth.confirm", token=make_token(user, "confirm"))
    queue_mail(user.email, "Confirmez votre adresse e-mail", "confirm", user=user, link=link)


def sign_up(email, password, first_name, last_name, association_name):
    """Create an applicant account and its association; queue the confirmation e-mail.

    When the address is already taken, nothing is created and the owner is told by e-mail,
    so that the form answers the same either way.
    """
    email = normalise_email(email)
    _check_password(password, email, first_name, last_name)
    existing = find_user(email)
    if existing is not None:
        hash_password(password)  # same work either way: timing tells nothing
        queue_mail(email, "Tentative de création de compte", "signup_existing", user=existing,
                   login_link=absolute_url("auth.login"),
                   reset_link=absolute_url("auth.forgot"))
        db.session.commit()
        return None
    association = Association(name=association_name.strip())
    user = User(email=email, role=APPLICANT, first_name=first_name.strip(), last_name=last_name.strip(),
                association=association)
    user.set_password(password)
    db.session.add_all([association, user])
    db.session.flush()
    record("account_created", actor=user, association_id=association.id)
    _send_confirmation(user)
    db.session.commit()
    return user


def resend_confirmation(email):
    user = find_user(email)
    if user is not None and user.email_confirmed_at is None and user.password_hash:
        _send_confirmation(user)
        db.session.commit()


def confirm_email(user):
    """Opened from the e-mailed link, a GET: the write goes through database.writing()."""
    if user.email_confirmed_at is None:
        with writing():
            user.email_confirmed_at = timeutil.now()
            record("email_confirmed", actor=user, association_id=user.association_id)
            db.session.commit()


def _failures(since, *conditions):
    """(count, earliest, latest) of the failed login attempts since `since` matching conditions."""
    return db.session.execute(
        db.select(func.count(LoginAttempt.id), func.min(LoginAttempt.at), func.max(LoginAttempt.at))
        .where(LoginAttempt.at >= since, LoginAttempt.success.is_(False), *conditions)).one()


def _wait_text(seconds):
    seconds = max(1, math.ceil(seconds))
    if seconds < 120:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def login_wait(email, ip, config):
    """Why and how long this address must wait before trying this account again: (seconds,
    French message), or (0, None). Computed from the attempts only, the same for an address
    without an account.

    - One address against any accounts: after LOGIN_MAX_FAILURES_PER_ADDRESS failures within
      the window, that address waits until the oldest of them leaves the window (spraying).
    - One account from one address: LOGIN_FREE_FAILURES failures cost nothing, then each try
      waits LOGIN_DELAY_SECONDS after the last failure, doubled at each further failure (at
      most the window); a success from that address starts afresh. Nobody can lock the owner
      out: attempts from other addresses are not slowed down.
    """
    now = timeutil.now()
    window = config["LOGIN_WINDOW_SECONDS"]
    since = now - timedelta(seconds=window)
    count, earliest, _ = _failures(since, LoginAttempt.ip == ip)
    if count >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        wait = (earliest + timedelta(seconds=window) - now).total_seconds()
        return wait, (f"Trop de tentatives de connexion depuis votre adresse. Par sécurité, "
                      f"réessayez dans {_wait_text(wait)}.")
    last_success = db.session.scalar(
        db.select(func.max(LoginAttempt.at))
        .where(LoginAttempt.email == email, LoginAttempt.ip == ip, LoginAttempt.success.is_(True),
               LoginAttempt.at >= since))
    count, _, latest = _failures(max(since, last_success) if last_success else since,
                                 LoginAttempt.email == email, LoginAttempt.ip == ip)
    free = config["LOGIN_FREE_FAILURES"]
    if count >= free:
        delay = min(config["LOGIN_DELAY_SECONDS"] * 2 ** (count - free), window)
        wait = (latest + timedelta(seconds=delay) - now).total_seconds()
        if wait > 0:
            return wait, (f"Trop de tentatives de connexion. Par sécurité, réessayez dans {_wait_text(wait)}. "
                          f"Si vous avez oublié votre mot de passe, vous pouvez le réinitialiser.")
    return 0, None


def _alert_owner(user, config):
    """Tell the owner that their account is being tried, once LOGIN_ALERT_FAILURES attempts
    failed within the window from anywhere: one e-mail, the mail limits (login_alert) keep
    the next ones from going out."""
    window = config["LOGIN_WINDOW_SECONDS"]
    since = timeutil.now() - timedelta(seconds=window)
    failures, addresses = db.session.execute(
        db.select(func.count(LoginAttempt.id), func.count(func.distinct(LoginAttempt.ip)))
        .where(LoginAttempt.email == user.email, LoginAttempt.at >= since,
               LoginAttempt.success.is_(False))).one()
    if failures >= config["LOGIN_ALERT_FAILURES"]:
        queue_mail(user.email, "Tentatives de connexion à votre compte", "login_alert", user=user,
                   failures=failures, addresses=addresses, minutes=window // 60,
                   reset_link=absolute_url("auth.forgot"))


def authenticate(email, password, ip, config):
    """Check the credentials, slowed down per account and address and limited per address
    (login_wait). Returns the user or raises AuthError; never tells whether the address exists.
    """
    email = normalise_email(email)
    wait, refusal = login_wait(email, ip, config)
    if wait > 0:
        db.session.commit()
        raise AuthError(refusal)
    user = find_user(email)
    stored_hash, active = (user.password_hash, user.active) if user is not None else (None, False)
    # The hash is slow on purpose (scrypt): check it outside any transaction. On SQLite a request
    # that writes holds the write lock from its first statement (aap/database.py), and every other
    # login, save or submission would wait meanwhile.
    db.session.commit()
    if stored_hash:
        ok = check_password_hash(stored_hash, password or "") and active
    else:
        # Same work as for a real account, so that timing does not tell whether it exists.
        check_password_hash(_dummy_hash(), password or "")
        ok = False
    db.session.add(LoginAttempt(email=email, ip=ip, success=ok))
    if not ok:
        if stored_hash and active:
            _alert_owner(user, config)
        db.session.commit()
        raise AuthError("Adresse e-mail ou mot de passe incorrect.")
    if user.email_confirmed_at is None:
        db.session.commit()
        raise AuthError("Votre adresse e-mail n'est pas encore confirmée : ouvrez le lien reçu par e-mail, "
                        "ou demandez un nouveau lien ci-dessous.")
    user.last_login_at = timeutil.now()
    record("login", actor=user)
    db.session.commit()
    return user


def request_password_reset(email):
    """Queue a reset link for an active account. The answer is the same whatever happens: no
    account, or the limit of reset e-mails (MAIL_LIMITS["reset"]) reached: nothing is queued."""
    user = find_user(email)
    if user is not None and user.active:
        link = absolute_url("auth.reset", token=make_token(user, "reset"))
        queue_mail(user.email, "Réinitialisation de votre mot de passe", "reset", user=user, link=link)
    db.session.commit()


def log_out(user):
    """End every session of the account (on every device, copies of the cookie included)."""
    user.end_sessions()
    record("logout", actor=user)
    db.session.commit()


def set_password(user, password, action="password_reset"):
    _check_password(password, user.email, user.first_name, user.last_name)
    user.set_password(password)  # User.end_sessions(): old links and sessions stop working
    if user.email_confirmed_at is None:
        user.email_confirmed_at = timeutil.now()  # the link proved the address
    record(action, actor=user)
    db.session.commit()


def invite(inviter, email, first_name, last_name, role, region_code=None):
    """Staff invite a reviewer or a staff member (admins may invite admins).

    The answer does not tell whether the address already has an account: the quota per inviter
    and the limit per recipient come first and count both cases; an address with an account is
    not invited, its owner is told by e-mail instead. Returns the new account, or None then.
    """
    if role not in (REVIEWER, STAFF, ADMIN) or (role == ADMIN and inviter.role != ADMIN):
        raise AuthError("Vous ne pouvez pas inviter une personne avec ce rôle.")
    email = normalise_email(email)
    recent = db.session.scalar(
        db.select(func.count(Event.id)).where(
            Event.actor_id == inviter.id, Event.action == "user_invited",
            Event.at >= timeutil.now() - timedelta(days=1)))
    if recent >= MAX_TEAM_INVITATIONS_PER_DAY:
        raise AuthError(TOO_MANY_TEAM_INVITATIONS.format(n=recent))
    if mail_limit_reached(email, "invite"):
        raise AuthError(INVITED_RECENTLY.format(email=email))
    existing = find_user(email)
    if existing is not None:
        queue_mail(email, "Invitation sur AAP « 1 jeune 1 mentor »", "invite_existing", kind="invite",
                   user=existing, inviter=inviter, role_label=ROLE_LABELS[role],
                   login_link=absolute_url("auth.login"),
                   reset_link=absolute_url("auth.forgot"))
        record("user_invited", actor=inviter, role=role, email=email)
        db.session.commit()
        return None
    user = User(email=email, role=role, first_name=first_name.strip(), last_name=last_name.strip(),
                region_code=region_code or None, invited_by_id=inviter.id)
    db.session.add(user)
    db.session.flush()
    link = absolute_url("auth.accept_invitation", token=make_token(user, "invite"))
    queue_mail(user.email, "Invitation à rejoindre AAP « 1 jeune 1 mentor »", "invite",
               user=user, inviter=inviter, link=link)
    record("user_invited", actor=inviter, role=role, invited_user_id=user.id, email=email)
    db.session.commit()
    return user
