"""Views of calls: staff settings (under /instruction/appels) and public pages (under /appels)."""
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import timeutil
from ..extensions import db
from ..models import Application, Call
from ..models.applications import Status
from ..models.calls import CALL_DRAFT, CallPhase
from ..navigation import call_tabs
from ..permissions import staff_required
from . import bp, services
from . import mail_templates as templates_module
from .forms import CallForm, ConfirmForm, MailTemplatesForm, criteria_form, pieces_form


@bp.context_processor
def _call_helpers():
    return {"call_tabs": call_tabs}


@bp.app_template_global()
def call_phase(call):
    """Where a call stands (CallPhase), for a page showing one call (one query at most)."""
    return services.phase(call)


# Order of the application states in the staff list.
STATE_ORDER = list(Status)


def _back(call):
    """After publishing or closing: back to the list or to the call, where the button was."""
    if request.form.get("back") == "list":
        return redirect(url_for("calls.staff_list"))
    return redirect(url_for("calls.edit", call_id=call.id))


# ---------------------------------------------------------------- staff

@bp.route("/instruction/appels")
@staff_required
def staff_list():
    calls, counts = services.staff_overview()
    now = timeutil.now()
    return render_template("calls/staff_list.html", calls=calls, counts=counts, state_order=STATE_ORDER, now=now,
                           phases=services.phases(calls, counts, now), confirm=ConfirmForm())


@bp.route("/instruction/appels/nouveau", methods=["GET", "POST"])
@staff_required
def new():
    form = CallForm()
    if request.method == "GET":
        year = timeutil.to_paris(timeutil.now()).year + 1
        form.title.data = f"Appel à projets 1 jeune 1 mentor {year}"
        form.slug.data = f"aap-{year}"
        form.description.data = DEFAULT_DESCRIPTION
    if form.validate_on_submit():
        try:
            call = services.create_call(current_user, **form.values())
        except services.CallError as error:
            form.add_errors(error.errors)
        else:
            flash("L'appel à projets a été créé en brouillon avec les critères et les pièces du modèle "
                  "« 1 jeune 1 mentor ». Vérifiez-les avant de le publier.", "success")
            return redirect(url_for("calls.edit", call_id=call.id))
    # Reached on a POST only when something was refused: shown again with the messages (422).
    return render_template("calls/edit.html", form=form, call=None), (422 if request.method == "POST" else 200)


@bp.route("/instruction/appels/<int:call_id>", methods=["GET", "POST"])
@staff_required
def edit(call_id):
    call = db.get_or_404(Call, call_id)
    form = CallForm(call=call)
    if request.method == "GET":
        form.fill_from(call)
    if form.validate_on_submit():
        try:
            services.update_call(call, current_user, **form.values())
        except services.CallError as error:
            form.add_errors(error.errors)
        else:
            flash("Les paramètres de l'appel à projets sont enregistrés.", "success")
            return redirect(url_for("calls.edit", call_id=call.id))
    return render_template("calls/edit.html", form=form, call=call, confirm=ConfirmForm(),
                           problems=services.publish_problems(call) if call.status == CALL_DRAFT else [],
                           locked_years=services.has_applications(call)), (422 if request.method == "POST" else 200)


@bp.route("/instruction/appels/<int:call_id>/criteres", methods=["GET", "POST"])
@staff_required
def criteria(call_id):
    call = db.get_or_404(Call, call_id)
    reviews, first_review_at = services.criteria_lock_info(call)
    locked = reviews > 0
    if request.method == "POST" and locked:
        flash("Les critères sont verrouillés : au moins une évaluation a déjà été envoyée pour cet appel "
              "à projets. Ils ne peuvent plus être modifiés.", "error")
        return redirect(url_for("calls.criteria", call_id=call.id))
    form = criteria_form(call, request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.set_criteria(call, form.items(), current_user)
        except services.CriteriaLocked as error:
            flash(str(error), "error")
            return redirect(url_for("calls.criteria", call_id=call.id))
        except services.CallError as error:
            flash(str(error), "error")
        else:
            flash("Les critères d'évaluation sont enregistrés.", "success")
            return redirect(url_for("calls.criteria", call_id=call.id))
    total_weight = sum((c.weight for c in call.criteria), start=0)
    return render_template("calls/criteria.html", call=call, form=form, locked=locked, reviews=reviews,
                           first_review_at=first_review_at, total_weight=total_weight)


@bp.route("/instruction/appels/<int:call_id>/pieces", methods=["GET", "POST"])
@staff_required
def pieces(call_id):
    call = db.get_or_404(Call, call_id)
    form = pieces_form(call, request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.set_pieces(call, form.items(), current_user)
        except services.CallError as error:
            flash(str(error), "error")
        else:
            flash("Les pièces demandées sont enregistrées.", "success")
            return redirect(url_for("calls.pieces", call_id=call.id))
    return render_template("calls/pieces.html", call=call, form=form,
                           format_labels=services.FORMAT_LABELS)


@bp.route("/instruction/appels/<int:call_id>/courriers", methods=["GET", "POST"])
@staff_required
def mail_templates(call_id):
    """The wording of the call's decision mails, with the placeholders they may use."""
    call = db.get_or_404(Call, call_id)
    wordings = templates_module.wordings(call)
    form = MailTemplatesForm()
    if request.method == "GET":
        form.fill(wordings)
    if form.validate_on_submit():
        try:
            changed = templates_module.save_wordings(call, current_user, form.values())
        except templates_module.TemplateError as error:
            flash(str(error), "error")
        else:
            flash("Les modèles de courriers sont enregistrés." if changed else "Aucun modèle n'a changé.", "success")
            return redirect(url_for("calls.mail_templates", call_id=call.id))
    return render_template("calls/mail_templates.html", call=call, form=form, wordings=wordings,
                           placeholders=templates_module.PLACEHOLDERS, kinds=templates_module.KINDS)


@bp.route("/instruction/appels/<int:call_id>/publier", methods=["POST"])
@staff_required
def publish(call_id):
    call = db.get_or_404(Call, call_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.publish_call(call, current_user)
        except services.CallError as error:
            flash(str(error), "error")
        else:
            flash(f"L'appel à projets « {call.title} » est publié : sa page publique est en ligne.", "success")
    return _back(call)


@bp.route("/instruction/appels/<int:call_id>/clore", methods=["POST"])
@staff_required
def close(call_id):
    call = db.get_or_404(Call, call_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.close_call(call, current_user)
        except services.CallError as error:
            flash(str(error), "error")
        else:
            flash(f"L'appel à projets « {call.title} » est clos : plus aucun dépôt n'est possible.", "success")
    return _back(call)


# ---------------------------------------------------------------- public

@bp.route("/appels")
def public_list():
    now = timeutil.now()
    open_calls, upcoming, past = services.public_calls(now)
    return render_template("calls/public_list.html", open_calls=open_calls, upcoming=upcoming, past=past)


@bp.route("/appels/<slug>")
def public_detail(slug):
    call, preview = services.get_visible_call(slug, current_user)
    if call is None:
        abort(404)
    now = timeutil.now()
    existing = reuse_source = None
    if current_user.is_authenticated and current_user.is_applicant and current_user.association_id:
        existing = db.session.scalar(db.select(Application).where(
            Application.call_id == call.id, Application.association_id == current_user.association_id))
        if existing is None:
            from ..applications.reuse import source_for
            reuse_source = source_for(current_user.association_id, call)
    # A draft previewed by staff reads as it will once published (its phase by its dates).
    phase = services.phase(call, now=now, as_published=preview)
    open_now = phase == CallPhase.OPEN
    # Once the decisions are published: the winners and their map (aap/pilotage/public.py).
    from ..pilotage import map as francemap
    from ..pilotage.public import public_departements, public_winners
    laureates = public_winners(call)
    places = public_departements(call) if laureates else []
    winners_map = francemap.shapes(places, "winners", public=True) if laureates else None
    return render_template("calls/public_detail.html", call=call, preview=preview, now=now,
                           open_now=open_now, existing=existing, phase=phase, reuse_source=reuse_source,
                           closes_soon=open_now and call.closes_at - now < timedelta(days=7),
                           laureates=laureates, winners_map=winners_map, map_attribution=francemap.ATTRIBUTION,
                           places=[place for place in places if place.winners])


DEFAULT_DESCRIPTION = """\
Le plan « 1 jeune 1 mentor » soutient les structures d'intérêt général qui proposent un \
accompagnement par le mentorat aux jeunes de 5 à 30 ans, en particulier à ceux qui en sont \
le plus éloignés.

## Objet de l'appel à projets

Financer le développement de programmes de mentorat : recrutement et formation des mentors, \
mise en relation avec les jeunes, suivi des binômes et évaluation.

## Structures éligibles

- associations loi 1901 et fondations, déclarées depuis au moins un an ;
- disposant d'un numéro SIRET et d'un numéro RNA ;
- à jour de leurs obligations fiscales et sociales, signataires du contrat d'engagement républicain.

## Modalités

Les dossiers incomplets ou déposés après la date limite ne sont pas recevables. Chaque dossier \
recevable est évalué par plusieurs évaluateurs selon les critères publiés ci-dessous.
"""
