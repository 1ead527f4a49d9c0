"""The signature of a convention, and of each of its amendments (« avenants »), the same way:
issued → returned signed by the association (a PDF, checked as a piece, its digital signatures
verified: pades.py) → countersigned by the State (staff upload the countersigned PDF, or give the
day and the signatory) → in force once notified (the payments planned, the yearly reports opened;
for an amendment, its changes applied to the convention). Staff may send a returned copy back
(not acceptable, with the reason) and terminate a convention. The moves: aap/transitions.py
CONVENTION and AMENDMENT.

The day the State signed is Convention.signed_at, which the open data publishes (SCDL
dateConvention, aap/documents/opendata.py).

Every returned or countersigned PDF is kept (ConventionDocument); a new one supersedes the previous
of its kind, which stays in the history. Once the association has returned its convention, the
convention's data are frozen: it is never generated again (documents.services.is_frozen).

Services flush and let their caller (the view, the CLI) commit.
"""
import hashlib
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from .. import events, timeutil
from ..applications import files
from ..applications.attachments import size_label
from ..associations.bank import member_recipients, staff_recipients
from ..database import lock
from ..extensions import db
from ..instruction.services import mail_subject as file_subject
from ..mail import queue_mail
from ..models import Application, Call, Convention
from ..models.followup import (
    DOCUMENT_ASSOCIATION_SIGNED,
    DOCUMENT_COUNTERSIGNED,
    Amendment,
    ConventionDocument,
    ConventionState,
)
from ..urls import absolute_url
from . import pades

C = ConventionState
TERMINABLE = (C.COUNTERSIGNED, C.IN_FORCE, C.AMENDED)
REASON_MAX = 2000
SIGNATORY_MAX = 200


class SignatureError(ValueError):
    """A refusal in French; `field` names the form field it is shown next to ("" for the page)."""

    def __init__(self, message, field=""):
        super().__init__(message)
        self.message = message
        self.field = field


# ---------------------------------------------------------------------------------------------
# What a subject is

def kind_of(subject):
    """'convention' or 'amendment'."""
    return "amendment" if isinstance(subject, Amendment) else "convention"


def convention_of(subject):
    return subject.convention if isinstance(subject, Amendment) else subject


def _signed_label(subject):
    """« Convention » / « Avenant n° 1 » and its past participle, for mail subjects."""
    if isinstance(subject, Amendment):
        return f"Avenant n° {subject.number}", "signé"
    return "Convention", "signée"


def title_of(subject):
    """« la convention 1J1M-2025-0136 » / « l'avenant n° 1 à la convention 1J1M-2025-0136 »."""
    if isinstance(subject, Amendment):
        return f"l'avenant n° {subject.number} à la convention {subject.convention.number}"
    return f"la convention {subject.number}"


def countersigned_day(subject):
    """The day the State signed (a date) or None."""
    if isinstance(subject, Amendment):
        return subject.countersigned_on
    return subject.signed_at


def subject_documents(subject):
    """The documents of this convention (not of its amendments) or of this amendment, oldest first."""
    if isinstance(subject, Amendment):
        return list(subject.documents)
    return [d for d in subject.documents if d.amendment_id is None]


def current_document(subject, kind):
    """The document of `kind` in force (not superseded), or None."""
    for document in reversed(subject_documents(subject)):
        if document.kind == kind and document.superseded_at is None:
            return document
    return None


def served_document(subject):
    """The signed version served from now on: the countersigned PDF, else the one the association
    returned; None while there is none (the generated PDF is served)."""
    if subject.state == C.ISSUED:
        return None
    return current_document(subject, DOCUMENT_COUNTERSIGNED) or current_document(subject, DOCUMENT_ASSOCIATION_SIGNED)


def is_issued(subject):
    """A convention is issued once generated (its PDF stored); an amendment, once created."""
    return bool(subject.stored_name) if isinstance(subject, Convention) else True


def awaited(subject):
    """(who, what) is awaited now, in French (« Attendu de l'association : télécharger… »); None once in
    force or terminated."""
    name = "l'avenant" if isinstance(subject, Amendment) else "la convention"
    return {
        C.ISSUED: ("association", f"télécharger {name}, la faire signer par le représentant légal et la renvoyer "
                                  "ici (PDF)."),
        C.ASSOCIATION_SIGNED: ("DJEPVA", f"vérifier {name} signée et la contresigner."),
        C.COUNTERSIGNED: ("DJEPVA", f"notifier {name} contresignée à l'association : elle entre alors en vigueur."),
    }.get(subject.state)


def steps(subject):
    """[(label, datetime or date or None)] of the signature's steps, for the pages."""
    return [
        ("Émise", getattr(subject, "generated_at", None) or getattr(subject, "created_at", None)),
        ("Signée par l'association", subject.association_signed_at),
        ("Contresignée par l'État", countersigned_day(subject)),
        ("En vigueur", subject.in_force_at),
    ]


# ---------------------------------------------------------------------------------------------
# The uploaded PDF

def read_pdf(upload):
    """The bytes of an uploaded PDF, with the checks of the pieces of a file (aap/applications/
    files.py): size limit, kind read from the content (PDF only), active content refused."""
    if upload is None or not (getattr(upload, "filename", "") or "").strip():
        raise SignatureError("Choisissez le fichier PDF signé.", "document")
    limit = current_app.config["MAX_FILE_SIZE"]
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise SignatureError(f"Le fichier dépasse la taille autorisée ({size_label(limit)} par fichier).", "document")
    if not data:
        raise SignatureError("Le fichier est vide.", "document")
    try:
        kind = files.detect_kind(data)
    except files.UnsafeFile as refusal:
        raise SignatureError(refusal.message, "document") from None
    if kind != "pdf":
        raise SignatureError("Envoyez la convention signée au format PDF (le contenu du fichier est vérifié, pas "
                             "seulement son extension).", "document")
    return data


def _store(subject, kind, upload, data, actor, at):
    """Keep the PDF under the upload folder as a ConventionDocument of `kind` (the previous one of
    that kind superseded, kept in the history), its signatures checked. No flush."""
    previous = current_document(subject, kind)
    if previous is not None:
        previous.superseded_at = at
    stored = files.new_stored_name()
    files.write(stored, data)
    document = ConventionDocument(
        convention=convention_of(subject), amendment=subject if isinstance(subject, Amendment) else None,
        kind=kind, original_name=files.display_name(upload.filename, "pdf"), stored_name=stored, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), signature=pades.check_pdf_signatures(data, now=at),
        uploaded_by_id=getattr(actor, "id", None), uploaded_at=at)
    db.session.add(document)
    return document


def _flush_or_remove(document):
    try:
        db.session.flush()
    except Exception:
        if document is not None:
            files.remove(document.stored_name)
        raise


def _locked(subject):
    subject = lock(subject)
    db.session.refresh(subject, ["documents"])
    return subject


def _check_state(subject, *expected):
    if subject.state not in expected:
        raise SignatureError(f"Cette action n'est plus possible : {title_of(subject)} est « {subject.state.label} ».")


# ---------------------------------------------------------------------------------------------
# The moves

def return_signed(subject, upload, actor):
    """The association (or staff, for a copy received by post) returns the subject signed: a PDF."""
    subject = _locked(subject)
    if not is_issued(subject):
        raise SignatureError("La convention n'a pas encore été émise : téléchargez-la d'abord, puis renvoyez-la "
                             "signée.")
    _check_state(subject, C.ISSUED)
    data = read_pdf(upload)
    at = timeutil.now()
    document = _store(subject, DOCUMENT_ASSOCIATION_SIGNED, upload, data, actor, at)
    kind = kind_of(subject)
    events.change_state(subject, C.ASSOCIATION_SIGNED, actor, action=f"{kind}_returned",
                        name=document.original_name, sha256=document.sha256,
                        signature_kind=document.signature.get("kind"))
    subject.association_signed_at = at
    application = subject.application
    link = absolute_url("followup.show", application_id=application.id, _anchor="convention")
    for person in staff_recipients():
        label, signed = _signed_label(subject)
        queue_mail(person.email, file_subject(application, f"{label} {signed} par {application.association.name}"),
                   "followup_returned_staff", user=person, application=application, title=title_of(subject),
                   checks=pades.summary(document.signature), link=link)
    _flush_or_remove(document)
    return document


def refuse_return(subject, actor, reason):
    """Staff send a returned copy back (not acceptable): the association returns it again. The
    refused copy stays in the history."""
    reason = (reason or "").strip()
    if not reason:
        raise SignatureError("Indiquez à l'association pourquoi la convention signée n'est pas recevable.", "reason")
    if len(reason) > REASON_MAX:
        raise SignatureError(f"Le motif ne peut pas dépasser {REASON_MAX} caractères.", "reason")
    subject = _locked(subject)
    _check_state(subject, C.ASSOCIATION_SIGNED)
    at = timeutil.now()
    returned = current_document(subject, DOCUMENT_ASSOCIATION_SIGNED)
    if returned is not None:
        returned.superseded_at = at
    events.change_state(subject, C.ISSUED, actor, reason=reason, action=f"{kind_of(subject)}_return_refused")
    subject.association_signed_at = None
    label, signed = _signed_label(subject)
    _mail_members(subject, "followup_return_refused", f"{label} à renvoyer {signed} à nouveau", reason=reason)
    db.session.flush()


def _as_date(value):
    return value.date() if isinstance(value, datetime) else value


def countersign(subject, actor, *, day, signatory, upload=None):
    """Staff record the State's signature: the countersigned PDF (its signer and day read from its
    digital signature when not given), or the day and the signatory. The day is not in the future
    nor before the association's return."""
    signatory = (signatory or "").strip()
    if len(signatory) > SIGNATORY_MAX:
        raise SignatureError(f"Le nom du signataire ne peut pas dépasser {SIGNATORY_MAX} caractères.", "signatory")
    data = read_pdf(upload) if upload is not None and (upload.filename or "").strip() else None
    check = pades.check_pdf_signatures(data) if data is not None else None
    if data is not None:
        intact = [s for s in check.get("signatures", []) if s.get("intact") and not s.get("modified_after_signing")]
        last = intact[-1] if intact else None
        if not signatory and last:
            signatory = last.get("signer") or ""
        if day is None and last and last.get("signed_at"):
            day = timeutil.to_paris(datetime.fromisoformat(last["signed_at"])).date()
    if not isinstance(day, date):
        raise SignatureError("Saisissez la date de la signature de l'État, par exemple 15/07/2025.", "day")
    if not signatory:
        raise SignatureError("Indiquez le nom et la qualité du signataire pour l'État.", "signatory")
    subject = _locked(subject)
    _check_state(subject, C.ASSOCIATION_SIGNED)
    today = timeutil.to_paris(timeutil.now()).date()
    if day > today:
        raise SignatureError("La date de signature ne peut pas être dans le futur.", "day")
    returned_on = timeutil.to_paris(subject.association_signed_at).date() if subject.association_signed_at else None
    if returned_on and day < returned_on:
        raise SignatureError("La date de signature de l'État ne peut pas précéder le retour de la convention signée "
                             f"par l'association ({timeutil.format_date(returned_on)}).", "day")
    at = timeutil.now()
    document = _store(subject, DOCUMENT_COUNTERSIGNED, upload, data, actor, at) if data is not None else None
    events.change_state(subject, C.COUNTERSIGNED, actor, action=f"{kind_of(subject)}_countersigned",
                        day=day.isoformat(), signatory=signatory,
                        name=document.original_name if document else None)
    subject.state_signatory = signatory
    if isinstance(subject, Amendment):
        subject.countersigned_on = day
    else:
        subject.countersigned_at = at
        subject.signed_at = day  # the open data's dateConvention
    _flush_or_remove(document)
    return document


def notify(subject, actor):
    """Staff notify the countersigned subject to the association: in force. A convention gets its
    payment lines and its yearly reports; an amendment's changes become the convention's."""
    from . import amendments, payments, reports

    subject = _locked(subject)
    _check_state(subject, C.COUNTERSIGNED)
    convention = lock(subject.convention) if isinstance(subject, Amendment) else subject
    if isinstance(subject, Amendment) and convention.state not in (C.IN_FORCE, C.AMENDED):
        raise SignatureError("La convention doit être en vigueur avant que son avenant puisse l'être.")
    at = timeutil.now()
    events.change_state(subject, C.IN_FORCE, actor, action=f"{kind_of(subject)}_in_force")
    subject.in_force_at = at
    if isinstance(subject, Amendment):
        events.change_state(convention, C.AMENDED, actor, action="convention_amended", amendment=subject.number)
        amendments.apply_amendment(subject, actor)
    else:
        payments.plan_payments(subject, actor)
        reports.open_reports(subject, actor)
    _mail_members(subject, "followup_in_force", f"{title_of(subject)[0].upper()}{title_of(subject)[1:]} est en vigueur")
    db.session.flush()


def terminate(convention, actor, reason):
    """Staff terminate a countersigned convention, with the reason (told to the association)."""
    reason = (reason or "").strip()
    if not reason:
        raise SignatureError("Indiquez le motif de la résiliation.", "reason")
    if len(reason) > REASON_MAX:
        raise SignatureError(f"Le motif ne peut pas dépasser {REASON_MAX} caractères.", "reason")
    convention = _locked(convention)
    _check_state(convention, *TERMINABLE)
    events.change_state(convention, C.TERMINATED, actor, reason=reason, action="convention_terminated")
    convention.terminated_at = timeutil.now()
    convention.termination_reason = reason
    _mail_members(convention, "followup_terminated", "Convention résiliée", reason=reason)
    db.session.flush()


def _mail_members(subject, template, text, **context):
    """Each member is told; the mail's subject is « [reference] text », as every mail of a file."""
    application = subject.application
    mail_subject = file_subject(application, text)
    link = absolute_url("followup.show", application_id=application.id, _anchor="convention")
    for email, member in member_recipients(application.association):
        queue_mail(email, mail_subject, template, user=member, application=application, title=title_of(subject),
                   link=link, **context)


def record_download(document, actor):
    """A signed document downloaded (the journal; no commit)."""
    events.record("convention_document_downloaded", actor=actor, application=document.convention.application,
                  document_id=document.id, kind=document.kind, name=document.original_name)


# ---------------------------------------------------------------------------------------------
# Reminders

def reminder_cutoff(call, now):
    return now - timedelta(days=call.convention_reminder_days)


def due_reminders(now=None, call_id=None):
    """The conventions issued more than their call's convention_reminder_days ago, not returned,
    not reminded within that many days, whose file is still a winner. One query per call."""
    from ..documents.data import is_winner

    now = now or timeutil.now()
    calls = db.session.scalars(select(Call).where(Call.id.in_(
        select(Application.call_id).join(Convention, Convention.application_id == Application.id)
        .where(Convention.state == C.ISSUED, Convention.stored_name.is_not(None))))
        .where(*([Call.id == call_id] if call_id else []))).all()
    due = []
    for call in calls:
        if not call.convention_reminder_days or call.convention_reminder_days <= 0:
            continue
        cutoff = reminder_cutoff(call, now)
        due += [c for c in db.session.scalars(
            select(Convention).join(Application, Application.id == Convention.application_id)
            .options(joinedload(Convention.application).joinedload(Application.association),
                     joinedload(Convention.application).joinedload(Application.decision))
            .where(Application.call_id == call.id, Convention.state == C.ISSUED,
                   Convention.stored_name.is_not(None), Convention.generated_at <= cutoff,
                   or_(Convention.reminded_at.is_(None), Convention.reminded_at <= cutoff))
            .order_by(Convention.id)).unique() if is_winner(c.application)]
    return due


def send_convention_reminders(now=None, call_id=None):
    """Remind the members of each winner whose convention is due a reminder (due_reminders) to
    return it signed; records reminded_at and reminder_count. Returns how many were reminded."""
    now = now or timeutil.now()
    count = 0
    for convention in due_reminders(now, call_id):
        application = convention.application
        convention.reminded_at = now
        convention.reminder_count = (convention.reminder_count or 0) + 1
        events.record("convention_reminded", application=application, number=convention.number,
                      reminder=convention.reminder_count)
        _mail_members(convention, "followup_reminder", "Convention à renvoyer signée",
                      issued_at=convention.generated_at)
        count += 1
    db.session.flush()
    return count
