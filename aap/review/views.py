"""Review pages: reviewers (conflicts, scoring) and staff (assignment, progress, conflicts)."""
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from .. import timeutil
from ..extensions import db
from ..models import Application, Assignment, Association, Call, Conflict, Review, User
from ..models.applications import SCOPES
from ..models.review import RECOMMENDATION_LABELS, REVIEW_SUBMITTED
from ..navigation import call_tabs
from ..permissions import (
    can_open_for_review,
    downloadable_attachments,
    get_application_or_404,
    reviewer_required,
    staff_required,
)
from ..referentiel import DEPARTEMENT_BY_CODE, REGION_BY_CODE
from ..web import page_number
from . import assignment, bp, queries
from .conflicts import confirm_no_conflict, declare_conflict, remove_conflict, search_associations
from .errors import IncompleteReview, ReviewError, StaleProposal
from .forms import (
    AssignForm,
    ConfirmProposalForm,
    ConfirmSubmissionForm,
    DeclareConflictForm,
    FileConflictForm,
    RemindForm,
    RemoveConflictForm,
    ReopenForm,
    review_form,
)
from .reminders import send_reminders
from .reviews import draft_problems, own_review, reopen_review, save_review, send_draft

MISSING_ONLY = "a-completer"  # ?filtre= of the assignment board: only the files lacking reviewers
PROGRESS = "suivi"  # retour= of an assignment made from the progress page


# --- Reviewers: conflicts of interest -----------------------------------------------------

@bp.route("/evaluation/liens-d-interets", methods=["GET", "POST"])
@reviewer_required
def my_conflicts():
    # CSRF is checked for every POST by CSRFProtect; the prefixed forms do not carry their own token.
    declare_form = DeclareConflictForm(prefix="add", meta={"csrf": False})
    remove_form = RemoveConflictForm(prefix="remove", meta={"csrf": False})
    action = request.form.get("action")
    if request.method == "POST" and action == "add" and declare_form.validate():
        association = db.get_or_404(Association, declare_form.association_id.data)
        declare_conflict(current_user, association, declare_form.reason.data)
        flash(f"Votre lien avec « {association.name} » est enregistré : ses dossiers ne vous seront pas "
              "affectés.", "success")
        return redirect(url_for("review.my_conflicts"))
    if request.method == "POST" and action == "remove" and remove_form.validate():
        try:
            remove_conflict(current_user, remove_form.conflict_id.data, remove_form.reason.data)
        except ReviewError as error:
            flash(str(error), "error")
        else:
            flash("Le lien d'intérêts est retiré.", "success")
        return redirect(url_for("review.my_conflicts"))
    if request.method == "POST" and action not in ("add", "remove"):
        abort(400)
    query = request.values.get("q", "").strip()
    results = search_associations(query) if query else []
    conflicts = db.session.scalars(
        db.select(Conflict).options(joinedload(Conflict.association))
        .where(Conflict.reviewer_id == current_user.id).order_by(Conflict.created_at, Conflict.id)).all()
    declared = {c.association_id for c in conflicts}
    status = 200 if request.method == "GET" else 400
    return render_template("review/my_conflicts.html", query=query, results=results, conflicts=conflicts,
                           declared=declared, declare_form=declare_form, remove_form=remove_form,
                           failed_action=action), status


# --- Reviewers: the review page -------------------------------------------------------------

def _reviewer_application(application_id):
    """The file, if assigned to the current reviewer without conflict (404 otherwise).

    The review page itself asks the conflict question, so the assignment need not be
    confirmed yet here (can_view_application, used for the file's other URLs, requires it)."""
    application = get_application_or_404(application_id, check=can_open_for_review)
    assignment = db.session.scalar(db.select(Assignment).where(
        Assignment.application_id == application.id, Assignment.reviewer_id == current_user.id))
    return application, assignment


def _attachment_links(application):
    """(attachment, url) of the pieces the reviewer may read (never those « réservé à
    l'instruction »)."""
    return [(a, url_for("applications.attachment", application_id=application.id, attachment_id=a.id))
            for a in downloadable_attachments(current_user, application)]


@bp.route("/evaluation/dossiers/<int:application_id>/liens-d-interets", methods=["POST"])
@reviewer_required
def check_conflict(application_id):
    application, assignment = _reviewer_application(application_id)
    form = FileConflictForm()
    if not form.validate():
        abort(400)
    if request.form.get("action") == "no_conflict":
        confirm_no_conflict(current_user, application)
        return redirect(url_for("review.review", application_id=application.id))
    if request.form.get("action") == "conflict":
        if not (form.reason.data or "").strip():
            form.reason.errors.append("Précisez la nature du lien avec cette association.")
            return render_template("review/confirm_no_conflict.html", application=application, form=form), 400
        declare_conflict(current_user, application.association, form.reason.data, application=application)
        flash("Votre lien d'intérêts est enregistré et le dossier vous est retiré. L'équipe de la DJEPVA en est "
              "informée et affectera un autre évaluateur.", "success")
        return redirect(url_for("main.dashboard"))
    abort(400)


@bp.route("/evaluation/dossiers/<int:application_id>", methods=["GET", "POST"])
@reviewer_required
def review(application_id):
    application, assignment = _reviewer_application(application_id)
    if assignment.no_conflict_confirmed_at is None:
        # Nothing of the file is shown (nor saved) before the reviewer says whether they have a link.
        return render_template("review/confirm_no_conflict.html", application=application,
                               form=FileConflictForm(formdata=None)), 409 if request.method == "POST" else 200
    call = application.call
    criteria = call.criteria
    own = db.session.scalar(db.select(Review).options(selectinload(Review.scores)).where(
        Review.application_id == application.id, Review.reviewer_id == current_user.id))
    submitted = own is not None and own.status == REVIEW_SUBMITTED
    form = None if submitted else review_form(criteria, own)
    status = 200
    if request.method == "POST":
        if submitted:
            flash("Cette évaluation a déjà été envoyée : elle n'est plus modifiable.", "error")
            return redirect(url_for("review.review", application_id=application.id))
        submit = request.form.get("action") == "submit"
        valid = form.validate_on_submit()
        if submit:  # what the review lacks to be sent, shown with the fields' own errors
            valid = form.add_submission_problems() and valid
        if valid:
            try:
                save_review(application, current_user, form.scores(), form.recommendation_value(),
                                     form.amount_cents(), form.comment.data)
            except ReviewError as error:
                flash(str(error), "error")
                return redirect(url_for("review.review", application_id=application.id))
            if submit:  # saved as a draft: sent only once confirmed
                return redirect(url_for("review.confirm_submission", application_id=application.id))
            flash("Brouillon enregistré. Vous pourrez le compléter avant de l'envoyer.", "success")
            return redirect(url_for("review.review", application_id=application.id))
        status = 400
    others_visible = submitted or not call.hide_other_reviews
    others = []
    if others_visible:
        others = db.session.scalars(
            db.select(Review).options(selectinload(Review.scores))
            .where(Review.application_id == application.id, Review.reviewer_id != current_user.id,
                   Review.status == REVIEW_SUBMITTED)
            .order_by(Review.submitted_at, Review.id)).all()
    return render_template("review/review.html", application=application, call=call, criteria=criteria,
                           form=form, review=own, submitted=submitted, others=others,
                           others_visible=others_visible, attachments=_attachment_links(application),
                           recommendations=RECOMMENDATION_LABELS), status


@bp.route("/evaluation/dossiers/<int:application_id>/envoi", methods=["GET", "POST"])
@reviewer_required
def confirm_submission(application_id):
    """« Envoyer l'évaluation » leads here: the saved draft as it will be sent, and « Confirmer
    l'envoi » (the reviewer cannot change a sent review)."""
    application, assignment = _reviewer_application(application_id)
    back = url_for("review.review", application_id=application.id)
    own = own_review(application, current_user)
    if assignment.no_conflict_confirmed_at is None or own is None or own.status == REVIEW_SUBMITTED:
        return redirect(back)
    form = ConfirmSubmissionForm()
    if request.method == "POST":
        if not form.validate():
            abort(400)
        try:
            send_draft(application, current_user)
        except IncompleteReview:
            flash("L'évaluation n'est pas complète : complétez-la avant de l'envoyer.", "error")
            return redirect(back)
        except ReviewError as error:
            flash(str(error), "error")
            return redirect(back)
        flash("Votre évaluation est envoyée. Merci !", "success")
        return redirect(back)
    return render_template("review/confirm_submission.html", application=application, call=application.call,
                           review=own, problems=draft_problems(own), form=form,
                           recommendations=RECOMMENDATION_LABELS)


@bp.route("/evaluation/dossiers/<int:application_id>/brouillon", methods=["POST"])
@reviewer_required
def autosave(application_id):
    """The review page's autosave (aap/static/app/review.js): saves the valid fields as a draft,
    keeps the stored value of the invalid ones, and answers in JSON."""
    application, assignment = _reviewer_application(application_id)
    own = own_review(application, current_user)
    if assignment.no_conflict_confirmed_at is None:
        return jsonify(error="Indiquez d'abord si vous avez un lien avec cette association."), 409
    if own is not None and own.status == REVIEW_SUBMITTED:
        return jsonify(error="Cette évaluation a déjà été envoyée : elle n'est plus modifiable."), 409
    form = review_form(application.call.criteria, own, formdata=request.form)
    form.validate()
    try:
        saved = save_review(application, current_user, *form.draft_values(own))
    except ReviewError as error:
        return jsonify(error=str(error)), 409
    errors = {name: messages[0] for name, messages in form.errors.items() if name != "csrf_token"}
    time = timeutil.format_time(saved.updated_at)
    message = (f"Brouillon enregistré automatiquement à {time}, sauf les champs signalés." if errors
               else f"Brouillon enregistré automatiquement à {time}.")
    return jsonify(saved_at=saved.updated_at.isoformat(), message=message, errors=errors)


# --- Staff: conflicts, assignment ---------------------------------------------------------

@bp.route("/instruction/appels/<int:call_id>/conflits")
@staff_required
def conflicts(call_id):
    call = db.get_or_404(Call, call_id)
    return render_template("review/conflicts.html", call=call, rows=queries.call_conflicts(call))


@bp.route("/instruction/appels/<int:call_id>/affectations")
@staff_required
def assignments(call_id):
    call = db.get_or_404(Call, call_id)
    missing_only = request.args.get("filtre") == MISSING_ONLY
    board = queries.assignment_board(call, page=page_number(), missing_only=missing_only)

    def board_url(endpoint="review.assignments", page=None, missing=None):
        """This page's address (or a form's, which comes back to it), with its filter and page."""
        return url_for(endpoint, call_id=call.id, **_board_args(missing_only if missing is None else missing,
                                                                  board["page"] if page is None else page))
    return render_template("review/assignments.html", call=call, board=board, board_url=board_url,
                           missing_only=missing_only, pending=assignment.pending_notifications(call))


def _board_args(missing_only, page):
    """The query string of a page of the assignment board, defaults left out."""
    args = {}
    if missing_only:
        args["filtre"] = MISSING_ONLY
    if page > 1:
        args["page"] = page
    return args


def _back_to_board(call, application):
    """The board page the form was sent from (its page and filter), at the file's row; without
    a page, the page of the whole board that shows the file."""
    page = page_number() if "page" in request.args else queries.board_page_of(application)
    return redirect(url_for("review.assignments", call_id=call.id, _anchor=f"dossier-{application.id}",
                            **_board_args(request.args.get("filtre") == MISSING_ONLY, page)))


def _application_of_call(call, application_id):
    application = db.session.get(Application, application_id)
    if application is None or application.call_id != call.id:
        abort(404)
    return application


@bp.route("/instruction/appels/<int:call_id>/affectations/ajouter", methods=["POST"])
@staff_required
def assign(call_id):
    call = db.get_or_404(Call, call_id)
    form = AssignForm()
    if not form.validate():
        flash("Choisissez un évaluateur à affecter.", "error")
        return redirect(url_for("review.assignments", call_id=call.id))
    application = _application_of_call(call, form.application_id.data)
    reviewer = db.get_or_404(User, form.reviewer_id.data)
    try:
        assignment.assign(application, reviewer, current_user)
    except ReviewError as error:
        flash(str(error), "error")
    else:
        flash(f"{reviewer.full_name} est affecté au dossier {application.reference}. Pensez à prévenir "
              "les évaluateurs une fois vos affectations terminées.", "success")
    if request.form.get("retour") == PROGRESS:  # « Affecter X » of the progress page's conflict alerts
        return redirect(url_for("review.progress", call_id=call.id))
    return _back_to_board(call, application)


@bp.route("/instruction/appels/<int:call_id>/affectations/retirer", methods=["POST"])
@staff_required
def unassign(call_id):
    call = db.get_or_404(Call, call_id)
    form = AssignForm()
    if not form.validate():
        abort(400)
    application = _application_of_call(call, form.application_id.data)
    reviewer = db.get_or_404(User, form.reviewer_id.data)
    try:
        assignment.unassign(application, reviewer, current_user)
    except ReviewError as error:
        flash(str(error), "error")
    else:
        flash(f"{reviewer.full_name} n'est plus affecté au dossier {application.reference}.", "success")
    return _back_to_board(call, application)


def _render_proposal(call, proposal, inputs, stale=False):
    applications = {a.id: a for a in inputs["applications"]}
    reviewers = {r.id: r for r in inputs["reviewers"]}
    by_file = {}
    for application_id, reviewer_id in proposal.pairs:
        by_file.setdefault(application_id, []).append(reviewers[reviewer_id])
    per_reviewer = [(r, inputs["loads"].get(r.id, 0), proposal.new_counts.get(r.id, 0), proposal.loads.get(r.id, 0))
                    for r in inputs["reviewers"]]
    uncovered = [(applications[fid], reason) for fid, reason in proposal.uncovered]
    form = ConfirmProposalForm(formdata=None, signature=proposal.signature)
    return render_template("review/proposal.html", call=call, proposal=proposal, form=form, stale=stale,
                           by_file=[(applications[fid], names) for fid, names in sorted(by_file.items())],
                           per_reviewer=per_reviewer, uncovered=uncovered), 409 if stale else 200


@bp.route("/instruction/appels/<int:call_id>/affectations/proposition", methods=["POST"])
@staff_required
def propose(call_id):
    call = db.get_or_404(Call, call_id)  # CSRF is checked for every POST by CSRFProtect
    proposal, inputs = assignment.propose_assignment(call)
    return _render_proposal(call, proposal, inputs)


@bp.route("/instruction/appels/<int:call_id>/affectations/confirmer", methods=["POST"])
@staff_required
def confirm(call_id):
    call = db.get_or_404(Call, call_id)
    form = ConfirmProposalForm()
    if not form.validate():
        abort(400)
    try:
        proposal, mails = assignment.apply_assignment(call, current_user, form.signature.data)
        db.session.commit()
    except StaleProposal as stale:
        _, inputs = assignment.propose_assignment(call)
        return _render_proposal(call, stale.proposal, inputs, stale=True)
    flash(f"{len(proposal.pairs)} affectation(s) enregistrée(s) ; {mails} évaluateur(s) prévenu(s) par e-mail.",
          "success")
    return redirect(url_for("review.assignments", call_id=call.id))


@bp.route("/instruction/appels/<int:call_id>/affectations/notifier", methods=["POST"])
@staff_required
def notify(call_id):
    call = db.get_or_404(Call, call_id)
    mails = assignment.notify_reviewers(call, current_user)
    db.session.commit()
    if mails:
        flash(f"{mails} évaluateur(s) prévenu(s) par e-mail de leurs nouveaux dossiers.", "success")
    else:
        flash("Aucune nouvelle affectation à annoncer.", "info")
    return redirect(url_for("review.assignments", call_id=call.id))


# --- Staff: progress, reviews of a file, reopening ----------------------------------------

@bp.route("/instruction/appels/<int:call_id>/evaluations")
@staff_required
def progress(call_id):
    call = db.get_or_404(Call, call_id)
    return render_template("review/progress.html", call=call, data=queries.progress(call))


@bp.route("/instruction/appels/<int:call_id>/evaluations/relancer", methods=["POST"])
@staff_required
def remind(call_id):
    call = db.get_or_404(Call, call_id)
    form = RemindForm()
    if not form.validate():
        flash("Cochez au moins un évaluateur à relancer.", "error")
        return redirect(url_for("review.progress", call_id=call.id))
    reminded, skipped = send_reminders(call, current_user, form.reviewer_ids.data)
    if reminded:
        flash(f"Rappel envoyé à {len(reminded)} évaluateur{'s' if len(reminded) > 1 else ''} : "
              + ", ".join(r.full_name for r in reminded) + ".", "success")
    if skipped:
        flash("Déjà relancé" + ("s" if len(skipped) > 1 else "") + " depuis moins de 24 heures, donc pas de "
              "nouveau rappel : " + ", ".join(r.full_name for r in skipped) + ".", "warning")
    if not reminded and not skipped:
        flash("Aucun des évaluateurs cochés n'a d'évaluation en attente.", "info")
    return redirect(url_for("review.progress", call_id=call.id))


@bp.route("/instruction/dossiers/<int:application_id>/evaluations")
@staff_required
def file_reviews(application_id):
    application = db.get_or_404(Application, application_id)
    reviews = db.session.scalars(
        db.select(Review).options(joinedload(Review.reviewer), selectinload(Review.scores))
        .where(Review.application_id == application.id).order_by(Review.submitted_at, Review.id)).all()
    assigned = db.session.scalars(
        db.select(User).join(Assignment, Assignment.reviewer_id == User.id)
        .where(Assignment.application_id == application.id).order_by(User.last_name, User.id)).all()
    return render_template("review/file_reviews.html", application=application, call=application.call,
                           reviews=reviews, assigned=assigned, reopen_form=ReopenForm(),
                           recommendations=RECOMMENDATION_LABELS)


@bp.route("/instruction/evaluations/<int:review_id>/rouvrir", methods=["POST"])
@staff_required
def reopen(review_id):
    review = db.get_or_404(Review, review_id)
    form = ReopenForm()
    if not form.validate():
        flash(form.reason.errors[0] if form.reason.errors else "Formulaire invalide.", "error")
    else:
        try:
            reopen_review(review, current_user, form.reason.data)
        except ReviewError as error:
            flash(str(error), "error")
        else:
            flash(f"L'évaluation de {review.reviewer.full_name} est rouverte ; l'évaluateur est prévenu.", "success")
    return redirect(url_for("review.file_reviews", application_id=review.application_id))


# --- Template helpers ---------------------------------------------------------------------

@bp.context_processor
def _review_helpers():
    def region_label(code):
        region = REGION_BY_CODE.get(code or "")
        return region.name if region else "—"

    def departements(codes):
        return ", ".join(f"{c} – {DEPARTEMENT_BY_CODE[c].name}" if c in DEPARTEMENT_BY_CODE else c
                         for c in codes or [])

    return {"call_tabs": call_tabs, "region_label": region_label, "departements": departements, "scopes": SCOPES}
