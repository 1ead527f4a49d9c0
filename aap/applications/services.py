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
from ..models import Application, Attachment, Call, Deposit, Event, PieceRequest
from ..models.applications import (DEPOSIT_COMPLEMENT, DEPOSIT_ORIGINAL, DRAFT, EDITABLE_STATES, INCOMPLETE,
                                   SUBMITTED, WITHDRAWN)
from ..calls.services import is_open as call_is_open
from ..models.calls import CALL_PUBLISHED
from ..transitions import APPLICATION
from . import budget, files
from . import sections as S

# The states from which the association may withdraw its file (aap/transitions.py).
WITHDRAWABLE = APPLICATION.sources(WITHDRAWN, service="applications.services.withdraw")


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

MINE, THEIRS = "mienne", "enregistree"  # the choice a user makes on a conflict


@dataclass
class Conflict:
    """A field that this page and someone else both changed, differently, since the page loaded."""
    spec: S.FieldSpec
    theirs: object
    yours: object
    by: str = ""        # who saved the stored version last
    mine: bool = False  # ... the same person, in another tab or window

    @property
    def theirs_text(self):
        return S.display(self.spec, self.theirs)

    @property
    def yours_text(self):
        return S.display(self.spec, self.yours)

    @property
    def seen(self):
        """The digest of the stored version shown to the user: a choice applies to that version only."""
        return S.digest(self.spec, self.theirs)


@dataclass
class SaveResult:
    saved: bool                  # every change of the page was written (no conflict left)
    version: int
    changed: list = field(default_factory=list)
    conflicts: dict = field(default_factory=dict)
    saved_at: object = None
    in_sync: dict = field(default_factory=dict)      # {field: digest} the page now shows the stored value
    kept_theirs: dict = field(default_factory=dict)  # {field: stored value} conflicts settled for theirs
    stale: dict = field(default_factory=dict)        # {field: stored value} changed by someone else only

    @property
    def conflict(self):
        return bool(self.conflicts)


def _lock(model, instance):
    """Re-read a row, locked for update on PostgreSQL (SQLite already holds the write lock)."""
    return db.session.execute(
        db.select(model).where(model.id == instance.id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one()


def _draft_saves(application, limit):
    return db.session.scalars(
        db.select(Event).options(joinedload(Event.actor))
        .where(Event.application_id == application.id, Event.action == "draft_saved")
        .order_by(Event.id.desc()).limit(limit)).all()


def _changed_since(application, base_version):
    """The names of the fields saved after base_version (for a page that does not say what it loaded)."""
    newer = application.version - max(base_version, 0)
    if newer <= 0:
        return set()
    changed = set()
    for event in _draft_saves(application, newer):
        if (event.details or {}).get("version", 0) > base_version:
            changed.update((event.details or {}).get("fields", []))
    return changed


def _last_editors(application, names):
    """{field name: the user who saved it last}, for the conflict messages."""
    found = {}
    for event in _draft_saves(application, 200):
        for name in (event.details or {}).get("fields", []):
            if name in names and name not in found:
                found[name] = event.actor
        if len(found) == len(names):
            break
    return found


def save_section(application, section_code, data, base_version, user, bases=None, choices=None):
    """Save, as a draft, the fields of one section that this page changed.

    data: {model attribute: clean value} of the page's valid fields (an invalid field is left out
    and keeps its stored value; empty values are allowed). bases: {field: S.digest of the value
    the page loaded}. choices: {field: (MINE or THEIRS, S.digest of the stored version the user
    was shown)}, for conflicts the user settled.

    A three-way merge, field by field, against what the page loaded:
    - the page sends what it loaded: not a change, never written, however old the page;
    - the stored value is still what the page loaded: the page's change is written;
    - both changed it to the same value: nothing to write;
    - both changed it differently: a conflict (the stored value and the page's), nothing written
      for that field until the user, shown the stored version, chooses: keep it (THEIRS) or
      replace it by the page's value (MINE) — if it is still the version shown.
    The page's other changes are saved at once. A page that sends no base for a field falls back
    on its version number: a field saved by others since that version has an unknown base (any
    change of it is a conflict), the others are merged as above.
    """
    section = S.BY_CODE[section_code]
    bases, choices = bases or {}, choices or {}
    application = _lock(Application, application)
    if section_code not in editable_sections(application):
        raise NotEditable("Cette partie du dossier ne peut plus être modifiée.")
    changed, conflicts, in_sync, kept_theirs, stale = {}, {}, {}, {}, {}
    saved_by_others = None
    for spec in S.applicable_fields(section, application.call):
        if spec.name not in data:
            continue
        new, old = data[spec.name], S.value_of(application, spec)
        if spec.kind in ("text", "textarea") and new is None:
            new = ""
        new_digest, old_digest = S.digest(spec, new), S.digest(spec, old)
        base = bases.get(spec.name)
        if base is None:
            if base_version < application.version and saved_by_others is None:
                saved_by_others = _changed_since(application, base_version)
            unknown = base_version < application.version and spec.name in saved_by_others
            base = None if unknown else old_digest
        choice, seen = choices.get(spec.name, (None, None))
        if choice in (MINE, THEIRS) and seen == old_digest:
            if choice == THEIRS:
                kept_theirs[spec.name] = old
                in_sync[spec.name] = old_digest
                continue
            base = old_digest
        if new_digest == old_digest:
            in_sync[spec.name] = old_digest
        elif new_digest == base:
            stale[spec.name] = old
        elif base == old_digest:
            changed[spec.name] = new
            in_sync[spec.name] = new_digest
        else:
            conflicts[spec.name] = Conflict(spec, old, new)
    if conflicts:
        editors = _last_editors(application, set(conflicts))
        for name, conflict in conflicts.items():
            editor = editors.get(name)
            conflict.by = editor.full_name if editor else ""
            conflict.mine = editor is not None and editor.id == user.id
    now = timeutil.now()
    result = SaveResult(saved=not conflicts, version=application.version, changed=sorted(changed),
                        conflicts=conflicts, saved_at=now, in_sync=in_sync, kept_theirs=kept_theirs, stale=stale)
    if not changed:
        db.session.rollback()
        return result
    for name, value in changed.items():
        setattr(application, name, value)
    if "budget" in changed:
        _derive_from_budget(application)
    application.version += 1
    application.updated_at = now
    application.updated_by_id = user.id
    events.record("draft_saved", actor=user, application=application, section=section_code,
                  fields=sorted(changed), version=application.version)
    result.version = application.version
    db.session.commit()
    return result


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
    for document in application.call.documents:
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
        if section.code == "budget":
            items += _budget_problems(application, call)
        if section.code == "pieces":
            present = {a.document_id for a in application.attachments}
            for document in call.documents:
                if document.mandatory and document.id not in present:
                    items.append(MissingItem(f"Pièce jointe : {document.label}", "pieces", f"doc:{document.id}"))
    from .reuse import review_items  # the sections taken from an earlier application, not reviewed yet
    items[:0] = review_items(application)
    if identity:
        items += identity_items(application.association)
    return items


def _derive_from_budget(application):
    """The amount requested (and its split per year), the total cost and the co-funders follow the
    budget's lines (budget.derived): what ranking, selection, conventions and exports read."""
    for name, value in budget.derived(application.budget, application.call.years).items():
        setattr(application, name, value)


def _budget_problems(application, call):
    """The budget's coherence (aap/applications/budget.problems), each pointing at its field."""
    return [MissingItem(problem.item, "budget", problem.anchor)
            for problem in budget.problems(S.value_of(application, S.FIELD_BY_NAME["budget"]), call.years,
                                           call.year, call.min_amount_cents, call.max_amount_cents)]


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


def build_snapshot(application, submitted_at=None, complement=None):
    """The frozen content of a submission: every field, the association's identity (without bank
    details) and the attachments with their SHA-256. A complement's snapshot also names the
    original deposit it completes (`complement`: its time, fingerprint, the items reopened), so
    that its fingerprint binds it to that deposit."""
    call = application.call
    association = application.association
    documents = {d.id: d for d in call.documents}
    snapshot = {
        "format": 1,
        "reference": application.reference,
        "submitted_at": _jsonable(submitted_at or application.submitted_at),
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
    if complement is not None:
        snapshot["complement"] = complement
    return snapshot


def canonical_json(snapshot):
    return json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def fingerprint(snapshot):
    return hashlib.sha256(canonical_json(snapshot)).hexdigest()


def receipt_attachment(deposit):
    """The outbox attachment of the confirmation e-mail: a reference to the deposit's receipt,
    rendered when the e-mail is built (aap/mail.build_email) from the frozen snapshot. The
    submission's transaction then holds no PDF rendering (0.3 to 4 s): on SQLite other submissions
    would wait for the write lock meanwhile, on PostgreSQL for the lock of the call's counter."""
    return {"kind": "receipt", "application_id": deposit.application_id, "deposit_id": deposit.id,
            "fingerprint": deposit.fingerprint, "filename": deposit.filename, "content_type": "application/pdf"}


def attachment_content(item):
    """Bytes of a lazy outbox attachment (see receipt_attachment), for aap/mail.build_email: the
    receipt of the deposit it names (an e-mail queued before deposits existed: the original one)."""
    if item.get("kind") != "receipt":
        raise ValueError(f"unknown attachment kind {item.get('kind')!r}")
    deposit = db.session.get(Deposit, item["deposit_id"]) if item.get("deposit_id") else None
    if deposit is None:
        deposit = db.session.scalar(db.select(Deposit).where(
            Deposit.application_id == item["application_id"]).order_by(Deposit.number).limit(1))
    if deposit is None:
        raise LookupError(f"no deposit of application {item['application_id']} for its receipt")
    return receipt_pdf(deposit)


def original_deposit(application):
    """The file's original deposit (its proof of an on-time deposit), None before any."""
    return application.deposits[0] if application.deposits else None


def stored_files(application):
    """The attachment rows of the file as they are now, with their stored names (see Deposit)."""
    return [{"document_id": a.document_id, "original_name": a.original_name, "stored_name": a.stored_name,
             "kind": a.kind, "content_type": a.content_type, "size": a.size, "sha256": a.sha256,
             "uploaded_by_id": a.uploaded_by_id, "uploaded_at": _jsonable(a.uploaded_at)}
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

        if "budget" in editable_sections(application, now):
            _derive_from_budget(application)   # the request deposited is the budget's, whatever was saved
        # A complement never changes the original deposit: its time (application.submitted_at,
        # the proof of an on-time deposit), snapshot, fingerprint and receipt stay as they are;
        # it is a Deposit of its own, naming the original one.
        resubmission = application.status == INCOMPLETE
        complement, request = None, None
        if resubmission:
            original = original_deposit(application)
            if original is None and application.snapshot and application.fingerprint:
                original = record_original_deposit(application)
            request = latest_piece_request(application)
            complement = {"number": len(application.deposits) + 1,
                          "original": {"submitted_at": _jsonable(original.submitted_at) if original else None,
                                       "fingerprint": original.fingerprint if original else None},
                          "items": list(application.reopened_sections or [])}
        else:
            number = call.next_number
            call.next_number = number + 1
            application.reference = f"{call.reference_prefix}-{call.year}-{number:04d}"
            application.submitted_at = now
        snapshot = build_snapshot(application, submitted_at=now, complement=complement)
        deposit = Deposit(number=len(application.deposits) + 1,
                          kind=DEPOSIT_COMPLEMENT if resubmission else DEPOSIT_ORIGINAL,
                          submitted_at=now, submitted_by_id=user.id, snapshot=snapshot,
                          fingerprint=fingerprint(snapshot), stored_files=stored_files(application),
                          piece_request_id=request.id if request is not None else None)
        application.deposits.append(deposit)
        application.snapshot, application.fingerprint = snapshot, deposit.fingerprint
        if resubmission:
            for open_request in db.session.scalars(db.select(PieceRequest).where(
                    PieceRequest.application_id == application.id, PieceRequest.answered_at.is_(None),
                    PieceRequest.cancelled_at.is_(None))):
                open_request.answered_at = now
            application.reopened_sections = []
        db.session.flush()
        events.change_state(application, SUBMITTED, user,
                            action="application_resubmitted" if resubmission else "application_submitted",
                            reference=application.reference, fingerprint=deposit.fingerprint,
                            deposit_id=deposit.id, deposit_number=deposit.number)

        attachment = receipt_attachment(deposit)
        subject = (f"Dossier complété : {application.reference}" if resubmission
                   else f"Candidature déposée : {application.reference}")
        for member in _recipients(application):
            queue_mail(member.email, subject, "application_submitted", attachments=[attachment],
                       user=member, application=application, call=call, resubmission=resubmission,
                       deposit=deposit, original=original_deposit(application),
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
    # Staff are told too (the confirmation page says so): the one who last wrote on the file, or all.
    from ..instruction.services import staff_recipients
    for person in staff_recipients(application):
        queue_mail(person.email, f"[{application.reference}] Candidature retirée par l'association",
                   "application_withdrawn_staff", user=person, application=application, reason=reason.strip())
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


def add_attachment(application, document, filename, stream, user, reused_from=None):
    """Store an uploaded file in a document slot (replacing the previous one). `reused_from`: the
    date (ISO) of the association's kept piece this file is a copy of (aap/applications/reuse.py)."""
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
                      sha256=attachment.sha256, **({"reused_from": reused_from} if reused_from else {}))
        application.updated_at = timeutil.now()
        application.updated_by_id = user.id
        db.session.commit()
    except Exception:
        db.session.rollback()
        files.remove(stored)
        raise
    deposited = deposited_stored_names(application)
    for name in old_names:
        if name not in deposited:
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
    if stored not in deposited_stored_names(application):
        files.remove(stored)


def record_download(attachment, user):
    """Every download of a piece is recorded (who, when, which file), the members' own too."""
    with writing():
        events.record("attachment_downloaded", actor=user, application=attachment.application,
                      attachment_id=attachment.id, name=attachment.original_name)
        db.session.commit()


def record_receipt_download(deposit, user):
    with writing():
        events.record("receipt_downloaded", actor=user, application=deposit.application,
                      reference=deposit.application.reference, deposit_number=deposit.number)
        db.session.commit()


# ---------------------------------------------------------------------------------------------
# Reading

def timeline(application):
    """The file's journal as staff read it (events with their actors). Who reads which event of
    it, and in which words, is decided in one place: aap/applications/history.py."""
    from .history import journal
    return journal(application)


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
    if not deposit.is_original:
        original = original_deposit(application)
        from ..instruction.services import item_labels
        context["original"] = original
        context["original_label"], context["original_offset"] = _moment(original.submitted_at)
        context["completed_labels"] = item_labels((snapshot.get("complement") or {}).get("items", []),
                                                  call=application.call)
    return context


def receipt_pdf(deposit):
    from ..documents.pdf import render_pdf
    template = "receipt.html" if deposit.is_original else "receipt_complement.html"
    return render_pdf(template, **receipt_context(deposit))
