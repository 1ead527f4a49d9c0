"""Selection pages (staff only): ranking, decisions, proposal, publication."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func
from sqlalchemy.orm import joinedload, selectinload

from ..calls import services as call_services
from ..extensions import db
from ..models import Application, Call, Decision, Review
from ..models.review import RECOMMENDATION_LABELS, REVIEW_SUBMITTED
from ..permissions import staff_required
from ..referentiel import departement_choices, region_choices
from . import bp, grey_zone, ranking, services
from . import proposal as proposal_module
from .forms import BulkDecisionForm, ConfirmForm, DecisionForm, DrawForm, ProposalForm, RobustnessForm
from .ranking import RANKED_STATES, SORTS, Filters
from .scoring import weighted_total


@bp.app_template_filter("note_fr")
def note_fr(value, digits=2):
    """12.345 -> « 12,35 » (a dash when there is no score)."""
    if value is None:
        return "—"
    return f"{value:.{digits}f}".replace(".", ",")


@bp.app_template_filter("short_labels")
def short_labels(labels, limit=12):
    """Column headers of the criteria that fit a narrow column: a label of `limit` characters or
    fewer as it is, else its first word when no other criterion starts with it, else « C2 ».
    The page shows the full label in the <abbr> title."""
    labels = list(labels)
    firsts = [label.split()[0].strip(",.;:") if label.split() else label for label in labels]
    shorts = []
    for number, (label, first) in enumerate(zip(labels, firsts), start=1):
        if len(label) <= limit:
            shorts.append(label)
        elif firsts.count(first) == 1 and len(first) <= limit + 2:
            shorts.append(first)
        else:
            shorts.append(f"C{number}")
    return shorts


def _application_or_404(call, application_id):
    application = db.session.get(Application, application_id)
    if application is None or application.call_id != call.id:
        abort(404)
    return application


def _back_to_ranking(call, filters=None):
    filters = filters or Filters.from_args(request.args)
    return redirect(url_for("selection.ranking", call_id=call.id, **filters.args()))


def _flash_all(messages, category):
    for message in messages:
        flash(message, category)


@bp.route("/")
@staff_required
def index():
    calls = db.session.scalars(db.select(Call).order_by(Call.opens_at.desc())).all()
    counts = dict(db.session.execute(
        db.select(Application.call_id, func.count()).where(Application.status.in_(RANKED_STATES))
        .group_by(Application.call_id)).all())
    drafts = dict(db.session.execute(
        db.select(Application.call_id, func.count()).join(Decision, Decision.application_id == Application.id)
        .where(Decision.published_at.is_(None)).group_by(Application.call_id)).all())
    return render_template("selection/index.html", calls=calls, counts=counts, drafts=drafts,
                           phases=call_services.phases(calls))


@bp.route("/appels/<int:call_id>", endpoint="ranking")
@staff_required
def ranking_page(call_id):
    call = db.get_or_404(Call, call_id)
    filters = Filters.from_args(request.args)
    data = ranking.load(call, filters.threshold)
    rows = ranking.apply_filters(data.rows, filters)
    return render_template(
        "selection/ranking.html", call=call, data=data, rows=rows, filters=filters,
        summary=data.budget(), bulk_form=BulkDecisionForm(), robustness=grey_zone.current(call, data),
        region_choices=region_choices(), departement_choices=departement_choices(),
        state_choices=[(s, label) for s, label in _state_labels()], sorts=SORTS,
        recommendation_choices=list(RECOMMENDATION_LABELS.items()),
        decision_url=url_for("selection.decision", call_id=call.id, application_id=0)[:-1])


def _state_labels():
    from ..models.applications import STATUS_LABELS
    return [(state, STATUS_LABELS[state]) for state in RANKED_STATES]


@bp.route("/appels/<int:call_id>/decisions/lot", methods=["POST"])
@staff_required
def bulk_decision(call_id):
    call = db.get_or_404(Call, call_id)
    form = BulkDecisionForm()
    ids = request.form.getlist("application_ids", type=int)
    if not ids:
        flash("Cochez au moins un dossier dans le tableau.", "error")
    elif not form.validate():
        _flash_all([errors[0] for errors in form.errors.values()], "error")
    else:
        try:
            done, skipped, warnings = services.set_decisions_bulk(call, ids, form.outcome.data, current_user,
                                                                  reason=form.reason.data)
        except services.DecisionError as error:
            flash(str(error), "error")
        else:
            flash(f"{done} décision(s) enregistrée(s) en brouillon.", "success")
            if skipped:
                flash("Décisions déjà publiées, non modifiées : " + ", ".join(skipped) + ".", "warning")
            _flash_all(warnings, "warning")
    return _back_to_ranking(call)


def _file_reviews(application):
    reviews = db.session.scalars(
        db.select(Review).options(joinedload(Review.reviewer), selectinload(Review.scores))
        .where(Review.application_id == application.id, Review.status == REVIEW_SUBMITTED)
        .order_by(Review.submitted_at, Review.id)).all()
    return reviews


@bp.route("/appels/<int:call_id>/dossiers/<int:application_id>", methods=["GET", "POST"])
@staff_required
def decision(call_id, application_id):
    call = db.get_or_404(Call, call_id)
    application = _application_or_404(call, application_id)
    data = ranking.load(call)
    row = data.row(application.id)
    if row is None:
        abort(404)
    form = DecisionForm(years=call.years)
    if request.method == "GET":
        form.fill(row.decision, application)
    elif row.locked:
        flash(services.LOCKED_MESSAGE, "error")
        return redirect(url_for("selection.decision", call_id=call.id, application_id=application.id))
    elif form.validate_on_submit():
        try:
            warnings = services.set_decision(application, form.outcome.data, current_user,
                                             amount_cents=form.amount_cents,
                                             amount_per_year=form.amount_per_year_cents,
                                             reason=form.reason.data)
        except services.DecisionError as error:
            flash(str(error), "error")
        else:
            flash(f"Décision enregistrée en brouillon pour le dossier {application.reference}.", "success")
            _flash_all(warnings, "warning")
            return redirect(url_for("selection.decision", call_id=call.id, application_id=application.id))
    criteria = ranking.criterion_specs(data.criteria)
    reviews = [(review, weighted_total({s.criterion_id: s.value for s in review.scores}, criteria),
                {s.criterion_id: s for s in review.scores}) for review in _file_reviews(application)]
    warnings = []
    if row.decision is not None and row.decision.amount_cents:
        warnings = services.amount_warnings(application, row.decision.amount_cents)
    return render_template("selection/decision.html", call=call, application=application, row=row,
                           data=data, summary=data.budget(), form=form, reviews=reviews,
                           recommendation_labels=RECOMMENDATION_LABELS, amount_warnings=warnings,
                           clear_form=ConfirmForm())


@bp.route("/appels/<int:call_id>/dossiers/<int:application_id>/annuler", methods=["POST"])
@staff_required
def clear_decision(call_id, application_id):
    call = db.get_or_404(Call, call_id)
    application = _application_or_404(call, application_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            if services.clear_decision(application, current_user):
                flash(f"Le brouillon de décision du dossier {application.reference} est supprimé.", "success")
        except services.DecisionError as error:
            flash(str(error), "error")
    return redirect(url_for("selection.decision", call_id=call.id, application_id=application.id))


@bp.route("/appels/<int:call_id>/proposition")
@staff_required
def proposal(call_id):
    call = db.get_or_404(Call, call_id)
    submitted = "calculer" in request.args
    form = ProposalForm(formdata=request.args if submitted else None, call=call)
    result = robustness = None
    data = ranking.load(call)
    if submitted and form.validate():
        robustness = grey_zone.status(call, data, form.settings())
        result = proposal_module.propose(call, form.settings(), data=data, probabilities=robustness.probabilities)
    return render_template("selection/proposal.html", call=call, form=form, proposal=result,
                           summary=data.budget(), data=data, apply_form=ConfirmForm(), robustness=robustness,
                           robustness_form=RobustnessForm(), draw_form=DrawForm(), draws=grey_zone.draws(call),
                           describe_draw=grey_zone.describe,
                           decision_url=url_for("selection.decision", call_id=call.id, application_id=0)[:-1])


def _back_to_proposal(call):
    """The proposal page with the settings it was on (its query string)."""
    query = request.query_string.decode("utf-8", "replace")
    return redirect(url_for("selection.proposal", call_id=call.id) + (f"?{query}" if query else ""))


@bp.route("/appels/<int:call_id>/proposition/robustesse", methods=["POST"])
@staff_required
def compute_robustness(call_id):
    """« Calculer la robustesse » for the settings of the page (its query string), stored."""
    call = db.get_or_404(Call, call_id)
    form = RobustnessForm()
    settings_form = ProposalForm(formdata=request.args, call=call)
    if not form.validate_on_submit():
        abort(400)
    if "calculer" not in request.args or not settings_form.validate():
        flash("Proposez d'abord une sélection : la robustesse est calculée pour ses paramètres.", "error")
        return redirect(url_for("selection.proposal", call_id=call.id))
    run = grey_zone.compute(call, settings_form.settings(), current_user,
                            toggle_calibration=bool(form.toggle_calibration.data))
    flash(f"Robustesse calculée ({run.n_resamples} rééchantillonnages, graine {run.seed}, "
          f"{str(round(run.seconds, 1)).replace('.', ',')} s).", "success")
    return _back_to_proposal(call)


@bp.route("/appels/<int:call_id>/proposition/tirage", methods=["POST"])
@staff_required
def grey_zone_draw(call_id):
    """« Tirer au sort dans la zone grise » (an option of the call): recorded, applied as drafts."""
    call = db.get_or_404(Call, call_id)
    form = DrawForm()
    if not form.validate_on_submit():
        _flash_all([errors[0] for errors in form.errors.values()], "error")
        return _back_to_proposal(call)
    try:
        outcome = grey_zone.draw(call, current_user)
    except grey_zone.DrawError as error:
        flash(str(error), "error")
        return _back_to_proposal(call)
    flash(f"Tirage au sort enregistré (graine {outcome.draw.seed}) : {len(outcome.draw.retained)} dossier(s) "
          f"retenu(s) sur {len(outcome.draw.order)} dans la zone grise, en plus des {outcome.sure} dossier(s) sûrs "
          f"d'être retenus. Les décisions sont en brouillon : vérifiez-les puis publiez-les depuis le classement.",
          "success")
    _flash_all(outcome.warnings, "warning")
    return _back_to_proposal(call)


@bp.route("/appels/<int:call_id>/proposition.xlsx")
@staff_required
def proposal_export(call_id):
    """The proposal computed with the page's settings (the same GET parameters), as a workbook."""
    from io import BytesIO

    from flask import send_file

    from .. import events
    from ..database import writing
    from ..documents.excel import export_name, proposal_workbook
    call = db.get_or_404(Call, call_id)
    form = ProposalForm(formdata=request.args, call=call)
    if not form.validate():
        _flash_all([errors[0] for errors in form.errors.values()], "error")
        return redirect(url_for("selection.proposal", call_id=call.id))
    data = ranking.load(call)
    result = proposal_module.propose(call, form.settings(), data=data,
                                     probabilities=grey_zone.status(call, data, form.settings()).probabilities)
    if not result.feasible:
        flash(f"Aucune sélection ne respecte toutes les contraintes : {result.result.reason}", "error")
        return redirect(url_for("selection.proposal", call_id=call.id) + "?"
                        + request.query_string.decode("utf-8", "replace"))
    with writing():
        events.record("export", actor=current_user, call_id=call.id, format="proposition-xlsx")
        db.session.commit()
    return send_file(BytesIO(proposal_workbook(result)), as_attachment=True, max_age=0,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     download_name=export_name(call, "xlsx").replace(".xlsx", "-proposition.xlsx"))


@bp.route("/appels/<int:call_id>/proposition/appliquer", methods=["POST"])
@staff_required
def apply_proposal(call_id):
    call = db.get_or_404(Call, call_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    entering = request.form.getlist("entrer", type=int)
    leaving = request.form.getlist("sortir", type=int)
    if not entering and not leaving:
        flash("Cochez au moins une ligne de la proposition à appliquer.", "error")
        return redirect(url_for("selection.proposal", call_id=call.id))
    try:
        entered, left, skipped, warnings = services.apply_proposal(call, current_user, entering, leaving)
    except services.DecisionError as error:
        flash(str(error), "error")
    else:
        flash(f"Proposition appliquée en brouillon : {entered} dossier(s) retenu(s), "
              f"{left} dossier(s) placé(s) en liste d'attente.", "success")
        if skipped:
            flash("Lignes non appliquées (décision déjà publiée ou montant manquant) : "
                  + ", ".join(skipped) + ".", "warning")
        _flash_all(warnings, "warning")
    return redirect(url_for("selection.ranking", call_id=call.id))
