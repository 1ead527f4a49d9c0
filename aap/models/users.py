"""Accounts, roles and login attempts."""
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, event, false, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.base import NO_VALUE
from werkzeug.security import check_password_hash, generate_password_hash

from .base import Model, UTCDateTime, utcnow

APPLICANT, REVIEWER, STAFF, ADMIN = "applicant", "reviewer", "staff", "admin"


def hash_password(password):
    """A salted hash with the configured method (scrypt unless the config says otherwise)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
    return generate_password_hash(password, method=method)


ROLES = (APPLICANT, REVIEWER, STAFF, ADMIN)
ROLE_LABELS = {
    APPLICANT: "Association",
    REVIEWER: "Évaluateur",
    STAFF: "Instructeur DJEPVA",
    ADMIN: "Administrateur",
}


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=APPLICANT)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"), index=True)
    # Reviewers: the région they belong to (to avoid reviewing their own région).
    region_code: Mapped[str | None] = mapped_column(String(3))
    email_confirmed_at = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on password change and deactivation: voids the e-mailed single-use links
    # (reset, confirmation, invitation), which carry it, and the sessions.
    auth_version: Mapped[int] = mapped_column(default=1)
    # Bumped by end_sessions() (logout, password change, deactivation, change of role): every
    # session carries it and stops working, on every device, without voiding a pending link.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    last_login_at = mapped_column(UTCDateTime)
    # A member of an association marked as its legal representative (at most one per association:
    # handed over on the members page, which copies the name into the association's identity).
    legal_representative: Mapped[bool] = mapped_column(default=False, server_default=false())

    association = relationship("Association", back_populates="members")

    # Flask-Login: the session (and a remember-me cookie, were one ever set) keeps the id and
    # both versions; auth.views.load_user refuses any other. end_sessions() therefore ends
    # every session of the account at once, on every device, copies of the cookie included.
    def get_id(self):
        return f"{self.id}:{self.auth_version}:{self.session_version}"

    def end_sessions(self):
        """End every session of this account. Called on logout and password change, and by the
        listener below whenever `active` or `role` changes, whatever code changes them. The
        caller commits."""
        self.session_version = (self.session_version or 0) + 1

    @property
    def is_active(self):
        return self.active

    @property
    def full_name(self):
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email

    @property
    def role_label(self):
        return ROLE_LABELS[self.role]

    def set_password(self, password):
        self.password_hash = hash_password(password)
        self.auth_version = (self.auth_version or 0) + 1  # the links sent before are used up
        self.end_sessions()

    def check_password(self, password):
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def has_role(self, *roles):
        return self.role in roles

    @property
    def is_staff(self):
        return self.role in (STAFF, ADMIN)

    @property
    def is_applicant(self):
        return self.role == APPLICANT

    @property
    def is_reviewer(self):
        return self.role == REVIEWER


@event.listens_for(User.active, "set", active_history=True)
@event.listens_for(User.role, "set", active_history=True)
def _access_changed(user, value, old_value, _initiator):
    """A deactivated account, or one whose role changes, keeps no open session: whatever sets
    the attribute (a service, the command line, a script), the sessions end with the change.
    (active_history: the stored value is loaded first, so that a change is seen as one.)"""
    if inspect(user).has_identity and old_value is not NO_VALUE and value != old_value:
        user.end_sessions()
        if value is False:  # a deactivated account: no pending link revives it either
            user.auth_version = (user.auth_version or 0) + 1


class LoginAttempt(Model):
    """One login attempt, kept for rate limiting per account and per address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    at = mapped_column(UTCDateTime, default=utcnow)
    success: Mapped[bool] = mapped_column(default=False)
