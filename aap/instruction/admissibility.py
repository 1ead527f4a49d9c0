"""The admissibility checklist of a deposited file: the call's conditions, computed.

`checklist()` is a pure function of plain values (tested on its own); `for_application()`
gathers those values from a file: the pieces attached, the association's identity as deposited
(the snapshot of the last deposit, else the association's current identity), the amount
requested, the time of the original deposit. Staff confirm the checklist when every condition
is met, or override a failing condition with a reason (instruction.services.mark_admissible).
"""
from dataclasses import dataclass

from .. import timeutil
from ..associations import legal
from ..models.associations import LEGAL_FORMS
from ..money import format_euros
from ..validators import clean_siret

# The structures the calls of the plan fund: associations (loi 1901, Alsace-Moselle, reconnues
# d'utilité publique) and foundations (« associations loi 1901 et fondations » in the calls'
# text). Any other structure needs staff to check its general-interest status: an override.
ELIGIBLE_LEGAL_FORMS = frozenset({"association_1901", "association_1908", "association_rup", "fondation",
                                  "fondation_entreprise"})

PIECES, IDENTITY, LEGAL_FORM, AMOUNT, ON_TIME = "pieces", "identity", "legal_form", "amount", "on_time"
LABELS = {
    PIECES: "Pièces obligatoires jointes",
    IDENTITY: "Identité complète (SIRET, identifiant de la forme juridique, adresse, représentant légal)",
    LEGAL_FORM: "Forme juridique éligible",
    AMOUNT: "Montant demandé dans les limites de l'appel",
    ON_TIME: "Dossier déposé dans les délais",
}
CODES = tuple(LABELS)


@dataclass(frozen=True)
class Condition:
    code: str
    label: str
    ok: bool
    detail: str  # what was found: what is missing, or what satisfies the condition


def _identity_problems(identity):
    problems = []
    try:
        clean_siret(identity.get("siret"))
    except ValueError:
        problems.append("SIRET " + ("invalide" if identity.get("siret") else "absent"))
    # The identifier of the legal form (RNA, register of the tribunal judiciaire, decree, arrêté).
    missing = dict(legal.missing(identity))
    wrong = legal.problems(identity)
    if "rna" in missing or "rna" in wrong:
        problems.append("RNA " + ("invalide" if identity.get("rna") else "absent"))
    if any(name.startswith("register_") for name in [*missing, *wrong]):
        problems.append("inscription au registre des associations (tribunal, volume, folio) incomplète")
    if any(name.startswith("recognition_") for name in [*missing, *wrong]):
        problems.append("autorisation préfectorale (date et référence) non renseignée"
                        if identity.get("legal_form") == legal.FONDATION_ENTREPRISE
                        else "décret de reconnaissance d'utilité publique non renseigné")
    address = [identity.get(name) for name in ("address", "postal_code", "commune")]
    if not all(address):
        problems.append("adresse du siège incomplète")
    if not (identity.get("representative_name") and identity.get("representative_function")):
        problems.append("représentant légal (nom et fonction) non renseigné")
    return problems


def checklist(*, documents, present_document_ids, identity, requested_cents, min_cents, max_cents,
              submitted_at, closes_at, eligible_forms=ELIGIBLE_LEGAL_FORMS):
    """The conditions, in a fixed order (CODES), each met or not with what was found.

    documents: [(id, label, mandatory)] of the call; present_document_ids: the ids of the call's
    documents the file has a piece for; identity: {siret, rna, address, postal_code, commune,
    representative_name, representative_function, legal_form}; min_cents, max_cents: the call's
    bounds of the amount requested (0 or None: no bound); submitted_at, closes_at: the original
    deposit and the call's deadline."""
    present = set(present_document_ids)
    missing = [label for document_id, label, mandatory in documents if mandatory and document_id not in present]
    mandatory_count = sum(1 for _, _, mandatory in documents if mandatory)
    pieces = Condition(PIECES, LABELS[PIECES], not missing,
                       "Manquante" + ("s" if len(missing) > 1 else "") + " : " + " ; ".join(missing) if missing
                       else "L'appel ne demande aucune pièce obligatoire" if not mandatory_count
                       else "La pièce obligatoire est jointe" if mandatory_count == 1
                       else f"Les {mandatory_count} pièces obligatoires sont jointes")

    problems = _identity_problems(identity)
    identity_ok = Condition(IDENTITY, LABELS[IDENTITY], not problems,
                            _sentence(" ; ".join(problems)) if problems
                            else f"SIRET {identity.get('siret')}, {legal.identifier_text(identity)}, représenté par "
                                 f"{identity.get('representative_name')} ({identity.get('representative_function')})")

    form = identity.get("legal_form") or ""
    form_label = LEGAL_FORMS.get(form, form) or "non renseignée"
    legal_form = Condition(LEGAL_FORM, LABELS[LEGAL_FORM], form in eligible_forms,
                           form_label if form in eligible_forms
                           else f"{_sentence(form_label)} : hors des structures éligibles de l'appel "
                                "(associations et fondations)")

    low, high = min_cents or 0, max_cents or 0
    bounds = _bounds(low, high)
    if requested_cents is None:
        amount = Condition(AMOUNT, LABELS[AMOUNT], False, "Aucun montant demandé")
    elif (low and requested_cents < low) or (high and requested_cents > high):
        amount = Condition(AMOUNT, LABELS[AMOUNT], False,
                           f"{format_euros(requested_cents)} demandés, hors des limites de l'appel ({bounds})")
    else:
        amount = Condition(AMOUNT, LABELS[AMOUNT], True,
                           f"{format_euros(requested_cents)} demandés" + (f" ({bounds})" if bounds else ""))

    if submitted_at is None:
        on_time = Condition(ON_TIME, LABELS[ON_TIME], False, "Date de dépôt inconnue")
    else:
        deposited = f"Déposé le {timeutil.format_datetime(submitted_at)}"
        limit = f"date limite : {timeutil.format_datetime(closes_at)}"
        on_time = Condition(ON_TIME, LABELS[ON_TIME], submitted_at <= closes_at,
                            f"{deposited} ({limit})" if submitted_at <= closes_at
                            else f"{deposited}, après la {limit}")
    return [pieces, identity_ok, legal_form, amount, on_time]


def _sentence(text):
    return text[:1].upper() + text[1:]


def _bounds(low, high):
    if low and high:
        return f"de {format_euros(low)} à {format_euros(high)}"
    if low:
        return f"au moins {format_euros(low)}"
    if high:
        return f"au plus {format_euros(high)}"
    return ""


IDENTITY_NAMES = ("legal_form", "siret", *legal.FIELDS, "address", "postal_code", "commune", "representative_name",
                  "representative_function")


def for_application(application):
    """The checklist of a deposited file."""
    call = application.call
    deposited = (application.snapshot or {}).get("association")
    source = deposited if isinstance(deposited, dict) else None
    identity = {name: (source.get(name) if source is not None else getattr(application.association, name))
                for name in IDENTITY_NAMES}
    return checklist(
        documents=[(d.id, d.label, d.mandatory) for d in call.pieces],
        present_document_ids={a.document_id for a in application.attachments},
        identity=identity, requested_cents=application.requested_cents,
        min_cents=call.min_amount_cents, max_cents=call.max_amount_cents,
        submitted_at=application.submitted_at, closes_at=call.closes_at)


def failing(conditions):
    return [condition for condition in conditions if not condition.ok]
