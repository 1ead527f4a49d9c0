"""The steering page (/pilotage, staff), its exports, and the reference figures (admins)."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import events
from ..database import writing
from ..extensions import db
from ..models.followup import PlanFigure
from ..models.users import ADMIN
from ..permissions import admin_required, staff_required
from . import bp, exports, figures, services
from . import map as francemap
from .forms import DeleteFigureForm, PlanFigureForm


def _filters():
    """(calls, call, years, year, measure) from the query string; an unknown value is ignored."""
    calls = figures.calls_with_winners()
    call = next((c for c in calls if str(c.id) == request.args.get("appel", "")), None)
    years = figures.years_offered(call.id if call else None)
    year = next((y for y in years if str(y) == request.args.get("annee", "")), None)
    measure = request.args.get("mesure", "young")
    if measure not in figures.MEASURES:
        measure = "young"
    return calls, call, years, year, measure


def _caption(call, year):
    return " — ".join([call.title if call else "Tous les appels à projets", str(year) if year else "toutes les années"])


@bp.route("/")
@staff_required
def index():
    calls, call, years, year, measure = _filters()
    data = figures.compute(call.id if call else None, year)
    drawing = francemap.shapes(data.departements, measure)
    references = db.session.scalars(select(PlanFigure).order_by(PlanFigure.year)).all()
    args = {k: v for k, v in (("appel", call.id if call else None), ("annee", year)) if v}
    return render_template("pilotage/index.html", calls=calls, call=call, years=years, year=year,
                           measure=measure, measures=figures.MEASURES, data=data, drawing=drawing,
                           references=references, export_args=args, caption=_caption(call, year),
                           attribution=francemap.ATTRIBUTION, is_admin=current_user.role == ADMIN)


def _export(kind):
    _calls, call, _years, year, _measure = _filters()
    data = figures.compute(call.id if call else None, year)
    name = "pilotage" + (f"-{call.slug}" if call else "") + (f"-{year}" if year else "")
    with writing():
        events.record("export", actor=current_user, call_id=call.id if call else None, format=f"pilotage.{kind}")
        db.session.commit()
    if kind == "csv":
        return exports.build_csv(data), 200, {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}.csv"'}
    return exports.build_workbook(data, _caption(call, year)), 200, {
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Content-Disposition": f'attachment; filename="{name}.xlsx"'}


@bp.route("/export.csv")
@staff_required
def export_csv():
    return _export("csv")


@bp.route("/export.xlsx")
@staff_required
def export_xlsx():
    return _export("xlsx")


@bp.route("/chiffres-de-reference", methods=["GET", "POST"])
@admin_required
def reference_figures():
    form = PlanFigureForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.save_reference_figure(current_user, year=form.year.data,
                                               young_people=form.young_people.data, label=form.label.data)
            except services.FigureError as error:
                form.year.errors.append(str(error))
            else:
                db.session.commit()
                flash(f"Chiffre de référence de {form.year.data} enregistré.", "success")
                return redirect(url_for("pilotage.reference_figures"))
        status = 422
    figures_ = db.session.scalars(select(PlanFigure).order_by(PlanFigure.year)).all()
    return render_template("pilotage/reference_figures.html", form=form, figures=figures_), status


@bp.route("/chiffres-de-reference/supprimer", methods=["POST"])
@admin_required
def delete_reference_figure():
    form = DeleteFigureForm()
    if not form.validate_on_submit():
        flash("Choisissez le chiffre de référence à supprimer.", "error")
        return redirect(url_for("pilotage.reference_figures"))
    try:
        services.delete_reference_figure(current_user, form.year.data)
    except services.FigureError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"Chiffre de référence de {form.year.data} supprimé.", "success")
    return redirect(url_for("pilotage.reference_figures"))
