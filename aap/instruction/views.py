"""Views of the instruction: thin; the forms validate, the services act."""
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from .. import timeutil
from ..applications import files
from ..extensions import db
from ..models import Call
from ..models.applications import INCOMPLETE, STATUS_LABELS, Status
from ..permissions import can_follow_application, get_application_or_404, staff_required
from ..referentiel import DEPARTEMENT_BY_CODE, REGION_BY_CODE
from ..web import page_number
from . import admissibility, bp, queries, services
from .forms import (
    ORDERS,
    SORTS,
    AdmissibleForm,
    CancelRequestForm,
    ExtendRequestForm,
    FilterForm,
    InadmissibleForm,
    MessageForm,
    PieceRequestForm,
    WidenRequestForm,
)


def _back(application, anchor=None):
    return redirect(instruction_file_url(application, anchor))


@bp.route("/instruction/appels/<int:call_id>/dossiers")
@staff_required
def applications(call_id):
    call = db.get_or_404(Call, call_id)
    form = FilterForm(formdata=request.args)
    form.validate()
    filters = queries.Filters(
        status=form.value("etat", STATUS_LABELS),
        region=form.value("region", REGION_BY_CODE),
        departement=form.value("departement", DEPARTEMENT_BY_CODE),
        min_cents=None if form.montant_min.errors else getattr(form.montant_min, "cents", None),
        max_cents=None if form.montant_max.errors else getattr(form.montant_max, "cents", None),
        sort=form.value("tri", SORTS) or "reference",
        order=form.value("ordre", ORDERS) or "asc",
        page=page_number(),
    )
    files = queries.submitted_files(call.id, filters)
    counts = queries.counts_by_status(call.id)
    # Links keep the current filters and change only what is given (sort, order, page).
    # Only the form's own filters: a « _method » or « _anchor » in the query string would reach url_for().
    current = {key: value for key, value in request.args.items() if key in form and value}

    def list_url(**changes):
        values = dict(current, **changes)
        return url_for("instruction.applications", call_id=call.id,
                       **{key: value for key, value in values.items() if value not in (None, "", 1)})
    return render_template(
        "instruction/applications.html", call=call, form=form, files=files, counts=counts, list_url=list_url,
        labels=STATUS_LABELS, regions=REGION_BY_CODE, departements=DEPARTEMENT_BY_CODE,
        filters=filters)


@bp.route("/instruction/dossiers/<int:application_id>/recevable", methods=["POST"])
@staff_required
def admissible(application_id):
    """The checklist confirmed, each failing condition overridden with a reason; an invalid form
    is shown back on a page of its own with the checklist."""
    application = get_application_or_404(application_id)
    conditions = admissibility.for_application(application)
    form = AdmissibleForm(failing=admissibility.failing(conditions))
    if form.validate_on_submit():
        try:
            services.mark_admissible(application, current_user, form.overrides())
        except services.InstructionError as refusal:
            flash(str(refusal), "error")
        else:
            overridden = len(form.failing)
            flash(f"Le dossier {application.reference} est déclaré recevable ; l'association en est informée."
                  + (f" {overridden} condition{'s' if overridden > 1 else ''} passée{'s' if overridden > 1 else ''} "
                     "outre : le motif figure dans l'historique du dossier (interne)." if overridden else ""),
                  "success")
        return _back(application)
    return render_template("instruction/admissible.html", application=application, form=form,
                           conditions=conditions)


@bp.route("/instruction/dossiers/<int:application_id>/irrecevable", methods=["POST"])
@staff_required
def inadmissible(application_id):
    application = get_application_or_404(application_id)
    form = InadmissibleForm()
    if form.validate_on_submit() and form.confirmed:
        try:
            services.mark_inadmissible(application, current_user, form.inadmissible_reason.data)
        except services.InstructionError as refusal:
            flash(str(refusal), "error")
        else:
            flash(f"Le dossier {application.reference} est déclaré irrecevable ; le motif a été envoyé à "
                  "l'association.", "success")
        return _back(application)
    # The first step (a valid reason, not confirmed yet) shows what will happen; an invalid one, the form again.
    return render_template("instruction/inadmissible.html", application=application, form=form,
                           confirming=not form.errors and request.method == "POST",
                           recipients=services.members_of(application.association_id))


@bp.route("/instruction/dossiers/<int:application_id>/demande-pieces", methods=["GET", "POST"])
@staff_required
def request_pieces(application_id):
    application = get_application_or_404(application_id)
    form = PieceRequestForm(choices=services.item_choices(application.call))
    if form.validate_on_submit():
        try:
            services.request_pieces(application, current_user, form.piece_items.data,
                                    form.piece_message.data, form.piece_due_date.data)
        except services.InstructionError as refusal:
            flash(str(refusal), "error")
        else:
            flash(f"La demande de pièces a été envoyée à l'association ; le dossier {application.reference} "
                  "est à compléter.", "success")
        return _back(application)
    return render_template("instruction/request_pieces.html", application=application, form=form)


def _widen_choices(application, request):
    asked = set(request.sections or []) if request is not None else set()
    return [(code, label) for code, label in services.item_choices(application.call) if code not in asked]


def _change_request(application, form, action, act, done):
    """The three changes of an open request (widen, extend, cancel): the form posted from the file
    page; on a GET or an invalid form, a page of its own with the form and what it will do."""
    if form.validate_on_submit():
        try:
            act()
        except services.InstructionError as refusal:
            flash(str(refusal), "error")
        else:
            flash(done, "success")
        return _back(application, "instruction")
    return render_template("instruction/piece_request_change.html", application=application, form=form,
                           action=action, piece_request=services.open_request(application))


@bp.route("/instruction/dossiers/<int:application_id>/demande-pieces/elargir", methods=["GET", "POST"])
@staff_required
def widen_request(application_id):
    application = get_application_or_404(application_id)
    form = WidenRequestForm(choices=_widen_choices(application, services.open_request(application)))
    return _change_request(
        application, form, "widen",
        lambda: services.widen_request(application, current_user, form.widen_items.data, form.widen_message.data),
        "La demande est élargie : les nouveaux éléments sont rouverts et l'association en est informée.")


@bp.route("/instruction/dossiers/<int:application_id>/demande-pieces/prolonger", methods=["GET", "POST"])
@staff_required
def extend_request(application_id):
    application = get_application_or_404(application_id)
    form = ExtendRequestForm()
    return _change_request(
        application, form, "extend",
        lambda: services.extend_request(application, current_user, form.extend_due_date.data,
                                        form.extend_message.data),
        "Le délai est prolongé ; l'association en est informée.")


@bp.route("/instruction/dossiers/<int:application_id>/demande-pieces/annuler", methods=["GET", "POST"])
@staff_required
def cancel_request(application_id):
    application = get_application_or_404(application_id)
    form = CancelRequestForm()
    return _change_request(
        application, form, "cancel",
        lambda: services.cancel_request(application, current_user, form.cancel_reason.data),
        "La demande de pièces est annulée : le dossier est revenu à son état précédent ; "
        "l'association en est informée.")


@bp.route("/dossiers/<int:application_id>/messages", methods=["POST"])
@login_required
def post_message(application_id):
    application = get_application_or_404(application_id)
    if not can_follow_application(current_user, application):
        abort(403)  # an assigned reviewer reads the file, and knows it exists, but never writes there
    form = MessageForm()
    if form.validate_on_submit():
        try:
            services.post_message(application, current_user, form.message_body.data, form.uploads())
        except services.MessageFileError as refusal:
            form.message_files.errors = list(form.message_files.errors) + [str(refusal)]
        except services.InstructionError as refusal:
            form.message_body.errors.append(str(refusal))
        else:
            flash("Votre message a été envoyé.", "success")
            return _back(application, "messages")
    return render_template("instruction/message_form.html", application=application, form=form)


@bp.route("/dossiers/<int:application_id>/messages/pieces/<int:message_attachment_id>")
@login_required
def message_attachment(application_id, message_attachment_id):
    """A file sent with a message: the association's members and staff only (404 for anyone else,
    an assigned reviewer included)."""
    application = get_application_or_404(application_id, check=can_follow_application)
    item = services.message_attachment_of(application, message_attachment_id)
    if item is None:
        abort(404)
    path = files.path_of(item.stored_name)
    if not path.exists():
        abort(404)
    services.record_message_attachment_download(application, item, current_user)
    return send_file(path, mimetype=item.content_type, as_attachment=True, download_name=item.download_name,
                     max_age=0, etag=False, last_modified=None)


@bp.app_template_global()
def messages_for(application):
    """The messages of a file with their authors (one query)."""
    return services.messages_for(application)


@bp.app_template_global()
def piece_requests_for(application):
    """The requests for pieces of a file, newest first (one query)."""
    return services.piece_requests_for(application)


@bp.app_template_global()
def can_use_messages(application):
    return can_follow_application(current_user, application)


@bp.app_template_global()
def piece_item_labels(items, call):
    return services.item_labels(items, call=call)


@bp.app_template_global()
def instruction_forms(application):
    """Blank forms of the staff panel and the message thread (not bound to the request)."""
    conditions = admissibility.for_application(application)
    failing = admissibility.failing(conditions)
    forms = {
        Status.INADMISSIBLE: InadmissibleForm(formdata=None, inadmissible_reason=_suggested_reason(failing)),
        Status.ADMISSIBLE: AdmissibleForm(formdata=None, failing=failing),
        "conditions": conditions,
        "pieces": PieceRequestForm(formdata=None, choices=services.item_choices(application.call)),
        "open_request": None,
    }
    if application.status == INCOMPLETE:
        request_ = services.open_request(application)
        forms.update(open_request=request_, overdue=request_ is not None and request_.due_at < timeutil.now(),
                     extend=ExtendRequestForm(formdata=None),
                     widen=WidenRequestForm(formdata=None, choices=_widen_choices(application, request_)),
                     cancel=CancelRequestForm(formdata=None))
    return forms


def _suggested_reason(failing):
    """The inadmissibility reason offered to staff: the conditions not met, as the association will read them."""
    if not failing:
        return ""
    return "Conditions de recevabilité non remplies :\n" + "\n".join(
        f"- {c.label} : non remplie ({c.detail[:1].lower() + c.detail[1:]})." for c in failing)


@bp.app_template_global()
def instruction_message_form():
    return MessageForm(formdata=None)


@bp.app_template_global()
def instruction_file_url(application, anchor=None):
    return url_for("applications.show", application_id=application.id, _anchor=anchor)
