"""Bulk generation of the conventions of a call, on every CPU core, outside the request.

The parent (a job run by the worker process, or the CLI) reads the database, gives plain dicts
to a pool of processes that only render PDFs (no database access in them), stores the results,
records progress on the job's row and writes one ZIP.
"""
import logging
import multiprocessing
import secrets
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from flask import current_app

from .. import events, jobs
from ..database import lock
from ..extensions import db
from ..models import Call, Job
from ..models.jobs import JOB_QUEUED, JOB_RUNNING
from .convention import archive_name
from .data import fingerprint, winners
from .services import (
    budget_refusal,
    documents_folder,
    is_frozen,
    issued_convention_data,
    needs_render,
    number_conventions,
    remove_files,
    store_convention,
)

log = logging.getLogger(__name__)
DEFAULT_WORKERS = 2


def _context():
    """Rendering processes come from a fork server: a clean process (safe although the worker
    process has threads) that imported the renderer once, so every later pool starts quickly."""
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
    # A winner whose budget is still to adjust to a reduced grant gets no convention yet.
    applications = [a for a in winners(call.id) if budget_refusal(a) is None]
    conventions = number_conventions(applications)
    items = []
    for application in applications:
        convention = conventions[application.id]
        data = issued_convention_data(application, convention)
        items.append((convention, data, fingerprint(data)))
    db.session.commit()  # the numbers, and the bank details of the conventions issued now
    todo = [item for item in items if needs_render(item[0], item[2]) or (force and not is_frozen(item[0]))]
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
    return [(archive_name(c.number, d["association"]["name"]), folder / c.stored_name) for c, d, _f in items]


def write_zip(entries, zip_path):
    """PDFs are already compressed: stored as is, one entry per convention."""
    zip_path = Path(zip_path)
    tmp = zip_path.with_name(f".{zip_path.name}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, path in entries:
            archive.write(path, arcname=name)
    tmp.replace(zip_path)
    return zip_path


# --- The job (run by the worker process, aap/worker.py) ------------------------------------


def running_job(call_id):
    """The conventions job queued or under way for the call, if any."""
    return db.session.scalar(
        db.select(Job).where(Job.call_id == call_id, Job.kind == "conventions",
                             Job.status.in_([JOB_QUEUED, JOB_RUNNING]))
        .order_by(Job.id.desc()).limit(1))


def last_job(call_id):
    return db.session.scalar(db.select(Job).where(Job.call_id == call_id, Job.kind == "conventions")
                             .order_by(Job.id.desc()).limit(1))


def start_conventions_job(call, actor):
    """Queue the generation of the call's conventions for the worker; a job already queued or
    under way for the call is returned instead of queuing a second one. Commits."""
    call = lock(call)  # two clicks at once queue one job
    job = running_job(call.id)
    if job is not None:
        return job
    job = jobs.enqueue("conventions", call=call, actor=actor)
    events.record("conventions_bulk_started", actor=actor, call_id=call.id)
    db.session.commit()
    return job


@jobs.handler("conventions")
def run_conventions_job(job):
    """Bring the call's conventions up to date and write their ZIP; returns the ZIP's name.
    Run again after a worker died, it renders only what is missing."""
    started = time.monotonic()
    call = db.session.get(Call, job.call_id)
    entries = generate_call_conventions(call, workers=current_app.config["DOCUMENTS_WORKERS"],
                                        on_progress=lambda done, total: jobs.progress(job, done, total))
    name = f"{job.id}-{secrets.token_hex(8)}.zip"
    write_zip(entries, documents_folder("jobs") / name)
    log.info("conventions of call %s: %d in %.1f s", call.slug, len(entries), time.monotonic() - started)
    return name


def job_zip_path(job):
    return documents_folder("jobs") / job.stored_name if job.stored_name else None
