"""Shared column types and helpers for the models."""
from datetime import datetime, timezone
from enum import StrEnum

from sqlalchemy import DateTime, String, TypeDecorator

from ..extensions import db


def utcnow():
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and returned timezone-aware (UTC).

    The same on SQLite (no time zones) and PostgreSQL.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class LabelledEnum(StrEnum):
    """A state stored as its (English) value, carrying its French label and DSFR badge colour:
    `Status.DRAFT == "draft"`, `Status.DRAFT.label == "Brouillon"`, `.badge == "new"`."""

    def __new__(cls, value, label, badge="new"):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.badge = badge
        return member


class EnumString(TypeDecorator):
    """A VARCHAR column read back as a member of `enum` (the stored values are the enum's values)."""

    impl = String
    cache_ok = True

    def __init__(self, enum, length=20):
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value, dialect):
        return None if value is None else str(value)

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum(value)


Model = db.Model
