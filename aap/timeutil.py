"""Times are stored in UTC and shown in Europe/Paris."""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre"]


def now():
    return datetime.now(timezone.utc)


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
