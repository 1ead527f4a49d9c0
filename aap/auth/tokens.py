"""Signed, expiring links: the one serialiser of the application, with a salt per purpose
(« confirm », « reset », « invite », « member »: a token made for one purpose is refused for
another) and a lifetime per purpose (TOKEN_MAX_AGE in config.py).

An account's links carry its auth_version, so that they stop working as soon as the password is
set: reset and invitation links are single-use."""
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from ..models import User


def _serializer(purpose):
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"aap-{purpose}")


def max_age(purpose):
    """How long a link of this purpose stays valid, in seconds."""
    return current_app.config["TOKEN_MAX_AGE"][purpose]


def sign(purpose, data):
    """A URL-safe token carrying `data` (JSON-able) for `purpose`."""
    return _serializer(purpose).dumps(data)


def unsign(purpose, token):
    """The data of a token made by sign(purpose, ...); raises itsdangerous' SignatureExpired
    (too old) or BadSignature (tampered, another key or another purpose)."""
    return _serializer(purpose).loads(token, max_age=max_age(purpose))


def make_token(user, purpose):
    return sign(purpose, {"u": user.id, "v": user.auth_version, "e": user.email})


def read_token(token, purpose):
    """Return the user the link is for, or None when it is invalid, expired or used."""
    try:
        data = unsign(purpose, token)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("u"))
    if user is None or user.auth_version != data.get("v") or user.email != data.get("e"):
        return None
    return user
