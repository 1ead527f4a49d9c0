"""Signed, expiring links. Each carries the account's auth_version, so that it stops
working as soon as the password is set: reset and invitation links are single-use."""
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from ..models import User


def _serializer(purpose):
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"aap-{purpose}")


def make_token(user, purpose):
    return _serializer(purpose).dumps({"u": user.id, "v": user.auth_version, "e": user.email})


def read_token(token, purpose):
    """Return the user the link is for, or None when it is invalid, expired or used."""
    max_age = current_app.config["TOKEN_MAX_AGE"][purpose]
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("u"))
    if user is None or user.auth_version != data.get("v") or user.email != data.get("e"):
        return None
    return user
