"""Money is kept in integer cents; these helpers parse and format it the French way."""
import re
from decimal import Decimal

AMOUNT_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


class AmountError(ValueError):
    pass


def parse_euros(text):
    """« 42 500,50 € » -> 4250050 cents. Raises AmountError with a French message."""
    if text is None:
        return None
    cleaned = str(text).replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("€", "")
    if cleaned == "":
        return None
    cleaned = cleaned.replace(",", ".")
    # Digits only (Decimal would also take « 1e400 », « NaN », « 1_000 »...).
    if not AMOUNT_RE.fullmatch(cleaned):
        raise AmountError("Saisissez un montant en euros, par exemple 42 500 ou 42 500,50.")
    value = Decimal(cleaned)
    if value < 0:
        raise AmountError("Le montant ne peut pas être négatif.")
    if value > Decimal("1000000000"):  # before quantize(), which fails on a number of 30 digits
        raise AmountError("Le montant est trop élevé.")
    if value != value.quantize(Decimal("0.01")):
        raise AmountError("Le montant ne peut pas avoir plus de deux décimales.")
    return int(value * 100)


def format_euros(cents, decimals=None):
    """4250050 -> « 42 500,50 € » (narrow no-break spaces as in French typography)."""
    if cents is None:
        return ""
    cents = int(cents)
    negative = cents < 0
    cents = abs(cents)
    euros, rest = divmod(cents, 100)
    grouped = f"{euros:,}".replace(",", "\u202f")
    show_cents = rest != 0 if decimals is None else decimals
    text = f"{grouped},{rest:02d}" if show_cents else grouped
    return ("-" if negative else "") + text + "\u00a0€"


def cents_to_input(cents):
    """Cents to the text shown back in a form field: 4250050 -> « 42500,50 »."""
    if cents is None:
        return ""
    euros, rest = divmod(int(cents), 100)
    return f"{euros},{rest:02d}" if rest else str(euros)
