"""Instruction of submitted files by DJEPVA staff: admissibility, requests for missing pieces,
and the message thread between staff and the association.

Every function here checks the state it starts from, changes the database, records the history
(aap.events), queues the e-mails in the same transaction and commits. Nothing here knows HTTP.
"""
import hashlib

from flask import current_app
from sqlalchemy.orm import joinedload

from .. import events, timeutil
from ..applications import files
from ..database import lock, writing
from ..extensions import db
from ..mail import queue_mail, queue_text
from ..models import Application, Message, MessageAttachment, PieceRequest, RequiredPiece, User
from ..models.applications import ADMISSIBLE, INADMISSIBLE, INCOMPLETE, SUBMITTED
from ..models.users import ADMIN, APPLICANT, STAFF
from ..permissions import can_follow_application
from ..urls import absolute_url
from . import admissibility

# The sections of the application form that staff may reopen (codes shared with aap/applications).
SECTIONS = {
    "projet": "1. Projet",
    "jeunes": "2. Jeunes accompagnés",
    "territoires": "3. Territoires",
    "budget": "4. Budget",
    "pieces": "5. Pièces jointes",
    "attestation": "6. Attestation sur l'honneur et dépôt",
}
PIECE_PREFIX = "doc:"
MESSAGE_MAX_LENGTH = 5000
MESSAGE_MAX_FILES = 5  # files sent with one message, each checked as a piece of the file
REASON_MAX_LENGTH = 5000


class InstructionError(ValueError):
    """A refused instruction action; the message is French and shown to the user."""


class MessageFileError(InstructionError):
    """A file sent with a message is refused (shown next to the file input)."""


# --- helpers -------------------------------------------------------------------------------

def application_link(application, anchor=None):
    """Absolute link to the file page, for e-mails."""
    return absolute_url("applications.show", application_id=application.id, _anchor=anchor)


def members_of(association_id):
    """Active member accounts of an association (one query)."""
    return db.session.scalars(
        db.select(User)
        .where(User.association_id == association_id, User.role == APPLICANT, User.active.is_(True))
        .order_by(User.id)).all()


def staff_recipients(application):
    """Who is told about an association's message: the staff member who last wrote on the file,
    or else every active staff account (administrators only if there is no staff account)."""
    last_staff = db.session.scalars(
        db.select(User).join(Message, Message.author_id == User.id)
        .where(Message.application_id == application.id, User.role.in_((STAFF, ADMIN)),
               User.active.is_(True))
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(1)).first()
    if last_staff is not None:
        return [last_staff]
    staff = db.session.scalars(
        db.select(User).where(User.role == STAFF, User.active.is_(True)).order_by(User.id)).all()
    if staff:
        return staff
    return db.session.scalars(
        db.select(User).where(User.role == ADMIN, User.active.is_(True)).order_by(User.id)).all()


def mail_members(application, subject, template, **context):
    """Queue `template` to every active member of the file's association (also the follow-up's
    requests for complements to a yearly report: followup/report_review.py)."""
    for member in members_of(application.association_id):
        queue_mail(member.email, subject, template, user=member, application=application,
                   link=application_link(application), **context)


def mail_subject(application, text):
    return f"[{application.reference or 'Dossier'}] {text}"


def item_choices(call):
    """(code, label) of everything staff may ask for: the sections, then the call's documents."""
    choices = list(SECTIONS.items())
    for document in call.pieces:
        choices.append((f"{PIECE_PREFIX}{document.id}", f"Pièce : {document.label}"))
    return choices


def item_labels(items, call=None, documents=None):
    """Human labels of requested items, in the order given."""
    if documents is None:
        documents = {d.id: d for d in call.pieces} if call is not None else {}
    labels = []
    for item in items:
        if item in SECTIONS:
            labels.append(SECTIONS[item])
        elif item.startswith(PIECE_PREFIX) and item[len(PIECE_PREFIX):].isdigit():
            document = documents.get(int(item[len(PIECE_PREFIX):]))
            labels.append(f"Pièce : {document.label}" if document else "Pièce jointe demandée")
        else:
            labels.append(item)
    return labels


# --- admissibility -------------------------------------------------------------------------

def mark_admissible(application, actor, overrides=None):
    """Declare a deposited file admissible. The admissibility checklist is computed again here
    (aap/instruction/admissibility.py): each failing condition needs a reason in `overrides`
    ({condition code: reason}) or nothing changes. The reasons are internal: recorded in the
    file's journal for staff (the event's reason), never shown to the association (its history
    shows this event without its reason) nor sent to it."""
    application = lock(application)
    if application.status != SUBMITTED:
        raise InstructionError(
            f"Ce dossier est « {application.status_label} » : seul un dossier déposé peut être déclaré recevable.")
    overrides = {code: (text or "").strip() for code, text in (overrides or {}).items()}
    conditions = admissibility.for_application(application)
    unjustified = [c.label for c in admissibility.failing(conditions) if not overrides.get(c.code)]
    if unjustified:
        raise InstructionError(
            "Le dossier ne remplit pas toutes les conditions de recevabilité : pour passer outre, indiquez "
            "un motif pour chacune (" + " ; ".join(unjustified) + ").")
    if any(len(overrides.get(c.code, "")) > REASON_MAX_LENGTH for c in conditions):
        raise InstructionError(f"Un motif ne doit pas dépasser {REASON_MAX_LENGTH} caractères.")
    reason = "\n".join(f"Condition non remplie, passée outre — {c.label} ({c.detail}) : {overrides[c.code]}"
                       for c in conditions if not c.ok)
    events.change_state(application, ADMISSIBLE, actor, reason=reason, action="admissibility",
                        checklist={c.code: "ok" if c.ok else "override" for c in conditions})
    mail_members(application, mail_subject(application, "Votre dossier est recevable"),
                  "instruction_admissible")
    db.session.commit()
    return application


def mark_inadmissible(application, actor, reason):
    reason = (reason or "").strip()
    if not reason:
        raise InstructionError("Indiquez le motif d'irrecevabilité : il est transmis à l'association.")
    if len(reason) > REASON_MAX_LENGTH:
        raise InstructionError(f"Le motif ne doit pas dépasser {REASON_MAX_LENGTH} caractères.")
    application = lock(application)
    if application.status not in (SUBMITTED, INCOMPLETE):
        raise InstructionError(
            f"Ce dossier est « {application.status_label} » : seul un dossier déposé ou à compléter "
            "peut être déclaré irrecevable.")
    events.change_state(application, INADMISSIBLE, actor, reason=reason, action="admissibility")
    _mail_inadmissible(application, reason)
    db.session.commit()
    return application


def _mail_inadmissible(application, reason):
    """The inadmissibility mail, in the call's wording (calls.mail_templates), with its reason."""
    from ..calls import mail_templates
    wording = mail_templates.wordings(application.call)[mail_templates.INADMISSIBLE]
    values = mail_templates.values_for(application.call, application, application.association,
                                       application_link(application), reason=reason)
    subject, body = mail_templates.compose(wording, values)
    from ..documents.decision_letter import letter_attachment
    letter = [letter_attachment(application)]  # the decision letter, rendered when each e-mail is built
    for member in members_of(application.association_id):
        queue_text(member.email, subject, body, kind="instruction_inadmissible", attachments=letter)


# --- requests for missing pieces -------------------------------------------------------------

def request_pieces(application, actor, items, message, due_date):
    """Reopen the listed sections / documents until the end of due_date (Paris), notify members."""
    application = lock(application)
    if application.status != SUBMITTED:
        raise InstructionError(
            f"Ce dossier est « {application.status_label} » : des pièces ne peuvent être demandées "
            "que sur un dossier déposé.")
    message = message_text(message)
    documents = _documents(application)
    cleaned = _clean_items(items, documents)
    due_at = due_at_end_of_day(due_date)

    piece_request = PieceRequest(application_id=application.id, requested_by_id=actor.id,
                                 message=message, sections=cleaned, due_at=due_at, from_status=application.status)
    db.session.add(piece_request)
    application.reopened_sections = list(cleaned)
    events.change_state(application, INCOMPLETE, actor, reason=message, action="piece_request",
                        items=cleaned, due_at=due_at.isoformat())
    mail_members(application, mail_subject(application, "Des pièces sont à compléter"),
                  "instruction_pieces", message=message,
                  labels=item_labels(cleaned, documents=documents),
                  due_label=timeutil.format_datetime(due_at))
    db.session.commit()
    return piece_request


def _documents(application):
    return {d.id: d for d in db.session.scalars(
        db.select(RequiredPiece).where(RequiredPiece.call_id == application.call_id)).all()}


def _clean_items(items, documents):
    """The requested items, checked against the call (sections and its documents), without repeats."""
    cleaned = []
    for item in items or []:
        if item in SECTIONS:
            pass
        elif (item.startswith(PIECE_PREFIX) and item[len(PIECE_PREFIX):].isdigit()
              and int(item[len(PIECE_PREFIX):]) in documents):
            pass
        else:
            raise InstructionError("Un des éléments demandés n'existe pas pour cet appel à projets.")
        if item not in cleaned:
            cleaned.append(item)
    if not cleaned:
        raise InstructionError("Cochez au moins une partie du dossier ou une pièce à compléter.")
    return cleaned


def due_at_end_of_day(due_date):
    """The end (Paris) of the due date of a request for complements; refused unless in the future
    (requests for pieces here, requests for complements to a yearly report in followup)."""
    if due_date is None:
        raise InstructionError("Indiquez la date limite de réponse.")
    due_at = timeutil.end_of_day_paris(due_date)
    if due_at <= timeutil.now():
        raise InstructionError("La date limite de réponse doit être dans le futur.")
    return due_at


def message_text(message, required=True):
    """The request's message, stripped; refused when missing (if required) or too long."""
    message = (message or "").strip()
    if required and not message:
        raise InstructionError("Rédigez un message expliquant ce que l'association doit compléter.")
    if len(message) > MESSAGE_MAX_LENGTH:
        raise InstructionError(f"Le message ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères.")
    return message


def open_request(application):
    """The request for pieces the file is waiting for (neither answered nor cancelled), or None."""
    return db.session.scalar(
        db.select(PieceRequest).where(PieceRequest.application_id == application.id,
                                      PieceRequest.report_id.is_(None),  # not a yearly report's
                                      PieceRequest.answered_at.is_(None), PieceRequest.cancelled_at.is_(None))
        .order_by(PieceRequest.created_at.desc(), PieceRequest.id.desc()).limit(1))


def _locked_open_request(application):
    """Lock the file (PostgreSQL; SQLite holds the write lock) and return its open request, or refuse:
    a request is widened, extended or cancelled only while the file waits for it."""
    db.session.execute(db.select(Application).where(Application.id == application.id).with_for_update()
                       .execution_options(populate_existing=True)).scalar_one()
    request = open_request(application) if application.status == INCOMPLETE else None
    if request is None:
        raise InstructionError(
            f"Ce dossier est « {application.status_label} » : il n'attend aucune réponse à une demande de pièces.")
    return request


def widen_request(application, actor, items, message):
    """Add sections or pieces to the open request (they are reopened too); the due date is kept."""
    request = _locked_open_request(application)
    message = message_text(message)
    documents = _documents(application)
    added = [item for item in _clean_items(items, documents) if item not in (request.sections or [])]
    if not added:
        raise InstructionError("Ces éléments sont déjà demandés : cochez au moins un nouvel élément.")
    request.sections = list(request.sections or []) + added
    application.reopened_sections = list(application.reopened_sections or []) + [
        item for item in added if item not in (application.reopened_sections or [])]
    labels = item_labels(added, documents=documents)
    events.record("piece_request_widened", actor=actor, application=application, reason=message,
                  request_id=request.id, items=added, labels=labels)
    mail_members(application, mail_subject(application, "D'autres compléments sont demandés"),
                  "instruction_pieces_widened", message=message, labels=labels,
                  all_labels=item_labels(request.sections, documents=documents),
                  due_label=timeutil.format_datetime(request.due_at))
    db.session.commit()
    return request


def extend_request(application, actor, due_date, message=""):
    """Give the association until a later date (also once the due date has passed)."""
    request = _locked_open_request(application)
    message = message_text(message, required=False)
    due_at = due_at_end_of_day(due_date)
    if due_at <= request.due_at:
        raise InstructionError(
            f"La nouvelle date limite doit être postérieure à l'actuelle ({timeutil.format_datetime(request.due_at)}).")
    previous = request.due_at
    request.due_at = due_at
    events.record("piece_request_extended", actor=actor, application=application, reason=message,
                  request_id=request.id, due_at=due_at.isoformat(), previous_due_at=previous.isoformat())
    mail_members(application, mail_subject(application, "Le délai pour compléter votre dossier est prolongé"),
                  "instruction_pieces_extended", message=message,
                  labels=item_labels(request.sections or [], call=application.call),
                  due_label=timeutil.format_datetime(due_at))
    db.session.commit()
    return request


def cancel_request(application, actor, reason=""):
    """Withdraw the open request: the file goes back to the state it was in (as it was deposited
    last: what the association changed meanwhile without depositing it is undone), the parts
    reopened are closed, the association is told."""
    from ..applications import files
    from ..applications.deposits import restore_last_deposit
    request = _locked_open_request(application)
    reason = message_text(reason, required=False)
    removed, discarded = [], False
    if application.deposits:
        last = application.deposits[-1].snapshot or {}
        discarded = (last.get("sections") != _sections_now(application)
                     or sorted(a.get("sha256") for a in last.get("attachments", []))
                     != sorted(a.sha256 for a in application.attachments))
        removed = restore_last_deposit(application)
    request.cancelled_at = timeutil.now()
    application.reopened_sections = []
    events.change_state(application, request.from_status or SUBMITTED, actor, reason=reason,
                        action="piece_request_cancelled", request_id=request.id, discarded=discarded)
    mail_members(application, mail_subject(application, "La demande de compléments est annulée"),
                  "instruction_pieces_cancelled", message=reason, discarded=discarded,
                  submitted_label=timeutil.format_datetime(application.deposits[-1].submitted_at)
                  if application.deposits else "")
    db.session.commit()
    for name in removed:
        files.remove(name)
    return request


def _sections_now(application):
    """The form's values by section, as a snapshot holds them."""
    from ..applications.deposits import build_snapshot
    return build_snapshot(application)["sections"]


# --- messages --------------------------------------------------------------------------------

def post_message(application, author, body, uploads=()):
    """Add a message to the file's thread, record it in the history, notify the other side.
    `uploads`: [(file name, stream)] of the files sent with it (MESSAGE_MAX_FILES at most)."""
    if not can_follow_application(author, application):
        raise InstructionError("Vous ne pouvez pas écrire sur ce dossier.")
    body = (body or "").strip()
    if not body:
        raise InstructionError("Écrivez votre message.")
    if len(body) > MESSAGE_MAX_LENGTH:
        raise InstructionError(f"Le message ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères.")
    # Recipients are read before the new message exists: "the staff member who last wrote".
    if author.is_staff:
        recipients = members_of(application.association_id)
    else:
        recipients = staff_recipients(application)
    checked = _message_files(uploads)
    stored = []
    try:
        message = Message(application_id=application.id, author_id=author.id, body=body)
        db.session.add(message)
        for name, kind, data in checked:
            stored.append(files.new_stored_name())
            files.write(stored[-1], data)
            message.attachments.append(MessageAttachment(
                original_name=name, stored_name=stored[-1], kind=kind, content_type=files.KINDS[kind][0],
                size=len(data), sha256=hashlib.sha256(data).hexdigest(), uploaded_at=timeutil.now()))
        db.session.flush()
        events.record("message", actor=author, application=application, message_id=message.id,
                      **({"attachments": [a.original_name for a in message.attachments]} if checked else {}))
        subject = mail_subject(application, "Nouveau message sur votre dossier" if author.is_staff
                           else "Nouveau message de l'association")
        for recipient in recipients:
            if recipient.id == author.id:
                continue
            queue_mail(recipient.email, subject, "instruction_message", user=recipient, author=author,
                       application=application, link=application_link(application, "messages"))
        db.session.commit()
    except Exception:
        db.session.rollback()
        for name in stored:
            files.remove(name)
        raise
    return message


def _message_files(uploads):
    """The files sent with a message, checked as the pieces of a file are (size, content, zip bombs,
    active PDFs): [(display name, kind, bytes)], or MessageFileError naming the file refused."""
    uploads = [(name, stream) for name, stream in uploads or () if name]
    if len(uploads) > MESSAGE_MAX_FILES:
        raise MessageFileError(f"Joignez au plus {MESSAGE_MAX_FILES} fichiers à un message.")
    from ..applications.attachments import size_label
    limit = current_app.config["MAX_FILE_SIZE"]
    checked = []
    for name, stream in uploads:
        shown = (name or "").replace("\\", "/").split("/")[-1][:120]
        data = stream.read(limit + 1)
        if len(data) > limit:
            raise MessageFileError(f"« {shown} » dépasse la taille autorisée ({size_label(limit)} par fichier).")
        if not data:
            raise MessageFileError(f"« {shown} » est vide.")
        try:
            kind = files.detect_kind(data)
        except files.UnsafeFile as refusal:
            raise MessageFileError(f"« {shown} » : {refusal.message}") from None
        if kind is None:
            raise MessageFileError(
                f"« {shown} » n'est pas d'un format accepté (le contenu est vérifié, pas seulement l'extension). "
                "Formats acceptés : " + ", ".join(label for _, label in files.KINDS.values()) + ".")
        checked.append((files.display_name(name, kind), kind, data))
    return checked


def message_attachment_of(application, attachment_id):
    """A file sent with a message of this file's thread, or None."""
    item = db.session.get(MessageAttachment, attachment_id)
    if item is None or item.message.application_id != application.id:
        return None
    return item


def record_message_attachment_download(application, item, user):
    """Every download of a file sent with a message is recorded (who, when, which file)."""
    with writing():
        events.record("message_attachment_downloaded", actor=user, application=application,
                      message_id=item.message_id, name=item.original_name)
        db.session.commit()


# --- reads used by the templates (one query each) ---------------------------------------------

def messages_for(application):
    return db.session.scalars(
        db.select(Message).options(joinedload(Message.author), joinedload(Message.attachments))
        .where(Message.application_id == application.id)
        .order_by(Message.created_at, Message.id)).unique().all()


def piece_requests_for(application):
    return db.session.scalars(
        db.select(PieceRequest)
        .where(PieceRequest.application_id == application.id, PieceRequest.report_id.is_(None))
        .order_by(PieceRequest.created_at.desc(), PieceRequest.id.desc())).all()
