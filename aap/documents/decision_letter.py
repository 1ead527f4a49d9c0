"""The decision letter (« lettre de décision »), PDF: one per published decision — selected, waiting
list, not retained — and per file declared inadmissible. It states the decision and its reasons,
the amount and its split per year with the next steps for a winner, the service in charge
(aap/calls/contact.py), the signatory (the call's convention texts: aap/documents/convention_texts.py)
and the routes and time limits of appeal (aap/documents/legal_mentions.py, which names the texts).

Read by the association's members and staff at /candidatures/<id>/decision.pdf, and attached to
the decision mail (rendered when the mail is built: render_letter_attachment, registered in
aap/documents/__init__.py). A draft decision has no letter."""
from .. import timeutil
from ..calls.contact import service_contact
from ..extensions import db
from ..models import Application, Event
from ..models.applications import INADMISSIBLE
from ..models.selection import OUTCOME_REJECTED, OUTCOME_SELECTED, OUTCOME_WAITLISTED
from . import legal_mentions
from .convention_texts import convention_texts
from .pdf import render_pdf

KIND_INADMISSIBLE = INADMISSIBLE.value  # the letter of a file declared inadmissible
TITLES = {
    OUTCOME_SELECTED: "Décision d'attribution de subvention",
    OUTCOME_WAITLISTED: "Décision d'inscription sur la liste d'attente",
    OUTCOME_REJECTED: "Décision de refus de subvention",
    KIND_INADMISSIBLE: "Décision d'irrecevabilité",
}


def inadmissibility(application):
    """The event that declared the file inadmissible (its time and reason), None for another file."""
    if application.status != INADMISSIBLE:
        return None
    return db.session.scalar(db.select(Event).where(
        Event.application_id == application.id, Event.to_state == INADMISSIBLE)
        .order_by(Event.at.desc(), Event.id.desc()).limit(1))


def letter_kind(application):
    """What the letter of this file says (selected, waitlisted, rejected, inadmissible); None when the
    file has no notified decision (no decision, or a draft one)."""
    if application.status == INADMISSIBLE:
        return KIND_INADMISSIBLE
    decision = application.decision
    if decision is not None and decision.published_at is not None:
        return decision.outcome
    return None


def filename(application):
    return f"decision-{application.reference or application.id}.pdf"


def letter_context(application):
    call, association, decision = application.call, application.association, application.decision
    kind = letter_kind(application)
    if kind is None:
        raise LookupError(f"application {application.id} has no notified decision")
    event = inadmissibility(application) if kind == KIND_INADMISSIBLE else None
    notified_at = event.at if event is not None else decision.published_at
    texts = convention_texts(call.convention_texts or {}, call.year)
    contact = service_contact(call)
    amount = per_year = None
    reduced_from = None
    if kind == OUTCOME_SELECTED:
        amount = decision.amount_cents or 0
        if call.years > 1 and decision.amount_per_year:
            per_year = [(call.year + i, cents) for i, cents in enumerate(decision.amount_per_year)]
        requested = application.requested_cents or 0
        reduced_from = requested if requested > amount else None
    reason = (event.reason if event is not None else decision.reason) or ""
    address = [line for line in (association.address, " ".join(
        part for part in (association.postal_code, association.commune) if part)) if line]
    return {
        "kind": kind, "title": TITLES[kind], "application": application, "call": call,
        "association": association, "association_address": address, "decision": decision,
        "reference": application.reference or "", "project": application.title or "",
        "submitted_label": timeutil.format_date(application.submitted_at) if application.submitted_at else "",
        "notified_label": timeutil.format_date(notified_at), "amount": amount, "per_year": per_year,
        "reduced_from": reduced_from, "reason": reason.strip(),
        "amended": kind != KIND_INADMISSIBLE and (decision.version or 1) > 1,
        "change_label": decision.change_label if decision is not None and kind != KIND_INADMISSIBLE else "",
        "convention_label": "pluriannuelle d'objectifs" if call.years > 1 else "annuelle",
        "signatory_name": texts["signatory_name"], "signatory_title": texts["signatory_title"],
        "service": contact, "appeal_routes": legal_mentions.decision_appeal_routes(contact),
    }


def decision_letter_pdf(application):
    return render_pdf("decision_letter.html", **letter_context(application))


def letter_attachment(application):
    """The outbox attachment of a decision mail: a reference to the file's letter, rendered when the
    e-mail is built (render_letter_attachment), out of the sending transaction."""
    return {"kind": "decision_letter", "application_id": application.id, "filename": filename(application),
            "content_type": "application/pdf"}


def render_letter_attachment(item):
    """Bytes of an outbox attachment made by letter_attachment (aap/mail.build_email)."""
    application = db.session.get(Application, item["application_id"])
    if application is None:
        raise LookupError(f"no application {item['application_id']} for its decision letter")
    return decision_letter_pdf(application)
