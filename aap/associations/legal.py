"""The legal form of an applicant and the identifier that form has.

- association loi 1901 (déclarée): its number in the répertoire national des associations
  (RNA, « W » + 9 digits; décret n° 2009-1127);
- association reconnue d'utilité publique: still a loi 1901 association (RNA), recognised by a
  decree in Conseil d'État (loi du 1er juillet 1901, art. 10): the decree's date and reference;
- association de droit local (Bas-Rhin, Haut-Rhin, Moselle; code civil local, art. 21 to 79-III):
  entered in the register of associations of a tribunal judiciaire, not in the RNA: the court,
  the volume and the folio;
- fondation reconnue d'utilité publique (loi n° 87-571, art. 18): no RNA, a decree in Conseil
  d'État: its date and reference (Journal officiel);
- fondation d'entreprise (loi n° 87-571, art. 19 to 19-13; décret n° 91-1005, art. 1): authorised
  by an arrêté of the préfet of its seat: the arrêté's date and reference.

Pure functions of plain values (a dict, or an Association read through `identity_of`), shared
by the identity form, the identity service, completeness, admissibility, the convention, the
open data and the workbook. The identity may be saved incomplete: `problems` finds what is
typed wrong (an error next to the field); `missing` what is still to fill before a deposit.
"""
import re
from datetime import date

from ..validators import clean_rna

ASSOCIATION_1901, ASSOCIATION_RUP, ASSOCIATION_LOCAL = "association_1901", "association_rup", "association_1908"
FONDATION_RUP, FONDATION_ENTREPRISE, OTHER = "fondation", "fondation_entreprise", "autre"

# The identity's columns this module reads, besides legal_form.
FIELDS = ("rna", "register_court", "register_volume", "register_folio", "recognition_date",
          "recognition_reference")
# The départements where the local law of associations applies.
LOCAL_LAW_DEPARTEMENTS = ("57", "67", "68")

RNA_FORMS = (ASSOCIATION_1901, ASSOCIATION_RUP)
RECOGNITION_FORMS = (ASSOCIATION_RUP, FONDATION_RUP, FONDATION_ENTREPRISE)

COURT_REQUIRED = "Saisissez le tribunal judiciaire qui tient le registre, par exemple Strasbourg."
VOLUME_REQUIRED = "Saisissez le volume du registre où l'association est inscrite."
FOLIO_REQUIRED = "Saisissez le folio de l'inscription au registre."
VOLUME_INVALID = "Le volume est un nombre (par exemple 85) ou un nombre en chiffres romains (par exemple LXXV)."
FOLIO_INVALID = "Le folio est un nombre, par exemple 12."
COURT_INVALID = "Saisissez le nom de la ville du tribunal judiciaire, par exemple Strasbourg (60 caractères au plus)."
LOCAL_LAW_OUTSIDE = ("Le droit local des associations ne s'applique qu'aux associations dont le siège est dans le "
                     "Bas-Rhin, le Haut-Rhin ou la Moselle : vérifiez la forme juridique ou le code postal.")
DATE_FUTURE = "La date ne peut pas être dans le futur."
DATE_TOO_OLD = "La date ne peut pas être antérieure à 1800."
REFERENCE_TOO_LONG = "Ce champ ne peut pas dépasser 160 caractères."

# What the recognition fields are, per form: (label of the date, label of the reference, hint).
RECOGNITION = {
    ASSOCIATION_RUP: ("Date du décret de reconnaissance d'utilité publique",
                      "Référence du décret (Journal officiel)"),
    FONDATION_RUP: ("Date du décret de reconnaissance d'utilité publique",
                    "Référence du décret (Journal officiel)"),
    FONDATION_ENTREPRISE: ("Date de l'arrêté préfectoral d'autorisation",
                           "Référence de l'arrêté préfectoral (préfecture et numéro)"),
}
DATE_REQUIRED = {
    ASSOCIATION_RUP: "Saisissez la date du décret de reconnaissance d'utilité publique.",
    FONDATION_RUP: "Saisissez la date du décret de reconnaissance d'utilité publique.",
    FONDATION_ENTREPRISE: "Saisissez la date de l'arrêté préfectoral qui a autorisé la fondation.",
}
REFERENCE_REQUIRED = {
    FONDATION_RUP: "Saisissez la référence du décret au Journal officiel, par exemple JORF n° 0123 du 28 mai 2010.",
    FONDATION_ENTREPRISE: "Saisissez la référence de l'arrêté préfectoral, par exemple Préfecture du Rhône "
                          "n° 69-2018-05-03-001.",
}

# How the convention names the party's legal form (after its name).
PARTY_FORMS = {
    ASSOCIATION_1901: "association régie par la loi du 1er juillet 1901",
    ASSOCIATION_RUP: "association régie par la loi du 1er juillet 1901",
    ASSOCIATION_LOCAL: "association inscrite de droit local, régie par les articles 21 à 79-III du code civil local",
    FONDATION_RUP: "fondation régie par les articles 18 à 20 de la loi n° 87-571 du 23 juillet 1987",
    FONDATION_ENTREPRISE: "fondation d'entreprise régie par les articles 19 à 19-13 de la loi n° 87-571 du "
                          "23 juillet 1987",
}

_VOLUME_RE = re.compile(r"^(\d{1,4}|[IVXLCDM]{1,12})$")
_FOLIO_RE = re.compile(r"^\d{1,5}$")


def identity_of(association):
    """The legal form and its identifier fields of an Association, as a dict."""
    return {"legal_form": association.legal_form, **{name: getattr(association, name) for name in FIELDS}}


def _text(value):
    return (value or "").strip() if isinstance(value, str) or value is None else value


def relevant_fields(form):
    """The identifier fields the legal form has (the identity service empties the others)."""
    fields = set()
    if form in RNA_FORMS + (OTHER,):
        fields.add("rna")
    if form == ASSOCIATION_LOCAL:
        fields |= {"register_court", "register_volume", "register_folio"}
    if form in RECOGNITION_FORMS:
        fields |= {"recognition_date", "recognition_reference"}
    return fields


def problems(identity, departement_code=None, today=None):
    """{field: French message} for what is typed wrong for the legal form (never for what is
    missing, except a register entry or a recognition given in part; the fields another legal form
    has are not looked at). `departement_code`: the
    seat's département, when known (the local law applies in 57, 67, 68 only)."""
    form = identity.get("legal_form")
    errors = {}
    rna = _text(identity.get("rna"))
    if rna and "rna" in relevant_fields(form):
        try:
            clean_rna(rna)
        except ValueError as error:
            errors["rna"] = str(error)
    court, volume, folio = (_text(identity.get(n)) for n in ("register_court", "register_volume", "register_folio"))
    if form == ASSOCIATION_LOCAL:
        if departement_code and departement_code not in LOCAL_LAW_DEPARTEMENTS:
            errors["legal_form"] = LOCAL_LAW_OUTSIDE
        if court and (len(court) > 60 or not re.fullmatch(r"[^\d=+@]{2,60}", court)):
            errors["register_court"] = COURT_INVALID
        if volume and not _VOLUME_RE.match(volume.upper()):
            errors["register_volume"] = VOLUME_INVALID
        if folio and not _FOLIO_RE.match(folio):
            errors["register_folio"] = FOLIO_INVALID
        if court or volume or folio:  # an entry given in part
            for name, value, message in (("register_court", court, COURT_REQUIRED),
                                         ("register_volume", volume, VOLUME_REQUIRED),
                                         ("register_folio", folio, FOLIO_REQUIRED)):
                if not value:
                    errors.setdefault(name, message)
    day, reference = identity.get("recognition_date"), _text(identity.get("recognition_reference"))
    if form in RECOGNITION_FORMS:
        today = today or date.today()
        if isinstance(day, date) and day > today:
            errors["recognition_date"] = DATE_FUTURE
        elif isinstance(day, date) and day < date(1800, 1, 1):
            errors["recognition_date"] = DATE_TOO_OLD
        if reference and len(reference) > 160:
            errors["recognition_reference"] = REFERENCE_TOO_LONG
        if reference and day is None:
            errors.setdefault("recognition_date", DATE_REQUIRED[form])
    return errors


def missing(identity):
    """[(field, label)] of the identifier still to fill before a deposit, for the legal form."""
    form = identity.get("legal_form")
    items = []
    if form in RNA_FORMS and not _text(identity.get("rna")):
        items.append(("rna", "Numéro RNA"))
    if form == ASSOCIATION_LOCAL and not all(_text(identity.get(n)) for n in
                                             ("register_court", "register_volume", "register_folio")):
        items.append(("register_court", "Inscription au registre des associations (tribunal, volume, folio)"))
    if form in RECOGNITION_FORMS and identity.get("recognition_date") is None:
        items.append(("recognition_date", RECOGNITION[form][0]))
    if form in REFERENCE_REQUIRED and not _text(identity.get("recognition_reference")):
        items.append(("recognition_reference", RECOGNITION[form][1]))
    return items


def is_complete(identity):
    """The identifier of the legal form is given and well formed."""
    return not missing(identity) and not problems(identity)


def rna_of(identity):
    """The RNA number when the legal form has one (else None): the SCDL's rnaBeneficiaire."""
    rna = _text(identity.get("rna"))
    return rna if identity.get("legal_form") in RNA_FORMS + (OTHER,) and rna else None


def _french_date(value):
    from ..timeutil import format_date
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return format_date(value)


def identifier_text(identity):
    """The identifier of the legal form, in words, as the convention names the party:
    « numéro RNA : W751234567 », « inscrite au registre des associations du tribunal judiciaire
    de Strasbourg, volume 85, folio 12 », « reconnue d'utilité publique par décret du … »."""
    form = identity.get("legal_form")
    rna = _text(identity.get("rna"))
    day, reference = identity.get("recognition_date"), _text(identity.get("recognition_reference"))
    recognition = ""
    if day:
        recognition = f"du {_french_date(day)}" + (f" ({reference})" if reference else "")
    parts = []
    if form in RNA_FORMS + (OTHER,) and rna:
        parts.append(f"numéro RNA : {rna}")
    if form == ASSOCIATION_LOCAL:
        court, volume, folio = (_text(identity.get(n)) for n in ("register_court", "register_volume",
                                                                 "register_folio"))
        if court or volume or folio:
            parts.append(f"inscrite au registre des associations du tribunal judiciaire de {court}, "
                         f"volume {volume}, folio {folio}")
    if form in (ASSOCIATION_RUP, FONDATION_RUP) and recognition:
        parts.append(f"reconnue d'utilité publique par décret {recognition}")
    if form == FONDATION_ENTREPRISE and recognition:
        parts.append(f"autorisée par arrêté préfectoral {recognition}")
    return ", ".join(parts)


def party_text(form):
    """The legal form as the convention's parties block names it."""
    from ..models.associations import LEGAL_FORMS
    return PARTY_FORMS.get(form) or LEGAL_FORMS.get(form, form or "").lower()
