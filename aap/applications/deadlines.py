"""Until when, and what, the association may change in its file: the one rule of every write
path of an association (save, autosave, upload, delete, submit).
"""
from .. import timeutil
from ..extensions import db
from ..models import PieceRequest
from ..models.applications import DRAFT, EDITABLE_STATES, INCOMPLETE
from ..models.calls import CALL_PUBLISHED
from . import sections as S


def latest_piece_request(application):
    return db.session.scalar(
        db.select(PieceRequest).where(PieceRequest.application_id == application.id,
                                      PieceRequest.report_id.is_(None))  # not a yearly report's
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
            return ("L'appel à projets est clos : ce brouillon reste consultable mais ne peut plus être "
                    "modifié ni déposé.")
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


def piece_editable(application, document_id, now=None):
    if "pieces" not in editable_sections(application, now):
        return False
    if application.status == DRAFT:
        return True
    reopened = set(application.reopened_sections or [])
    return "pieces" in reopened or f"doc:{document_id}" in reopened
