"""The six sections of the application form, defined once.

The forms, the read-only view, the completeness check, the snapshot and the conflict
detection all read these definitions, so that a field added here shows up everywhere.
"""
import hashlib
import json
from dataclasses import dataclass, field

from .. import money, numbers, referentiel
from ..models.applications import SCOPES
from . import budget as B


@dataclass(frozen=True)
class FieldSpec:
    name: str          # the model attribute (and the form field, except for composite kinds)
    label: str
    kind: str          # text, textarea, int, share, months, age, money, scope, departements, budget
    mandatory: bool = True
    hint: str = ""


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    short: str
    fields: tuple = field(default_factory=tuple)
    intro: str = ""


PROJECT = Section("projet", "Le projet", "Projet", (
    FieldSpec("title", "Titre du projet", "text"),
    FieldSpec("summary", "Résumé du projet", "textarea",
              hint="Dix lignes au plus : c'est ce que les évaluateurs liront en premier."),
    FieldSpec("objectives", "Objectifs", "textarea"),
    FieldSpec("mentoring_forms", "Formes de mentorat proposées", "textarea",
              hint="Individuel, collectif, en entreprise, à distance…"),
    FieldSpec("mentoring_duration_months", "Durée de l'accompagnement (en mois)", "months",
              hint="Au moins 6 mois."),
    FieldSpec("mentor_recruitment", "Recrutement des mentors", "textarea"),
    FieldSpec("mentor_training", "Formation des mentors", "textarea"),
    FieldSpec("mentor_follow_up", "Suivi des binômes et des mentors", "textarea"),
    FieldSpec("partners", "Partenaires du projet", "textarea", mandatory=False,
              hint="Facultatif : missions locales, entreprises, collectivités…"),
))

YOUNG = Section("jeunes", "Les jeunes accompagnés", "Jeunes", (
    FieldSpec("young_count", "Nombre de jeunes mentorés par an", "int"),
    FieldSpec("mentor_count", "Nombre de mentors par an", "int"),
    FieldSpec("share_qpv", "Part des jeunes issus des quartiers prioritaires (QPV), en %", "share"),
    FieldSpec("share_zrr", "Part des jeunes résidant en zone France Ruralités Revitalisation (FRR, ex-ZRR), en %",
              "share"),
    FieldSpec("share_ase", "Part des jeunes relevant de l'aide sociale à l'enfance (ASE), en %", "share"),
    FieldSpec("share_disability", "Part des jeunes en situation de handicap, en %", "share"),
    FieldSpec("share_dropout", "Part des jeunes sortis du système scolaire ou de formation, en %", "share"),
    FieldSpec("age_min", "Âge minimum des jeunes", "age"),
    FieldSpec("age_max", "Âge maximum des jeunes", "age"),
))

# Quartiers prioritaires (QPV) and rural zones do not overlap: their shares add up to 100 % at most.
SHARES_OVER_100 = ("Les parts des jeunes des quartiers prioritaires et des zones rurales ne peuvent pas dépasser "
                   "100 % à elles deux : un jeune vit dans l'une ou l'autre de ces zones.")


def shares_over_100(share_qpv, share_rural):
    return share_qpv is not None and share_rural is not None and share_qpv + share_rural > 100


TERRITORIES = Section("territoires", "Les territoires", "Territoires", (
    FieldSpec("scope", "Échelle du projet", "scope"),
    FieldSpec("departements", "Départements couverts", "departements",
              hint="Au moins un département, sauf pour un projet national."),
))

# The budget is one field: the table of Cerfa 12156's « Budget du projet », one cell per year and
# line (aap/applications/budget.py). The amount requested, its split per year, the total cost
# and the co-funders are derived from it (budget.derived), never typed apart.
BUDGET = Section("budget", "Le budget", "Budget", (
    FieldSpec("budget", "Budget du projet", "budget"),
    FieldSpec("budget_comment", "Précisions sur le budget", "textarea", mandatory=False,
              hint="Facultatif : les financeurs sollicités (quels ministères, quelles communes…), ceux qui ont "
                   "déjà accordé leur aide, la nature des contributions en nature."),
))

ATTACHMENTS = Section("pieces", "Les pièces jointes", "Pièces", (),
                      intro="Formats acceptés : PDF, JPEG, PNG, ODT, DOCX, ODS, XLSX.")

ATTESTATION = Section("attestation", "Attestation sur l'honneur et dépôt", "Attestation", (
    FieldSpec("attestation_name", "Nom et prénom du représentant légal qui atteste", "text"),
))

SECTIONS = (PROJECT, YOUNG, TERRITORIES, BUDGET, ATTACHMENTS, ATTESTATION)
SECTION_CODES = tuple(s.code for s in SECTIONS)
BY_CODE = {s.code: s for s in SECTIONS}
FIELD_BY_NAME = {f.name: f for s in SECTIONS for f in s.fields}
SECTION_OF_FIELD = {f.name: s.code for s in SECTIONS for f in s.fields}


def applicable_fields(section, call):
    """The fields of a section for this call (the per-year split only for multi-year calls)."""
    return [f for f in section.fields if f.kind != "per_year" or call.years > 1]


def position(code):
    return SECTION_CODES.index(code) + 1


def next_code(code):
    index = SECTION_CODES.index(code)
    return SECTION_CODES[index + 1] if index + 1 < len(SECTION_CODES) else None


def reopen_choices(call):
    """What staff may reopen on an incomplete file: [(code, label)], sections then documents."""
    choices = [(s.code, f"Section « {s.title} »") for s in SECTIONS if s.code not in ("pieces", "attestation")]
    choices.append(("pieces", "Toutes les pièces jointes"))
    choices += [(f"doc:{d.id}", f"Pièce « {d.label} »") for d in call.pieces]
    return choices


# ---------------------------------------------------------------------------------------------
# Values: normalised Python values, text for the forms, text for reading.

def empty(value):
    return value is None or value == "" or value == [] or value == {} or (
        isinstance(value, dict) and B.is_empty(value))


def value_of(application, spec):
    value = getattr(application, spec.name)
    if spec.kind in ("text", "textarea"):
        return value or ""
    if spec.kind == "departements":
        return list(value or [])
    if spec.kind == "budget":
        return B.clean(value, application.call.years)
    return value


def is_filled(application, spec):
    value = value_of(application, spec)
    if spec.kind == "text" or spec.kind == "textarea":
        return value.strip() != ""
    if spec.kind == "budget":
        return not B.is_empty(value)   # what a filled budget must also satisfy: budget.problems()
    return not empty(value)


def departement_label(code):
    departement = referentiel.DEPARTEMENT_BY_CODE.get(code)
    return f"{code} – {departement.name}" if departement else code


def display(spec, value):
    """A value as read by a person (read-only view, conflict messages)."""
    if empty(value):
        return ""
    kind = spec.kind
    if kind in ("money",):
        return money.format_euros(value)
    if kind == "int":
        return f"{value:,}".replace(",", "\u202f")  # 1 500 (narrow no-break space)
    if kind == "share":
        return f"{numbers.format_decimal(value)}\u00a0%"
    if kind == "months":
        return f"{numbers.format_decimal(value)}\u00a0mois"
    if kind == "age":
        return f"{value} ans"
    if kind == "scope":
        return SCOPES.get(value, value)
    if kind == "departements":
        return ", ".join(departement_label(code) for code in value)
    if kind == "budget":
        return B.summary_text(value, len(value) or 1, None)
    return str(value)


def rows(application, section):
    """[(spec, display text)] of a section, for the read-only view."""
    return [(spec, display(spec, value_of(application, spec)))
            for spec in applicable_fields(section, application.call)]


# ---------------------------------------------------------------------------------------------
# Three-way merge of drafts: the value a page loaded, the value it sends, the value stored.

def normal(spec, value):
    """A field's value in one canonical form, so that a value that went through a form and back
    (text trimmed, départements sorted, empty co-funding lines dropped, 40.0 == 40) compares
    equal to the stored one."""
    kind = spec.kind
    if kind in ("text", "textarea"):
        return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if kind == "departements":
        return sorted(set(value or []), key=referentiel.departement_sort_key)
    if kind == "cofunding":
        lines = []
        for line in value or []:
            line = {"funder": (line.get("funder") or "").strip(), "amount_cents": line.get("amount_cents"),
                    "status": line.get("status") or None}
            if line["funder"] or line["amount_cents"] is not None or line["status"]:
                lines.append(line)
        return lines
    if kind == "per_year":
        values = list(value or [])
        return [] if all(v is None for v in values) else values
    if kind == "share":
        return numbers.plain(value)
    if kind == "scope":
        return value or None
    return value


def digest(spec, value):
    """A short fingerprint of a field's value: what a page sends back to say « I loaded this »
    without sending the text twice (aap/applications/drafts.save_section)."""
    text = json.dumps(normal(spec, value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
