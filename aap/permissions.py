"""Role and object checks. Views use these so that the safe way is the easy way.

Role checks answer 403; object checks answer 404, so that nobody learns whether
another association's file exists. Every object rule lives here, and views load objects through
the get_…_or_404(check=…) helpers at the end; tests/test_rules.py tables each rule (role ×
state of the file → allowed).
"""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from .extensions import db
from .models.applications import EDITABLE_STATES, Status
from .models.users import ADMIN, APPLICANT, REVIEWER, STAFF


def roles_required(*roles):
    """Decorator: the user must be logged in and have one of these roles (admin counts as staff)."""
    allowed = set(roles)
    if STAFF in allowed:
        allowed.add(ADMIN)

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


applicant_required = roles_required(APPLICANT)
reviewer_required = roles_required(REVIEWER)
staff_required = roles_required(STAFF)
admin_required = roles_required(ADMIN)


def is_member(user, association_id):
    return user.is_authenticated and user.role == APPLICANT and user.association_id == association_id


def is_member_or_staff(user, association_id):
    """The one « member or staff » rule: what belongs to an association is read by its own
    members and by the staff, never by a reviewer nor another association."""
    return user.is_authenticated and (user.is_staff or is_member(user, association_id))


def is_application_member(user, application):
    """A member of the file's association: the only one who fills, deposits or withdraws it."""
    return is_member(user, application.association_id)


def can_follow_application(user, application):
    """The association's side of a file (its page, receipts, printable summary, convention, the
    message thread and its files): the association's members and staff."""
    return is_member_or_staff(user, application.association_id)


def can_manage_payments(user):
    """Payment lines are put to payment, paid, suspended and resumed by staff only; the
    association reads its own on its follow-up page (can_follow_application)."""
    return user.is_authenticated and user.is_staff


def can_act_on_payment_line(user, line):
    return can_manage_payments(user)


def can_read_report(user, report):
    """A yearly report (its form read-only, pieces, receipt): the association's members and staff."""
    return can_follow_application(user, report.convention.application)


def can_fill_report(user, report):
    """Filling and submitting a yearly report: the association's members only (staff read it)."""
    return is_application_member(user, report.convention.application)


def can_read_bank_request(user, request):
    """A request to change bank details and its RIB: the association's own members and staff,
    never a reviewer (DESIGN.md section 2: bank details and the RIB are « réservés »)."""
    return is_member_or_staff(user, request.association_id)


def can_read_association_document(user, document):
    """A piece kept in an association's documents (« Mes documents »: statuts, list of the board,
    RIB): the association's own members and staff, never a reviewer."""
    return is_member_or_staff(user, document.association_id)


def has_conflict(user, application):
    from .models import Conflict
    return db.session.query(
        db.session.query(Conflict).filter(
            Conflict.reviewer_id == user.id,
            Conflict.association_id == application.association_id,
        ).exists()
    ).scalar()


def is_assigned(user, application, confirmed=False):
    """The reviewer is assigned to the file (and, with confirmed=True, has declared having no
    link with the association when opening it)."""
    from .models import Assignment
    query = db.session.query(Assignment).filter_by(reviewer_id=user.id, application_id=application.id)
    if confirmed:
        query = query.filter(Assignment.no_conflict_confirmed_at.is_not(None))
    return db.session.query(query.exists()).scalar()


# A reviewer never opens a file that was not deposited, or that its association withdrew.
HIDDEN_FROM_REVIEWERS = frozenset({Status.DRAFT, Status.WITHDRAWN})
# The states in which an assigned reviewer scores the file (and saves a draft of the review).
REVIEWABLE_STATES = frozenset({Status.IN_REVIEW, Status.REVIEWED})


def _reviewer_may_open(user, application, confirmed):
    return (user.is_authenticated and user.role == REVIEWER and application.status not in HIDDEN_FROM_REVIEWERS
            and is_assigned(user, application, confirmed=confirmed) and not has_conflict(user, application))


def can_view_application(user, application):
    """Members of the association, staff, and assigned reviewers without a conflict who have
    confirmed, on opening the file, that they have no link with the association."""
    return (is_member_or_staff(user, application.association_id)
            or _reviewer_may_open(user, application, confirmed=True))


def can_open_for_review(user, application):
    """The review pages of a file: its assigned reviewer without a conflict, before the
    confirmation of having no link too (the review page asks the question first)."""
    return _reviewer_may_open(user, application, confirmed=False)


def can_review(user, application):
    """Score the file (save or send the review): its assigned reviewer, without a conflict, who
    has confirmed having no link, while the file is in review."""
    return application.status in REVIEWABLE_STATES and _reviewer_may_open(user, application, confirmed=True)


def _attachment_open_to(user, attachment):
    """The rule of the pieces « réservé à l'instruction » (RequiredPiece.reserved: the RIB,
    personal data), for a user who may view the file: its association and the staff read every
    piece; a reviewer only those of a required document visible to reviewers (a file attached
    to no required document counts as reserved). Callers check can_view_application first."""
    if user.is_staff or user.role == APPLICANT:
        return True
    if user.role == REVIEWER:
        document = attachment.document
        return document is not None and not document.reserved
    return False


def can_download_attachment(user, attachment):
    """Whether the user may see this attachment listed and download it: the file is theirs to
    view (can_view_application) and the piece is not reserved from them."""
    return can_view_application(user, attachment.application) and _attachment_open_to(user, attachment)


def downloadable_attachments(user, application):
    """The file's attachments the user may see listed and download (the same rule as
    can_download_attachment, with the file checked once)."""
    if not can_view_application(user, application):
        return []
    return [a for a in application.attachments if _attachment_open_to(user, a)]


def can_edit_application(user, application):
    return is_application_member(user, application) and application.status in EDITABLE_STATES


def can_write_staff_notes(user):
    """Staff's private notes on files and associations (« annotations privées »): staff only."""
    return user.is_authenticated and user.is_staff


def can_keep_reviewer_notes(user, application):
    """A reviewer's own notes on a file: while the file is theirs to open (assigned, no conflict,
    the absence of links confirmed)."""
    return _reviewer_may_open(user, application, confirmed=True)


def can_read_note(user, note):
    """A staff note: staff only, never the association nor a reviewer. A reviewer's note: its
    author only (not staff, not another reviewer), while the file is still theirs to open."""
    from .models.notes import REVIEWER_NOTE, STAFF_NOTE
    if not user.is_authenticated:
        return False
    if note.scope == STAFF_NOTE:
        return user.is_staff
    if note.scope == REVIEWER_NOTE:
        return (user.role == REVIEWER and note.author_id == user.id and note.application is not None
                and can_keep_reviewer_notes(user, note.application))
    return False


can_edit_note = can_read_note  # who reads a note may correct it (every version is kept)


# --- Loading an object for the current user: 404 when it is missing or not theirs ----------

def _get_or_404(model, object_id, check):
    found = db.session.get(model, object_id) if object_id is not None and 0 < object_id < 2**31 else None
    if found is None or not check(current_user, found):
        abort(404)
    return found


def get_application_or_404(application_id, check=can_view_application):
    from .models import Application
    return _get_or_404(Application, application_id, check)


def get_payment_line_or_404(line_id, check=can_act_on_payment_line):
    from .models.followup import PaymentLine
    return _get_or_404(PaymentLine, line_id, check)


def get_report_or_404(report_id, check=can_read_report):
    from .models.followup import Report
    return _get_or_404(Report, report_id, check)


def get_attachment_or_404(application_id, attachment_id, check=can_download_attachment):
    """An attachment of that file (404 for one of another file, whatever the check)."""
    from .models import Attachment
    attachment = _get_or_404(Attachment, attachment_id, check)
    if attachment.application_id != application_id:
        abort(404)
    return attachment


def get_bank_request_or_404(bank_request_id, check=can_read_bank_request):
    from .models import BankChangeRequest
    return _get_or_404(BankChangeRequest, bank_request_id, check)


def get_association_document_or_404(association_document_id, check=can_read_association_document):
    from .models import AssociationDocument
    return _get_or_404(AssociationDocument, association_document_id, check)


def get_note_or_404(note_id, check=can_read_note):
    from .models import PrivateNote
    return _get_or_404(PrivateNote, note_id, check)
