"""Documents: conventions (one, or all of a call as a ZIP in the background), exports."""
import io
import os
import tempfile
from pathlib import Path

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import events
from ..calls.services import get_visible_call
from ..database import writing
from ..extensions import db
from ..models import Application, Call, Convention, Job
from ..models.jobs import JOB_DONE
from ..permissions import can_follow_application, get_application_or_404, staff_required
from . import bulk, services
from .convention import general_conditions_pdf
from .data import call_data, is_winner, winners
from .decision_letter import decision_letter_pdf, letter_kind
from .decision_letter import filename as letter_filename
from .excel import build_workbook, export_name
from .forms import CommitmentForm
from .opendata import build_opendata_sqlite, build_scdl_csv

bp = Blueprint("documents", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.record_once
def _setup(state):
    app = state.app
    from .cli import conventions_command, export_group
    app.cli.add_command(conventions_command)
    app.cli.add_command(export_group)


@bp.route("/candidatures/<int:application_id>/convention.pdf")
@login_required
def convention(application_id):
    """The association downloads its own convention; staff download any (every download is logged).
    Once returned signed, the signed version is served (aap/followup/signature.served_document)."""
    from ..applications import files
    from ..followup.signature import served_document
    application = get_application_or_404(application_id, check=can_follow_application)
    if not is_winner(application):
        abort(404)
    existing = db.session.scalar(select(Convention).where(Convention.application_id == application.id))
    document = served_document(existing) if existing is not None else None
    if document is not None:
        services.record_download(application, current_user)
        return send_file(files.path_of(document.stored_name), mimetype="application/pdf", as_attachment=True,
                         download_name=f"convention-{existing.number}-signee.pdf", max_age=0)
    refusal = services.budget_refusal(application)
    if refusal:
        flash(refusal, "error")
        return redirect(url_for("applications.show", application_id=application.id, _anchor="decision"))
    with writing():  # numbered and rendered on its first download: a write in a GET
        record, path, _regenerated = services.ensure_convention(application)
    services.record_download(application, current_user)
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=f"convention-{record.number}.pdf", max_age=0)


@bp.route("/candidatures/<int:application_id>/decision.pdf")
@login_required
def decision_letter(application_id):
    """The letter of a notified decision: the association's members and staff (a draft: 404)."""
    application = get_application_or_404(application_id, check=can_follow_application)
    if letter_kind(application) is None:
        abort(404)
    return _send_bytes(decision_letter_pdf(application), "application/pdf", letter_filename(application))


@bp.route("/instruction/candidatures/<int:application_id>/convention/reemettre", methods=["POST"])
@staff_required
def reissue_convention(application_id):
    """Staff issue a winner's convention again with the association's current bank details
    (after a validated change of account); the conventions already issued keep theirs otherwise."""
    application = db.get_or_404(Application, application_id)
    if not is_winner(application):
        abort(404)
    try:
        convention = services.reissue_convention(application, current_user)
    except services.ConventionError as refusal:
        flash(str(refusal), "error")
    else:
        flash(f"La convention {convention.number} est réémise avec les coordonnées bancaires actuelles.", "success")
    return redirect(url_for("associations.staff_view", association_id=application.association_id,
                            _anchor="conventions"))


@bp.route("/appels/<slug>/conditions-generales.pdf")
def general_conditions(slug):
    """The general conditions (articles 7 to 18) of the call's conventions, readable by anyone
    before applying; staff may read those of a call not yet published."""
    call, _preview = get_visible_call(slug, current_user)
    if call is None:
        abort(404)
    return _send_bytes(general_conditions_pdf(call_data(call)), "application/pdf",
                       f"conditions-generales-{call.slug}.pdf", attachment=False)


def _documents_page(call, failed_commitment=None):
    """The call's documents page; `failed_…`: (convention id, its form shown again with its error
    and what was typed), the other rows showing what is recorded."""
    applications = winners(call.id)
    conventions = {c.application_id: c for c in db.session.scalars(
        select(Convention).join(Application, Application.id == Convention.application_id)
        .where(Application.call_id == call.id))}
    from ..applications.adjustment import adjustment
    budgets = {a.id: adjustment(a) for a in applications}  # the budget as granted: adjusted or to adjust
    commitment_forms = {c.id: CommitmentForm(formdata=None, prefix=f"engagement-{c.id}",
                                             data={"commitment_number": c.commitment_number})
                        for c in conventions.values()}
    if failed_commitment is not None:
        commitment_forms[failed_commitment[0]] = failed_commitment[1]
    unsigned = sum(1 for a in applications if a.id not in conventions or conventions[a.id].signed_at is None)
    return render_template("documents/call_documents.html", call=call, applications=applications,
                           conventions=conventions, budgets=budgets, job=bulk.last_job(call.id),
                           commitment_forms=commitment_forms, unsigned=unsigned)


@bp.route("/instruction/appels/<int:call_id>/documents")
@staff_required
def call_documents(call_id):
    return _documents_page(db.get_or_404(Call, call_id))


def _winner_convention(convention_id):
    """The convention and its file, 404 unless the file is (still) a winner."""
    convention = db.get_or_404(Convention, convention_id)
    if not is_winner(convention.application):
        abort(404)
    return convention, convention.application


@bp.route("/instruction/conventions/<int:convention_id>/engagement", methods=["POST"])
@staff_required
def record_commitment(convention_id):
    """Staff record the Chorus commitment number the finance office gave for a convention."""
    convention, application = _winner_convention(convention_id)
    form = CommitmentForm(prefix=f"engagement-{convention.id}")
    if form.validate_on_submit():
        try:
            changed = services.record_commitment_number(convention, form.commitment_number.data, current_user)
        except services.ConventionError as refusal:
            # next to the field, with what was typed (as the signature date)
            form.commitment_number.errors = list(form.commitment_number.errors) + [str(refusal)]
        else:
            flash(f"Le numéro d'engagement juridique de la convention {convention.number} est enregistré ; il "
                  "figure à l'article 6 de la convention." if changed else "Aucune modification à enregistrer.",
                  "success" if changed else "info")
            return redirect(url_for("documents.call_documents", call_id=application.call_id,
                                    _anchor=f"convention-{convention.id}"))
    return _documents_page(application.call, failed_commitment=(convention.id, form)), 422


@bp.route("/instruction/appels/<int:call_id>/conventions", methods=["POST"])
@staff_required
def start_conventions(call_id):
    call = db.get_or_404(Call, call_id)
    job = bulk.start_conventions_job(call, current_user)
    flash("La génération des conventions a commencé ; vous pouvez suivre sa progression ci-dessous.", "info")
    return redirect(url_for("documents.call_documents", call_id=call.id, _anchor=f"travail-{job.id}"))


@bp.route("/instruction/travaux/<int:job_id>.json")
@staff_required
def job_status(job_id):
    job = db.get_or_404(Job, job_id)
    return jsonify(id=job.id, status=job.status, status_label=job.status_label, done=job.done,
                   total=job.total, percent=job.percent, error=job.error,
                   download_url=url_for("documents.job_download", job_id=job.id)
                   if job.kind == "conventions" and job.status == JOB_DONE else None)


@bp.route("/instruction/travaux/<int:job_id>/conventions.zip")
@staff_required
def job_download(job_id):
    job = db.get_or_404(Job, job_id)
    path = bulk.job_zip_path(job)
    if job.kind != "conventions" or job.status != JOB_DONE or path is None or not path.exists():
        abort(404)
    with writing():
        events.record("export", actor=current_user, call_id=job.call_id, format="conventions.zip", job_id=job.id)
        db.session.commit()
    return send_file(path, mimetype="application/zip", as_attachment=True,
                     download_name=f"conventions-{job.call.slug}.zip", max_age=0)


def _record_export(call, kind):
    with writing():
        events.record("export", actor=current_user, call_id=call.id, format=kind)
        db.session.commit()


def _send_bytes(content, mimetype, name, attachment=True):
    return send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=attachment, download_name=name,
                     max_age=0)


@bp.route("/instruction/appels/<int:call_id>/export.xlsx")
@staff_required
def export_xlsx(call_id):
    """The call's workbook: internal (« Diffusion restreinte »), or `?version=cabinet` without the
    reviewers' names and comments, the IBAN and the e-mail addresses."""
    call = db.get_or_404(Call, call_id)
    cabinet = request.args.get("version") == "cabinet"
    author = current_user.full_name if cabinet else f"{current_user.full_name} <{current_user.email}>"
    content = build_workbook(call.id, author=author, cabinet=cabinet)
    _record_export(call, "xlsx-cabinet" if cabinet else "xlsx")
    name = export_name(call, "xlsx")
    return _send_bytes(content, XLSX, name.replace(".xlsx", "-cabinet.xlsx") if cabinet else name)


@bp.route("/instruction/appels/<int:call_id>/subventions.csv")
@staff_required
def export_scdl(call_id):
    call = db.get_or_404(Call, call_id)
    content = build_scdl_csv(call)
    _record_export(call, "scdl")
    return _send_bytes(content, "text/csv; charset=utf-8", f"subventions-{call.slug}.csv")


@bp.route("/instruction/appels/<int:call_id>/resultats.sqlite")
@staff_required
def export_opendata(call_id):
    call = db.get_or_404(Call, call_id)
    handle, name = tempfile.mkstemp(suffix=".sqlite")
    os.close(handle)
    path = Path(name)
    build_opendata_sqlite(call, path)
    content = path.read_bytes()
    path.unlink(missing_ok=True)
    _record_export(call, "opendata")
    return _send_bytes(content, "application/vnd.sqlite3", f"resultats-{call.slug}.sqlite")

