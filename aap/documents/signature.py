"""The day a convention was signed, as staff record it.

The open data (SCDL « subventions », dateConvention) publishes a grant only once its
convention is signed (aap/documents/opendata.py); until then the winner is left out of the
file, and the exports page says how many. Recorded by staff from the call's documents page; a
date may be corrected (each recording is in the file's journal).
"""
from datetime import date

from .. import events, timeutil
from ..database import lock
from ..extensions import db

DATE_REQUIRED = "Saisissez la date de signature de la convention, par exemple 15/05/2025."
DATE_FUTURE = "La date de signature ne peut pas être dans le futur."
DATE_BEFORE_DECISION = "La date de signature ne peut pas précéder la décision d'attribution ({day})."


class SignatureError(ValueError):
    """A refusal, in French, shown next to the date field."""


def check_signature_day(day, decided_on, today):
    """The signature day or SignatureError: known, not in the future, not before the decision."""
    if not isinstance(day, date):
        raise SignatureError(DATE_REQUIRED)
    if day > today:
        raise SignatureError(DATE_FUTURE)
    if decided_on is not None and day < decided_on:
        raise SignatureError(DATE_BEFORE_DECISION.format(day=timeutil.format_date(decided_on)))
    return day


def record_signature(convention, day, actor):
    """Record the day `convention` was signed (by both parties). Commits. Returns True when the
    date changed."""
    convention = lock(convention)
    application = convention.application
    decision = application.decision
    decided_on = timeutil.to_paris(decision.published_at).date() if decision and decision.published_at else None
    check_signature_day(day, decided_on, timeutil.to_paris(timeutil.now()).date())
    if convention.signed_at == day:
        return False
    previous = convention.signed_at
    convention.signed_at = day
    events.record("convention_signed", actor=actor, application=application, number=convention.number,
                  signed_at=day.isoformat(), previous=previous.isoformat() if previous else None)
    db.session.commit()
    return True
