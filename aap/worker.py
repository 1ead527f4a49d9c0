"""The worker process: `flask --app aap worker`.

It runs the queued jobs (aap/jobs.py), one at a time in a thread of its own, while its main
thread renews the job's lease and runs the periodic tasks at their intervals. Any number of
workers, on any number of machines, may share one database (see the README). SIGTERM or Ctrl+C
stops claiming jobs; the worker ends once the job under way is finished.
"""
import logging
import signal
import threading
import time

import click
from flask import current_app

from . import jobs
from .extensions import db
from .mail import deliver_pending

log = logging.getLogger(__name__)

# (name, interval in seconds, function): idempotent work that any worker may do at any time.
# Deadlines need no task: they are checked when a file is read or changed
# (applications.deadlines); reviewers' reminders are sent by staff and only need the mail.
PERIODIC_TASKS = [
    ("mail", 10, deliver_pending),
]


def run_periodic(due, now):
    """Run the tasks whose time has come; `due` maps a task's name to its next run (monotonic)."""
    for name, interval, function in PERIODIC_TASKS:
        if due.get(name, 0) > now:
            continue
        due[name] = now + interval
        try:
            function()
        except Exception:  # noqa: BLE001 (a task failing now runs again at its next turn)
            log.exception("periodic task %s failed", name)
            db.session.rollback()


def run_once(worker=None):
    """The periodic tasks once, then every due job, then return (cron, scripts, tests)."""
    worker = worker or jobs.worker_name()
    run_periodic({}, time.monotonic())
    count = 0
    while jobs.run_next(worker) is not None:
        count += 1
    return count


def _job_thread(app, job_id, worker):
    def target():
        with app.app_context():
            job = db.session.get(jobs.Job, job_id)
            jobs.run(job, worker)
    thread = threading.Thread(target=target, name=f"job-{job_id}", daemon=True)
    thread.start()
    return thread


def run_forever(worker=None):
    app = current_app._get_current_object()
    worker = worker or jobs.worker_name()
    poll = app.config["WORKER_POLL_SECONDS"]
    beat = app.config["JOB_LEASE_SECONDS"] / 3
    stopping = threading.Event()

    def stop(signum, _frame):
        log.info("worker %s: signal %s, stopping after the job under way", worker, signum)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker %s started", worker)
    due, current, job_id, renewed_at = {}, None, None, 0.0
    while True:
        now = time.monotonic()
        run_periodic(due, now)
        if current is not None and not current.is_alive():
            current = None
        if current is None:
            if stopping.is_set():
                break
            job = jobs.claim(worker)
            if job is not None:
                job_id, renewed_at = job.id, now
                current = _job_thread(app, job_id, worker)
                continue
        elif now - renewed_at >= beat:
            renewed_at = now
            if not jobs.renew(job_id, worker):
                log.warning("worker %s: job %s was taken by another worker", worker, job_id)
        time.sleep(min(poll, beat))
    log.info("worker %s stopped", worker)


def init_worker(app):
    @app.cli.command("worker")
    @click.option("--once", is_flag=True,
                  help="Faire les tâches périodiques et les travaux en attente, puis s'arrêter.")
    def worker_command(once):
        """Run the queued jobs and the periodic tasks (mail delivery)."""
        if once:
            count = run_once()
            click.echo(f"{count} travail(s) exécuté(s).")
        else:
            run_forever()
