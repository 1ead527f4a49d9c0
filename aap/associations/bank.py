"""The association's bank details: changes, requests validated by staff, history, notices.

A change of bank details is a fraud path (the grant goes to that account), so:
- the member who changes them types their password again (failures are counted and limited);
- every member of the association (and its contact address) and the staff are told by e-mail,
  with the IBAN masked (its last 4 characters only, never the full IBAN in a mail);
- once a file of the association is selected (a published « retenu » decision), a change is
  a *request*: the new details with the RIB of the new account, which staff validate or refuse
  (with a reason); until validated, the association's details, hence new conventions and
  payments, stay as they were;
- the conventions already issued keep the details they were issued with (Convention.bank_details,
  see aap/documents/services.py).

The only place that writes bank details and bank change requests. Records each step in the
history (events) and queues the e-mails in the same transaction; knows nothing of HTTP.
"""
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, func
from sqlalchemy.orm import joinedload

from .. import timeutil
from ..applications import files
from ..applications.history import ADMINISTRATION, MEMBER, person_label
from ..events import record
from ..extensions import db
from ..mail import queue_mail
from ..models import Application, BankChangeRequest, Decision, Event, User
from ..models.associations import (
    BANK_REQUEST_PENDING,
    BANK_REQUEST_REFUSED,
    BANK_REQUEST_REPLACED,
    BANK_REQUEST_VALIDATED,
)
from ..models.selection import OUTCOME_SELECTED
from ..models.users import ADMIN, APPLICANT, STAFF
from ..permissions import is_member
from ..urls import absolute_url
from ..validators import clean_bic, clean_iban
from .services import BIC_REQUIRED, HOLDER_REQUIRED, IBAN_REQUIRED, AssociationError, mask_iban

PASSWORD_REQUIRED = "Saisissez votre mot de passe pour confirmer la modification."
PASSWORD_WRONG = "Le mot de passe est incorrect."
PASSWORD_LOCKED = ("Trop d'essais de mot de passe incorrects : pour votre sécurité, réessayez dans "
                   "{minutes} minutes.")
RIB_REQUIRED = "Joignez le RIB du nouveau compte (PDF, JPEG ou PNG)."
RIB_EMPTY = "Le fichier est vide."
RIB_FORMAT = ("Le RIB doit être un fichier PDF, JPEG ou PNG (le contenu du fichier est vérifié, pas "
              "seulement son extension).")
RIB_TOO_LARGE = "Le fichier dépasse la taille autorisée ({size} par fichier)."
NOT_A_MEMBER = "Seuls les membres de l'association peuvent modifier ses coordonnées bancaires."
NOT_STAFF = "Seuls les agents de la DJEPVA peuvent valider ou refuser une demande."
NOT_PENDING = "Cette demande a déjà été traitée : elle ne peut plus être validée ni refusée."
CHECK_REQUIRED = ("Cochez la case pour confirmer que le RIB joint correspond au titulaire, à l'IBAN et "
                  "au BIC demandés.")
REASON_REQUIRED = "Indiquez le motif du refus : il est communiqué à l'association."
REASON_MAX_LENGTH = 2000
REASON_TOO_LONG = f"Le motif ne peut pas dépasser {REASON_MAX_LENGTH} caractères."
HOLDER_TOO_LONG = "Ce champ ne peut pas dépasser 200 caractères."

RIB_KINDS = ("pdf", "jpeg", "png")
PASSWORD_FAILED = "bank_password_refused"
MAX_PASSWORD_FAILURES = 5  # per member, over the login window: then the change is locked for a while
# The events of the bank history, in the words of both sides.
HISTORY_ACTIONS = ("bank_details_changed", "bank_change_requested", "bank_change_validated",
                   "bank_change_refused")


@dataclass
class BankChange:
    """What a change asked by a member led to: applied at once, or a request to validate."""
    changed: list
    applied: bool = False
    request: BankChangeRequest | None = None


@dataclass
class HistoryRow:
    """One line of the bank history, as its reader may see it."""
    at: datetime
    label: str
    actor: str
    lines: list = field(default_factory=list)
    reason: str = ""


# ---------------------------------------------------------------------------------------------
# Rules

def requires_validation(association):
    """True once a file of the association is selected (a published « retenu » decision): from
    then on a change of bank details is a request that staff validate."""
    return bool(db.session.scalar(db.select(exists().where(
        Application.association_id == association.id, Decision.application_id == Application.id,
        Decision.outcome == OUTCOME_SELECTED, Decision.published_at.is_not(None)))))


def current_details(association):
    return {"iban": association.iban, "bic": association.bic, "account_holder": association.account_holder}


def clean_details(iban, bic, holder, errors):
    """The details normalised ({iban, bic, account_holder}); a French message per bad field in `errors`."""
    clean = {}
    for key, value, cleaner, required in (("iban", iban, clean_iban, IBAN_REQUIRED),
                                          ("bic", bic, clean_bic, BIC_REQUIRED)):
        if not (value or "").strip():
            errors[key] = required
            continue
        try:
            clean[key] = cleaner(value)
        except ValueError as error:
            errors[key] = str(error)
    holder = (holder or "").strip()
    if not holder:
        errors["account_holder"] = HOLDER_REQUIRED
    elif len(holder) > 200:
        errors["account_holder"] = HOLDER_TOO_LONG
    clean["account_holder"] = holder
    return clean


def _failures_window():
    return current_app.config.get("LOGIN_WINDOW_SECONDS", 15 * 60)


def _password_locked(user):
    since = timeutil.now() - timedelta(seconds=_failures_window())
    failures = db.session.scalar(db.select(func.count(Event.id)).where(
        Event.action == PASSWORD_FAILED, Event.actor_id == user.id, Event.at >= since))
    return failures >= MAX_PASSWORD_FAILURES


def _check_password(user, password, errors):
    """The member's password, typed again. A wrong one is recorded (and committed even though the
    change is refused), and too many in the login window lock the change for a while."""
    if not password:
        errors["password"] = PASSWORD_REQUIRED
        return
    if _password_locked(user):
        errors["password"] = PASSWORD_LOCKED.format(minutes=max(_failures_window() // 60, 1))
        return
    if not user.check_password(password):
        record(PASSWORD_FAILED, actor=user, association_id=user.association_id)
        db.session.commit()
        errors["password"] = PASSWORD_WRONG


def rib_size_limit():
    """The largest RIB accepted, in French (the limit of every uploaded piece)."""
    from ..applications.attachments import size_label
    return size_label(current_app.config["MAX_FILE_SIZE"])


def _read_rib(filename, stream, errors):
    """The RIB's bytes and kind, with the checks of the application pieces: size limit, kind read
    from the content (PDF, JPEG or PNG only), an unsafe file refused."""
    if stream is None or not (filename or "").strip():
        errors["rib"] = RIB_REQUIRED
        return None
    limit = current_app.config["MAX_FILE_SIZE"]
    data = stream.read(limit + 1)
    if len(data) > limit:
        errors["rib"] = RIB_TOO_LARGE.format(size=rib_size_limit())
        return None
    if not data:
        errors["rib"] = RIB_EMPTY
        return None
    try:
        kind = files.detect_kind(data)
    except ValueError as unsafe:  # files.UnsafeFile: active content, decompression bomb
        errors["rib"] = str(unsafe)
        return None
    if kind not in RIB_KINDS:
        errors["rib"] = RIB_FORMAT
        return None
    return data, kind


# ---------------------------------------------------------------------------------------------
# Who is told

def member_recipients(association):
    """The active members of the association, and its contact address when it is none of theirs."""
    members = db.session.scalars(
        db.select(User).where(User.association_id == association.id, User.role == APPLICANT,
                              User.active.is_(True)).order_by(User.id)).all()
    recipients = [(member.email, member) for member in members]
    contact = (association.contact_email or "").strip().lower()
    if contact and contact not in {email.lower() for email, _ in recipients}:
        recipients.append((contact, None))
    return recipients


def staff_recipients():
    """Every active staff account (the administrators when there is none)."""
    for roles in ((STAFF,), (ADMIN,)):
        people = db.session.scalars(
            db.select(User).where(User.role.in_(roles), User.active.is_(True)).order_by(User.id)).all()
        if people:
            return people
    return []


def _notify(association, change, actor, old, new, request=None):
    """Mail every member (and the contact address) and the staff about a change or a request.

    change: "applied" (changed at once), "requested" (waiting for staff), "validated" (by staff).
    Only the last 4 characters of an IBAN are ever written in a mail."""
    context = {
        "association": association, "change": change, "at": timeutil.now(),
        "old_iban_end": (old.get("iban") or "")[-4:], "new_iban_end": (new.get("iban") or "")[-4:],
        "old_holder": old.get("account_holder") or "", "new_holder": new.get("account_holder") or "",
        "old_bic": old.get("bic") or "", "new_bic": new.get("bic") or "", "request": request,
    }
    subjects = {"applied": "Coordonnées bancaires modifiées", "requested": "Demande de modification des "
                "coordonnées bancaires", "validated": "Nouvelles coordonnées bancaires validées"}
    subject = f"{subjects[change]} — {association.name}"
    member_link = absolute_url("associations.bank")
    for email, member in member_recipients(association):
        queue_mail(email, subject, "bank_details_members", user=member, link=member_link,
                   actor_name=person_label(member, actor, association.id) or MEMBER, **context)
    staff_link = absolute_url("associations.staff_view", association_id=association.id)
    for person in staff_recipients():
        if person.id == getattr(actor, "id", None):
            continue  # the staff member who validated knows it
        queue_mail(person.email, f"[Coordonnées bancaires] {subject}", "bank_details_staff", user=person,
                   link=staff_link, actor_name=actor.full_name if actor is not None else "", **context)


def _event_details(old, new):
    """The history of a change: the IBANs masked (last 4 characters), BIC and holder as they are."""
    return {"old_iban": mask_iban(old.get("iban")), "new_iban": mask_iban(new.get("iban")),
            "old_bic": old.get("bic"), "new_bic": new.get("bic"),
            "old_holder": old.get("account_holder"), "new_holder": new.get("account_holder")}


# ---------------------------------------------------------------------------------------------
# The member's change

def change_bank_details(association, actor, password, iban, bic, holder, rib_filename=None, rib_stream=None):
    """A member changes the association's bank details, confirming with their password.

    Before any selection, the change applies at once. Once a file is selected, it is a request
    with the RIB of the new account (rib_filename/rib_stream), which replaces a request still
    pending; the details apply when staff validate it. Every member and the staff are told.
    Raises AssociationError (one French message per field: iban, bic, account_holder, rib,
    password). Returns a BankChange; commits."""
    if actor is None or not is_member(actor, association.id):
        raise AssociationError(NOT_A_MEMBER)
    errors = {}
    new = clean_details(iban, bic, holder, errors)
    gated = requires_validation(association)
    rib = _read_rib(rib_filename, rib_stream, errors) if gated else None
    _check_password(actor, password, errors)
    if errors:
        raise AssociationError("Les coordonnées bancaires contiennent des erreurs.", errors)
    old = current_details(association)
    changed = [key for key in ("iban", "bic", "account_holder") if old[key] != new[key]]
    if not changed:
        return BankChange(changed=[])
    if not gated:
        for key in changed:
            setattr(association, key, new[key])
        record("bank_details_changed", actor=actor, association_id=association.id, fields=changed,
               **_event_details(old, new))
        _notify(association, "applied", actor, old, new)
        db.session.commit()
        return BankChange(changed=changed, applied=True)
    return BankChange(changed=changed, request=_create_request(association, actor, old, new, changed, *rib,
                                                               rib_filename))


def _create_request(association, actor, old, new, changed, data, kind, filename):
    stored = files.new_stored_name()
    files.write(stored, data)
    try:
        replaced = db.session.scalars(db.select(BankChangeRequest).where(
            BankChangeRequest.association_id == association.id,
            BankChangeRequest.status == BANK_REQUEST_PENDING)).all()
        now = timeutil.now()
        for previous in replaced:
            previous.status, previous.decided_at = BANK_REQUEST_REPLACED, now
        request = BankChangeRequest(
            association_id=association.id, status=BANK_REQUEST_PENDING, iban=new["iban"], bic=new["bic"],
            account_holder=new["account_holder"], rib_original_name=files.display_name(filename, kind),
            rib_stored_name=stored, rib_kind=kind, rib_content_type=files.KINDS[kind][0], rib_size=len(data),
            rib_sha256=hashlib.sha256(data).hexdigest(), requested_by_id=actor.id, requested_at=now)
        db.session.add(request)
        db.session.flush()
        record("bank_change_requested", actor=actor, association_id=association.id, request_id=request.id,
               fields=changed, name=request.rib_original_name, sha256=request.rib_sha256,
               replaced=[previous.id for previous in replaced], **_event_details(old, new))
        _notify(association, "requested", actor, old, new, request)
        db.session.commit()
    except Exception:
        db.session.rollback()
        files.remove(stored)
        raise
    return request


# ---------------------------------------------------------------------------------------------
# Staff's decision

def _pending(request, actor):
    if actor is None or not actor.is_staff:
        raise AssociationError(NOT_STAFF)
    if request.status != BANK_REQUEST_PENDING:
        raise AssociationError(NOT_PENDING)


def validate_request(request, actor, checked):
    """Staff validate a request (having checked the RIB): the new details become the
    association's, for new conventions and payments. Commits."""
    _pending(request, actor)
    if not checked:
        raise AssociationError(CHECK_REQUIRED, {"checked": CHECK_REQUIRED})
    association = request.association
    old = current_details(association)
    new = {"iban": request.iban, "bic": request.bic, "account_holder": request.account_holder}
    changed = [key for key in ("iban", "bic", "account_holder") if old[key] != new[key]]
    for key in changed:
        setattr(association, key, new[key])
    request.status, request.decided_by_id, request.decided_at = BANK_REQUEST_VALIDATED, actor.id, timeutil.now()
    record("bank_change_validated", actor=actor, association_id=association.id, request_id=request.id,
           fields=changed, **_event_details(old, new))
    _notify(association, "validated", actor, old, new, request)
    db.session.commit()
    return changed


def refuse_request(request, actor, reason):
    """Staff refuse a request, with a reason written for the association (in its mail and its
    history); its bank details stay as they are. Commits."""
    _pending(request, actor)
    reason = (reason or "").strip()
    if not reason:
        raise AssociationError(REASON_REQUIRED, {"reason": REASON_REQUIRED})
    if len(reason) > REASON_MAX_LENGTH:
        raise AssociationError(REASON_TOO_LONG, {"reason": REASON_TOO_LONG})
    association = request.association
    request.status, request.decided_by_id, request.decided_at = BANK_REQUEST_REFUSED, actor.id, timeutil.now()
    request.refusal_reason = reason
    record("bank_change_refused", actor=actor, association_id=association.id, request_id=request.id,
           reason=reason, new_iban=mask_iban(request.iban), new_bic=request.bic,
           new_holder=request.account_holder)
    link = absolute_url("associations.bank")
    for email, member in member_recipients(association):
        queue_mail(email, f"Demande de modification des coordonnées bancaires refusée — {association.name}",
                   "bank_request_refused", user=member, association=association, request=request,
                   new_iban_end=request.iban[-4:], reason=reason, link=link)
    db.session.commit()


# ---------------------------------------------------------------------------------------------
# Reading

def requests_of(association):
    """The association's requests, newest first."""
    return db.session.scalars(
        db.select(BankChangeRequest).options(joinedload(BankChangeRequest.requested_by),
                                             joinedload(BankChangeRequest.decided_by))
        .where(BankChangeRequest.association_id == association.id)
        .order_by(BankChangeRequest.requested_at.desc(), BankChangeRequest.id.desc())).all()


def latest_request(association):
    """The request the association sees on its page: the newest that was not replaced."""
    return next((r for r in requests_of(association) if r.status != BANK_REQUEST_REPLACED), None)


def pending_requests():
    """Every request waiting for staff, oldest first, with its association (one query)."""
    return db.session.scalars(
        db.select(BankChangeRequest).options(joinedload(BankChangeRequest.association))
        .where(BankChangeRequest.status == BANK_REQUEST_PENDING)
        .order_by(BankChangeRequest.requested_at, BankChangeRequest.id)).all()


def get_request(association_id, request_id):
    """The request if it is one of this association's, else None."""
    request = db.session.get(BankChangeRequest, request_id)
    return request if request is not None and request.association_id == association_id else None


def rib_path(request):
    return files.path_of(request.rib_stored_name)


def rib_download_name(request):
    return files.display_name(request.rib_original_name, request.rib_kind)


def record_rib_download(request, actor):
    record("bank_rib_downloaded", actor=actor, association_id=request.association_id, request_id=request.id,
           name=request.rib_original_name)
    db.session.commit()


def _end(masked):
    return masked[-4:] if masked else ""


def _change_lines(details):
    lines = []
    old_iban, new_iban = details.get("old_iban"), details.get("new_iban")
    if old_iban != new_iban:
        lines.append("IBAN " + (f"se terminant par {_end(old_iban)} → " if old_iban else "")
                     + f"se terminant par {_end(new_iban)}")
    elif new_iban:
        lines.append(f"IBAN inchangé (se terminant par {_end(new_iban)})")
    if details.get("old_bic") != details.get("new_bic"):
        lines.append(f"BIC {details.get('old_bic') or '—'} → {details.get('new_bic')}")
    if details.get("old_holder") != details.get("new_holder"):
        lines.append(f"Titulaire {details.get('old_holder') or '—'} → {details.get('new_holder')}")
    return lines


def _refused_lines(details):
    return [f"IBAN demandé se terminant par {_end(details.get('new_iban'))}"]


LABELS = {
    "bank_details_changed": ("Coordonnées bancaires modifiées", _change_lines),
    "bank_change_requested": ("Demande de modification envoyée à la DJEPVA", _change_lines),
    "bank_change_validated": ("Demande validée : nouvelles coordonnées appliquées", _change_lines),
    "bank_change_refused": ("Demande refusée", _refused_lines),
}


def history(association, viewer):
    """The bank history as `viewer` may read it, newest first: staff see every actor by name; the
    association sees its members by name and the administration as « DJEPVA » (the rule of
    aap/applications/history.py). IBANs are masked for both; a refusal's reason is written for
    the association and shown to it."""
    events = db.session.scalars(
        db.select(Event).options(joinedload(Event.actor))
        .where(Event.association_id == association.id, Event.action.in_(HISTORY_ACTIONS))
        .order_by(Event.at.desc(), Event.id.desc())).all()
    rows = []
    for event in events:
        label, lines = LABELS[event.action]
        actor = person_label(viewer, event.actor, association.id)
        if not actor and event.actor is not None:
            actor = ADMINISTRATION if event.actor.is_staff else MEMBER
        if actor and viewer is not None and viewer.is_staff and event.actor is not None and event.actor.is_staff:
            actor = f"{actor} ({ADMINISTRATION})"
        rows.append(HistoryRow(at=event.at, label=label, actor=actor or "Système",
                               lines=lines(event.details or {}),
                               reason=event.reason if event.action == "bank_change_refused" else ""))
    return rows
