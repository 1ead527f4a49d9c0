from flask import render_template, request
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from .. import timeutil
from ..extensions import db
from ..models import Call, Event
from ..models.calls import CALL_PUBLISHED
from ..permissions import admin_required
from . import bp, dashboards


@bp.route("/")
def index():
    calls = db.session.scalars(
        db.select(Call).where(Call.status == CALL_PUBLISHED).order_by(Call.closes_at)).all()
    now = timeutil.now()
    open_calls = [c for c in calls if c.opens_at <= now <= c.closes_at]
    return render_template("main/index.html", open_calls=open_calls)


@bp.route("/tableau-de-bord")
@login_required
def dashboard():
    builder = dashboards.BUILDERS[current_user.role]
    template, context = builder(current_user)
    return render_template(template, **context)


@bp.route("/accessibilite")
def accessibility():
    return render_template("main/accessibility.html")


@bp.route("/donnees-personnelles")
def privacy():
    return render_template("main/privacy.html")


@bp.route("/administration/journal")
@admin_required
def audit():
    page = max(request.args.get("page", 1, type=int), 1)
    action = request.args.get("action", "")
    query = db.select(Event).options(joinedload(Event.actor)).order_by(Event.id.desc())
    if action:
        query = query.where(Event.action == action)
    events = db.session.scalars(query.limit(100).offset((page - 1) * 100)).all()
    return render_template("main/audit.html", events=events, page=page, action=action)
