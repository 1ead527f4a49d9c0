"""Jobs: long work queued by a web request and done by a worker process (aap/worker.py).

A request enqueues a row of the jobs table (enqueue); a worker claims it (claim), runs the
handler registered for its kind (run) and records on the row its progress, its result file and
its error, which every web process reads from the database.

Claiming is safe with several workers on several machines: on PostgreSQL the candidate row is
read with SELECT … FOR UPDATE SKIP LOCKED (rows another worker is claiming are skipped), and on
both databases the claim itself is one UPDATE that succeeds only while the row is still free, so
no job is ever claimed twice. A claimed job holds a lease (JOB_LEASE_SECONDS) that its worker
renews while it runs (renew, progress); when the worker dies the lease runs out and another
worker takes the job again. Every claim counts as an attempt: a handler that raises is retried
after RETRY_DELAY × attempts, and after max_attempts the job is failed with its last error.

A handler is registered with @handler(kind) in a module imported when the app is created; it
receives the claimed Job, may call progress(job, done, total), commits its own work, and returns
the name of its result file under DOCUMENTS_FOLDER/jobs, or None. A job may be run again after
a worker died: a handler must be safe to run twice.
"""
import logging
import os
import socket
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_

from . import timeutil
from .extensions import db
from .models import Job
from .models.jobs import JOB_DONE, JOB_FAILED, JOB_QUEUED, JOB_RUNNING

log = logging.getLogger(__name__)
HANDLERS = {}
RETRY_DELAY = timedelta(seconds=30)


def handler(kind):
    """Register the function that runs the jobs of this kind."""
    def register(function):
        HANDLERS[kind] = function
        return function
    return register


def enqueue(kind, payload=None, call=None, actor=None, max_attempts=3):
    """Add a job to the queue (flushed, not committed: it starts once the caller commits)."""
    if kind not in HANDLERS:
        raise LookupError(f"no handler for jobs of kind {kind!r}")
    job = Job(kind=kind, payload=payload or {}, call_id=call.id if call else None,
              created_by_id=actor.id if actor else None, status=JOB_QUEUED, run_after=timeutil.now(),
              max_attempts=max_attempts)
    db.session.add(job)
    db.session.flush()
    return job


def worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"


def lease():
    return timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])


def _claimable(now):
    return or_(and_(Job.status == JOB_QUEUED, Job.run_after <= now),
               and_(Job.status == JOB_RUNNING, Job.lease_until < now))


def claim(worker):
    """Take the next due job for `worker` (a queued job, or one whose worker's lease ran out)
    and commit; None when there is none. A job whose workers died max_attempts times is failed
    instead of being run again."""
    while True:
        now = timeutil.now()
        job_id = db.session.scalar(
            db.select(Job.id).where(_claimable(now)).order_by(Job.run_after, Job.id).limit(1)
            .with_for_update(skip_locked=True))
        if job_id is None:
            db.session.commit()
            return None
        claimed = db.session.execute(
            db.update(Job).where(Job.id == job_id, _claimable(now))
            .values(status=JOB_RUNNING, worker=worker, lease_until=now + lease(), attempts=Job.attempts + 1,
                    started_at=db.func.coalesce(Job.started_at, now), updated_at=now)
            .execution_options(synchronize_session=False)).rowcount == 1
        db.session.commit()
        if not claimed:
            continue
        job = db.session.get(Job, job_id, populate_existing=True)
        if job.attempts > job.max_attempts:
            _end(job, worker, status=JOB_FAILED, error=job.error or "Le processus de travail s'est arrêté "
                 f"{job.max_attempts} fois pendant ce travail.")
            continue
        return job


def _mine(job_id, worker):
    return db.update(Job).where(Job.id == job_id, Job.worker == worker, Job.status == JOB_RUNNING) \
        .execution_options(synchronize_session=False)


def renew(job_id, worker):
    """Extend the lease of a job under way; False when it is no longer this worker's (its lease
    ran out and another worker took it)."""
    renewed = db.session.execute(_mine(job_id, worker).values(lease_until=timeutil.now() + lease())).rowcount == 1
    db.session.commit()
    return renewed


def progress(job, done, total):
    """Record a handler's progress (and renew the lease). Commits."""
    db.session.execute(_mine(job.id, job.worker).values(done=done, total=total,
                                                         lease_until=timeutil.now() + lease()))
    db.session.commit()


def _end(job, worker, **values):
    now = timeutil.now()
    if values["status"] in (JOB_DONE, JOB_FAILED):
        values["finished_at"] = now
    ended = db.session.execute(_mine(job.id, worker).values(worker=None, lease_until=None, updated_at=now,
                                                             **values)).rowcount == 1
    db.session.commit()
    if not ended:
        log.warning("job %s: lost by %s before it ended (taken again after its lease)", job.id, worker)
    return ended


def run(job, worker):
    """Run a claimed job's handler and record how it ended. Returns the job's new status."""
    job_id, attempts, max_attempts = job.id, job.attempts, job.max_attempts
    try:
        function = HANDLERS.get(job.kind)
        if function is None:
            raise LookupError(f"no handler for jobs of kind {job.kind!r}")
        stored_name = function(job)
    except Exception as error:  # noqa: BLE001 (the job must never stay « running »)
        log.exception("job %s (%s) failed, attempt %d/%d", job_id, job.kind, attempts, max_attempts)
        db.session.rollback()
        job = db.session.get(Job, job_id)
        message = f"{type(error).__name__} : {error}"[:1000]
        if attempts < max_attempts:
            status = JOB_QUEUED
            _end(job, worker, status=status, error=message, run_after=timeutil.now() + RETRY_DELAY * attempts)
        else:
            status = JOB_FAILED
            _end(job, worker, status=status, error=message)
        return status
    _end(job, worker, status=JOB_DONE, stored_name=stored_name, error="")
    return JOB_DONE


def run_next(worker=None):
    """Claim and run one job in this thread (the worker's --once mode, and tests). Returns the
    job's id, or None when nothing was due."""
    worker = worker or worker_name()
    job = claim(worker)
    if job is None:
        return None
    run(job, worker)
    return job.id

