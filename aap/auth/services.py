"""Accounts: sign-up, confirmation, login with rate limiting, reset, invitations."""
import secrets
from datetime import timedelta
from functools import lru_cache

from flask import url_for
from sqlalchemy import func
from werkzeug.security import check_password_hash

from .. import timeutil
from ..events import record
from ..extensions import db
from ..mail import queue_mail
from ..models import Association, LoginAttempt, User
from ..models.users import ADMIN, APPLICANT, REVIEWER, STAFF, hash_password
from .tokens import make_token


class AuthError(Exception):
    """A refusal to show to the user (French message)."""


def normalise_email(email):
    return (email or "").strip().lower()


def find_user(email):
    return db.session.scalar(db.select(User).where(User.email == normalise_email(email)))


@lru_cache(maxsize=1)
def _dummy_hash():
    return hash_password(secrets.token_urlsafe(16))


def _send_confirmation(user):
    link = url_for("auth.confirm", token=make_token(user, "confirm"), _external=True)
    queue_mail(user.email, "Confirmez votre adresse e-mail", "confirm", user=user, link=link)


def sign_up(email, password, first_name, last_name, association_name):
    """Create an applicant account and its association; queue the confirmation e-mail.

    When the address is already taken, nothing is created and the owner is told by e-mail,
    so that the form answers the same either way.
    """
    email = normalise_email(email)
    existing = find_user(email)
    if existing is not None:
        hash_password(password)  # same work either way: timing tells nothing
        queue_mail(email, "Tentative de création de compte", "signup_existing", user=existing,
                   login_link=url_for("auth.login", _external=True),
                   reset_link=url_for("auth.forgot", _external=True))
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
    if user.email_confirmed_at is None:
        user.email_confirmed_at = timeutil.now()
        record("email_confirmed", actor=user, association_id=user.association_id)
        db.session.commit()


def _failures_since(column, value, config):
    since = timeutil.now() - timedelta(seconds=config["LOGIN_WINDOW_SECONDS"])
    return db.session.scalar(
        db.select(func.count(LoginAttempt.id))
        .where(column == value, LoginAttempt.at >= since, LoginAttempt.success.is_(False)))


def authenticate(email, password, ip, config):
    """Check the credentials, with rate limits per account and per address.

    Returns the user or raises AuthError; never tells whether the address exists.
    """
    email = normalise_email(email)
    if (_failures_since(LoginAttempt.email, email, config) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
            or _failures_since(LoginAttempt.ip, ip, config) >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        minutes = config["LOGIN_WINDOW_SECONDS"] // 60
        raise AuthError(f"Trop de tentatives de connexion. Par sécurité, la connexion est bloquée "
                        f"pendant {minutes} minutes. Vous pouvez aussi réinitialiser votre mot de passe.")
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
    user = find_user(email)
    if user is not None and user.active:
        link = url_for("auth.reset", token=make_token(user, "reset"), _external=True)
        queue_mail(user.email, "Réinitialisation de votre mot de passe", "reset", user=user, link=link)
    db.session.commit()


def set_password(user, password, action="password_reset"):
    user.set_password(password)  # bumps auth_version: old links and sessions stop working
    if user.email_confirmed_at is None:
        user.email_confirmed_at = timeutil.now()  # the link proved the address
    record(action, actor=user)
    db.session.commit()


def invite(inviter, email, first_name, last_name, role, region_code=None):
    """Staff invite a reviewer or a staff member (admins may invite admins)."""
    if role not in (REVIEWER, STAFF, ADMIN) or (role == ADMIN and inviter.role != ADMIN):
        raise AuthError("Vous ne pouvez pas inviter une personne avec ce rôle.")
    email = normalise_email(email)
    if find_user(email) is not None:
        raise AuthError("Un compte existe déjà avec cette adresse e-mail.")
    user = User(email=email, role=role, first_name=first_name.strip(), last_name=last_name.strip(),
                region_code=region_code or None, invited_by_id=inviter.id)
    db.session.add(user)
    db.session.flush()
    link = url_for("auth.accept_invitation", token=make_token(user, "invite"), _external=True)
    queue_mail(user.email, "Invitation à rejoindre AAP « 1 jeune 1 mentor »", "invite",
               user=user, inviter=inviter, link=link)
    record("user_invited", actor=inviter, role=role, invited_user_id=user.id)
    db.session.commit()
    return user
