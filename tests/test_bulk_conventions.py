"""Bulk conventions: a job run by the worker on a process pool, its progress, the ZIP; and the CLI."""
import io
import re
import zipfile

import pytest
from pypdf import PdfReader

from aap import jobs
from aap.documents import bulk
from aap.extensions import db
from aap.models import Convention, Event, Job

from . import factories
from .conftest import count_queries
from .factories_documents import winner

pytestmark = pytest.mark.real_db  # the job runs in a thread with its own connection

NAMES = ["Alpha Mentorat", "Bêta Jeunesse", "Gamma Solidarité"]


@pytest.fixture
def call_with_winners(app):
    call = factories.call(slug="aap-bulk", year=2025)
    apps = [winner(call, name=name, amount_cents=(i + 1) * 10_000_00) for i, name in enumerate(NAMES)]
    winner(call, name="Non retenue", outcome="rejected")
    return call, apps


def pdf_text(content):
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


def test_generate_renders_only_what_changed(app, call_with_winners):
    call, apps = call_with_winners
    progress = []
    entries = bulk.generate_call_conventions(call, workers=2, on_progress=lambda d, t: progress.append((d, t)))
    assert [name.split(" - ")[0] for name, _ in entries] == [f"1J1M-2025-CA-000{i}" for i in (1, 2, 3)]
    assert progress[0] == (0, 3) and progress[-1] == (3, 3) and len(progress) == 4
    assert all(path.exists() for _, path in entries)
    stamps = {c.application_id: c.generated_at for c in db.session.query(Convention)}

    progress.clear()
    bulk.generate_call_conventions(call, workers=2, on_progress=lambda d, t: progress.append((d, t)))
    assert progress == [(3, 3)]  # nothing to render
    db.session.expire_all()
    assert {c.application_id: c.generated_at for c in db.session.query(Convention)} == stamps

    # (Not the bank details: an issued convention keeps them, tests/test_bank_details_change.py.)
    apps[1].association.commune = "Villeurbanne"
    db.session.commit()
    progress.clear()
    entries = bulk.generate_call_conventions(call, workers=2, on_progress=lambda d, t: progress.append((d, t)))
    assert progress == [(2, 3), (3, 3)]
    assert "Villeurbanne" in pdf_text(entries[1][1].read_bytes())


def test_staff_runs_the_job_and_downloads_one_zip(client, login_as, staff, call_with_winners):
    call, apps = call_with_winners
    login_as(staff)
    page = client.get(f"/instruction/appels/{call.id}/documents")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Générer toutes les conventions" in html and "app/progress.js" in html
    assert "<script>" not in html and "style=" not in html

    response = client.post_form(f"/instruction/appels/{call.id}/conventions")
    assert response.status_code == 302
    job = db.session.query(Job).one()
    # The web process only queues the job: nothing is rendered until a worker takes it.
    assert (job.kind, job.status, job.call_id) == ("conventions", "queued", call.id)
    assert db.session.query(Convention).count() == 0
    status = client.get(f"/instruction/travaux/{job.id}.json").get_json()
    assert (status["status"], status["status_label"], status["download_url"]) == ("queued", "En attente", None)
    page = client.get(f"/instruction/appels/{call.id}/documents").get_data(as_text=True)
    assert "En attente" in page and "processus de travail" in page

    assert jobs.run_next("test-worker") == job.id
    db.session.expire_all()
    assert (job.status, job.attempts, job.worker, job.lease_until) == ("done", 1, None, None)

    status = client.get(f"/instruction/travaux/{job.id}.json").get_json()
    assert status["status"] == "done", status
    assert (status["done"], status["total"], status["percent"]) == (3, 3, 100)
    assert status["download_url"] == f"/instruction/travaux/{job.id}/conventions.zip"

    page = client.get(f"/instruction/appels/{call.id}/documents").get_data(as_text=True)
    assert f'data-job-status-url="/instruction/travaux/{job.id}.json"' in page
    assert "1J1M-2025-CA-0003" in page

    response = client.get(status["download_url"])
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = sorted(archive.namelist())
    assert [name.split(" - ")[0] for name in names] == [f"1J1M-2025-CA-000{i}" for i in (1, 2, 3)]
    texts = [pdf_text(archive.read(name)) for name in names]
    assert sorted(next(n for n in NAMES if n in t) for t in texts) == sorted(NAMES)
    actions = [e.action for e in db.session.query(Event).order_by(Event.id)]
    assert "conventions_bulk_started" in actions and "export" in actions


def test_a_second_start_reuses_the_running_job(app, staff, call_with_winners):
    call, _ = call_with_winners
    job = Job(kind="conventions", call_id=call.id, status="running", created_by_id=staff.id)
    db.session.add(job)
    db.session.commit()
    assert bulk.start_conventions_job(call, staff).id == job.id
    assert db.session.query(Job).count() == 1


def test_documents_page_query_count_is_flat(client, login_as, staff):
    call = factories.call(slug="aap-flat", year=2025)
    winner(call, name="Une")
    login_as(staff)
    url = f"/instruction/appels/{call.id}/documents"
    db.session.expunge_all()
    with count_queries() as small:
        assert client.get(url).status_code == 200
    for i in range(5):
        winner(call, name=f"Autre {i}")
    db.session.expunge_all()
    with count_queries() as big:
        assert client.get(url).status_code == 200
    assert big() == small()


def test_a_job_whose_worker_died_is_run_again_by_the_next_worker(app, staff, call_with_winners):
    from datetime import timedelta

    from aap import timeutil
    call, _ = call_with_winners
    job = bulk.start_conventions_job(call, staff)
    # A worker claimed it, then died: its lease ran out without news.
    job.status, job.attempts, job.worker = "running", 1, "machine-morte:123"
    job.lease_until = timeutil.now() - timedelta(seconds=1)
    db.session.commit()
    assert bulk.start_conventions_job(call, staff).id == job.id  # not a second job
    assert jobs.run_next("relais:456") == job.id
    db.session.expire_all()
    assert (job.status, job.attempts, job.done, job.total) == ("done", 2, 3, 3)
    assert bulk.job_zip_path(job).exists()
    assert db.session.query(Job).count() == 1


@pytest.mark.parametrize("who", ["applicant", "reviewer"])
def test_non_staff_cannot_start_or_follow_or_download(request, client, login_as, staff, call_with_winners, who):
    call, _ = call_with_winners
    job = Job(kind="conventions", call_id=call.id, status="done", total=1, done=1, created_by_id=staff.id,
              stored_name="1-x.zip")
    db.session.add(job)
    db.session.commit()
    login_as(request.getfixturevalue(who))
    assert client.post_form(f"/instruction/appels/{call.id}/conventions").status_code == 403
    assert client.get(f"/instruction/travaux/{job.id}.json").status_code == 403
    assert client.get(f"/instruction/travaux/{job.id}/conventions.zip").status_code == 403
    assert db.session.query(Job).count() == 1


def test_anonymous_cannot_start(client, call_with_winners):
    call, _ = call_with_winners
    response = client.post_form(f"/instruction/appels/{call.id}/conventions")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_cli_writes_pdfs_and_zip(app, call_with_winners, tmp_path):
    call, _ = call_with_winners
    out = tmp_path / "conventions"
    result = app.test_cli_runner().invoke(args=["conventions", "--call", call.slug, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert re.search(r"3 conventions générées en \d+\.\d s", result.output)
    assert sorted(p.name.split(" - ")[0] for p in out.glob("*.pdf")) == [f"1J1M-2025-CA-000{i}" for i in (1, 2, 3)]
    assert len(zipfile.ZipFile(out / "conventions-aap-bulk.zip").namelist()) == 3
