"""Role and object checks. Views use these so that the safe way is the easy way.

Role checks answer 403; object checks answer 404, so that nobody learns whether
another association's file exists.
"""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from .extensions import db
from .models.applications import Status
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


def can_read_bank_request(user, request):
    """A request to change bank details and its RIB: the association's own members and staff,
    never a reviewer (DESIGN.md section 2: bank details and the RIB are « réservés »)."""
    return user.is_authenticated and (user.is_staff or is_member(user, request.association_id))


def can_read_association_document(user, document):
    """A piece kept in an association's documents (« Mes documents »: statuts, list of the board,
    RIB): the association's own members and staff, never a reviewer."""
    return user.is_authenticated and (user.is_staff or is_member(user, document.association_id))


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


def can_view_application(user, application):
    """Members of the association, staff, and assigned reviewers without a conflict who have
    confirmed, on opening the file, that they have no link with the association."""
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    if user.role == APPLICANT:
        return user.association_id == application.association_id
    if user.role == REVIEWER:
        return (application.status not in (Status.DRAFT, Status.WITHDRAWN)
                and is_assigned(user, application, confirmed=True) and not has_conflict(user, application))
    return False


def _attachment_open_to(user, attachment):
    """The rule of the pieces « réservé à l'instruction » (RequiredDocument.reserved: the RIB,
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
    from .models.applications import EDITABLE_STATES
    return is_member(user, application.association_id) and application.status in EDITABLE_STATES


def get_application_or_404(application_id, check=can_view_application):
    from .models import Application
    application = db.session.get(Application, application_id)
    if application is None or not check(current_user, application):
        abort(404)
    return application
