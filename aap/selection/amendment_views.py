"""Staff pages for published decisions changed afterwards (selection.amendments): the call's
waiting list (select a file of it, or close it), a winner's grant amended or withdrawn. Each
change goes through its own page, which says what will happen, with the budget of the call."""
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..extensions import db
from ..models import Application, Call
from ..permissions import staff_required
from . import amendments, bp, ranking
from .forms import GrantForm, ReasonForm


@bp.app_template_global()
def decision_versions(application):
    """Every version of a file's published decision, the current one first (staff pages)."""
    decision = application.decision
    if decision is None or decision.published_at is None:
        return []
    return amendments.versions(decision)


def _file(call_id, application_id):
    call = db.get_or_404(Call, call_id)
    application = db.session.get(Application, application_id)
    if application is None or application.call_id != call.id:
        abort(404)
    return call, application


def _to_decision(call, application):
    return redirect(url_for("selection.decision", call_id=call.id, application_id=application.id), 303)


def _refused(call, application, refusal):
    flash(refusal, "error")
    return _to_decision(call, application)


@bp.route("/appels/<int:call_id>/liste-attente", methods=["GET", "POST"])
@staff_required
def waitlist(call_id):
    """The call's waiting list, best ranked first (each file may be selected from its own page),
    and closing it: every file left on it « Non retenu », each association told."""
    call = db.get_or_404(Call, call_id)
    form = ReasonForm(reason_label="Motif communiqué aux associations de la liste d'attente",
                      confirm_label="Je confirme la clôture de la liste d'attente : les dossiers ci-dessus "
                                    "seront « Non retenu » et chaque association recevra un e-mail.",
                      reason_message="Indiquez le motif communiqué aux associations de la liste d'attente.",
                      prefix="cloture")
    data = ranking.load(call)
    if form.validate_on_submit():
        try:
            closed = amendments.close_waitlist(call, current_user, form.reason.data)
        except amendments.DecisionError as error:
            flash(str(error), "error")
        else:
            flash(f"Liste d'attente close : {closed} dossier(s) non retenu(s), les associations sont prévenues "
                  f"par e-mail.", "success")
            return redirect(url_for("selection.waitlist", call_id=call.id), 303)
    elif not form.is_submitted():
        form.reason.data = ("Les crédits de l'appel à projets sont épuisés : la liste d'attente est close et "
                            "votre projet ne pourra pas être retenu.")
    return render_template("selection/waitlist.html", call=call, data=data, rows=data.waitlisted,
                           summary=data.budget(), form=form)


@bp.route("/appels/<int:call_id>/dossiers/<int:application_id>/retenir", methods=["GET", "POST"])
@staff_required
def promote(call_id, application_id):
    """Select a file of the waiting list: a new decision « Retenu » with its amount."""
    return _grant_change(
        call_id, application_id, amendments.promotion_refusal, amendments.promote, promoting=True,
        done="Le dossier {reference} est retenu : l'association est prévenue par e-mail et sa convention est "
             "disponible.")


@bp.route("/appels/<int:call_id>/dossiers/<int:application_id>/modifier", methods=["GET", "POST"])
@staff_required
def amend(call_id, application_id):
    """Amend a winner's grant (amount, split per year) with a reason: a new version of its decision.
    Once its convention is signed, staff are sent to an amendment on the follow-up page instead."""
    call, application = _file(call_id, application_id)
    signed = None if amendments.grant_refusal(application) else amendments.signed_convention_refusal(application)
    if signed:
        flash(signed, "error")
        return redirect(url_for("followup.show", application_id=application.id, _anchor="avenants"), 303)
    return _grant_change(
        call_id, application_id, amendments.grant_refusal, amendments.amend_decision, promoting=False,
        done="La décision sur le dossier {reference} est modifiée : l'association est prévenue par e-mail, sa "
             "convention suit la nouvelle version.")


def _grant_change(call_id, application_id, refusal_of, service, promoting, done):
    """The page of a new version of a decision with an amount (promotion or amendment): its form,
    the budget panel, and the service that publishes the version."""
    call, application = _file(call_id, application_id)
    refusal = refusal_of(application)
    if refusal:
        return _refused(call, application, refusal)
    form = GrantForm(years=call.years, reason_required=not promoting, prefix="retenir" if promoting else "modifier")
    if form.validate_on_submit():
        try:
            warnings = service(application, current_user, form.amount_cents, form.amount_per_year_cents,
                               form.reason.data)
        except amendments.DecisionError as error:
            flash(str(error), "error")
        else:
            flash(done.format(reference=application.reference), "success")
            for warning in warnings:
                flash(warning, "warning")
            return _to_decision(call, application)
    elif not form.is_submitted():
        form.fill(application.decision, application)
    data = ranking.load(call)
    return render_template("selection/grant_change.html", call=call, application=application, form=form,
                           data=data, summary=data.budget(), promoting=promoting)


@bp.route("/appels/<int:call_id>/dossiers/<int:application_id>/retirer-subvention", methods=["GET", "POST"])
@staff_required
def withdraw_grant(call_id, application_id):
    """Withdraw a winner's grant, with a reason written for the association."""
    call, application = _file(call_id, application_id)
    refusal = amendments.grant_refusal(application)
    if refusal:
        return _refused(call, application, refusal)
    form = ReasonForm(reason_label="Motif du retrait (communiqué à l'association)",
                      confirm_label=f"Je confirme le retrait de la subvention accordée au dossier "
                                    f"{application.reference}.",
                      reason_message="Indiquez le motif du retrait : il sera communiqué à l'association.")
    if form.validate_on_submit():
        try:
            amendments.withdraw_grant(application, current_user, form.reason.data)
        except amendments.DecisionError as error:
            flash(str(error), "error")
        else:
            flash(f"La subvention du dossier {application.reference} est retirée : son montant est libéré et "
                  f"l'association est prévenue par e-mail.", "success")
            return redirect(url_for("selection.ranking", call_id=call.id), 303)
    data = ranking.load(call)
    return render_template("selection/withdraw_grant.html", call=call, application=application, form=form,
                           summary=data.budget())
