"""Browser tests: the app served on loopback by a real WSGI server in a thread, driven by
Playwright in Debian's Chromium. Screenshots go to test-results/e2e/<test>/."""
import logging
import os
import re
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from aap.extensions import db

from ..conftest import _postgres_url, free_port, make_app, worker_database
from ..factories import PASSWORD

CHROMIUM = os.environ.get("AAP_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results" / "e2e"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = pytest.mark.browser

# One line per static file of every page would drown the failures.
logging.getLogger("werkzeug").setLevel(logging.WARNING)


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {CHROMIUM}: .ci/run must install it")
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


class LiveServer:
    def __init__(self, app, port):
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

        # The worker's part (`flask --app aap worker`): queued jobs run beside the server.
        self.stopping = threading.Event()
        self.worker = threading.Thread(target=self.work, daemon=True)

    def work(self):
        from aap import jobs
        while not self.stopping.wait(0.2):
            with self.app.app_context():
                while jobs.run_next("e2e-worker") is not None:
                    pass

    def start(self):
        self.thread.start()
        self.worker.start()

    def stop(self):
        self.stopping.set()
        self.worker.join(timeout=30)
        self.server.shutdown()


@contextmanager
def live_server(tmp_path, database="_real"):
    """The app on an empty database of its own, served on loopback (with its worker thread). On
    PostgreSQL a server that outlives a test (module-scoped) names a database of its own."""
    port = free_port()
    overrides = {"SQLALCHEMY_DATABASE_URI": worker_database(database)} if _postgres_url() is not None else {}
    app = make_app(tmp_path, BASE_URL=f"http://127.0.0.1:{port}", SERVER_NAME=None,
                   MAIL_BACKEND="file", **overrides)
    with app.app_context():
        db.drop_all()
        db.create_all()
    server = LiveServer(app, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


@pytest.fixture
def live_app(tmp_path):
    with live_server(tmp_path) as server:
        yield server


@pytest.fixture(scope="session")
def playwright_browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


def safe_name(name):
    return re.sub(r"[^\w-]+", "_", name)


class Shots:
    """Saves numbered screenshots of a journey's main pages."""

    def __init__(self, page, name, folder=None):
        self.page = page
        self.folder = folder or RESULTS / safe_name(name)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, label):
        self.count += 1
        self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{label}.png"), full_page=True)


HTTP_ERROR_RE = re.compile(r"Failed to load resource: the server responded with a status of (\d{3})")


def instrument(page, shots):
    """Collect the page's JavaScript errors (uncaught exceptions, console errors, CSP reports)
    and the HTTP responses with an error status; attach the screenshot saver."""
    page.set_default_timeout(15000)
    errors, http_errors = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda response: http_errors.append((response.status, response.url))
            if response.status >= 400 else None)
    page.shots = shots
    page.js_errors = errors
    page.http_errors = http_errors
    return page


def unexpected_errors(page, allowed_statuses=()):
    """The page's JavaScript and CSP errors, without the browser's « Failed to load resource »
    lines for the HTTP statuses a journey expects (a 404 it provokes on purpose)."""
    kept = []
    for message in page.js_errors:
        match = HTTP_ERROR_RE.search(message)
        if match and int(match.group(1)) in allowed_statuses:
            continue
        kept.append(message)
    return kept


def new_context(browser, **options):
    return browser.new_context(locale="fr-FR", timezone_id="Europe/Paris",
                               viewport={"width": 1280, "height": 900}, accept_downloads=True, **options)


def axe_context(browser, **options):
    """A context for accessibility checks: the page's CSP lets axe-core in, and axe-core is given
    to the browser once and loaded in every document (sending its 550 kB to each page again took
    half of the checks' time)."""
    context = new_context(browser, bypass_csp=True, **options)
    context.add_init_script(path=str(AXE))
    return context


@pytest.fixture
def page(playwright_browser, request):
    context = new_context(playwright_browser)
    page = instrument(context.new_page(), None)
    page.shots = Shots(page, request.node.name)
    yield page
    context.close()


@pytest.fixture
def open_page(playwright_browser, request):
    """open_page(label) -> a page in a fresh browser context (one per person of a journey);
    its screenshots go to test-results/e2e/<test>/<label>/."""
    root = RESULTS / safe_name(request.node.name)
    shutil.rmtree(root, ignore_errors=True)
    contexts = []

    def _open(label, storage_state=None):
        context = new_context(playwright_browser, storage_state=storage_state)
        contexts.append(context)
        page = instrument(context.new_page(), None)
        page.shots = Shots(page, label, folder=root / safe_name(label))
        return page
    yield _open
    for context in contexts:
        context.close()


def login(page, base, email, password=PASSWORD):
    """Log in through the login form and wait for the dashboard."""
    page.goto(base + "/connexion")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r".*/tableau-de-bord$"))
    return page


def storage_state_of(browser, base, email, password=PASSWORD):
    """The cookies of a logged-in session, for pages opened in other contexts (axe checks)."""
    context = new_context(browser)
    try:
        page = context.new_page()
        login(page, base, email, password)
        return context.storage_state()
    finally:
        context.close()


def _serious(result):
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


def run_axe(page):
    """The serious and critical violations of the page; axe-core is injected unless the page's
    context already loads it in every document (axe_context)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return _serious(page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})"))


@pytest.fixture
def axe_check(playwright_browser):
    """Run axe-core on a URL (in a context that lets the test inject axe) and return the
    serious and critical violations."""
    def check(url, storage_state=None):
        context = axe_context(playwright_browser, storage_state=storage_state)
        try:
            page = context.new_page()
            page.goto(url)
            return run_axe(page)
        finally:
            context.close()
    return check


@pytest.fixture
def axe_session(playwright_browser):
    """axe_session(urls, storage_state) -> {url: violations}, all pages in one browser context
    (faster than one context per page); each response must be a 200."""
    def check(urls, storage_state=None):
        context = axe_context(playwright_browser, storage_state=storage_state)
        results = {}
        try:
            page = context.new_page()
            for url in urls:
                response = page.goto(url)
                assert response.status == 200, (url, response.status)
                results[url] = run_axe(page)
        finally:
            context.close()
        return results
    return check


def mail_link(app, to, pattern):
    """The first link matching `pattern` in the last e-mail queued for `to`."""
    from aap.models import OutboxMessage

    with app.app_context():
        message = db.session.scalars(
            db.select(OutboxMessage).where(OutboxMessage.to == to).order_by(OutboxMessage.id.desc())).first()
        assert message is not None, f"no e-mail to {to}"
        match = re.search(pattern, message.body)
        assert match, message.body
        return match.group(0)
