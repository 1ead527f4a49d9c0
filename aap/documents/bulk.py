"""Bulk generation of the conventions of a call, on every CPU core, outside the request.

The parent (a background thread of the web process, or the CLI) reads the database, gives
plain dicts to a pool of worker processes that only render PDFs (no database access in
workers), stores the results, records progress in a DocumentJob row and writes one ZIP.
"""
import logging
import multiprocessing
import secrets
import threading
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import timedelta
from pathlib import Path

from flask import current_app

from .. import events, timeutil
from ..extensions import db
from ..models import Call, DocumentJob
from ..models.documents import JOB_DONE, JOB_FAILED, JOB_PENDING, JOB_RUNNING
from .data import fingerprint, winners
from .services import (documents_folder, issued_convention_data, needs_render, number_conventions, remove_files,
                       store_convention)

log = logging.getLogger(__name__)
DEFAULT_WORKERS = 2
_threads = {}


def _context():
    """Worker processes come from a fork server: a clean process (safe although the web process
    has threads) that imported the renderer once, so every later pool starts quickly."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["aap.documents.convention", "weasyprint"])
    return context


def render_worker(data):
    """Runs in a worker process: a plain dict in, PDF bytes out."""
    from .convention import build_convention_pdf
    return build_convention_pdf(data)


def generate_call_conventions(call, workers=DEFAULT_WORKERS, force=False, on_progress=None):
    """Bring every convention of the call up to date; returns [(archive name, path)].

    Only conventions whose data changed (or whose file is missing) are rendered, unless force.
    on_progress(done, total) is called after each document (it may commit)."""
    applications = winners(call.id)
    conventions = number_conventions(applications)
    items = []
    for application in applications:
        convention = conventions[application.id]
        data = issued_convention_data(application, convention)
        items.append((convention, data, fingerprint(data)))
    db.session.commit()  # the numbers, and the bank details of the conventions issued now
    todo = [item for item in items if force or needs_render(item[0], item[2])]
    total, done = len(items), len(items) - len(todo)
    if on_progress:
        on_progress(done, total)
    old_files = []

    def finish(item, pdf):
        nonlocal done
        convention, _data, data_fingerprint = item
        old_files.append(store_convention(convention, data_fingerprint, pdf))
        done += 1
        if on_progress:
            on_progress(done, total)

    if workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=_context()) as pool:
            futures = {pool.submit(render_worker, item[1]): item for item in todo}
            for future in as_completed(futures):
                finish(futures[future], future.result())
    else:
        for item in todo:
            finish(item, render_worker(item[1]))
    db.session.commit()
    remove_files(old_files)
    folder = documents_folder("conventions")
    return [(f"convention-{c.number}.pdf", folder / c.stored_name) for c, _d, _f in items]


def write_zip(entries, zip_path):
    """PDFs are already compressed: stored as is, one entry per convention."""
    zip_path = Path(zip_path)
    tmp = zip_path.with_name(f".{zip_path.name}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, path in entries:
            archive.write(path, arcname=name)
    tmp.replace(zip_path)
    return zip_path


# --- Background jobs (web) ----------------------------------------------------------------

STALE_AFTER = timedelta(minutes=10)


def running_job(call_id):
    """The job under way for the call, if any. A job without progress for STALE_AFTER was
    interrupted (process restarted): it is marked failed and no longer blocks a new one."""
    jobs = db.session.scalars(
        db.select(DocumentJob).where(DocumentJob.call_id == call_id,
                                     DocumentJob.status.in_([JOB_PENDING, JOB_RUNNING]))
        .order_by(DocumentJob.id.desc())).all()
    limit = timeutil.now() - STALE_AFTER
    alive = None
    for job in jobs:
        if job.updated_at is not None and job.updated_at < limit:
            job.status, job.finished_at = JOB_FAILED, timeutil.now()
            job.error = "La génération a été interrompue ; relancez-la."
        elif alive is None:
            alive = job
    return alive


def last_job(call_id):
    return db.session.scalar(db.select(DocumentJob).where(DocumentJob.call_id == call_id)
                             .order_by(DocumentJob.id.desc()).limit(1))


def start_conventions_job(call, actor):
    """Create the job row and start the work in a background thread; a job already under way
    for the call is returned instead of starting a second one. Commits."""
    job = running_job(call.id)
    if job is not None:
        return job
    job = DocumentJob(call_id=call.id, kind="conventions", status=JOB_PENDING, created_by_id=actor.id)
    db.session.add(job)
    events.record("conventions_bulk_started", actor=actor, call_id=call.id)
    db.session.commit()
    app = current_app._get_current_object()
    thread = threading.Thread(target=_run_job, args=(app, job.id), name=f"conventions-job-{job.id}",
                              daemon=True)
    _threads[job.id] = thread
    thread.start()
    return job


def wait_for_job(job_id, timeout=300):
    """Block until the job's thread ends (tests, scripts)."""
    thread = _threads.get(job_id)
    if thread is not None:
        thread.join(timeout)
        if thread.is_alive():
            return False
        _threads.pop(job_id, None)
    return True


def _run_job(app, job_id):
    with app.app_context():
        job = db.session.get(DocumentJob, job_id)
        job.status, job.started_at = JOB_RUNNING, timeutil.now()
        db.session.commit()
        started = time.monotonic()
        try:
            call = db.session.get(Call, job.call_id)

            def progress(done, total):
                job.done, job.total = done, total
                db.session.commit()

            entries = generate_call_conventions(call, workers=app.config.get("DOCUMENTS_WORKERS", DEFAULT_WORKERS),
                                                on_progress=progress)
            name = f"{job.id}-{secrets.token_hex(8)}.zip"
            write_zip(entries, documents_folder("jobs") / name)
            job.stored_name = name
            job.status, job.finished_at = JOB_DONE, timeutil.now()
            log.info("conventions of call %s: %d in %.1f s", call.slug, len(entries), time.monotonic() - started)
        except Exception as error:  # the job must never stay « running » forever
            log.exception("conventions job %s failed", job_id)
            db.session.rollback()
            job = db.session.get(DocumentJob, job_id)
            job.status, job.finished_at = JOB_FAILED, timeutil.now()
            job.error = f"La génération a échoué : {error}"
        try:
            db.session.commit()
        except Exception:
            log.exception("conventions job %s: final state not saved", job_id)
            db.session.rollback()
        finally:
            db.session.remove()


def job_zip_path(job):
    return documents_folder("jobs") / job.stored_name if job.stored_name else None
