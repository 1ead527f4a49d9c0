"""Messages to many files, as drafts first (issue 19 §3).

Staff choose the files of a call by a filter (the winners, the files to complete, the files in a
given state, every file deposited), write a subject and a text with per-file {placeholders}
(plain substitution, as the decision mails: aap/calls/mail_templates.py, unknown placeholders
refused), read the drafts (one per file, filled) and confirm. The confirmation carries the
fingerprint of the drafts shown (as selection/mails.py does for decision mails): `send` computes
the drafts again and refuses when they changed. Sending writes, for each file, a message in its
thread (aap/instruction/services.py's messages: the association reads it on its file page) and
queues the filled mail to each member through the outbox under the limits of every message
(kind « instruction_message », config MAIL_LIMITS); one event per file, and one for the sending.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.orm import contains_eager

from .. import events, timeutil
from ..calls import mail_templates
from ..extensions import db
from ..mail import queue_text
from ..models import Application, Message, PieceRequest, User
from ..models.applications import DRAFT, SELECTED, STATUS_LABELS, WITHDRAWN, Status
from ..models.users import APPLICANT
from ..money import format_euros
from ..textrules import header_text
from .services import MESSAGE_MAX_LENGTH, application_link

MAIL_KIND = "instruction_message"  # the limits of every message to an association
SUBJECT_MAX = 200

# The filters: « every file deposited », then one per state (drafts excepted), winners first.
ALL_SENT = "deposes"
TARGETS = {ALL_SENT: "Tous les dossiers déposés (sauf retirés)",
           str(SELECTED): "Tous les lauréats (dossiers retenus)",
           str(Status.INCOMPLETE): "Tous les dossiers à compléter (demande de pièces en cours)"}
TARGETS.update({str(status): f"Dossiers à l'état « {label} »" for status, label in STATUS_LABELS.items()
                if status not in (DRAFT, SELECTED, Status.INCOMPLETE)})

# « Rapport attendu » (issue 18): the winners whose yearly report of a year is not submitted yet
# (a draft, or sent back for complements), or only those late (aap/followup/report_review.py).
REPORT_AWAITED, REPORT_LATE = "rapport-attendu-", "rapport-en-retard-"


def targets(call):
    """The filters offered for `call`: TARGETS, then two per year of its conventions."""
    choices = dict(TARGETS)
    for year in call.year_list:
        choices[f"{REPORT_AWAITED}{year}"] = f"Lauréats dont le compte rendu {year} n'est pas encore déposé"
        choices[f"{REPORT_LATE}{year}"] = f"Lauréats dont le compte rendu {year} est en retard"
    return choices

PLACEHOLDERS = {
    "association": "le nom de l'association",
    "reference": "la référence du dossier",
    "projet": "l'intitulé du projet",
    "appel": "le titre de l'appel à projets",
    "montant": "le montant accordé (dossier retenu), sinon le montant demandé",
    "date_limite": "la date limite de la demande de pièces en cours (vide s'il n'y en a pas)",
    "lien": "l'adresse du dossier dans AAP",
}

CHANGED_MESSAGE = ("Les messages à envoyer ont changé depuis l'aperçu (dossiers ou texte) : "
                   "vérifiez le nouvel aperçu avant d'envoyer.")


class BulkMessageError(ValueError):
    """Refused (French message), by field: {"subject"|"body"|"target": message}."""

    def __init__(self, errors):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Draft:
    application: object
    recipients: tuple   # the association's active members' addresses
    subject: str
    body: str
    last_message: int = 0  # the latest message of the file's thread (a second sending changes it)


def check(target, subject, body, call=None):
    """{field: French message} of what is wrong ({} when it is fine); `call` offers its report filters."""
    errors = {}
    subject, body = (subject or "").strip(), (body or "").strip()
    if target not in (targets(call) if call is not None else TARGETS):
        errors["target"] = "Choisissez les dossiers auxquels écrire."
    if not subject:
        errors["subject"] = "Indiquez l'objet du message."
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = f"L'objet ne doit pas dépasser {SUBJECT_MAX} caractères."
    elif unknown := mail_templates.unknown_placeholders(subject, PLACEHOLDERS):
        errors["subject"] = _unknown(unknown)
    if not body:
        errors["body"] = "Rédigez le texte du message."
    elif len(body) > MESSAGE_MAX_LENGTH:
        errors["body"] = f"Le texte ne doit pas dépasser {MESSAGE_MAX_LENGTH} caractères."
    elif unknown := mail_templates.unknown_placeholders(body, PLACEHOLDERS):
        errors["body"] = _unknown(unknown)
    return errors


def _unknown(names):
    listed = ", ".join("{" + name + "}" for name in names)
    return (f"Champ inconnu : {listed}. Les champs possibles sont listés sous le formulaire "
            "(en minuscules, entre accolades).")


def _files(call, target):
    query = (db.select(Application).join(Application.association).outerjoin(Application.decision)
             .options(contains_eager(Application.association), contains_eager(Application.decision))
             .where(Application.call_id == call.id))
    if target == ALL_SENT:
        query = query.where(Application.status.not_in((DRAFT, WITHDRAWN)))
    elif target.startswith((REPORT_AWAITED, REPORT_LATE)):
        from ..followup.report_review import winners_awaiting_report
        late = target.startswith(REPORT_LATE)
        year = int(target[len(REPORT_LATE if late else REPORT_AWAITED):])
        query = query.where(Application.status == SELECTED,
                            Application.id.in_(winners_awaiting_report(call.id, year, late_only=late)))
    else:
        query = query.where(Application.status == Status(target))
    return db.session.scalars(query.order_by(Application.reference, Application.id)).unique().all()


def _values(call, application, due_at):
    decision = application.decision
    if application.status == SELECTED and decision is not None and decision.amount_cents:
        amount = format_euros(decision.amount_cents)
    else:
        amount = format_euros(application.requested_cents) if application.requested_cents else ""
    return {"association": application.association.name, "reference": application.reference or "",
            "projet": application.title or "", "appel": call.title, "montant": amount,
            "date_limite": f"{timeutil.format_datetime(due_at)} (heure de Paris)" if due_at else "",
            "lien": application_link(application, "messages")}


def drafts(call, target, subject, body):
    """One Draft per file of the filter, filled (four queries whatever the number of files).
    BulkMessageError when the filter, subject or text is refused."""
    errors = check(target, subject, body, call)
    if errors:
        raise BulkMessageError(errors)
    subject, body = subject.strip(), body.strip()
    files = _files(call, target)
    ids = [application.id for application in files]
    due, members, last = {}, {}, {}
    if ids:
        for application_id, due_at in db.session.execute(
                db.select(PieceRequest.application_id, PieceRequest.due_at)
                .where(PieceRequest.application_id.in_(ids), PieceRequest.report_id.is_(None),
                       PieceRequest.answered_at.is_(None),
                       PieceRequest.cancelled_at.is_(None))
                .order_by(PieceRequest.created_at, PieceRequest.id)):
            due[application_id] = due_at  # the latest open request wins
        for association_id, email in db.session.execute(
                db.select(User.association_id, User.email)
                .where(User.association_id.in_({a.association_id for a in files}), User.role == APPLICANT,
                       User.active.is_(True)).order_by(User.id)):
            members.setdefault(association_id, []).append(email)
        last = dict(db.session.execute(
            db.select(Message.application_id, db.func.max(Message.id))
            .where(Message.application_id.in_(ids)).group_by(Message.application_id)).all())
    result = []
    for application in files:
        values = _values(call, application, due.get(application.id))
        result.append(Draft(application, tuple(members.get(application.association_id, ())),
                            header_text(mail_templates.fill(subject, values, PLACEHOLDERS))[:255],
                            mail_templates.fill(body, values, PLACEHOLDERS), last.get(application.id) or 0))
    return result


def fingerprint(items):
    """What the preview showed: another file, subject or text changes it, and so does a message
    written since in one of the threads (the same messages are not sent twice by a second click)."""
    parts = sorted(f"{d.application.id}\x1e{d.last_message}\x1e{d.subject}\x1e{d.body}" for d in items)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def mail_body(draft):
    link = application_link(draft.application, "messages")
    return (f"{draft.body}\n\n--\nCe message figure aussi dans la messagerie de votre dossier "
            f"{draft.application.reference}, d'où vous pouvez répondre :\n{link}\n")


@dataclass(frozen=True)
class Sent:
    messages: int   # messages written in the files' threads
    mails: int      # e-mails queued
    held: int       # e-mails not queued: the recipient reached the limit of messages


def send(call, actor, target, subject, body, shown_fingerprint):
    """Write and send the messages the preview showed (refused when they changed since). Committed."""
    items = drafts(call, target, subject, body)
    if not items:
        raise BulkMessageError({"target": "Aucun dossier ne correspond à ce choix : aucun message à envoyer."})
    if fingerprint(items) != shown_fingerprint:
        raise BulkMessageError({"fingerprint": CHANGED_MESSAGE})
    mails = held = 0
    for draft in items:
        application = draft.application
        message = Message(application_id=application.id, author_id=actor.id, body=draft.body)
        db.session.add(message)
        db.session.flush()
        events.record("message", actor=actor, application=application, message_id=message.id, to_many=True)
        for email in draft.recipients:
            if queue_text(email, draft.subject, mail_body(draft), MAIL_KIND) is None:
                held += 1
            else:
                mails += 1
    events.record("messages_sent_to_many", actor=actor, call_id=call.id, target=target,
                  subject=subject.strip(), files=len(items), mails=mails, held=held)
    db.session.commit()
    return Sent(len(items), mails, held)
