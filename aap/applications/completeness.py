"""What still prevents a file from being deposited, in the order of the form."""
from dataclasses import dataclass

from ..associations.services import identity_missing
from ..models.applications import INCOMPLETE
from . import budget
from . import sections as S


@dataclass
class MissingItem:
    label: str
    section: str | None = None   # section code of the form
    field: str | None = None     # field name (or "doc:<id>") to point at
    url: str | None = None       # a link elsewhere (association identity)


def identity_items(association):
    return [MissingItem(f"Identité de l'association : {label}", url=url)
            for label, url in identity_missing(association)]


def _euros(cents):
    from ..money import format_euros
    return format_euros(cents)


def missing_items(application):
    """Everything that prevents the submission, in the order of the form.

    A complement (a file reopened by a request for pieces) counts only what was reopened: the
    sections listed, the pieces listed (each one asked for must be there, mandatory or not), and
    neither the other sections nor the association's identity, which the association cannot change
    in this file and which were accepted at the original deposit."""
    if application.status == INCOMPLETE:
        return _missing_reopened(application)
    return _missing_all(application)


def _missing_reopened(application):
    reopened = set(application.reopened_sections or [])
    items = []
    for item in _missing_all(application, identity=False):
        if item.field and item.field.startswith("doc:"):
            if "pieces" in reopened or item.field in reopened:
                items.append(item)
        elif item.section in reopened:
            items.append(item)
    present = {a.document_id for a in application.attachments}
    for document in application.call.pieces:
        if not document.mandatory and f"doc:{document.id}" in reopened and document.id not in present:
            items.append(MissingItem(f"Pièce jointe demandée : {document.label}", "pieces", f"doc:{document.id}"))
    return items


def _missing_all(application, identity=True):
    call = application.call
    items = []
    for section in S.SECTIONS:
        for spec in S.applicable_fields(section, call):
            if not spec.mandatory:
                continue
            if spec.name == "departements" and application.scope == "national":
                continue
            if not S.is_filled(application, spec):
                items.append(MissingItem(f"{section.title} : {spec.label}", section.code, spec.name))
        if section.code == "jeunes":
            if (application.age_min is not None and application.age_max is not None
                    and application.age_min > application.age_max):
                items.append(MissingItem("Les jeunes accompagnés : l'âge minimum dépasse l'âge maximum",
                                         section.code, "age_max"))
            if S.shares_over_100(application.share_qpv, application.share_zrr):
                items.append(MissingItem("Les jeunes accompagnés : les parts des quartiers prioritaires et des "
                                         "zones rurales dépassent 100 %", section.code, "share_zrr"))
        if section.code == "budget":
            items += _budget_problems(application, call)
        if section.code == "pieces":
            present = {a.document_id for a in application.attachments}
            for document in call.pieces:
                if document.mandatory and document.id not in present:
                    items.append(MissingItem(f"Pièce jointe : {document.label}", "pieces", f"doc:{document.id}"))
    from .reuse import (
        review_items,  # the sections taken from an earlier application, not reviewed yet
    )
    items[:0] = review_items(application)
    if identity:
        items += identity_items(application.association)
    return items


def _budget_problems(application, call):
    """The budget's coherence (aap/applications/budget.problems), each pointing at its field."""
    return [MissingItem(problem.item, "budget", problem.anchor)
            for problem in budget.problems(S.value_of(application, S.FIELD_BY_NAME["budget"]), call.years,
                                           call.year, call.min_amount_cents, call.max_amount_cents)]
