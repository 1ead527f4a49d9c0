"""Several machines on one PostgreSQL database: two web servers (gunicorn) and two workers, real
processes sharing the database, the instance folder and the secret key (README, « Running on
several machines »). A bulk job queued through one web server is served by the other; a worker
killed in the middle of it leaves it to the other worker once its lease has run out."""
import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, make_url, text

from aap import jobs, timeutil
from aap.extensions import db
from aap.models import Job

from . import factories
from .conftest import free_port, make_app
from .factories_documents import winner

URL = os.environ.get("TEST_DATABASE_URL", "")
ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not URL.startswith("postgresql"),
                       reason="several workers need PostgreSQL (TEST_DATABASE_URL); SQLite has one worker"),
]
LEASE_SECONDS = 2
CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


@pytest.fixture
def committed_database(tmp_path):
    """A database of its own on the test server, with committed data that other processes see;
    dropped afterwards. Yields (its URL, the app bound to it, inside its app context)."""
    name = f"aap_mp_{secrets.token_hex(4)}"
    server = create_engine(make_url(URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(URL).set(database=name).render_as_string(hide_password=False)
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=url.replace("postgresql://", "postgresql+psycopg://", 1),
                   JOB_LEASE_SECONDS=LEASE_SECONDS)
    try:
        with app.app_context():
            db.create_all()
            yield url, app
            db.session.remove()
            db.engine.dispose()
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def test_skip_locked_claims_the_next_job_while_another_worker_holds_a_row(committed_database):
    url, app = committed_database
    first, second = jobs.enqueue("conventions"), jobs.enqueue("conventions")
    db.session.commit()
    other = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with other.connect() as connection:  # another worker in the middle of claiming the first
            connection.execute(text("SELECT id FROM jobs WHERE id = :id FOR UPDATE"), {"id": first.id})
            started = time.monotonic()
            assert jobs.claim("w:2").id == second.id  # at once, without waiting for the lock
            assert time.monotonic() - started < 2
            connection.rollback()
    finally:
        other.dispose()
    assert jobs.claim("w:3").id == first.id


def _env(url, instance):
    return dict(os.environ, AAP_ENV="development", SECRET_KEY="une-cle-partagee-par-toutes-les-machines",
                DATABASE_URL=url, AAP_UPLOAD_FOLDER=str(instance / "uploads"),
                AAP_DOCUMENTS_FOLDER=str(instance / "documents"), MAIL_BACKEND="file",
                MAIL_SEND_AFTER_REQUEST="0", AAP_JOB_LEASE_SECONDS=str(LEASE_SECONDS),
                AAP_WORKER_POLL_SECONDS="0.2", AAP_DOCUMENTS_WORKERS="2")


def _start(command, env, log):
    return subprocess.Popen(command, cwd=str(ROOT), env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


class Browser:
    """One staff member's browser: one cookie jar for both servers (same host, other port)."""

    def __init__(self):
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, url):
        with self.opener.open(url, timeout=20) as response:
            return response.read()

    def post(self, url, form_url, data):
        token = CSRF_RE.search(self.get(form_url).decode()).group(1)
        body = urlencode(dict(data, csrf_token=token)).encode()
        with self.opener.open(url, data=body, timeout=20) as response:
            return response.geturl(), response.read().decode()


def _wait(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {seconds} s")


def _answers(port):
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/accessibilite", timeout=2).status == 200
    except OSError:
        return False


def test_two_web_servers_two_workers_and_a_worker_killed_mid_job(committed_database, tmp_path):
    url, app = committed_database
    factories.user("staff", email="agent@example.org")
    call = factories.call(slug="aap-partage", year=2025)
    names = [f"Association {i}" for i in range(1, 5)]
    for i, name in enumerate(names):
        winner(call, name=name, amount_cents=(i + 1) * 10_000_00)
    call_id = call.id
    db.session.commit()

    instance = tmp_path / "partage"  # one storage folder for every machine
    env = _env(url, instance)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    flask = str(Path(sys.executable).parent / "flask")
    processes, logs = [], []
    try:
        ports = [free_port(), free_port()]
        for port in ports:
            logs.append(open(tmp_path / f"web-{port}.log", "wb"))
            processes.append(_start([gunicorn, "--workers", "1", "--bind", f"127.0.0.1:{port}",
                                     f"aap:create_app(instance_path={str(instance)!r})"], env, logs[-1]))
        workers = {}
        for name in ("a", "b"):
            logs.append(open(tmp_path / f"worker-{name}.log", "wb"))
            worker = _start([flask, "--app", f"aap:create_app(instance_path={str(instance)!r})", "worker"],
                            env, logs[-1])
            workers[worker.pid] = worker
            processes.append(worker)
        web1, web2 = (f"http://127.0.0.1:{port}" for port in ports)
        for port in ports:
            _wait(lambda port=port: _answers(port), 30, f"gunicorn on port {port}")

        browser = Browser()
        browser.post(f"{web1}/connexion", f"{web1}/connexion",
                     {"email": "agent@example.org", "password": factories.PASSWORD})
        documents = f"/instruction/appels/{call_id}/documents"
        landed, page = browser.post(f"{web1}/instruction/appels/{call_id}/conventions", f"{web1}{documents}", {})
        assert landed.startswith(web1 + documents) and "La génération des conventions" in page
        job_id = db.session.scalar(db.select(Job.id))

        def running():
            db.session.expire_all()
            job = db.session.get(Job, job_id)
            return job if job.status == "running" and job.worker else None

        job = _wait(running, 30, "a worker claims the job")
        holder = workers.pop(int(job.worker.rsplit(":", 1)[1]))
        [survivor] = workers.values()
        assert job.attempts == 1  # the other worker did not take it too
        os.killpg(holder.pid, signal.SIGKILL)  # the machine dies, rendering processes included
        holder.wait(5)

        # The other web server reads the same job: still « running », its worker silent.
        status = json.loads(browser.get(f"{web2}/instruction/travaux/{job_id}.json"))
        assert status["status"] == "running" and status["download_url"] is None

        def done():
            status = json.loads(browser.get(f"{web2}/instruction/travaux/{job_id}.json"))
            return status if status["status"] in ("done", "failed") else None

        status = _wait(done, 60, "the other worker finishes the job")
        assert (status["status"], status["done"], status["total"], status["percent"]) == ("done", 4, 4, 100)
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        assert job.attempts == 2 and job.worker is None and job.lease_until is None
        assert job.started_at < job.finished_at <= timeutil.now()

        page = browser.get(f"{web2}{documents}").decode()
        assert f'data-job-status-url="/instruction/travaux/{job_id}.json"' in page and "Terminé" in page
        archive = zipfile.ZipFile(io.BytesIO(browser.get(web2 + status["download_url"])))
        assert sorted(archive.namelist()) == [f"1J1M-2025-CA-000{i} - Association {i}.pdf" for i in (1, 2, 3, 4)]
        assert survivor.poll() is None
    finally:
        for process in processes:
            _stop(process)
        for log in logs:
            log.close()
