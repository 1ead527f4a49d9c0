"""The association's application: drafts, attachments, submission, withdrawal.

The only place that changes applications on behalf of associations. Knows nothing of HTTP;
every function commits (or rolls back entirely) and records its events.
"""
import hashlib
import json
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy.orm import joinedload

from .. import events, timeutil
from ..database import writing
from ..extensions import db
from ..mail import queue_mail
from ..models import Application, Attachment, Call, Event, PieceRequest
from ..models.applications import DRAFT, EDITABLE_STATES, INCOMPLETE, SUBMITTED, WITHDRAWN
from ..calls.services import is_open as call_is_open
from ..models.calls import CALL_PUBLISHED
from . import files
from . import sections as S

WITHDRAWABLE = {"submitted", "incomplete", "admissible", "in_review"}


class ApplicationError(Exception):
    """A refusal with a French message for the user."""

    def __init__(self, message, missing=None):
        super().__init__(message)
        self.message = message
        self.missing = missing or []


class NotEditable(ApplicationError):
    pass


class SubmissionError(ApplicationError):
    pass


class AttachmentError(ApplicationError):
    pass


# ---------------------------------------------------------------------------------------------
# Starting, deadlines, what may be edited

def start_application(call, user):
    """The association's application to this call: (application, created)."""
    if user.association_id is None:
        raise ApplicationError("Votre compte n'est rattaché à aucune association.")
    existing = db.session.scalar(db.select(Application).where(
        Application.call_id == call.id, Application.association_id == user.association_id))
    if existing is not None:
        return existing, False
    if not call_is_open(call):
        raise ApplicationError("Cet appel à projets n'est pas ouvert aux candidatures.")
    application = Application(call=call, association_id=user.association_id, status=DRAFT,
                              created_by_id=user.id, updated_by_id=user.id,
                              departements=[], cofunding=[], requested_per_year=[], reopened_sections=[])
    db.session.add(application)
    db.session.flush()
    events.record("application_created", actor=user, application=application)
    db.session.commit()
    return application, True


def latest_piece_request(application):
    return db.session.scalar(
        db.select(PieceRequest).where(PieceRequest.application_id == application.id)
        .order_by(PieceRequest.created_at.desc(), PieceRequest.id.desc()).limit(1))


def submission_deadline(application):
    """Until when the association may edit and (re)submit: the call's deadline for a draft,
    the latest request's due date for an incomplete file."""
    if application.status == INCOMPLETE:
        request = latest_piece_request(application)
        if request is not None:
            return request.due_at
    return application.call.closes_at


def closed_reason(application, now=None):
    """Why the association may not change nor (re)submit this file now, in French; None when it may.

    The one rule of every write path of an association (save, autosave, upload, delete, submit):
    a draft follows its call (published, between its opening and its deadline; a call closed early
    by staff is closed), a file reopened by a request for missing pieces follows that request's own
    due date, whatever the call's state.
    """
    now = now or timeutil.now()
    if application.status not in EDITABLE_STATES:
        return "Ce dossier a été déposé : il n'est plus modifiable."
    deadline = submission_deadline(application)
    if application.status == DRAFT:
        call = application.call
        if call.status != CALL_PUBLISHED:
            return "L'appel à projets est clos : ce brouillon reste consultable mais ne peut plus être modifié ni déposé."
        if now < call.opens_at:
            return (f"Le dépôt des candidatures ouvrira le {timeutil.format_datetime(call.opens_at)} "
                    "(heure de Paris).")
    if now > deadline:
        if application.status == INCOMPLETE:
            return (f"La date limite de dépôt est dépassée ({timeutil.format_datetime(deadline)}, heure de Paris) : "
                    "le délai pour compléter le dossier est passé, il ne peut plus être modifié.")
        return (f"La date limite de dépôt est dépassée ({timeutil.format_datetime(deadline)}, heure de Paris) : "
                "ce brouillon reste consultable mais ne peut plus être modifié ni déposé.")
    return None


def is_open_for_edit(application, now=None):
    return closed_reason(application, now) is None


def editable_sections(application, now=None):
    """The section codes the association may change now."""
    if not is_open_for_edit(application, now):
        return set()
    if application.status == DRAFT:
        return set(S.SECTION_CODES)
    reopened = set(application.reopened_sections or [])
    codes = {code for code in S.SECTION_CODES if code in reopened}
    if any(item.startswith("doc:") for item in reopened):
        codes.add("pieces")
    return codes


def document_editable(application, document_id, now=None):
    if "pieces" not in editable_sections(application, now):
        return False
    if application.status == DRAFT:
        return True
    reopened = set(application.reopened_sections or [])
    return "pieces" in reopened or f"doc:{document_id}" in reopened


# ---------------------------------------------------------------------------------------------
# Drafts

@dataclass
class Conflict:
    spec: S.FieldSpec
    theirs: object
    yours: object
    by: str = ""

    @property
    def theirs_text(self):
        return S.display(self.spec, self.theirs)

    @property
    def yours_text(self):
        return S.display(self.spec, self.yours)


@dataclass
class SaveResult:
    saved: bool
    version: int
    changed: list = field(default_factory=list)
    conflicts: dict = field(default_factory=dict)
    saved_at: object = None

    @property
    def conflict(self):
        return bool(self.conflicts)


def _lock(model, instance):
    """Re-read a row, locked for update on PostgreSQL (SQLite already holds the write lock)."""
    return db.session.execute(
        db.select(model).where(model.id == instance.id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one()


def _changed_since(application, base_version):
    """{field name: names of who changed it} for the saves made after base_version."""
    newer = application.version - max(base_version, 0)
    if newer <= 0:
        return {}
    saves = db.session.scalars(
        db.select(Event).options(joinedload(Event.actor))
        .where(Event.application_id == application.id, Event.action == "draft_saved")
        .order_by(Event.id.desc()).limit(newer)).all()
    changed = {}
    for event in saves:
        if (event.details or {}).get("version", 0) > base_version:
            who = event.actor.full_name if event.actor else ""
            for name in (event.details or {}).get("fields", []):
                changed.setdefault(name, set()).add(who)
    return changed


def save_section(application, section_code, data, base_version, user):
    """Save the given fields of one section as a draft.

    data holds clean values ({model attribute: value}); empty values are allowed. A save based
    on an older version than the stored one does not overwrite the fields another save changed
    in between: it returns the conflicts (their value, your value) and saves nothing.
    """
    section = S.BY_CODE[section_code]
    application = _lock(Application, application)
    if section_code not in editable_sections(application):
        raise NotEditable("Cette partie du dossier ne peut plus être modifiée.")
    changed = {}
    for spec in S.applicable_fields(section, application.call):
        if spec.name not in data:
            continue
        new, old = data[spec.name], S.value_of(application, spec)
        if spec.kind in ("text", "textarea") and new is None:
            new = ""
        if new != old:
            changed[spec.name] = new
    if base_version < application.version:
        others = _changed_since(application, base_version)
        conflicts = {name: Conflict(S.FIELD_BY_NAME[name], S.value_of(application, S.FIELD_BY_NAME[name]), value,
                                    ", ".join(sorted(n for n in others[name] if n)))
                     for name, value in changed.items() if name in others}
        if conflicts:
            version = application.version
            db.session.rollback()
            return SaveResult(saved=False, version=version, conflicts=conflicts)
    now = timeutil.now()
    if not changed:
        version = application.version
        db.session.rollback()
        return SaveResult(saved=True, version=version, saved_at=now)
    for name, value in changed.items():
        setattr(application, name, value)
    application.version += 1
    application.updated_at = now
    application.updated_by_id = user.id
    events.record("draft_saved", actor=user, application=application, section=section_code,
                  fields=sorted(changed), version=application.version)
    db.session.commit()
    return SaveResult(saved=True, version=application.version, changed=sorted(changed), saved_at=now)


# ---------------------------------------------------------------------------------------------
# Completeness

@dataclass
class MissingItem:
    label: str
    section: str | None = None   # section code of the form
    field: str | None = None     # field name (or "doc:<id>") to point at
    url: str | None = None       # a link elsewhere (association identity)


IDENTITY_FALLBACK = [
    ("name", "nom de l'association"), ("siret", "numéro SIRET"), ("rna", "numéro RNA"),
    ("address", "adresse"), ("postal_code", "code postal"), ("commune", "commune"),
    ("representative_name", "nom du représentant légal"),
    ("representative_function", "fonction du représentant légal"),
    ("contact_email", "adresse e-mail de contact"),
]


def identity_items(association):
    try:
        from ..associations.services import identity_missing
    except ImportError:
        identity_missing = None
    if identity_missing is not None:
        return [MissingItem(f"Identité de l'association : {label}", url=url)
                for label, url in identity_missing(association)]
    return [MissingItem(f"Identité de l'association : {label}")
            for name, label in IDENTITY_FALLBACK if not getattr(association, name, None)]


def _euros(cents):
    from ..money import format_euros
    return format_euros(cents)


def missing_items(application):
    """Everything that prevents the submission, in the order of the form."""
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
        if section.code == "budget":
            items += _budget_problems(application, call)
        if section.code == "pieces":
            present = {a.document_id for a in application.attachments}
            for document in call.documents:
                if document.mandatory and document.id not in present:
                    items.append(MissingItem(f"Pièce jointe : {document.label}", "pieces", f"doc:{document.id}"))
    items += identity_items(application.association)
    return items


def _budget_problems(application, call):
    items = []
    requested, total = application.requested_cents, application.total_cost_cents
    if requested is not None:
        if call.min_amount_cents and requested < call.min_amount_cents:
            items.append(MissingItem(f"Le budget : le montant demandé est inférieur au minimum de l'appel "
                                     f"({_euros(call.min_amount_cents)})", "budget", "requested_cents"))
        if call.max_amount_cents and requested > call.max_amount_cents:
            items.append(MissingItem(f"Le budget : le montant demandé dépasse le maximum de l'appel "
                                     f"({_euros(call.max_amount_cents)})", "budget", "requested_cents"))
        if total is not None and requested > total:
            items.append(MissingItem("Le budget : le montant demandé dépasse le coût total du projet",
                                     "budget", "requested_cents"))
        per_year = application.requested_per_year or []
        if call.years > 1 and len(per_year) == call.years and all(v is not None for v in per_year) \
                and sum(per_year) != requested:
            items.append(MissingItem("Le budget : la somme des montants annuels diffère du montant demandé",
                                     "budget", "requested_per_year"))
    for i, line in enumerate(application.cofunding or [], 1):
        if not line.get("funder") or line.get("amount_cents") is None or not line.get("status"):
            items.append(MissingItem(f"Le budget : cofinancement n° {i} incomplet (financeur, montant et état)",
                                     "budget", "cofunding"))
    return items


# ---------------------------------------------------------------------------------------------
# Snapshot, fingerprint, submission

IDENTITY_FIELDS = ("name", "acronym", "legal_form", "siret", "rna", "address", "postal_code", "commune",
                   "departement_code", "region_code", "representative_name", "representative_function",
                   "contact_email", "phone", "creation_date", "staff_count", "volunteer_count",
                   "annual_budget_cents")


def _jsonable(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def build_snapshot(application):
    """The frozen content of a submission: every field, the association's identity (without bank
    details) and the attachments with their SHA-256."""
    call = application.call
    association = application.association
    documents = {d.id: d for d in call.documents}
    return {
        "format": 1,
        "reference": application.reference,
        "submitted_at": _jsonable(application.submitted_at),
        "call": {"id": call.id, "title": call.title, "year": call.year, "years": call.years,
                 "reference_prefix": call.reference_prefix},
        "association": {name: _jsonable(getattr(association, name)) for name in IDENTITY_FIELDS},
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


def canonical_json(snapshot):
    return json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def fingerprint(snapshot):
    return hashlib.sha256(canonical_json(snapshot)).hexdigest()


def receipt_attachment(application):
    """The outbox attachment of the confirmation e-mail: a reference to the receipt, rendered
    when the e-mail is built (aap/mail.build_email) from the frozen snapshot. The submission's
    transaction then holds no PDF rendering (0.3 to 4 s): on SQLite other submissions would
    wait for the write lock meanwhile, on PostgreSQL for the lock of the call's counter."""
    return {"kind": "receipt", "application_id": application.id, "fingerprint": application.fingerprint,
            "filename": f"recepisse-{application.reference}.pdf", "content_type": "application/pdf"}


def attachment_content(item):
    """Bytes of a lazy outbox attachment (see receipt_attachment), for aap/mail.build_email.

    The receipt shows the application's snapshot: if the file was completed and submitted again
    before the e-mail left, the receipt of the latest submission (the one in force) is sent."""
    if item.get("kind") != "receipt":
        raise ValueError(f"unknown attachment kind {item.get('kind')!r}")
    application = db.session.get(Application, item["application_id"])
    if application is None or not application.snapshot or not application.fingerprint:
        raise LookupError(f"no submitted application {item['application_id']} for its receipt")
    return receipt_pdf(application)


def submit(application, user):
    """Submit (or resubmit after a request for pieces), atomically.

    In one transaction: the deadline and completeness checks, the reference (from the call's
    counter, locked), the snapshot and its fingerprint, the state change, the answered piece
    requests and the confirmation e-mail with the receipt. Any failure rolls everything back.
    The receipt PDF is not rendered here, while the locks are held: the e-mail refers to it and
    it is rendered from the committed snapshot when the e-mail is sent (receipt_attachment).
    """
    try:
        call = _lock(Call, application.call)
        application = _lock(Application, application)
        if application.status not in EDITABLE_STATES:
            raise SubmissionError("Ce dossier a déjà été déposé.")
        now = timeutil.now()
        refusal = closed_reason(application, now)
        if refusal:
            raise SubmissionError(refusal)
        missing = missing_items(application)
        if missing:
            raise SubmissionError("Le dossier ne peut pas être déposé : des éléments manquent.", missing)

        resubmission = application.status == INCOMPLETE
        if not resubmission:
            number = call.next_number
            call.next_number = number + 1
            application.reference = f"{call.reference_prefix}-{call.year}-{number:04d}"
        application.submitted_at = now
        application.snapshot = build_snapshot(application)
        application.fingerprint = fingerprint(application.snapshot)
        if resubmission:
            for request in db.session.scalars(db.select(PieceRequest).where(
                    PieceRequest.application_id == application.id, PieceRequest.answered_at.is_(None))):
                request.answered_at = now
            application.reopened_sections = []
        events.change_state(application, SUBMITTED, user,
                            action="application_resubmitted" if resubmission else "application_submitted",
                            reference=application.reference, fingerprint=application.fingerprint)

        attachment = receipt_attachment(application)
        subject = (f"Dossier complété : {application.reference}" if resubmission
                   else f"Candidature déposée : {application.reference}")
        for member in _recipients(application):
            queue_mail(member.email, subject, "application_submitted", attachments=[attachment],
                       user=member, application=application, call=call, resubmission=resubmission,
                       submitted_at=timeutil.format_datetime(now))
        db.session.commit()
        return application
    except Exception:
        db.session.rollback()
        raise


def _recipients(application):
    from ..models import User
    return db.session.scalars(db.select(User).where(
        User.association_id == application.association_id, User.active.is_(True)).order_by(User.id)).all()


def withdraw(application, user, reason=""):
    application = _lock(Application, application)
    if application.status not in WITHDRAWABLE:
        raise ApplicationError("Ce dossier ne peut pas être retiré dans son état actuel.")
    events.change_state(application, WITHDRAWN, user, reason=reason.strip(), action="application_withdrawn")
    for member in _recipients(application):
        queue_mail(member.email, f"Candidature retirée : {application.reference}", "application_withdrawn",
                   user=member, application=application, withdrawn_by=user, reason=reason.strip())
    db.session.commit()
    return application


# ---------------------------------------------------------------------------------------------
# Attachments

def _read_limited(stream, limit):
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise AttachmentError(f"Le fichier dépasse la taille autorisée ({size_label(limit)} par fichier).")
    return data


def size_label(n):
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} Mo".replace(".0 ", " ").replace(".", ",")
    if n >= 1024:
        return f"{n // 1024} ko"
    return f"{n} octets"


def add_attachment(application, document, filename, stream, user):
    """Store an uploaded file in a document slot (replacing the previous one)."""
    config = current_app.config
    if document.call_id != application.call_id:
        raise AttachmentError("Cette pièce n'est pas demandée par l'appel.")
    if not document_editable(application, document.id):
        raise NotEditable("Cette pièce ne peut plus être modifiée.")
    data = _read_limited(stream, config["MAX_FILE_SIZE"])
    if not data:
        raise AttachmentError("Le fichier est vide.")
    try:
        kind = files.detect_kind(data)
    except files.UnsafeFile as refusal:
        raise AttachmentError(refusal.message) from None
    allowed = [k.strip() for k in (document.formats or "").split(",") if k.strip()]
    allowed_text = ", ".join(files.KINDS[k][1] for k in allowed if k in files.KINDS)
    if kind is None:
        raise AttachmentError(f"Ce fichier n'est pas d'un format accepté (le contenu est vérifié, pas seulement "
                              f"l'extension). Formats acceptés : {allowed_text}.")
    if kind not in allowed:
        raise AttachmentError(f"Le format {files.KINDS[kind][1]} n'est pas accepté pour cette pièce. "
                              f"Formats acceptés : {allowed_text}.")
    previous = [a for a in application.attachments if a.document_id == document.id]
    used = sum(a.size for a in application.attachments if a not in previous)
    if used + len(data) > config["MAX_APPLICATION_FILES_SIZE"]:
        raise AttachmentError(f"L'ensemble des pièces du dossier dépasserait la taille autorisée "
                              f"({size_label(config['MAX_APPLICATION_FILES_SIZE'])}).")
    stored = files.new_stored_name()
    files.write(stored, data)
    try:
        attachment = Attachment(application=application, document_id=document.id,
                                original_name=files.display_name(filename, kind), stored_name=stored,
                                kind=kind, content_type=files.KINDS[kind][0], size=len(data),
                                sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=user.id,
                                uploaded_at=timeutil.now())
        old_names = [a.stored_name for a in previous]
        for old in previous:
            application.attachments.remove(old)
        db.session.add(attachment)
        events.record("attachment_replaced" if previous else "attachment_added", actor=user,
                      application=application, document=document.label, name=attachment.original_name,
                      sha256=attachment.sha256)
        application.updated_at = timeutil.now()
        application.updated_by_id = user.id
        db.session.commit()
    except Exception:
        db.session.rollback()
        files.remove(stored)
        raise
    for name in old_names:
        files.remove(name)
    return attachment


def delete_attachment(attachment, user):
    application = attachment.application
    if attachment.document_id is None or not document_editable(application, attachment.document_id):
        raise NotEditable("Cette pièce ne peut plus être modifiée.")
    stored = attachment.stored_name
    events.record("attachment_deleted", actor=user, application=application,
                  document=attachment.document.label if attachment.document else "",
                  name=attachment.original_name)
    application.attachments.remove(attachment)
    db.session.commit()
    files.remove(stored)


def record_download(attachment, user):
    """Every download of a piece is recorded (who, when, which file), the members' own too."""
    with writing():
        events.record("attachment_downloaded", actor=user, application=attachment.application,
                      attachment_id=attachment.id, name=attachment.original_name)
        db.session.commit()


def record_receipt_download(application, user):
    with writing():
        events.record("receipt_downloaded", actor=user, application=application, reference=application.reference)
        db.session.commit()


# ---------------------------------------------------------------------------------------------
# Reading

def timeline(application):
    """The file's journal as staff read it (events with their actors). Who reads which event of
    it, and in which words, is decided in one place: aap/applications/history.py."""
    from .history import journal
    return journal(application)


def receipt_context(application):
    from datetime import datetime

    snapshot = application.snapshot or {}
    submitted = application.submitted_at
    if snapshot.get("submitted_at"):
        submitted = datetime.fromisoformat(snapshot["submitted_at"])
    local = timeutil.to_paris(submitted)
    return {
        "snapshot": snapshot, "application": application, "fingerprint": application.fingerprint,
        "reference": snapshot.get("reference") or application.reference,
        "submitted_label": f"{timeutil.format_date(local.date())} à {local:%H:%M:%S}",
        "submitted_offset": local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:],
        "size_label": size_label,
    }


def receipt_pdf(application):
    from ..documents.pdf import render_pdf
    return render_pdf("receipt.html", **receipt_context(application))
