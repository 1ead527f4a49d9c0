"""Money is kept in integer cents; these helpers parse and format it the French way."""
from decimal import Decimal

from . import numbers


class AmountError(ValueError):
    pass


def parse_euros(text):
    """« 42 500,50 € » -> 4250050 cents. Raises AmountError with a French message.

    The French way of typing numbers (spaces between thousands, decimal comma) is read by
    aap/numbers.py, the one parser of numbers typed in the application."""
    try:
        value = numbers.parse_decimal(text, places=2, unit="€")
    except numbers.NumberError as error:
        raise AmountError({
            "negative": "Le montant ne peut pas être négatif.",
            "decimals": "Le montant ne peut pas avoir plus de deux décimales.",
        }.get(error.reason, "Saisissez un montant en euros, par exemple 42 500 ou 42 500,50.")) from None
    if value is None:
        return None
    if value > Decimal("1000000000"):
        raise AmountError("Le montant est trop élevé.")
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
