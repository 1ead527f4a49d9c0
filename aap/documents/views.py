"""Documents: conventions (one, or all of a call as a ZIP in the background), exports."""
import io
import os
import tempfile
from pathlib import Path

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, send_file, url_for
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
from .excel import build_workbook, export_name
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
    """The association downloads its own convention; staff download any (every download is logged)."""
    application = get_application_or_404(application_id, check=can_follow_application)
    if not is_winner(application):
        abort(404)
    with writing():  # numbered and rendered on its first download: a write in a GET
        record, path, _regenerated = services.ensure_convention(application)
    services.record_download(application, current_user)
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=f"convention-{record.number}.pdf", max_age=0)


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
    """The general conditions (articles 7 to 15) of the call's conventions, readable by anyone
    before applying; staff may read those of a call not yet published."""
    call, _preview = get_visible_call(slug, current_user)
    if call is None:
        abort(404)
    return _send_bytes(general_conditions_pdf(call_data(call)), "application/pdf",
                       f"conditions-generales-{call.slug}.pdf", attachment=False)


@bp.route("/instruction/appels/<int:call_id>/documents")
@staff_required
def call_documents(call_id):
    call = db.get_or_404(Call, call_id)
    applications = winners(call.id)
    conventions = {c.application_id: c for c in db.session.scalars(
        select(Convention).join(Application, Application.id == Convention.application_id)
        .where(Application.call_id == call.id))}
    return render_template("documents/call_documents.html", call=call, applications=applications,
                           conventions=conventions, job=bulk.last_job(call.id))


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
    call = db.get_or_404(Call, call_id)
    content = build_workbook(call.id, author=f"{current_user.full_name} <{current_user.email}>")
    _record_export(call, "xlsx")
    return _send_bytes(content, XLSX, export_name(call, "xlsx"))


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

