"""The frozen record of a deposit: the snapshot of the file, its fingerprint, the stored files,
and putting a file back as it was deposited last.
"""
import hashlib
import json

from ..models import Attachment, Deposit
from ..models.applications import DEPOSIT_ORIGINAL
from . import files
from . import sections as S

IDENTITY_FIELDS = ("name", "acronym", "legal_form", "siret", "rna", "register_court", "register_volume",
                   "register_folio", "recognition_date", "recognition_reference", "address", "postal_code", "commune",
                   "departement_code", "region_code", "representative_name", "representative_function",
                   "contact_email", "phone", "creation_date", "staff_count", "volunteer_count",
                   "annual_budget_cents")


def jsonable(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def build_snapshot(application, submitted_at=None, complement=None):
    """The frozen content of a submission: every field, the association's identity (without bank
    details) and the attachments with their SHA-256. A complement's snapshot also names the
    original deposit it completes (`complement`: its time, fingerprint, the items reopened), so
    that its fingerprint binds it to that deposit."""
    from ..calls.contact import service_contact  # (the calls package imports the applications one)
    call = application.call
    association = application.association
    documents = {d.id: d for d in call.pieces}
    snapshot = {
        "format": 1,
        "reference": application.reference,
        "submitted_at": jsonable(submitted_at or application.submitted_at),
        "call": {"id": call.id, "title": call.title, "year": call.year, "years": call.years,
                 "reference_prefix": call.reference_prefix,
                 # The service in charge as the receipt names it (CRPA R112-5): a receipt rendered
                 # again later says what it said on the day of the deposit.
                 "service": service_contact(call).as_dict()},
        "association": {name: jsonable(getattr(association, name)) for name in IDENTITY_FIELDS},
        "sections": {
            section.code: {spec.name: S.value_of(application, spec)
                           for spec in S.applicable_fields(section, call)}
            for section in S.SECTIONS if section.fields
        },
        "attachments": [
            {"document_id": a.document_id,
             "document_code": documents[a.document_id].code if a.document_id in documents else None,
             "document_label": documents[a.document_id].label if a.document_id in documents else "",
             "name": a.original_name, "kind": a.kind, "size": a.size, "sha256": a.sha256}
            for a in sorted(application.attachments, key=lambda a: (a.document_id or 0, a.id))
        ],
    }
    if complement is not None:
        snapshot["complement"] = complement
    return snapshot


def canonical_json(snapshot):
    return json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def fingerprint(snapshot):
    return hashlib.sha256(canonical_json(snapshot)).hexdigest()


def original_deposit(application):
    """The file's original deposit (its proof of an on-time deposit), None before any."""
    return application.deposits[0] if application.deposits else None


def stored_files(application):
    """The attachment rows of the file as they are now, with their stored names (see Deposit)."""
    return [{"document_id": a.document_id, "original_name": a.original_name, "stored_name": a.stored_name,
             "kind": a.kind, "content_type": a.content_type, "size": a.size, "sha256": a.sha256,
             "uploaded_by_id": a.uploaded_by_id, "uploaded_at": jsonable(a.uploaded_at)}
            for a in sorted(application.attachments, key=lambda a: (a.document_id or 0, a.id))]


def record_original_deposit(application, user=None):
    """The original Deposit of a file from its current fields (time, snapshot, fingerprint): for a
    file deposited before deposits were recorded (the demo builds its files this way too)."""
    deposit = Deposit(number=1, kind=DEPOSIT_ORIGINAL, submitted_at=application.submitted_at,
                      submitted_by=user, snapshot=application.snapshot,
                      fingerprint=application.fingerprint, stored_files=stored_files(application))
    application.deposits.append(deposit)
    return deposit


def deposited_stored_names(application):
    """Stored names of the files some deposit holds: never removed from the disk (the proof, and
    what a cancelled request for pieces restores)."""
    return {f.get("stored_name") for d in application.deposits for f in (d.stored_files or [])}


def restore_last_deposit(application):
    """Put the file's content back as it was deposited last (fields and attachment rows), undoing
    what the association changed during a request for pieces that staff cancelled. No commit.
    Returns the stored names of the files added meanwhile (to remove from the disk after commit)."""
    deposit = application.deposits[-1]
    for section in S.SECTIONS:
        values = deposit.snapshot.get("sections", {}).get(section.code, {})
        for spec in S.applicable_fields(section, application.call):
            if spec.name in values:
                setattr(application, spec.name, values[spec.name])
    kept = {f["stored_name"]: f for f in deposit.stored_files or []}
    current = {a.stored_name: a for a in application.attachments}
    deposited = deposited_stored_names(application)
    removed = []
    for name, attachment in current.items():
        if name not in kept:
            application.attachments.remove(attachment)
            if name not in deposited:
                removed.append(name)
    from datetime import datetime
    for name, f in kept.items():
        if name not in current and files.path_of(name).exists():
            uploaded_at = datetime.fromisoformat(f["uploaded_at"]) if f.get("uploaded_at") else None
            application.attachments.append(Attachment(
                document_id=f["document_id"], original_name=f["original_name"], stored_name=name, kind=f["kind"],
                content_type=f["content_type"], size=f["size"], sha256=f["sha256"],
                uploaded_by_id=f.get("uploaded_by_id"), uploaded_at=uploaded_at))
    application.version += 1
    return removed
