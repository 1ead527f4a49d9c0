#!/usr/bin/env python3
"""Load test of the deposit journey against the app served by gunicorn: its saturation point, or a deadline rush.

    scripts/loadtest                                  # saturation search, SQLite (temporary file), ~3 minutes
    scripts/loadtest --database-url postgresql://postgres@127.0.0.1:55432/aap_x   # a schema of its own
    scripts/loadtest --rush                           # 200 associations submitting within ~60 s

Builds its own database (the Alembic migrations, in a temporary SQLite file or in a fresh
schema of the given PostgreSQL database, dropped at the end) and instance folder (uploads,
mail, secret) in a temporary directory — never the repository's instance/ — with one open
call and, for each simulated association, an account, a complete identity and a draft whose
sections « Le projet » and « Les jeunes accompagnés » are empty and whose RIB is missing.
Then starts gunicorn on loopback (--workers sync workers, production settings). Each simulated
association, like a browser (redirects followed, CSRF token read from the page): opens the
login page, logs in, opens its draft, saves the two sections, uploads its RIB (PDF), submits.
Every request has a timeout and the whole run a deadline: it stops by itself.

Saturation search (the default): 1, 2, 4, 6, 8, 12… users (--steps), each starting a new
journey as soon as its last one ended (no pause), --step-seconds per step, until the p95
latency of a step passes 500 ms or a request fails; the saturation point is the last step
before. The same server's trivial page (/accessibilite: gunicorn, Flask, session, Jinja and
the DSFR layout, no database) is measured the same way first; the ratio of the two request
rates says how close the deposit journey runs to its stack's limit. Exit status 0 when both
points were found and the database check is clean.

Deadline rush (--rush): --users associations start over --duration seconds, with pauses
between steps. It prints requests per second, p50 / p95 / p99 latency and the errors.
Targets: 0 errors, 0 lost or duplicated submissions, p95 < 500 ms; exit status 0 when every
target is met.

Both then check in the database that every submission that got a success answer is there,
complete, with a valid fingerprint, and that none was recorded twice.
"""
import argparse
import hashlib
import http.client
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
for path in (str(ROOT), str(ROOT / "scripts")):
    if path not in sys.path:
        sys.path.insert(0, path)

from bench import cpu_capacity, make_app, migrate, release, scratch_space  # noqa: E402

PASSWORD = "rush-de-la-date-limite-2025"
TARGET_P95 = 0.5
REQUEST_TIMEOUT = 30

CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')
VERSION_RE = re.compile(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"')
SUBMITTED_RE = re.compile(r"Votre candidature est déposée sous la référence ([A-Z0-9-]+)")
SAVED_RE = re.compile(r"Brouillon enregistré")

# What the associations type in the two sections they save (valid values).
PROJECT = {
    "title": "Mentorat vers l'emploi pour les jeunes des quartiers", "summary": "Un programme de mentorat d'un an.",
    "objectives": "Accompagner 300 jeunes vers l'emploi.", "mentoring_forms": "Mentorat individuel",
    "mentoring_duration_months": "9", "mentor_recruitment": "Entreprises partenaires",
    "mentor_training": "Deux jours de formation", "mentor_follow_up": "Point mensuel",
    "partners": "Missions locales",
}
YOUNG = {
    "young_count": "300", "mentor_count": "280", "share_qpv": "40", "share_zrr": "10", "share_ase": "5",
    "share_disability": "5", "share_dropout": "20", "age_min": "16", "age_max": "25",
}
UPLOADED_DOCUMENT = "rib"


# ---------------------------------------------------------------------------------------------
# The data: one open call, N associations with an account and a draft

@dataclass
class Applicant:
    email: str
    application_id: int
    document_id: int


def seed(app, users):
    """Create the call, the associations, their members and drafts; returns [Applicant]."""
    from werkzeug.security import generate_password_hash

    from aap import timeutil
    from aap.applications import completeness, files
    from aap.calls.template import apply_template
    from aap.extensions import db
    from aap.models import Application, Association, Attachment, Call, User

    applicants = []
    with app.app_context():
        now = timeutil.now()
        call = apply_template(Call(
            slug="rush", title="Appel à projets 1 jeune 1 mentor — test de charge", year=now.year,
            status="published", opens_at=now - timedelta(days=30), closes_at=now + timedelta(hours=6),
            budget_cents=16_000_000_00, min_amount_cents=10_000_00, max_amount_cents=150_000_00, years=1,
            reviewers_per_file=2, published_at=now - timedelta(days=31)))
        db.session.add(call)
        db.session.flush()
        documents = {d.code: d for d in call.documents}
        # The production hash (scrypt), computed once: every account has the same password.
        password_hash = generate_password_hash(PASSWORD, method="scrypt")
        pdf = b"%PDF-1.4\n% piece deja jointe\n%%EOF\n"
        for i in range(users):
            association = Association(
                name=f"Association de la ruée {i}", acronym=f"R{i}", legal_form="association_1901",
                rna=f"W69{i:07d}", siret="73282932000074", address=f"{i + 1} rue de la République",
                postal_code="69001", commune="Lyon", departement_code="69", region_code="84",
                representative_name="Claire Martin", representative_function="Présidente",
                contact_email=f"contact{i}@ruee.example.org", phone="04 72 00 00 00",
                iban="FR7630006000011234567890189", bic="AGRIFRPP", account_holder=f"Association de la ruée {i}")
            user = User(email=f"membre{i}@ruee.example.org", role="applicant", first_name="Membre",
                        last_name=f"Ruée {i}", association=association, password_hash=password_hash,
                        email_confirmed_at=now, auth_version=1)
            application = Application(
                call=call, association=association, status="draft",
                scope="regional", departements=["69", "42"], total_cost_cents=300_000_00,
                requested_cents=100_000_00, requested_per_year=[100_000_00],
                cofunding=[{"funder": "Région(s)", "amount_cents": 50_000_00}],
                budget={"1": {"64": 300_000_00, "74_aap": 100_000_00, "74_region": 50_000_00, "75": 150_000_00}},
                attestation_name="Claire Martin", reopened_sections=[], created_at=now, updated_at=now)
            db.session.add_all([association, user, application])
            for document in call.documents:
                if document.mandatory and document.code != UPLOADED_DOCUMENT:
                    stored = files.new_stored_name()
                    files.write(stored, pdf)
                    application.attachments.append(Attachment(
                        document_id=document.id, original_name=f"{document.code}.pdf", stored_name=stored,
                        kind="pdf", content_type="application/pdf", size=len(pdf),
                        sha256=hashlib.sha256(pdf).hexdigest(), uploaded_at=now))
            if i % 100 == 99:
                db.session.flush()
        db.session.commit()
        # Sanity: each draft lacks exactly what the simulated association will provide.
        expected_missing = {f"projet:{name}" for name in PROJECT if name != "partners"} | \
            {f"jeunes:{name}" for name in YOUNG} | {f"pieces:doc:{documents[UPLOADED_DOCUMENT].id}"}
        with app.test_request_context():
            for application in db.session.scalars(db.select(Application).order_by(Application.id)):
                missing = {f"{item.section}:{item.field}" for item in completeness.missing_items(application)}
                assert missing == expected_missing, sorted(missing ^ expected_missing)
                applicants.append(Applicant(application.association.members[0].email, application.id,
                                            documents[UPLOADED_DOCUMENT].id))
        db.session.remove()
    return applicants


# ---------------------------------------------------------------------------------------------
# A browser-like HTTP client (cookies, redirects, CSRF token), on http.client

class Failure(Exception):
    pass


class Stopped(Exception):
    """The run ended while a journey was under way: abandoned, not failed."""


@dataclass
class Sample:
    step: str
    seconds: float
    status: int
    error: str = ""
    at: float = field(default_factory=time.monotonic)  # when the answer came (or the request failed)


class Browser:
    def __init__(self, host, port, samples, deadline, stop=None):
        self.host, self.port = host, port
        self.cookies = {}
        self.samples = samples  # shared list (list.append is atomic)
        self.deadline = deadline
        self.stop = stop  # threading.Event: set when the run ends
        self.connection = None
        self.csrf = None

    def _connection(self):
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        return self.connection

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _store_cookies(self, response):
        for header in response.msg.get_all("Set-Cookie") or []:
            pair, _, attributes = header.partition(";")
            name, _, value = pair.strip().partition("=")
            expired = "max-age=0" in attributes.lower().replace(" ", "") or \
                "expires=thu, 01 jan 1970" in attributes.lower()
            if expired or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def request(self, step, method, path, body=None, content_type=None, expect=(200,)):
        """One request (no redirect followed); returns (status, headers, text). Records a sample."""
        if self.stop is not None and self.stop.is_set():
            raise Stopped()
        if time.monotonic() > self.deadline:
            raise Failure("deadline of the run reached")
        headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "aap-loadtest/1",
                   "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        start = time.perf_counter()
        try:
            connection = self._connection()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            elapsed = time.perf_counter() - start
            self.samples.append(Sample(step, elapsed, 0, f"{type(error).__name__}: {error}"))
            raise Failure(f"{step}: {type(error).__name__}: {error}") from error
        elapsed = time.perf_counter() - start
        if response.will_close:
            self.close()
        self._store_cookies(response)
        text = data.decode("utf-8", "replace")
        error = ""
        if "database is locked" in text:
            error = "« database is locked » in the page"
        elif response.status not in expect:
            error = f"HTTP {response.status} (expected {'/'.join(map(str, expect))})"
        self.samples.append(Sample(step, elapsed, response.status, error))
        if error:
            raise Failure(f"{step}: {error}")
        match = CSRF_RE.search(text)
        if match:
            self.csrf = match.group(1)
        return response.status, response.msg, text

    def get(self, step, path):
        return self.request(step, "GET", path)[2]

    def post(self, step, path, fields, then_step):
        """A form post answered by a redirect, then the page it redirects to (as a browser does)."""
        body = urlencode(dict(fields, csrf_token=self.csrf or ""), doseq=True).encode()
        return self._follow(self.request(step, "POST", path, body, "application/x-www-form-urlencoded",
                                         expect=(302, 303)), then_step)

    def upload(self, step, path, filename, content, then_step):
        boundary = "----aap" + secrets.token_hex(12)
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{self.csrf}\r\n'.encode(),
                 f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: application/pdf\r\n\r\n".encode() + content + b"\r\n",
                 f"--{boundary}--\r\n".encode()]
        return self._follow(self.request(step, "POST", path, b"".join(parts),
                                         f"multipart/form-data; boundary={boundary}", expect=(302, 303)),
                            then_step)

    def _follow(self, answer, then_step):
        _status, headers, _text = answer
        location = urlsplit(headers.get("Location", ""))
        target = location.path + (f"?{location.query}" if location.query else "")
        return self.get(then_step, target)


def version_of(page):
    match = VERSION_RE.search(page)
    if not match:
        raise Failure("no version field on the section page")
    return match.group(1) or match.group(2)


def attachment_bytes(rng):
    """A PDF of about 60 kB (the content is checked, not the name). Without a slash: random bytes
    would now and then spell a PDF name the upload check refuses (/JS: 1 upload in a few hundred)."""
    return b"%PDF-1.4\n" + rng.randbytes(60_000).replace(b"/", b" ") + b"\n%%EOF\n"


def association_journey(browser, applicant, rng, think):
    """The deadline rush of one association; returns the reference of its submission, or None."""
    def pause():
        time.sleep(rng.uniform(*think))

    base = f"/candidatures/{applicant.application_id}"
    browser.get("login page", "/connexion")
    pause()
    browser.post("login", "/connexion", {"email": applicant.email, "password": PASSWORD}, "dashboard")
    pause()
    page = browser.get("section page", f"{base}/projet")
    pause()
    page = browser.post("save section", f"{base}/projet",
                        dict(PROJECT, version=version_of(page), action="continuer"), "section page")
    if not SAVED_RE.search(page):
        raise Failure("save section: no confirmation")
    pause()
    page = browser.post("save section", f"{base}/jeunes",
                        dict(YOUNG, version=version_of(page), action="continuer"), "section page")
    if not SAVED_RE.search(page):
        raise Failure("save section: no confirmation")
    pause()
    browser.get("pieces page", f"{base}/pieces")
    pause()
    page = browser.upload("upload", f"{base}/pieces/{applicant.document_id}/envoyer", "RIB association.pdf",
                          attachment_bytes(rng), "pieces page")
    if "enregistrée" not in page:
        raise Failure("upload: no confirmation")
    pause()
    page = browser.post("submit", f"{base}/deposer", {}, "file page")
    match = SUBMITTED_RE.search(page)
    if not match:
        raise Failure("submit: no confirmation of the submission")
    return match.group(1)


# ---------------------------------------------------------------------------------------------
# gunicorn

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(database_url, instance, port, workers, log_path):
    gunicorn = Path(sys.executable).parent / "gunicorn"
    env = dict(os.environ, AAP_ENV="production", SECRET_KEY=secrets.token_urlsafe(32),
               DATABASE_URL=database_url, AAP_BASE_URL=f"http://127.0.0.1:{port}", MAIL_BACKEND="file",
               MAIL_SEND_AFTER_REQUEST="0", AAP_TRUSTED_HOSTS="127.0.0.1,localhost")
    for name in ("AAP_UPLOAD_FOLDER", "AAP_DOCUMENTS_FOLDER"):
        env.pop(name, None)
    command = [str(gunicorn), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--timeout", "60",
               "--graceful-timeout", "10", "--log-level", "warning", "--error-logfile", "-",
               f"aap:create_app(instance_path={str(instance)!r})"]
    log = open(log_path, "wb")
    process = subprocess.Popen(command, cwd=str(ROOT), env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start:\n{Path(log_path).read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/accessibilite", headers={"Host": f"127.0.0.1:{port}"})
            if connection.getresponse().status == 200:
                connection.close()
                return process
        except OSError:
            pass
        time.sleep(0.3)
    stop_gunicorn(process)
    raise SystemExit("gunicorn did not answer within 60 s")


def cpu_seconds(pid):
    """CPU time (user + system) of a process and its live children (gunicorn's master and workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pids = 0.0, [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            pids += [int(p) for p in handle.read().split()]
    except OSError:
        pass
    for one in pids:
        try:
            with open(f"/proc/{one}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            pass
    return total


def stop_gunicorn(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # the master stops its workers gracefully
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


# ---------------------------------------------------------------------------------------------
# The run

@dataclass
class Outcome:
    applicant: Applicant
    reference: str | None = None
    error: str = ""
    started: float = 0.0
    finished: float = 0.0


def run_users(applicants, port, duration, seed_value, think):
    samples, outcomes = [], []
    rng = random.Random(seed_value)
    # The associations start over the first 3/4 of the duration: the last ones still have time
    # to finish their journey (about ten requests and short pauses) within the duration.
    spread = duration * 0.75
    starts = sorted(rng.uniform(0, spread) for _ in applicants)
    run_deadline = time.monotonic() + duration * 3 + 60
    t0 = time.monotonic()

    def user(applicant, start, user_seed):
        outcome = Outcome(applicant)
        outcomes.append(outcome)
        delay = t0 + start - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        outcome.started = time.monotonic() - t0
        browser = Browser("127.0.0.1", port, samples, run_deadline)
        try:
            outcome.reference = association_journey(browser, applicant, random.Random(user_seed), think)
        except Failure as failure:
            outcome.error = str(failure)
        except Exception as error:  # a bug of the load test itself: reported, never hidden
            outcome.error = f"{type(error).__name__}: {error}"
        finally:
            browser.close()
            outcome.finished = time.monotonic() - t0

    threads = [threading.Thread(target=user, args=(a, s, rng.random()), daemon=True)
               for a, s in zip(applicants, starts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.1, run_deadline + 5 - time.monotonic()))
    alive = sum(1 for t in threads if t.is_alive())
    elapsed = time.monotonic() - t0
    return samples, outcomes, elapsed, alive


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def check_database(app, outcomes):
    """What the database holds for the submissions: {problem: [details]} and counters."""
    from sqlalchemy import func

    from aap.applications.completeness import missing_items
    from aap.applications.deposits import fingerprint
    from aap.extensions import db
    from aap.models import Application, Call, Event, OutboxMessage

    problems = defaultdict(list)
    with app.app_context(), app.test_request_context():
        call = db.session.scalar(db.select(Call).where(Call.slug == "rush"))
        submitted = db.session.scalars(db.select(Application).where(
            Application.call_id == call.id, Application.status == "submitted")).all()
        by_id = {a.id: a for a in submitted}
        events = Counter(db.session.scalars(db.select(Event.application_id).where(
            Event.action == "application_submitted")).all())
        mails = Counter(row[0] for row in db.session.execute(db.select(OutboxMessage.subject)))
        confirmed = {o.applicant.application_id: o.reference for o in outcomes if o.reference}
        for application_id, reference in confirmed.items():
            application = by_id.get(application_id)
            if application is None:
                problems["lost (success answer, not submitted in the database)"].append(reference)
                continue
            if application.reference != reference:
                problems["lost (reference differs from the one answered)"].append(reference)
            snapshot = application.snapshot or {}
            if not application.fingerprint or application.fingerprint != fingerprint(snapshot):
                problems["fingerprint missing or not matching the snapshot"].append(reference)
            if snapshot.get("reference") != reference or not snapshot.get("submitted_at"):
                problems["snapshot without its reference or date"].append(reference)
            if len(snapshot.get("attachments", [])) != sum(1 for d in call.documents if d.mandatory):
                problems["incomplete (attachments in the snapshot)"].append(reference)
            if missing_items(application):
                problems["incomplete (missing items)"].append(reference)
            if events[application_id] != 1:
                problems["submission recorded more than once (events)"].append(
                    f"{reference} × {events[application_id]}")
            if mails[f"Candidature déposée : {reference}"] != 1:
                problems["confirmation e-mail not queued exactly once"].append(
                    f"{reference} × {mails[f'Candidature déposée : {reference}']}")
        references = [a.reference for a in submitted]
        duplicates = [r for r, n in Counter(references).items() if n > 1]
        if duplicates:
            problems["duplicated references"].extend(duplicates)
        numbers = sorted(int(r.rsplit("-", 1)[1]) for r in references if r)
        if numbers != list(range(1, len(numbers) + 1)) or call.next_number != len(numbers) + 1:
            problems["references not numbered 1..n without gap"].append(f"{numbers[:5]}… next {call.next_number}")
        unconfirmed = [a.reference for a in submitted if a.id not in confirmed]
        total_events = db.session.scalar(db.select(func.count(Event.id)).where(
            Event.action == "application_submitted", Event.call_id == call.id))
    return problems, {"submitted in the database": len(submitted), "submission events": total_events,
                      "submitted without a success answer (e.g. timed out)": len(unconfirmed)}


def report(samples, outcomes, elapsed, alive, problems, counters, args, database_label, log_path, cpu,
           capacity):
    latencies = [s.seconds for s in samples]
    errors = [s for s in samples if s.error]
    failed = [o for o in outcomes if o.error]
    successes = [o for o in outcomes if o.reference]
    p50, p95, p99 = (percentile(latencies, p) for p in (50, 95, 99))
    active = max((o.finished for o in outcomes), default=elapsed)
    print(f"AAP load test (deadline rush) — {time.strftime('%Y-%m-%d %H:%M')} — {database_label}, "
          f"gunicorn {args.workers} sync workers on 127.0.0.1, {os.cpu_count()} cores "
          f"(shared: two busy processes got {capacity[0]:.2f} cores before the run, {capacity[1]:.2f} after; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    print(f"{len(outcomes)} associations over {args.duration:.0f} s: log in, save two sections, upload a "
          f"60 kB PDF, submit (redirects followed; pauses {args.think_min}-{args.think_max} s)")
    print()
    print(f"requests           {len(samples)} in {active:.1f} s = {len(samples) / active:.1f} requests/s")
    print(f"latency            p50 {p50 * 1000:.0f} ms   p95 {p95 * 1000:.0f} ms   p99 {p99 * 1000:.0f} ms   "
          f"max {max(latencies, default=0) * 1000:.0f} ms")
    print(f"CPU                server (gunicorn) {cpu[0]:.1f} s = {cpu[0] / max(1, len(samples)) * 1000:.1f} ms per "
          f"request; load-test client {cpu[1]:.1f} s; both share the machine with its other load")
    by_step = defaultdict(list)
    for sample in samples:
        by_step[sample.step].append(sample.seconds)
    print("by step            " + "   ".join(
        f"{step} {len(v)}× p95 {percentile(v, 95) * 1000:.0f} ms" for step, v in by_step.items()))
    print(f"errors             {len(errors)} requests" + (": " + "; ".join(
        f"{n}× {e}" for e, n in Counter(f"{s.step}: {s.error}" for s in errors).most_common(6)) if errors else ""))
    if failed:
        print(f"journeys failed    {len(failed)}: " + "; ".join(
            f"{n}× {e}" for e, n in Counter(o.error for o in failed).most_common(5)))
    if alive:
        print(f"journeys still running at the deadline: {alive}")
    print(f"submissions        {len(successes)} success answers; " +
          "; ".join(f"{k}: {v}" for k, v in counters.items()))
    lost = sum(len(v) for k, v in problems.items() if k.startswith("lost"))
    duplicated = sum(len(v) for k, v in problems.items() if "more than once" in k or "duplicated" in k)
    for problem, items in problems.items():
        print(f"  PROBLEM: {problem}: {len(items)} ({', '.join(map(str, items[:5]))})")
    if not problems:
        print("database check     every success answer is in the database, submitted once, complete, "
              "with a fingerprint matching its snapshot; references 1..n without gap")
    print()
    rows = [("errors (requests / journeys)", f"{len(errors)} / {len(failed) + alive}", "0",
             len(errors) == 0 and not failed and not alive),
            ("lost or duplicated submissions", lost + duplicated, "0", lost + duplicated == 0 and not problems),
            ("p95 latency", f"{p95 * 1000:.0f} ms", "< 500 ms", p95 < TARGET_P95)]
    width = max(len(r[0]) for r in rows)
    for name, value, target, ok in rows:
        print(f"{name:<{width}}  {str(value):<10}  target {target:<9} {'OK' if ok else 'MISS'}")
    if errors or failed:
        print(f"(server log: last lines)\n{Path(log_path).read_text(errors='replace')[-2000:]}")
    return all(r[3] for r in rows)


# ---------------------------------------------------------------------------------------------
# Saturation: users doing their journey back to back, more of them at each step

TRIVIAL_PAGE = "/accessibilite"  # a page through the whole stack (gunicorn, Flask, session, Jinja, DSFR layout)
SATURATION_USERS = (1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)
WARM_UP = 2.0  # seconds of each step not measured: the added users' first requests


def trivial_journey(browser, applicant, rng, think):
    browser.get("trivial page", TRIVIAL_PAGE)


@dataclass
class Step:
    users: int
    requests: int
    seconds: float
    p50: float
    p95: float
    errors: list
    server_cpu: float
    journeys: int
    by_step: dict  # {step of the journey: p95}

    @property
    def rate(self):
        return self.requests / self.seconds

    @property
    def cpu_per_request(self):
        return self.server_cpu / max(1, self.requests)

    @property
    def saturated(self):
        return self.p95 > TARGET_P95 or bool(self.errors)


def find_saturation(port, server_pid, journey, applicants, levels, step_seconds, seed_value):
    """Run `journey` with 1, 2, 4… users, each starting a new one as soon as one ends (no pause),
    `step_seconds` per number of users, until the p95 latency of a step passes 500 ms or a
    request fails. `applicants`: one per journey (None: journeys without an applicant).
    Returns ([Step], outcomes, why the run stopped)."""
    samples, outcomes, threads = [], [], []
    supply = iter(applicants) if applicants is not None else None
    supply_lock, stop = threading.Lock(), threading.Event()
    run_deadline = time.monotonic() + step_seconds * len(levels) + 120
    exhausted = threading.Event()

    def user(user_seed):
        rng = random.Random(user_seed)
        while not stop.is_set():
            applicant = None
            if supply is not None:
                with supply_lock:
                    applicant = next(supply, None)
                if applicant is None:
                    exhausted.set()
                    return
            outcome = Outcome(applicant)
            browser = Browser("127.0.0.1", port, samples, run_deadline, stop)
            try:
                outcome.reference = journey(browser, applicant, rng, (0, 0))
            except Stopped:
                continue
            except Failure as failure:
                outcome.error = str(failure)
            except Exception as error:  # a bug of the load test itself: reported, never hidden
                outcome.error = f"{type(error).__name__}: {error}"
            finally:
                browser.close()
            outcome.finished = time.monotonic()
            if applicant is not None:
                outcomes.append(outcome)

    steps, why = [], f"not reached with {levels[-1]} users"
    rng = random.Random(seed_value)
    for users in levels:
        while len(threads) < users:
            thread = threading.Thread(target=user, args=(rng.random(),), daemon=True)
            threads.append(thread)
            thread.start()
        time.sleep(WARM_UP)
        start, cpu_start = time.monotonic(), cpu_seconds(server_pid)
        stop.wait(step_seconds - WARM_UP)
        end, cpu_end = time.monotonic(), cpu_seconds(server_pid)
        window = [s for s in samples if start <= s.at < end]
        latencies = [s.seconds for s in window]
        step = Step(users, len(window), end - start, percentile(latencies, 50), percentile(latencies, 95),
                    [f"{s.step}: {s.error}" for s in window if s.error], cpu_end - cpu_start,
                    sum(1 for o in outcomes if o.reference and start <= o.finished < end),
                    {name: percentile([s.seconds for s in window if s.step == name], 95)
                     for name in dict.fromkeys(s.step for s in window)})
        steps.append(step)
        print(f"  {users:>3} users  {step.rate:7.1f} requests/s  p50 {step.p50 * 1000:5.0f} ms  "
              f"p95 {step.p95 * 1000:5.0f} ms  errors {len(step.errors)}", flush=True)
        if exhausted.is_set():
            why = f"out of drafts at {users} users (seed more: --users)"
            break
        if step.saturated:
            why = (f"{users} users: " + (f"{len(step.errors)} errors ({Counter(step.errors).most_common(1)[0][0]})"
                                         if step.errors else f"p95 {step.p95 * 1000:.0f} ms > 500 ms"))
            break
    stop.set()
    for thread in threads:
        thread.join(max(0.1, run_deadline - time.monotonic()))
    return steps, outcomes, why


def saturation_point(steps):
    """The last step before the first saturated one (None when one user already saturates)."""
    passed = [s for s in steps if not s.saturated]  # the run stops at the first saturated step
    return passed[-1] if passed else None


def describe(point, steps):
    if point is None:
        return "saturated from the first step"
    return (f"{point.users} users, {point.rate:.1f} requests/s (p95 {point.p95 * 1000:.0f} ms, "
            f"server CPU {point.cpu_per_request * 1000:.1f} ms per request)")


def saturation_report(label, args, capacity, trivial, journey, problems, counters):
    (trivial_steps, trivial_why), (journey_steps, journey_why) = trivial, journey
    trivial_point, journey_point = saturation_point(trivial_steps), saturation_point(journey_steps)
    print()
    print(f"AAP saturation — {time.strftime('%Y-%m-%d %H:%M')} — {label}, gunicorn {args.workers} sync workers "
          f"on 127.0.0.1, {os.cpu_count()} cores shared with other work (two busy processes got "
          f"{capacity[0]:.2f} cores before, {capacity[1]:.2f} after; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}); {args.step_seconds:.0f} s per step, no pause")
    print(f"trivial page ({TRIVIAL_PAGE}): {describe(trivial_point, trivial_steps)}; stopped: {trivial_why}")
    print(f"deposit journey: {describe(journey_point, journey_steps)}"
          + (f", {journey_point.journeys / journey_point.seconds:.2f} submissions/s" if journey_point else "")
          + f"; stopped: {journey_why}")
    if trivial_point and journey_point:
        print(f"ratio deposit journey / trivial page: {journey_point.rate / trivial_point.rate:.2f} of the "
              f"requests per second; {journey_point.cpu_per_request / trivial_point.cpu_per_request:.1f}× "
              f"the server CPU per request")
    last = journey_steps[-1] if journey_steps else None
    for point in (journey_point, last if last is not journey_point else None):
        if point is not None:
            print(f"p95 by step at {point.users} users: " + ", ".join(
                f"{name} {p95 * 1000:.0f} ms" for name, p95 in point.by_step.items()))
    print("submissions: " + "; ".join(f"{k} {v}" for k, v in counters.items()))
    for problem, items in problems.items():
        print(f"  PROBLEM: {problem}: {len(items)} ({', '.join(map(str, items[:5]))})")
    if not problems:
        print("database check: every success answer is in the database, submitted once, complete, "
              "with a fingerprint matching its snapshot; references 1..n without gap")
    return trivial_point is not None and journey_point is not None and not problems


def run_saturation(app, url, instance, folder, label, args):
    """Seed, start gunicorn, find the saturation of the trivial page then of the deposit journey."""
    started = time.perf_counter()
    applicants = seed(app, args.users or 1500)
    print(f"» {len(applicants)} drafts ready in {time.perf_counter() - started:.1f} s; starting gunicorn", flush=True)
    port, log_path = free_port(), folder / "gunicorn.log"
    process = start_gunicorn(url, instance, port, args.workers, log_path)
    try:
        levels = [int(x) for x in args.steps.split(",")]
        capacity = cpu_capacity()
        print(f"» trivial page {TRIVIAL_PAGE} (two busy processes get {capacity:.2f} cores now)", flush=True)
        trivial_steps, _, trivial_why = find_saturation(port, process.pid, trivial_journey, None, levels,
                                                        args.step_seconds, args.seed)
        print("» deposit journey: log in, save two sections, upload a 60 kB PDF, submit", flush=True)
        journey_steps, outcomes, journey_why = find_saturation(port, process.pid, association_journey, applicants,
                                                               levels, args.step_seconds, args.seed)
        after = cpu_capacity()
    finally:
        stop_gunicorn(process)
    problems, counters = check_database(app, outcomes)
    failed = [o for o in outcomes if o.error]
    if failed:
        print(f"(journeys failed: {len(failed)}; server log, last lines)\n"
              f"{Path(log_path).read_text(errors='replace')[-1500:]}")
    return saturation_report(label, args, (capacity, after), (trivial_steps, trivial_why),
                             (journey_steps, journey_why), problems, counters)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rush", action="store_true",
                        help="the deadline rush (--users associations over --duration seconds) instead of the "
                             "saturation search")
    parser.add_argument("--users", type=int, help="simulated associations: drafts seeded (default 200 for the "
                                                  "rush, 1500 for the saturation search)")
    parser.add_argument("--duration", type=float, default=60, help="rush: seconds over which they start and "
                                                                   "finish (60)")
    parser.add_argument("--steps", default=",".join(map(str, SATURATION_USERS)),
                        help="saturation: the numbers of users, one step each (default %(default)s)")
    parser.add_argument("--step-seconds", type=float, default=8, help="saturation: seconds per step (8)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    parser.add_argument("--database-url", help="PostgreSQL URL (a schema of its own is created and dropped); "
                                               "default: a temporary SQLite file (WAL)")
    parser.add_argument("--think-min", type=float, default=0.3, help="shortest pause between two steps (s)")
    parser.add_argument("--think-max", type=float, default=1.5, help="longest pause between two steps (s)")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)

    process = None
    with scratch_space("aap-loadtest-", args.database_url, "aap_loadtest", args.keep) as (folder, url):
        instance = folder / "instance"
        try:
            label = "PostgreSQL" if url.startswith("postgres") else "SQLite (WAL, busy timeout)"
            app = make_app(url, instance)
            migrate(app)
            if not args.rush:
                ok = run_saturation(app, url, instance, folder, label, args)
                release(app)
                return 0 if ok else 1
            args.users = args.users or 200
            started = time.perf_counter()
            applicants = seed(app, args.users)
            print(f"» {len(applicants)} associations with their drafts ready in "
                  f"{time.perf_counter() - started:.1f} s; starting gunicorn", flush=True)
            port = free_port()
            log_path = folder / "gunicorn.log"
            process = start_gunicorn(url, instance, port, args.workers, log_path)
            capacity = cpu_capacity()
            print(f"» gunicorn answers on 127.0.0.1:{port}; two busy processes get {capacity:.2f} of the "
                  f"{os.cpu_count()} cores now (shared machine); the rush begins", flush=True)
            server_cpu, client_cpu = cpu_seconds(process.pid), time.process_time()
            samples, outcomes, elapsed, alive = run_users(applicants, port, args.duration, args.seed,
                                                          (args.think_min, args.think_max))
            cpu = (cpu_seconds(process.pid) - server_cpu, time.process_time() - client_cpu)
            stop_gunicorn(process)
            process = None
            problems, counters = check_database(app, outcomes)
            print()
            ok = report(samples, outcomes, elapsed, alive, problems, counters, args, label, log_path, cpu,
                        (capacity, cpu_capacity()))
            release(app)
            return 0 if ok else 1
        finally:
            if process is not None:
                stop_gunicorn(process)


if __name__ == "__main__":
    sys.exit(main())
