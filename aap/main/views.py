from flask import current_app, render_template, request, url_for
from flask_login import current_user, login_required

from .. import timeutil
from ..extensions import db
from ..models import Call
from ..models.calls import CALL_PUBLISHED
from ..permissions import admin_required
from ..web import page_number
from . import audit as journal
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


@bp.route("/mentions-legales")
def legal_notice():
    return render_template("main/legal_notice.html", hosting=current_app.config["AAP_HOSTING"],
                           publisher=current_app.config["AAP_GRANTOR_NAME"])


@bp.route("/administration/journal")
@admin_required
def audit():
    calls = journal.all_calls()
    form = journal.JournalFilterForm(formdata=request.args, calls=calls)
    form.validate()
    page = page_number()
    rows, pager = journal.journal_page(journal.Filters.from_form(form), page, calls)
    current = {name: request.args[name] for name in ("action", "appel", "acteur", "du", "au")
               if request.args.get(name)}

    def page_url(page):
        return url_for("main.audit", **current, **({"page": page} if page > 1 else {}))
    return render_template("main/audit.html", form=form, rows=rows, pager=pager, page_url=page_url,
                           filtered=bool(current))
