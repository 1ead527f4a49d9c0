"""Validators shared by forms and services, with French messages."""
import re

from stdnum import bic as std_bic
from stdnum import iban as std_iban
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret as std_siret
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import ValidationError

from .textrules import control_characters, looks_like_formula

RNA_RE = re.compile(r"^W\d{9}$")
PHONE_RE = re.compile(r"^\+?[0-9 .()-]{10,20}$")


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


# The grant is paid by SEPA credit transfer: any account of the SEPA zone is accepted (the
# European Union, the other countries of the EEA, Switzerland, the United Kingdom, Gibraltar,
# Monaco, San Marino, the Vatican and Andorra); the hint of the bank form says so
# (templates/associations/bank.html, IBAN_HINT).
SEPA_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK "
    "IS LI NO CH GB GI MC SM VA AD".split())
IBAN_HINT = ("Tel qu'il figure sur le RIB, commençant par le code du pays\u00a0: FR et 27 caractères pour un compte "
             "en France. Tout compte de la zone SEPA (Union européenne, Suisse, Royaume-Uni…) est accepté.")


def clean_iban(value):
    compact = std_iban.compact(value or "")
    if len(compact) < 15 or not compact[:2].isalpha():
        raise ValueError("L'IBAN doit commencer par le code pays, par exemple FR76 3000 6000 0112 3456 7890 189.")
    try:
        compact = std_iban.validate(compact)
    except StdnumError:
        raise ValueError("Cet IBAN n'est pas valide (la clé de contrôle ne correspond pas).") from None
    if compact[:2] not in SEPA_COUNTRIES:
        raise ValueError("Le compte doit être tenu dans la zone SEPA (Union européenne, Suisse, Royaume-Uni…)\u00a0: "
                         f"un IBAN commençant par {compact[:2]} n'est pas accepté.")
    return compact


def group_iban(iban):
    """« fr7630006000011234567890189 » -> « FR76 3000 6000 0112 3456 7890 189 » (pages, forms,
    conventions); "" for none."""
    compact = (iban or "").replace(" ", "").upper()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def clean_bic(value):
    compact = (value or "").replace(" ", "").upper()
    try:
        return std_bic.validate(compact)
    except StdnumError:
        raise ValueError("Le BIC comporte 8 ou 11 caractères, par exemple BNPAFRPPXXX.") from None


def check_password_strength(password, email=None, names=()):
    """Raise ValueError (French message) for a password too weak for this person: the one rule
    of every password form and service, in aap/passwords.py (length, common passwords,
    sequences, repetitions, the person's name or e-mail address)."""
    from .passwords import check_password
    check_password(password, email=email, names=names)


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


# --- Text: formulas and control characters (the rules are in textrules.py) ----------------

FORMULA_MESSAGE = ("Ce champ ne peut pas commencer par =, +, -, @, une tabulation ou un retour à la ligne : "
                   "retirez ce premier caractère.")
CONTROL_MESSAGE = ("Ce champ contient un caractère invisible ou de contrôle (retour à la ligne, tabulation…) "
                   "qui n'est pas accepté : retirez-le.")
CONTROL_MULTILINE_MESSAGE = ("Ce texte contient un caractère invisible ou de contrôle qui n'est pas accepté "
                             "(seuls les retours à la ligne et les tabulations le sont) : retirez-le.")


def no_formula(form, field):
    """For names and titles, which never start like a spreadsheet formula (association name,
    acronym, person names, project and call titles...): refuse =, +, -, @, tab or CR first,
    after any leading spaces. The exports neutralise such text anyway (textrules.csv_text and
    the Excel quote prefix), for what was stored before this rule."""
    if isinstance(field.data, str) and looks_like_formula(field.data.lstrip(" \u00a0\u202f")):
        raise ValidationError(FORMULA_MESSAGE)


def control_character_error(field):
    """The French message for a text field holding a control character, or None. A text area
    keeps line breaks and tabs; every other text field (single line) accepts none. Passwords are
    never shown, mailed nor exported: they are hashed as typed and left to the login."""
    if not isinstance(field, StringField) or isinstance(field, PasswordField) or not isinstance(field.data, str):
        return None
    multiline = isinstance(field, TextAreaField)
    if control_characters(field.data, multiline=multiline):
        return CONTROL_MULTILINE_MESSAGE if multiline else CONTROL_MESSAGE
    return None
