"""Submitting a file (or its complement after a request for pieces) and withdrawing it."""
from .. import events, timeutil
from ..database import lock
from ..documents.receipt import receipt_attachment
from ..extensions import db
from ..mail import queue_mail
from ..models import Deposit, PieceRequest
from ..models.applications import (
    DEPOSIT_COMPLEMENT,
    DEPOSIT_ORIGINAL,
    EDITABLE_STATES,
    INCOMPLETE,
    SUBMITTED,
    WITHDRAWN,
)
from ..transitions import APPLICATION
from .completeness import missing_items
from .deadlines import closed_reason, editable_sections, latest_piece_request
from .deposits import build_snapshot, fingerprint, jsonable, original_deposit, record_original_deposit, stored_files
from .drafts import derive_from_budget
from .errors import ApplicationError, SubmissionError

# The states from which the association may withdraw its file (aap/transitions.py).
WITHDRAWABLE = APPLICATION.sources(WITHDRAWN, service="applications.submission.withdraw")


def submit(application, user):
    """Submit (or resubmit after a request for pieces), atomically.

    In one transaction: the deadline and completeness checks, the reference (from the call's
    counter, locked), the snapshot and its fingerprint, the state change, the answered piece
    requests and the confirmation e-mail with the receipt. Any failure rolls everything back.
    The receipt PDF is not rendered here, while the locks are held: the e-mail refers to it and
    it is rendered from the committed snapshot when the e-mail is sent (receipt_attachment).
    """
    try:
        call = lock(application.call)
        application = lock(application)
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
            derive_from_budget(application)   # the request deposited is the budget's, whatever was saved
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
                          "original": {"submitted_at": jsonable(original.submitted_at) if original else None,
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
    application = lock(application)
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
