"""The receipt of a deposit (« accusé de réception »): the PDF proof of what was deposited and
when, rendered from the deposit's frozen snapshot, attached to the confirmation e-mail and
downloadable from the file."""
from .. import events, timeutil
from ..applications.attachments import size_label
from ..applications.deposits import original_deposit
from ..database import writing
from ..extensions import db
from ..models import Deposit
from . import legal_mentions
from .pdf import render_pdf


def receipt_attachment(deposit):
    """The outbox attachment of the confirmation e-mail: a reference to the deposit's receipt,
    rendered when the e-mail is built (render_receipt_attachment) from the frozen snapshot. The
    submission's transaction then holds no PDF rendering (0.3 to 4 s): on SQLite other submissions
    would wait for the write lock meanwhile, on PostgreSQL for the lock of the call's counter."""
    return {"kind": "receipt", "application_id": deposit.application_id, "deposit_id": deposit.id,
            "fingerprint": deposit.fingerprint, "filename": deposit.filename, "content_type": "application/pdf"}


def render_receipt_attachment(item):
    """Bytes of an outbox attachment made by receipt_attachment (registered for aap/mail.build_email
    by aap/documents/__init__.py): the receipt of the deposit it names (an e-mail queued before
    deposits existed: the original one)."""
    deposit = db.session.get(Deposit, item["deposit_id"]) if item.get("deposit_id") else None
    if deposit is None:
        deposit = db.session.scalar(db.select(Deposit).where(
            Deposit.application_id == item["application_id"]).order_by(Deposit.number).limit(1))
    if deposit is None:
        raise LookupError(f"no deposit of application {item['application_id']} for its receipt")
    return receipt_pdf(deposit)


def _moment(value):
    """(« 3 mars 2026 à 14:32:07 », « +01:00 ») of a stored time, in Paris time."""
    local = timeutil.to_paris(value)
    return (f"{timeutil.format_date(local.date())} à {local:%H:%M:%S}",
            local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:])


def receipt_context(deposit):
    """What a deposit's receipt shows: its own time and fingerprint; a complement's also names
    the original deposit (reference, time, fingerprint) and the items it completes."""
    application = deposit.application
    snapshot = deposit.snapshot or {}
    submitted_label, submitted_offset = _moment(deposit.submitted_at)
    context = {
        "snapshot": snapshot, "application": application, "deposit": deposit,
        "fingerprint": deposit.fingerprint, "reference": snapshot.get("reference") or application.reference,
        "submitted_label": submitted_label, "submitted_offset": submitted_offset,
        "size_label": size_label, "original": None,
    }
    context.update(crpa_mentions(deposit))
    if not deposit.is_original:
        original = original_deposit(application)
        from ..instruction.services import item_labels
        context["original"] = original
        context["original_label"], context["original_offset"] = _moment(original.submitted_at)
        context["completed_labels"] = item_labels((snapshot.get("complement") or {}).get("items", []),
                                                  call=application.call)
    return context


def service_of(deposit):
    """The service in charge as the deposit's snapshot froze it (a deposit made before the snapshot
    held it: the call's current setting)."""
    from ..calls.contact import from_dict, service_contact  # (the calls package imports this one)
    frozen = ((deposit.snapshot or {}).get("call") or {}).get("service")
    return from_dict(frozen) if frozen else service_contact(deposit.application.call)


def crpa_mentions(deposit):
    """The mentions an accusé de réception must carry (CRPA L112-3 and R112-5; the texts:
    aap/documents/legal_mentions.py): the date of receipt (the deposit's, or the complement's, Paris
    date), the date of the implicit rejection two months later (L231-4 3°, L114-5), the service in
    charge, and the routes and time limits of appeal against the implicit rejection."""
    received = timeutil.to_paris(deposit.submitted_at).date()
    contact = service_of(deposit)
    return {
        "received_label": timeutil.format_date(received),
        "deemed_rejection_label": timeutil.format_date(legal_mentions.deemed_rejection_date(received)),
        "implicit_rejection_text": legal_mentions.RECEIPT_IMPLICIT_REJECTION,
        "complete_file_text": (legal_mentions.RECEIPT_COMPLETE_FILE if deposit.is_original
                               else legal_mentions.RECEIPT_COMPLEMENT_COMPLETE_FILE),
        "service": contact,
        "appeal_routes": legal_mentions.receipt_appeal_routes(contact),
    }


def receipt_pdf(deposit):
    template = "receipt.html" if deposit.is_original else "receipt_complement.html"
    return render_pdf(template, **receipt_context(deposit))


def record_receipt_download(deposit, user):
    with writing():
        events.record("receipt_downloaded", actor=user, application=deposit.application,
                      reference=deposit.application.reference, deposit_number=deposit.number)
        db.session.commit()
