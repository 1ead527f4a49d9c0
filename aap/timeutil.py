"""Times are stored in UTC and shown in Europe/Paris."""
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre"]


# The time now() gives inside a `frozen` block: per thread and per task, so a request served at the
# same time keeps the real time. Set only by the demo (aap/demo/followup.py) and tests.
_frozen_now = ContextVar("frozen_now", default=None)


def now():
    return _frozen_now.get() or datetime.now(timezone.utc)


@contextmanager
def frozen(at):
    """Within the block, now() is `at` (an aware datetime) in the current thread or task only."""
    token = _frozen_now.set(at)
    try:
        yield at
    finally:
        _frozen_now.reset(token)


def to_paris(value):
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(PARIS)


def paris_to_utc(naive_local):
    """A wall-clock time in Paris (naive) to an aware UTC datetime."""
    return naive_local.replace(tzinfo=PARIS).astimezone(timezone.utc)


def end_of_day_paris(day: date):
    """23:59:59 on that day in Paris, as UTC (daylight saving handled by zoneinfo)."""
    return paris_to_utc(datetime.combine(day, time(23, 59, 59)))


def format_date(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_paris(value).date()
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def format_datetime(value):
    if value is None:
        return ""
    local = to_paris(value)
    return f"{format_date(local.date())} à {local.hour} h {local.minute:02d}"


def format_time(value):
    local = to_paris(value)
    return f"{local.hour} h {local.minute:02d}"
