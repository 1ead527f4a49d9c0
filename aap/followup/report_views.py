"""The yearly reports, the association's side: the section « Comptes rendus annuels » of the
follow-up page, the report's form (activity, compte rendu financier, pieces; autosave and
conflicts as the application's drafts), its submission and its receipt. Members fill; staff read
(their review actions: report_review_views.py, shown through followup/_report_review.html)."""
from flask import abort, flash, jsonify, make_response, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from .. import timeutil
from ..applications import files
from ..applications import sections as S
from ..applications.attachments import size_label
from ..applications.drafts import MINE, THEIRS
from ..applications.errors import ApplicationError, AttachmentError, NotEditable
from ..applications.forms import ConfirmForm, UploadForm
from ..extensions import db
from ..models.followup import REPORT_PIECES, ReportPiece, ReportState
from ..permissions import can_fill_report, get_report_or_404
from . import bp
from . import reports as R
from .page import section
from .report_forms import build_report_form, form_values


@section(30, "followup/_reports.html")
def reports_section(application, convention, user):
    """Each year's report: due date, state, late or not, the link to fill or read it."""
    if convention is None or not convention.reports:
        return None
    today = timeutil.to_paris(timeutil.now()).date()
    # A year not begun has nothing to report yet: its report is offered from its 1 January.
    return {"reports": [{"report": report, "late": R.past_due(report, today), "started": today.year >= report.year,
                         "editable": R.is_editable(report)} for report in convention.reports]}


def _context(report):
    application = report.application
    granted = R.granted_budget(report)
    rows = R.financial_rows(report, granted)
    member = can_fill_report(current_user, report)
    missing = R.missing_report_items(report) if R.is_editable(report) else []
    return {
        "report": report, "application": application, "call": application.call, "convention": report.convention,
        "rows": rows, "totals": R.financial_totals(rows), "pieces": {p.code: p for p in report.pieces},
        "piece_labels": REPORT_PIECES, "required_pieces": R.required_pieces(report),
        "editable": member and R.is_editable(report), "is_member": member,
        "missing": missing, "missing_links": [(label, f"#{anchor}") for anchor, label in missing],
        "late": R.past_due(report), "kinds": files.KINDS, "gap_percent": R.GAP_PERCENT,
        "max_file_label": size_label(files_max_size()), "upload_form": UploadForm(formdata=None),
        "fields": R.FIELD_BY_NAME, "activity_fields": R.ACTIVITY_FIELDS, "age_bands": R.AGE_BANDS,
        "breakdown": R.BREAKDOWN, "display": S.display, "stored": R.stored_value,
        "public_grants": R.public_grants_cents(report), "audit_threshold": R.AUDIT_THRESHOLD_CENTS,
    }


def files_max_size():
    from flask import current_app
    return current_app.config["MAX_FILE_SIZE"]


def _page(report, form=None, conflicts=None, partly_saved=None, errors=None, status=200):
    context = _context(report)
    if form is None and context["editable"]:
        form = build_report_form(report)
    html = render_template("followup/report.html", form=form, conflicts=conflicts or {}, partly_saved=partly_saved,
                           conflict_choices=(MINE, THEIRS), piece_errors=errors or {}, **context)
    return make_response(html, status)


@bp.route("/comptes-rendus/<int:report_id>", methods=["GET", "POST"])
@login_required
def report(report_id):
    """The report's page: its form for the association's members while it is editable, else (and
    for staff) what was filled or submitted."""
    report = get_report_or_404(report_id)
    if request.method == "GET":
        return _page(report)
    if not can_fill_report(current_user, report):
        abort(404 if not current_user.is_staff else 403)
    if not R.is_editable(report):
        flash("Ce compte rendu n'est plus modifiable.", "error")
        return redirect(url_for(".report", report_id=report.id), 303)
    form = build_report_form(report, request.form)
    valid = form.validate()
    try:
        result = R.save_report(report, form.cleaned(), current_user, form.base_version(),
                               bases=form.bases(), choices=form.choices())
    except NotEditable as refusal:
        flash(refusal.message, "error")
        return redirect(url_for(".report", report_id=report.id), 303)
    if valid and not result.conflict:
        flash(f"Brouillon enregistré à {timeutil.format_time(result.saved_at)}.", "success")
        return redirect(url_for(".report", report_id=report.id), 303)
    form.merge(result, report)
    return _page(report, form=form, conflicts=result.conflicts, status=422 if not valid else 409,
                 partly_saved={"at": timeutil.format_time(result.saved_at), "changed": bool(result.changed)})


@bp.route("/comptes-rendus/<int:report_id>/brouillon", methods=["POST"])
@login_required
def report_autosave(report_id):
    """The autosave of the report's form (app/autosave.js): the answer of the application's."""
    report = get_report_or_404(report_id, check=can_fill_report)
    if not R.is_editable(report):
        return jsonify(errors={"_": ["Ce compte rendu n'est plus modifiable."]}), 403
    form = build_report_form(report, request.form)
    valid = form.validate()
    try:
        result = R.save_report(report, form.cleaned(), current_user, form.base_version(),
                               bases=form.bases(), choices=form.choices())
    except NotEditable as refusal:
        return jsonify(errors={"_": [refusal.message]}), 403

    def shown(values):
        return {name: {"values": form_values(R.FIELD_BY_NAME[name], value),
                       "base": S.digest(R.FIELD_BY_NAME[name], value)} for name, value in values.items()}

    time = timeutil.format_time(result.saved_at)
    if result.conflict:
        label = (f"Brouillon enregistré à {time}, sauf les champs modifiés aussi ailleurs : "
                 "choisissez ci-dessous la version à garder.")
    elif not valid:
        label = (f"Brouillon enregistré à {time}, sauf les champs signalés en rouge."
                 if result.changed or result.in_sync else "Brouillon non enregistré : corrigez les champs signalés.")
    else:
        label = f"Brouillon enregistré à {time}"
    answer = {"ok": valid and not result.conflict, "version": result.version, "saved": result.changed,
              "saved_at_label": label, "bases": result.in_sync, "replace": shown(result.kept_theirs),
              "refresh": shown(result.stale)}
    if not valid:
        answer["errors"] = form.errors
    if result.conflict:
        answer.update(conflict=True, fields=[
            {"name": name, "label": c.spec.label, "theirs": c.theirs_text, "yours": c.yours_text, "by": c.by,
             "mine": c.mine, "seen": c.seen} for name, c in result.conflicts.items()])
        return jsonify(answer), 409
    return jsonify(answer), (200 if valid else 422)


@bp.route("/comptes-rendus/<int:report_id>/pieces", methods=["POST"])
@login_required
def report_piece_upload(report_id):
    """Add (or replace) one piece of the report: which one is the form's « piece » (REPORT_PIECES)."""
    report = get_report_or_404(report_id, check=can_fill_report)
    code = request.form.get("piece", "")
    if code not in REPORT_PIECES:
        return _page(report, errors={"_": "Choisissez la pièce à envoyer."}, status=422)
    form = UploadForm()
    if not form.validate() or not form.file.data:
        return _page(report, errors={code: "Choisissez un fichier."}, status=422)
    try:
        R.add_report_piece(report, code, form.file.data, current_user)
    except (AttachmentError, NotEditable) as refusal:
        return _page(report, errors={code: refusal.message}, status=422)
    flash(f"Pièce « {REPORT_PIECES[code]} » ajoutée.", "success")
    return redirect(url_for(".report", report_id=report.id, _anchor=f"piece-{code}"), 303)


def _piece_of(report, piece_id):
    piece = db.session.get(ReportPiece, piece_id)
    if piece is None or piece.report_id != report.id:
        abort(404)
    return piece


@bp.route("/comptes-rendus/<int:report_id>/pieces/<int:piece_id>/supprimer", methods=["POST"])
@login_required
def report_piece_delete(report_id, piece_id):
    report = get_report_or_404(report_id, check=can_fill_report)
    piece = _piece_of(report, piece_id)
    if not ConfirmForm().validate():
        abort(400)
    try:
        R.remove_report_piece(piece, current_user)
    except NotEditable as refusal:
        flash(refusal.message, "error")
    else:
        flash("Pièce supprimée.", "success")
    return redirect(url_for(".report", report_id=report.id, _anchor="pieces"), 303)


@bp.route("/comptes-rendus/<int:report_id>/pieces/<int:piece_id>")
@login_required
def report_piece(report_id, piece_id):
    report = get_report_or_404(report_id)
    piece = _piece_of(report, piece_id)
    path = files.path_of(piece.stored_name)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype=piece.content_type, as_attachment=True, download_name=piece.download_name,
                     max_age=0, etag=False, last_modified=None)


@bp.route("/comptes-rendus/<int:report_id>/deposer", methods=["GET", "POST"])
@login_required
def report_submit(report_id):
    """GET: what the submission does (nothing changes); POST: the submission."""
    report = get_report_or_404(report_id, check=can_fill_report)
    if not R.is_editable(report):
        flash("Ce compte rendu a déjà été déposé.", "error")
        return redirect(url_for(".report", report_id=report.id), 303)
    if request.method == "GET":
        if R.missing_report_items(report):
            flash("Le compte rendu ne peut pas être déposé : des éléments manquent.", "error")
            return redirect(url_for(".report", report_id=report.id, _anchor="manquants"), 303)
        return render_template("followup/report_submit.html", form=ConfirmForm(formdata=None), **_context(report))
    if not ConfirmForm().validate():
        abort(400)
    try:
        R.submit_report(report, current_user)
    except ApplicationError as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
        return redirect(url_for(".report", report_id=report.id, _anchor="manquants"), 303)
    db.session.commit()
    flash(f"Votre compte rendu {report.year} est déposé. L'accusé de réception vous est envoyé par e-mail.",
          "success")
    return redirect(url_for(".report", report_id=report.id), 303)


@bp.route("/comptes-rendus/<int:report_id>/accuse-reception.pdf")
@login_required
def report_receipt(report_id):
    report = get_report_or_404(report_id)
    if report.state == ReportState.DRAFT or not report.fingerprint:
        abort(404)
    response = make_response(R.report_receipt_pdf(report))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="accuse-reception-compte-rendu-{report.year}-{report.convention.number}.pdf"')
    return response
