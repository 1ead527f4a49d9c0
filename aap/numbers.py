"""Numbers typed the French way, parsed in one place.

« 25,5 », « 1 234,50 », « 1 234,50 € » (spaces, no-break or narrow no-break spaces between
thousands, a comma or a dot before the decimals, an optional unit at the end). Amounts
(aap/money.py) and percentages take decimals; counts of people, months and ages are whole
numbers and refuse « 25,5 » with a message that says so.
"""
import re
from decimal import Decimal

# Spaces people (and word processors, and number formatting) put between thousands.
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_MAX_CHARS = 40  # a number of a thousand digits is not a number anyone typed


class NumberError(ValueError):
    """A text that is not a number of the expected kind. `reason`: « format » (not a number),
    « decimals » (too many decimals, or any for a whole number), « negative »."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _compact(text, unit):
    cleaned = _SPACES.sub("", str(text))
    if unit:
        cleaned = cleaned.removesuffix(unit).removeprefix(unit)
    return cleaned


def parse_decimal(text, places=2, unit=None, negative=False):
    """« 1 234,50 € » -> Decimal("1234.50"); None for an empty text. At most `places` decimals."""
    if text is None:
        return None
    cleaned = _compact(text, unit).replace(",", ".")
    if cleaned == "":
        return None
    # Digits only: Decimal() would also take « 1e400 », « NaN », « 1_000 ».
    if not _DECIMAL.fullmatch(cleaned) or len(cleaned) > _MAX_CHARS:
        raise NumberError("format")
    value = Decimal(cleaned)
    if value < 0 and not negative:
        raise NumberError("negative")
    exponent = value.normalize().as_tuple().exponent  # « 12,340 » has two decimals, not three
    if exponent < 0 and -exponent > places:
        raise NumberError("decimals")
    return value


def parse_integer(text, unit=None):
    """« 1 200 » -> 1200; None for an empty text. « 25,5 » raises NumberError("decimals")."""
    if text is None:
        return None
    cleaned = _compact(text, unit)
    if cleaned == "":
        return None
    if _INTEGER.fullmatch(cleaned):
        if len(cleaned) > _MAX_CHARS:
            raise NumberError("format")
        return int(cleaned)
    if _DECIMAL.fullmatch(cleaned.replace(",", ".")):
        # A decimal where a whole number is expected: say so, rather than « not a number ».
        raise NumberError("decimals")
    raise NumberError("format")


def plain(value):
    """Decimal("25.50") -> 25.5, Decimal("40") -> 40: an int when whole, else a float (JSON-able,
    and the same Python value whatever the database returned)."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    if float(value).is_integer():
        return int(value)
    return float(Decimal(str(value)).normalize())


def format_decimal(value):
    """25.5 -> « 25,5 », 40 -> « 40 »: how a decimal is shown back in a form and read in a page."""
    if value is None:
        return ""
    value = plain(value)
    if isinstance(value, int):
        return str(value)
    return format(Decimal(str(value)).normalize(), "f").replace(".", ",")
