"""The wording of the decision mails of a call (retenu, liste d'attente, non retenu, irrecevable),
editable by staff per call.

A wording is plain text with {placeholders}, filled by a plain substitution (never a template
engine: what staff write is never executed). A kind that staff never edited uses DEFAULTS, the
wording of the former templates/mail/decision_*.txt and instruction_inadmissible.txt.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .. import timeutil
from ..events import record
from ..extensions import db
from ..models import CallMailTemplate
from ..models.applications import Status
from ..models.selection import OUTCOME_REJECTED, OUTCOME_SELECTED, OUTCOME_WAITLISTED
from ..money import format_euros
from ..textrules import header_text

# The kinds: the three outcomes of a decision, and the inadmissibility of a file.
SELECTED, WAITLISTED, REJECTED = OUTCOME_SELECTED, OUTCOME_WAITLISTED, OUTCOME_REJECTED
INADMISSIBLE = str(Status.INADMISSIBLE)
KINDS = {SELECTED: "Projet retenu", WAITLISTED: "Liste d'attente", REJECTED: "Projet non retenu",
         INADMISSIBLE: "Dossier irrecevable"}

# placeholder -> what it becomes (shown on the staff page)
PLACEHOLDERS = {
    "association": "le nom de l'association",
    "reference": "la référence du dossier (par exemple 1J1M-2025-0042)",
    "projet": "l'intitulé du projet",
    "appel": "le titre de l'appel à projets",
    "montant": "le montant accordé, en euros (projet retenu ; vide sinon)",
    "repartition": "pour un appel pluriannuel, le montant de chaque année, une ligne par année (vide sinon)",
    "convention": "« annuelle » ou « pluriannuelle d'objectifs » selon la durée de l'appel",
    "motif": "le motif de la décision ou de l'irrecevabilité, tel que saisi sur le dossier",
    "lien": "l'adresse du dossier dans AAP",
    "delai_compte_rendu": "le délai de remise des comptes rendus annuels après la fin de chaque exercice, réglé "
                          "sur l'appel (par exemple « les six mois »)",
}
PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")
SUBJECT_MAX, BODY_MAX = 255, 20_000

SIGNATURE = """
--
L'équipe AAP « 1 jeune 1 mentor »
Direction de la jeunesse, de l'éducation populaire et de la vie associative (DJEPVA)
Ceci est un message automatique : merci de ne pas y répondre directement."""

_OPENING = ("Bonjour,\n\nLe comité de sélection de l'appel à projets « {appel} » a examiné le dossier "
            "{reference} déposé par {association} (« {projet} »).\n\n")
_DECISION_SUBJECT = "Appel à projets « 1 jeune 1 mentor » : décision sur votre dossier {reference}"

DEFAULTS = {
    SELECTED: (_DECISION_SUBJECT, _OPENING + """\
Nous avons le plaisir de vous annoncer que votre projet est retenu.

Montant de la subvention accordée : {montant}.
{repartition}

Prochaines étapes :
1. La convention {convention} vous sera transmise prochainement dans AAP ; elle précise l'objet, \
la durée, le montant et le calendrier de versement de la subvention. Vérifiez d'ici là les \
coordonnées bancaires de votre association dans votre espace.
2. La subvention est versée selon l'échéancier de la convention (une avance, puis le solde après \
acceptation des justificatifs).
3. Dans {delai_compte_rendu} suivant la fin de chaque exercice, vous devrez transmettre le compte rendu \
financier (Cerfa n° 15059), le bilan d'activité au regard des indicateurs du projet et vos comptes annuels.

Vous pouvez suivre votre dossier dans votre espace : {lien}
""" + SIGNATURE),
    WAITLISTED: (_DECISION_SUBJECT, _OPENING + """\
Votre projet est inscrit sur la liste d'attente : il n'est pas retenu à ce stade, mais il pourra \
l'être si des crédits se libèrent. Nous reviendrons vers vous dès qu'une décision définitive sera prise.

{motif}

Vous pouvez suivre votre dossier dans votre espace : {lien}
""" + SIGNATURE),
    REJECTED: (_DECISION_SUBJECT, _OPENING + """\
Nous sommes au regret de vous informer que votre projet n'a pas été retenu.

Motif : {motif}

Nous vous remercions de l'intérêt que vous portez au plan « 1 jeune 1 mentor » et vous \
encourageons à candidater aux prochains appels à projets.

Vous pouvez consulter votre dossier dans votre espace : {lien}
""" + SIGNATURE),
    INADMISSIBLE: ("[{reference}] Votre dossier n'est pas recevable", """\
Bonjour,

Le dossier {reference} « {projet} » de {association}, déposé pour l'appel à projets « {appel} », \
a été déclaré irrecevable par la DJEPVA.

Motif :
{motif}

Il ne sera pas examiné par le comité d'évaluation. Pour toute question, vous pouvez écrire à la \
DJEPVA depuis la messagerie de votre dossier :
{lien}
""" + SIGNATURE),
}


@dataclass(frozen=True)
class Wording:
    kind: str
    subject: str
    body: str
    edited: bool  # False: the default wording

    @property
    def label(self):
        return KINDS[self.kind]


def unknown_placeholders(text, known=PLACEHOLDERS):
    """The {names} of `text` that are not placeholders (a typo would be sent as is); `known`: the
    placeholders of another kind of mail (aap/instruction/bulk.py)."""
    return sorted({name for name in PLACEHOLDER.findall(text or "") if name not in known})


def fill(text, values, known=PLACEHOLDERS):
    """`text` with each known {placeholder} replaced by its value (plain substitution: braces that
    are not a known placeholder stay as they are). Three blank lines or more become one (an empty
    placeholder on a line of its own leaves no hole)."""
    filled = PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")) if m.group(1) in known
                             else m.group(0), text)
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", filled)


def wordings(call):
    """{kind: Wording} of the call: staff's wording where written, else the default."""
    rows = {row.kind: row for row in db.session.scalars(
        db.select(CallMailTemplate).where(CallMailTemplate.call_id == call.id))}
    result = {}
    for kind, (subject, body) in DEFAULTS.items():
        row = rows.get(kind)
        result[kind] = (Wording(kind, row.subject, row.body, True) if row is not None
                        else Wording(kind, subject, body, False))
    return result


_NUMBERS = ("", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze")


def report_delay(months):
    """The call's delay for the yearly reports (Call.report_due_months) as the decision mails say
    it after « Dans »: « les six mois », « le mois » for one."""
    months = int(months or 6)
    if months == 1:
        return "le mois"
    return f"les {_NUMBERS[months] if months < len(_NUMBERS) else months} mois"


def values_for(call, application, association, link, decision=None, reason=""):
    """The placeholders' values for one file (and its decision)."""
    amount = repartition = ""
    if decision is not None and decision.amount_cents:
        amount = format_euros(decision.amount_cents)
        if call.years > 1 and decision.amount_per_year:
            repartition = "Répartition par année :\n" + "\n".join(
                f"  - {call.year + i} : {format_euros(cents)}" for i, cents in enumerate(decision.amount_per_year))
    if decision is not None and not reason:
        reason = decision.reason or ""
    return {"association": association.name, "reference": application.reference or "",
            "projet": application.title or "", "appel": call.title, "montant": amount,
            "repartition": repartition,
            "convention": "pluriannuelle d'objectifs" if call.years > 1 else "annuelle",
            "motif": reason.strip(), "lien": link, "delai_compte_rendu": report_delay(call.report_due_months)}


def compose(wording, values):
    """(subject, body) of one mail: the wording filled with the file's values."""
    return header_text(fill(wording.subject, values))[:SUBJECT_MAX], fill(wording.body, values)


class TemplateError(Exception):
    """A wording refused (French message), by field: {"<kind>-subject": message}."""

    def __init__(self, errors):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def check_wording(subject, body):
    """{field: French message} of what is wrong with a wording ({} when it is fine)."""
    errors = {}
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject:
        errors["subject"] = "Indiquez l'objet du courrier."
    elif len(subject) > 200:
        errors["subject"] = "L'objet ne doit pas dépasser 200 caractères."
    elif unknown_placeholders(subject):
        errors["subject"] = _unknown_message(unknown_placeholders(subject))
    if not body:
        errors["body"] = "Rédigez le texte du courrier."
    elif len(body) > BODY_MAX:
        errors["body"] = f"Le texte ne doit pas dépasser {BODY_MAX} caractères."
    elif unknown_placeholders(body):
        errors["body"] = _unknown_message(unknown_placeholders(body))
    return errors


def _unknown_message(names):
    listed = ", ".join("{" + name + "}" for name in names)
    return (f"Champ inconnu : {listed}. Les champs possibles sont listés sur cette page "
            f"(en minuscules, entre accolades).")


def save_wordings(call, actor, values):
    """Record the call's wordings ({kind: (subject, body)}); a wording equal to the default is
    stored as « default » (no row). All or nothing: TemplateError names the fields refused."""
    errors = {}
    for kind, (subject, body) in values.items():
        if kind not in KINDS:
            continue
        for name, message in check_wording(subject, body).items():
            errors[f"{kind}-{name}"] = message
    if errors:
        raise TemplateError(errors)
    rows = {row.kind: row for row in db.session.scalars(
        db.select(CallMailTemplate).where(CallMailTemplate.call_id == call.id))}
    changed = []
    for kind, (subject, body) in values.items():
        if kind not in KINDS:
            continue
        subject, body = header_text(subject.strip()), body.strip().replace("\r\n", "\n") + "\n"
        row = rows.get(kind)
        default = DEFAULTS[kind]
        if (subject, body.strip()) == (default[0], default[1].strip()):
            if row is not None:
                db.session.delete(row)
                changed.append(kind)
            continue
        if row is None:
            row = CallMailTemplate(call_id=call.id, kind=kind)
            db.session.add(row)
        elif (row.subject, row.body) == (subject, body):
            continue
        row.subject, row.body = subject, body
        row.updated_at, row.updated_by_id = timeutil.now(), actor.id
        changed.append(kind)
    if changed:
        record("mail_templates_changed", actor=actor, call_id=call.id, kinds=changed)
    db.session.commit()
    return changed
