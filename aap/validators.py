"""Validators shared by forms and services, with French messages."""
import re

from stdnum import bic as std_bic
from stdnum import iban as std_iban
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret as std_siret
from wtforms.validators import ValidationError

RNA_RE = re.compile(r"^W\d{9}$")
PHONE_RE = re.compile(r"^\+?[0-9 .()-]{10,20}$")
MIN_PASSWORD = 12


def clean_siret(value):
    """Return the 14-digit SIRET or raise ValueError with a French message."""
    compact = std_siret.compact(value or "")
    if not compact.isdigit() or len(compact) != 14:
        raise ValueError("Le numéro SIRET doit comporter 14 chiffres.")
    try:
        return std_siret.validate(compact)
    except StdnumError:
        raise ValueError("Ce numéro SIRET n'est pas valide (la clé de contrôle ne correspond pas).") from None


def clean_rna(value):
    compact = (value or "").replace(" ", "").upper()
    if not RNA_RE.match(compact):
        raise ValueError("Le numéro RNA commence par W suivi de 9 chiffres, par exemple W751234567.")
    return compact


def clean_iban(value):
    compact = std_iban.compact(value or "")
    if len(compact) < 15 or not compact[:2].isalpha():
        raise ValueError("L'IBAN doit commencer par le code pays, par exemple FR76 3000 6000 0112 3456 7890 189.")
    try:
        return std_iban.validate(compact)
    except StdnumError:
        raise ValueError("Cet IBAN n'est pas valide (la clé de contrôle ne correspond pas).") from None


def clean_bic(value):
    compact = (value or "").replace(" ", "").upper()
    try:
        return std_bic.validate(compact)
    except StdnumError:
        raise ValueError("Le BIC comporte 8 ou 11 caractères, par exemple BNPAFRPPXXX.") from None


def check_password_strength(password):
    if len(password or "") < MIN_PASSWORD:
        raise ValueError(f"Le mot de passe doit comporter au moins {MIN_PASSWORD} caractères.")
    if len(password) > 200:
        raise ValueError("Le mot de passe ne peut pas dépasser 200 caractères.")


def wtf(cleaner):
    """Turn a clean_* function into a WTForms validator that also normalises the field."""
    def validator(form, field):
        if field.data in (None, ""):
            return
        try:
            field.data = cleaner(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None
    return validator
