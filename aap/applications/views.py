"""Views of the application form (thin: form -> service -> redirect or page).

CSRF: every POST is checked by CSRFProtect (aap/extensions.py), forms and fetch() alike.
"""
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required

from .. import timeutil
from ..documents.receipt import receipt_pdf, record_receipt_download
from ..extensions import db
from ..models import Application, Attachment, Call, Deposit, RequiredPiece
from ..models.applications import EDITABLE_STATES, Status
from ..models.calls import CALL_PUBLISHED
from ..permissions import (
    applicant_required,
    can_follow_application,
    downloadable_attachments,
    get_application_or_404,
    get_attachment_or_404,
    is_application_member,
)
from . import (
    adjustment,
    attachments,
    bp,
    budget,
    completeness,
    deadlines,
    deposits,
    drafts,
    files,
    history,
    reuse,
    submission,
)
from . import sections as S
from .errors import ApplicationError, AttachmentError, NotEditable, SubmissionError
from .forms import ConfirmForm, UploadForm, anchor, build_form, form_values

SECTION_RULE = "<any(" + ",".join(S.SECTION_CODES) + "):section>"
FORM_SECTION_RULE = "<any(" + ",".join(s.code for s in S.SECTIONS if s.fields) + "):section>"


@bp.app_template_global()
def person_label(person, application):
    """How `person` is named to the current user on this file (see history.person_label)."""
    return history.person_label(current_user, person, application.association_id)


@bp.app_template_global()
def budget_view(source, call):
    """The budget table (templates/applications/_budget.html) of a budget form being filled (with
    what stands in the way of the deposit, shown next to the fields) or of an application."""
    if hasattr(source, "budget_value"):
        value = source.budget_value()
        found = budget.problems(value, call.years, call.year, call.min_amount_cents, call.max_amount_cents)
        return budget.view(value, call.years, call.year, found)
    return budget.view(S.value_of(source, S.FIELD_BY_NAME["budget"]), call.years, call.year)


# The budget of a deposit, from its snapshot (the receipt; also set in the documents' own
# environment, aap/documents/pdf.py).
bp.add_app_template_global(budget.view_of_snapshot, "budget_of_snapshot")


def missing_links(application, items):
    """[(label, url)] of the missing items, each pointing at its field or page."""
    links = []
    for item in items:
        if item.url:
            url = item.url
        elif item.section:
            target = item.field
            if item.field and not item.field.startswith("doc:") and item.field in S.FIELD_BY_NAME:
                target = anchor(S.FIELD_BY_NAME[item.field], application.call)
            elif item.field and item.field.startswith("doc:"):
                target = "piece-" + item.field[4:]
            url = url_for(".section", application_id=application.id, section=item.section, _anchor=target)
        else:
            url = None
        links.append((item.label, url))
    return links


def _common(application):
    editable = deadlines.editable_sections(application)
    closed_reason = deadlines.closed_reason(application)
    return {
        "application": application, "call": application.call, "sections": S.SECTIONS,
        "editable_sections": editable, "deadline": deadlines.submission_deadline(application),
        "is_open": closed_reason is None, "closed_reason": closed_reason,
    }


@bp.route("/nouvelle/<int:call_id>", methods=["POST"])
@applicant_required
def start(call_id):
    call = db.session.get(Call, call_id)
    if call is None or call.status != CALL_PUBLISHED:
        abort(404)
    try:
        application, created = drafts.start_application(call, current_user)
    except ApplicationError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("main.dashboard"))
    if not created:
        flash("Votre association a déjà une candidature pour cet appel : la voici.", "info")
        return redirect(url_for(".show", application_id=application.id))
    flash("Votre brouillon de candidature est créé. Il est enregistré au fur et à mesure de la saisie.", "success")
    return redirect(url_for(".section", application_id=application.id, section=S.SECTION_CODES[0]))


@bp.route("/nouvelle/<int:call_id>/reprendre", methods=["POST"])
@applicant_required
def start_from(call_id):
    """« Reprendre ma candidature 2025 »: a new draft for this call from an earlier application."""
    call = db.session.get(Call, call_id)
    if call is None or call.status != CALL_PUBLISHED:
        abort(404)
    source_id = request.form.get("source", type=int)
    source = db.session.get(Application, source_id) if source_id and 0 < source_id < 2**31 else None
    if source is None or not is_application_member(current_user, source):
        flash("Choisissez une candidature de votre association à reprendre.", "error")
        return redirect(url_for("main.dashboard"), 303)
    try:
        application, created = reuse.start_from(call, source, current_user)
    except ApplicationError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("main.dashboard"), 303)
    if not created:
        flash("Votre association a déjà une candidature pour cet appel : la voici.", "info")
        return redirect(url_for(".show", application_id=application.id), 303)
    flash(f"Votre brouillon reprend le contenu de votre {reuse.source_label(source)}. Rien n'est déposé : "
          "vérifiez chaque partie et enregistrez-la, puis ajoutez les pièces jointes.", "success")
    return redirect(url_for(".section", application_id=application.id, section=S.SECTION_CODES[0]), 303)


@bp.route("/<int:application_id>")
@login_required
def show(application_id):
    application = get_application_or_404(application_id, check=can_follow_application)
    missing = []
    if application.status in EDITABLE_STATES and deadlines.is_open_for_edit(application):
        missing = missing_links(application, completeness.missing_items(application))
    decision = application.decision if application.decision and application.decision.published_at else None
    member = is_application_member(current_user, application)
    return render_template(
        "applications/show.html", missing=missing, history=history.history_for(current_user, application),
        attachments=downloadable_attachments(current_user, application),
        decision=decision, is_member=member, adjustment=adjustment.adjustment(application),
        withdrawable=application.status in submission.WITHDRAWABLE and member,
        piece_request=deadlines.latest_piece_request(application) if application.status == Status.INCOMPLETE else None,
        rows=S.rows, **_common(application))


@bp.route("/<int:application_id>/" + SECTION_RULE, methods=["GET", "POST"])
@login_required
def section(application_id, section):
    application = get_application_or_404(application_id, check=is_application_member)
    definition = S.BY_CODE[section]
    context = _common(application)
    editable = section in context["editable_sections"]
    if section == "pieces":
        if request.method == "POST":
            abort(405)
        return _pieces_page(application, context)
    if request.method == "POST" and not editable:
        flash("Cette partie du dossier n'est plus modifiable.", "error")
        return redirect(url_for(".section", application_id=application.id, section=section), 303)
    form = build_form(definition, application, request.form if request.method == "POST" else None)
    conflicts, partly_saved = {}, None
    if request.method == "POST":
        # The valid fields are saved even when others are not (they are shown with their message).
        valid = form.validate()
        try:
            result = drafts.save_section(application, section, form.cleaned(), form.base_version(), current_user,
                                           bases=form.bases(), choices=form.choices())
        except NotEditable as refusal:
            flash(refusal.message, "error")
            return redirect(url_for(".section", application_id=application.id, section=section), 303)
        if valid and not result.conflict:
            reuse.mark_reviewed(application, section)
            flash(f"Brouillon enregistré à {timeutil.format_time(result.saved_at)}.", "success")
            target = section
            if request.form.get("action") == "continuer":
                target = S.next_code(section) or section
            return redirect(url_for(".section", application_id=application.id, section=target), 303)
        conflicts = result.conflicts
        form.merge(result, application)
        # Shown again: the valid fields are saved (now, or by an autosave before).
        partly_saved = {"at": timeutil.format_time(result.saved_at), "changed": bool(result.changed)}
    missing = []
    if section == "attestation":
        missing = missing_links(application, completeness.missing_items(application))
    return render_template("applications/section.html", form=form, section=definition, conflicts=conflicts,
                           partly_saved=partly_saved, conflict_choices=(drafts.MINE, drafts.THEIRS),
                           editable=editable, missing=missing, submit_form=ConfirmForm(formdata=None),
                           rows=S.rows, **context)


def _pieces_page(application, context, errors=None, status=200):
    kept = reuse.kept_pieces(application.association_id)
    editable = {d.id for d in application.call.pieces if deadlines.piece_editable(application, d.id)}
    by_document = {a.document_id: a for a in application.attachments}
    html = render_template("applications/pieces.html", section=S.BY_CODE["pieces"], editable_documents=editable,
                           by_document=by_document, errors=errors or {}, upload_form=UploadForm(formdata=None),
                           kinds=files.KINDS,
                           max_file_label=attachments.size_label(current_app.config["MAX_FILE_SIZE"]),
                           kept=kept, offers=reuse.offers(application, kept), now=timeutil.now(),
                           **context)
    return make_response(html, status)


@bp.route("/<int:application_id>/" + FORM_SECTION_RULE + "/brouillon", methods=["POST"])
@login_required
def autosave(application_id, section):
    application = get_application_or_404(application_id, check=is_application_member)
    if section not in deadlines.editable_sections(application):
        return jsonify(errors={"_": ["Cette partie du dossier n'est plus modifiable."]}), 403
    form = build_form(S.BY_CODE[section], application, request.form)
    valid = form.validate()
    try:
        result = drafts.save_section(application, section, form.cleaned(), form.base_version(), current_user,
                                       bases=form.bases(), choices=form.choices())
    except NotEditable as refusal:
        return jsonify(errors={"_": [refusal.message]}), 403
    call = application.call

    def shown(values):  # {field: stored value} -> what the page shows for it, and its new base
        return {name: {"values": form_values(S.FIELD_BY_NAME[name], value, call),
                       "base": S.digest(S.FIELD_BY_NAME[name], value)} for name, value in values.items()}

    time = timeutil.format_time(result.saved_at)
    if result.conflict:
        label = (f"Brouillon enregistré à {time}, sauf les champs modifiés aussi ailleurs : "
                 "choisissez ci-dessous la version à garder.")
    elif not valid:
        label = (f"Brouillon enregistré à {time}, sauf les champs signalés en rouge."
                 if result.changed or result.in_sync else "Brouillon non enregistré : corrigez les champs signalés.")
    else:
        label = f"Brouillon enregistré à {time}"
    answer = {
        "ok": valid and not result.conflict, "version": result.version, "saved": result.changed,
        "saved_at_label": label,
        # The page's new bases (fields it shows as stored); fields settled for the stored version
        # (put back in the page), fields changed by someone else only (put in the page if untouched).
        "bases": result.in_sync, "replace": shown(result.kept_theirs), "refresh": shown(result.stale),
    }
    if not valid:
        answer["errors"] = form.errors
    if result.conflict:
        answer.update(
            conflict=True,
            theirs={name: c.theirs_text for name, c in result.conflicts.items()},
            fields=[{"name": name, "label": c.spec.label, "theirs": c.theirs_text, "yours": c.yours_text, "by": c.by,
                     "mine": c.mine, "seen": c.seen} for name, c in result.conflicts.items()])
        return jsonify(answer), 409
    return jsonify(answer), (200 if valid else 422)


@bp.route("/<int:application_id>/pieces/<int:document_id>/envoyer", methods=["POST"])
@login_required
def upload(application_id, document_id):
    application = get_application_or_404(application_id, check=is_application_member)
    document = db.session.get(RequiredPiece, document_id)
    if document is None or document.call_id != application.call_id:
        abort(404)
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        return _pieces_page(application, _common(application), {document.id: "Choisissez un fichier à envoyer."}, 400)
    try:
        attachments.add_attachment(application, document, upload_file.filename, upload_file.stream, current_user)
    except NotEditable as refusal:
        flash(refusal.message, "error")
        return redirect(url_for(".section", application_id=application.id, section="pieces"), 303)
    except AttachmentError as refusal:
        return _pieces_page(application, _common(application), {document.id: refusal.message}, 400)
    flash(f"Pièce « {document.label} » enregistrée.", "success")
    return redirect(url_for(".section", application_id=application.id, section="pieces",
                            _anchor=f"piece-{document.id}"), 303)


@bp.route("/<int:application_id>/pieces/<int:document_id>/reprendre", methods=["POST"])
@login_required
def reuse_piece(application_id, document_id):
    """Attach a copy of the piece kept in the association's documents (same fingerprint)."""
    application = get_application_or_404(application_id, check=is_application_member)
    document = db.session.get(RequiredPiece, document_id)
    if document is None or document.call_id != application.call_id:
        abort(404)
    try:
        reuse.reuse_piece(application, document, current_user, request.form.get("sha256") or None)
    except NotEditable as refusal:
        flash(refusal.message, "error")
        return redirect(url_for(".section", application_id=application.id, section="pieces"), 303)
    except AttachmentError as refusal:
        return _pieces_page(application, _common(application), {document.id: refusal.message}, 400)
    flash(f"Pièce « {document.label} » reprise de vos documents.", "success")
    return redirect(url_for(".section", application_id=application.id, section="pieces",
                            _anchor=f"piece-{document.id}"), 303)


def _attachment_of(application, attachment_id):
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.application_id != application.id:
        abort(404)
    return attachment


@bp.route("/<int:application_id>/pieces/<int:attachment_id>/supprimer", methods=["POST"])
@login_required
def delete_attachment(application_id, attachment_id):
    application = get_application_or_404(application_id, check=is_application_member)
    attachment = _attachment_of(application, attachment_id)
    try:
        attachments.delete_attachment(attachment, current_user)
    except NotEditable as refusal:
        flash(refusal.message, "error")
    else:
        flash("Pièce supprimée.", "success")
    return redirect(url_for(".section", application_id=application.id, section="pieces"), 303)


@bp.route("/<int:application_id>/pieces/<int:attachment_id>")
@login_required
def attachment(application_id, attachment_id):
    # The file's viewers (can_view_application), less the pieces reserved from them: a reviewer
    # gets 404 for a RIB as for a file that is not theirs.
    item = get_attachment_or_404(application_id, attachment_id)
    path = files.path_of(item.stored_name)
    if not path.exists():
        abort(404)
    attachments.record_download(item, current_user)
    return send_file(path, mimetype=item.content_type, as_attachment=True, download_name=item.download_name,
                     max_age=0, etag=False, last_modified=None)


@bp.route("/<int:application_id>/deposer", methods=["GET", "POST"])
@login_required
def submit(application_id):
    """GET: what the deposit will do (nothing changes); POST (CSRF-checked): the deposit."""
    application = get_application_or_404(application_id, check=is_application_member)
    if request.method == "GET":
        refusal = deadlines.closed_reason(application)
        if refusal:
            flash(refusal, "error")
            return redirect(url_for(".show", application_id=application.id), 303)
        if completeness.missing_items(application):
            flash("Le dossier ne peut pas être déposé : des éléments manquent.", "error")
            return redirect(url_for(".section", application_id=application.id, section="attestation"), 303)
        piece_request = (deadlines.latest_piece_request(application)
                         if application.status == Status.INCOMPLETE else None)
        return render_template("applications/confirm_submit.html", application=application, call=application.call,
                               form=ConfirmForm(formdata=None), deadline=deadlines.submission_deadline(application),
                               piece_request=piece_request, original=deposits.original_deposit(application),
                               reopened=_reopened_labels(application) if piece_request else [])
    try:
        submission.submit(application, current_user)
    except SubmissionError as refusal:
        flash(refusal.message, "error")
        if refusal.missing:
            return redirect(url_for(".section", application_id=application.id, section="attestation"), 303)
        return redirect(url_for(".show", application_id=application.id), 303)
    flash(f"Votre candidature est déposée sous la référence {application.reference}. "
          "Le récépissé de dépôt vous est envoyé par e-mail.", "success")
    return redirect(url_for(".show", application_id=application.id), 303)


def _reopened_labels(application):
    from ..instruction.services import item_labels
    return item_labels(application.reopened_sections or [], call=application.call)


def _receipt_response(deposit):
    response = make_response(receipt_pdf(deposit))
    record_receipt_download(deposit, current_user)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{deposit.filename}"'
    return response


@bp.route("/<int:application_id>/recepisse.pdf")
@login_required
def receipt(application_id):
    """The receipt of the original deposit: the proof of an on-time deposit, at an address that
    never changes, whatever complements follow."""
    application = get_application_or_404(application_id, check=can_follow_application)
    deposit = deposits.original_deposit(application)
    if deposit is None:
        abort(404)
    return _receipt_response(deposit)


@bp.route("/<int:application_id>/recepisses/<int:deposit_id>.pdf")
@login_required
def deposit_receipt(application_id, deposit_id):
    """The receipt of one deposit of the file (the original one or a complement)."""
    application = get_application_or_404(application_id, check=can_follow_application)
    deposit = db.session.get(Deposit, deposit_id)
    if deposit is None or deposit.application_id != application.id:
        abort(404)
    return _receipt_response(deposit)


@bp.route("/<int:application_id>/imprimer")
@login_required
def print_view(application_id):
    """A printable summary of the whole file (a page with a print stylesheet, not a PDF)."""
    application = get_application_or_404(application_id, check=can_follow_application)
    return render_template("applications/print.html", attachments=downloadable_attachments(current_user, application),
                           rows=S.rows, printed_at=timeutil.now(), **_common(application))


@bp.route("/<int:application_id>/retirer", methods=["GET", "POST"])
@login_required
def withdraw(application_id):
    application = get_application_or_404(application_id, check=is_application_member)
    form = ConfirmForm()
    if application.status not in submission.WITHDRAWABLE:
        flash("Ce dossier ne peut pas être retiré dans son état actuel.", "error")
        return redirect(url_for(".show", application_id=application.id), 303)
    if form.validate_on_submit():
        try:
            submission.withdraw(application, current_user, form.reason.data or "")
        except ApplicationError as refusal:
            flash(refusal.message, "error")
        else:
            flash("Votre candidature est retirée.", "success")
        return redirect(url_for(".show", application_id=application.id), 303)
    return render_template("applications/withdraw.html", application=application, form=form)


@bp.route("/<int:application_id>/renoncer", methods=["GET", "POST"])
@login_required
def renounce(application_id):
    """« Renoncer à la subvention »: a winner's association renounces its grant, before its
    convention is signed, with its reason (selection.amendments.renounce)."""
    from ..selection import amendments
    from ..selection.forms import ReasonForm

    application = get_application_or_404(application_id, check=is_application_member)
    refusal = amendments.grant_refusal(application)
    if refusal:
        flash("Ce dossier n'a pas de subvention à laquelle renoncer.", "error")
        return redirect(url_for(".show", application_id=application.id), 303)
    form = ReasonForm(reason_label="Pourquoi votre association renonce-t-elle à la subvention ?",
                      confirm_label="Je confirme, au nom de l'association, renoncer à la subvention accordée.",
                      reason_message="Indiquez pourquoi votre association renonce à la subvention.")
    if form.validate_on_submit():
        try:
            amendments.renounce(application, current_user, form.reason.data)
        except amendments.DecisionError as refusal:
            flash(str(refusal), "error")
        else:
            flash("Votre association a renoncé à la subvention : la DJEPVA en est informée.", "success")
        return redirect(url_for(".show", application_id=application.id), 303)
    return render_template("applications/renounce.html", application=application, form=form)


@bp.route("/<int:application_id>/ajuster-budget", methods=["GET", "POST"])
@login_required
def adjust_budget(application_id):
    """« Ajuster votre budget »: a winner granted less than asked adjusts its budget to the grant
    before its convention is issued (applications.adjustment); staff may do it for it."""
    from .forms import adjusted_budget_form

    application = get_application_or_404(application_id, check=can_follow_application)
    refusal = adjustment.refusal(application)
    if refusal:
        flash(refusal, "error")
        return redirect(url_for(".show", application_id=application.id, _anchor="decision"), 303)
    call = application.call
    state = adjustment.adjustment(application)
    start = adjustment.starting_budget(application)
    form = adjusted_budget_form(call, state.amounts, start, request.form if request.method == "POST" else None)
    found = []
    if request.method == "POST" and form.validate():
        try:
            adjustment.save_adjusted_budget(application, form.budget_value(), current_user)
        except ApplicationError as refused:
            found = refused.missing
            if not found:
                flash(refused.message, "error")
                return redirect(url_for(".show", application_id=application.id, _anchor="decision"), 303)
        else:
            db.session.commit()
            flash("Le budget ajusté à la subvention accordée est enregistré : il sera l'annexe II de la convention.",
                  "success")
            return redirect(url_for(".show", application_id=application.id, _anchor="decision"), 303)
    value = form.budget_value()
    if request.method == "POST" and not found:
        found = budget.adjustment_problems(value, state.amounts, call.years, call.year)
    view = budget.view(value, call.years, call.year, found)
    return render_template("applications/adjust_budget.html", application=application, call=call, form=form,
                           view=view, state=state, problems=found, is_member=is_application_member(
                               current_user, application)), (422 if request.method == "POST" else 200)
