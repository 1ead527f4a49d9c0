"""The jobs table and the worker: claims never doubled, leases, retries, periodic mail delivery."""
from datetime import timedelta

import pytest

from aap import jobs, timeutil
from aap.extensions import db
from aap.models import Job, OutboxMessage
from aap.models.jobs import JOB_FAILED, JOB_QUEUED, JOB_RUNNING

CALLS = []


@jobs.handler("test-echo")
def _echo(job):
    CALLS.append((job.id, job.payload))
    jobs.progress(job, 1, 2)
    return None


@jobs.handler("test-broken")
def _broken(job):
    raise RuntimeError("le rendu a échoué")


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()


def queued(kind="test-echo", **payload):
    job = jobs.enqueue(kind, payload)
    db.session.commit()
    return job


def expire_lease(job):
    job.lease_until = timeutil.now() - timedelta(seconds=1)
    db.session.commit()


def test_enqueue_refuses_a_kind_without_handler(app):
    with pytest.raises(LookupError):
        jobs.enqueue("inconnu")


def test_each_job_is_claimed_once_oldest_first(app):
    first, second = queued(n=1), queued(n=2)
    a = jobs.claim("machine-a:1")
    b = jobs.claim("machine-b:2")
    assert (a.id, b.id) == (first.id, second.id)
    assert jobs.claim("machine-c:3") is None
    assert (a.status, a.worker, a.attempts) == (JOB_RUNNING, "machine-a:1", 1)
    assert a.lease_until - timeutil.now() > timedelta(seconds=app.config["JOB_LEASE_SECONDS"] - 5)


def test_a_job_waiting_for_its_retry_time_is_not_claimed(app):
    job = queued()
    job.run_after = timeutil.now() + timedelta(minutes=1)
    db.session.commit()
    assert jobs.claim("w:1") is None


def test_a_renewed_lease_keeps_the_job_an_expired_one_gives_it_to_another_worker(app):
    job = queued()
    jobs.claim("w:1")
    assert jobs.renew(job.id, "w:1")
    assert jobs.claim("w:2") is None  # the lease is alive
    expire_lease(job)
    again = jobs.claim("w:2")
    assert (again.id, again.worker, again.attempts) == (job.id, "w:2", 2)
    # The first worker, back from the dead, has lost it: no renewal, no progress, no end of its own.
    assert not jobs.renew(job.id, "w:1")
    assert jobs.run(db.session.get(Job, job.id), "w:2") == "done"
    db.session.expire_all()
    assert (job.status, job.done, job.total, job.worker, job.finished_at is not None) == ("done", 1, 2, None, True)
    assert CALLS == [(job.id, {})]


def test_progress_renews_the_lease(app):
    job = queued()
    jobs.claim("w:1")
    job.lease_until = timeutil.now() + timedelta(seconds=1)
    db.session.commit()
    jobs.progress(job, 3, 10)
    db.session.expire_all()
    assert (job.done, job.total) == (3, 10)
    assert job.lease_until > timeutil.now() + timedelta(seconds=app.config["JOB_LEASE_SECONDS"] - 5)


def test_a_failing_job_is_retried_later_then_failed_with_its_error(app):
    job = queued("test-broken")
    assert jobs.run_next("w:1") == job.id
    db.session.expire_all()
    assert (job.status, job.attempts, job.worker) == (JOB_QUEUED, 1, None)
    assert job.error == "RuntimeError : le rendu a échoué"
    assert job.status_label == "En attente d'un nouvel essai"
    assert job.run_after > timeutil.now() + timedelta(seconds=20)
    assert jobs.run_next("w:1") is None  # not before its time
    for attempt in (2, 3):
        job.run_after = timeutil.now()
        db.session.commit()
        assert jobs.run_next("w:1") == job.id
        db.session.expire_all()
        assert job.attempts == attempt
    assert (job.status, job.status_label, job.finished_at is not None) == (JOB_FAILED, "Échec", True)
    assert job.error == "RuntimeError : le rendu a échoué"


def test_a_job_whose_workers_kept_dying_is_failed_not_run_again(app):
    job = queued()
    for worker in ("w:1", "w:2", "w:3"):
        assert jobs.claim(worker).id == job.id
        expire_lease(job)
    assert jobs.claim("w:4") is None
    db.session.expire_all()
    assert (job.status, job.attempts) == (JOB_FAILED, 4)
    assert "s'est arrêté 3 fois" in job.error
    assert CALLS == []


def test_worker_once_delivers_the_mail_and_runs_the_jobs(app, smtp_server):
    from aap.mail import queue_text
    queue_text("asso@example.org", "Votre dossier", "Bonjour.", kind="test")
    job = queued(n=7)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 travail(s) exécuté(s)." in result.output
    assert [m["To"] for m in smtp_server.messages] == ["asso@example.org"]
    db.session.expire_all()
    assert db.session.scalar(db.select(OutboxMessage.sent_at)) is not None
    assert job.status == "done" and CALLS == [(job.id, {"n": 7})]


def test_the_web_process_only_queues_mail_in_production(tmp_path, monkeypatch):
    from .conftest import make_app
    monkeypatch.delenv("MAIL_SEND_AFTER_REQUEST", raising=False)
    production = make_app(tmp_path, AAP_ENV="production", SECRET_KEY="cle")
    assert production.config["MAIL_SEND_AFTER_REQUEST"] is False
    assert not any(f.__name__ == "_deliver_after_request" for f in production.after_request_funcs.get(None, []))
    assert "worker" in production.cli.commands
