"""The follow-up page of one winner's file, for its association's members and for staff."""
from flask import abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..documents.data import is_winner
from ..extensions import db
from ..models import Convention
from ..permissions import can_follow_application, get_application_or_404, is_application_member
from . import bp
from .page import sections


def load_convention(application_id):
    """The file's convention with everything its follow-up shows, in one query per relation."""
    return db.session.scalar(
        select(Convention).where(Convention.application_id == application_id)
        .options(selectinload(Convention.documents), selectinload(Convention.amendments),
                 selectinload(Convention.payments), selectinload(Convention.reports)))


@bp.route("/dossiers/<int:application_id>")
@login_required
def show(application_id):
    """« Suivi de la subvention »: the convention and its signature, amendments, payments and
    yearly reports of a winning file; each section says what is awaited from whom."""
    application = get_application_or_404(application_id, check=can_follow_application)
    if not is_winner(application):
        abort(404)
    convention = load_convention(application.id)
    return render_template("followup/show.html", application=application, call=application.call,
                           convention=convention, is_member=is_application_member(current_user, application),
                           sections=sections(application, convention, current_user))
