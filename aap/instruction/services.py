"""Instruction of submitted files by DJEPVA staff: admissibility, requests for missing pieces,
and the message thread between staff and the association.

Every function here checks the state it starts from, changes the database, records the history
(aap.events), queues the e-mails in the same transaction and commits. Nothing here knows HTTP.
"""
from flask import current_app, url_for
from sqlalchemy.orm import joinedload
from werkzeug.routing import BuildError

from .. import events, timeutil
from ..extensions import db
from ..mail import queue_mail
from ..models import Message, PieceRequest, RequiredDocument, User
from ..models.applications import ADMISSIBLE, INADMISSIBLE, INCOMPLETE, SUBMITTED
from ..models.users import ADMIN, APPLICANT, STAFF

# The sections of the application form that staff may reopen (codes shared with aap/applications).
SECTIONS = {
    "projet": "1. Projet",
    "jeunes": "2. Jeunes accompagnés",
    "territoires": "3. Territoires",
    "budget": "4. Budget",
    "pieces": "5. Pièces jointes",
    "attestation": "6. Attestation sur l'honneur et dépôt",
}
DOCUMENT_PREFIX = "doc:"
MESSAGE_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 5000


class InstructionError(ValueError):
    """A refused instruction action; the message is French and shown to the user."""


# --- helpers -------------------------------------------------------------------------------

def application_path(application):
    """Path of the file page (applications.show), or its documented address if not built yet."""
    try:
        return url_for("applications.show", application_id=application.id)
    except (BuildError, RuntimeError):
        return f"/candidatures/{application.id}"


def application_link(application):
    """Absolute link to the file page, for e-mails."""
    return current_app.config["BASE_URL"].rstrip("/") + application_path(application)


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


def _mail_members(application, subject, template, **context):
    for member in members_of(application.association_id):
        queue_mail(member.email, subject, template, user=member, application=application,
                   link=application_link(application), **context)


def _subject(application, text):
    return f"[{application.reference or 'Dossier'}] {text}"


def can_use_messages(user, application):
    """Staff, and members of the file's association; never reviewers nor other associations."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return user.role == APPLICANT and user.association_id == application.association_id


def item_choices(call):
    """(code, label) of everything staff may ask for: the sections, then the call's documents."""
    choices = list(SECTIONS.items())
    for document in call.documents:
        choices.append((f"{DOCUMENT_PREFIX}{document.id}", f"Pièce : {document.label}"))
    return choices


def item_labels(items, call=None, documents=None):
    """Human labels of requested items, in the order given."""
    if documents is None:
        documents = {d.id: d for d in call.documents} if call is not None else {}
    labels = []
    for item in items:
        if item in SECTIONS:
            labels.append(SECTIONS[item])
        elif item.startswith(DOCUMENT_PREFIX) and item[len(DOCUMENT_PREFIX):].isdigit():
            document = documents.get(int(item[len(DOCUMENT_PREFIX):]))
            labels.append(f"Pièce : {document.label}" if document else "Pièce jointe demandée")
        else:
            labels.append(item)
    return labels


# --- admissibility -------------------------------------------------------------------------

def mark_admissible(application, actor):
    if application.status != SUBMITTED:
        raise InstructionError(
            f"Ce dossier est « {application.status_label} » : seul un dossier déposé peut être déclaré recevable.")
    events.change_state(application, ADMISSIBLE, actor, reason="", action="admissibility")
    _mail_members(application, _subject(application, "Votre dossier est recevable"),
                  "instruction_admissible")
    db.session.commit()
    return application


def mark_inadmissible(application, actor, reason):
    reason = (reason or "").strip()
    if not reason:
        raise InstructionError("Indiquez le motif d'irrecevabilité : il est transmis à l'association.")
    if len(reason) > REASON_MAX_LENGTH:
        raise InstructionError(f"Le motif ne doit pas dépasser {REASON_MAX_LENGTH} caractères.")
    if application.status not in (SUBMITTED, INCOMPLETE):
        raise InstructionError(
            f"Ce dossier est « {application.status_label} » : seul un dossier déposé ou à compléter "
            "peut être déclaré irrecevable.")
    events.change_state(application, INADMISSIBLE, actor, reason=reason, action="admissibility")
    _mail_members(application, _subject(application, "Votre dossier n'est pas recevable"),
                  "instruction_inadmissible", reason=reason)
    db.session.commit()
    return application


# --- requests for missing pieces -------------------------------------------------------------

def request_pieces(application, actor, items, message, due_date):
    """Reopen the listed sections / documents until the end of due_date (Paris), notify members."""
    if application.status != SUBMITTED:
        raise InstructionError(
            f"Ce dossier est « {application.status_label} » : des pièces ne peuvent être demandées "
            "que sur un dossier déposé.")
    message = (message or "").strip()
    if not message:
        raise InstructionError("Rédigez un message expliquant ce que l'association doit compléter.")
    if len(message) > MESSAGE_MAX_LENGTH:
        raise InstructionError(f"Le message ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères.")
    documents = {d.id: d for d in db.session.scalars(
        db.select(RequiredDocument).where(RequiredDocument.call_id == application.call_id)).all()}
    cleaned = []
    for item in items or []:
        if item in SECTIONS:
            pass
        elif (item.startswith(DOCUMENT_PREFIX) and item[len(DOCUMENT_PREFIX):].isdigit()
              and int(item[len(DOCUMENT_PREFIX):]) in documents):
            pass
        else:
            raise InstructionError("Un des éléments demandés n'existe pas pour cet appel à projets.")
        if item not in cleaned:
            cleaned.append(item)
    if not cleaned:
        raise InstructionError("Cochez au moins une partie du dossier ou une pièce à compléter.")
    if due_date is None:
        raise InstructionError("Indiquez la date limite de réponse.")
    due_at = timeutil.end_of_day_paris(due_date)
    if due_at <= timeutil.now():
        raise InstructionError("La date limite de réponse doit être dans le futur.")

    piece_request = PieceRequest(application_id=application.id, requested_by_id=actor.id,
                                 message=message, sections=cleaned, due_at=due_at)
    db.session.add(piece_request)
    application.reopened_sections = list(cleaned)
    events.change_state(application, INCOMPLETE, actor, reason=message, action="piece_request",
                        items=cleaned, due_at=due_at.isoformat())
    _mail_members(application, _subject(application, "Des pièces sont à compléter"),
                  "instruction_pieces", message=message,
                  labels=item_labels(cleaned, documents=documents),
                  due_label=timeutil.format_datetime(due_at))
    db.session.commit()
    return piece_request


# --- messages --------------------------------------------------------------------------------

def post_message(application, author, body):
    """Add a message to the file's thread, record it in the history, notify the other side."""
    if not can_use_messages(author, application):
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
    message = Message(application_id=application.id, author_id=author.id, body=body)
    db.session.add(message)
    db.session.flush()
    events.record("message", actor=author, application=application, message_id=message.id)
    subject = _subject(application, "Nouveau message sur votre dossier" if author.is_staff
                       else "Nouveau message de l'association")
    for recipient in recipients:
        if recipient.id == author.id:
            continue
        queue_mail(recipient.email, subject, "instruction_message", user=recipient, author=author,
                   application=application, link=application_link(application) + "#messages")
    db.session.commit()
    return message


# --- reads used by the templates (one query each) ---------------------------------------------

def messages_for(application):
    return db.session.scalars(
        db.select(Message).options(joinedload(Message.author))
        .where(Message.application_id == application.id)
        .order_by(Message.created_at, Message.id)).all()


def piece_requests_for(application):
    return db.session.scalars(
        db.select(PieceRequest)
        .where(PieceRequest.application_id == application.id)
        .order_by(PieceRequest.created_at.desc(), PieceRequest.id.desc())).all()
