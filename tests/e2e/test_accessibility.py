"""Accessibility of every main page, per role: axe-core (from npm, injected by the test) finds no
serious or critical violation; pages with form errors too. Keyboard: a form is filled and sent
with the keyboard alone, and after a refused submission the focus is visibly on the error summary."""
import pytest

from aap.extensions import db
from aap.models import Decision

from .. import factories, factories_applications, factories_documents, factories_review, factories_selection
from .conftest import PASSWORD, axe_context, live_server, login, run_axe, storage_state_of

APPLICANT = "asso@example.org"
REVIEWER = "evaluateur@example.org"
STAFF = "agent@example.org"
ADMIN = "admin@example.org"


def build(app):
    """One data set that fills every main page: an open call with a draft, submitted and assigned
    files; a closed call with reviewed files, decisions (one published with its convention)."""
    from aap.auth.tokens import make_token
    from aap.review import conflicts

    with app.app_context():
        staff = factories.user("staff", email=STAFF)
        factories.user("admin", email=ADMIN)
        reviewer = factories.user("reviewer", email=REVIEWER, region_code="11")
        other_reviewer = factories.user("reviewer", email="second.evaluateur@example.org", region_code="11")
        applicant = factories.user("applicant", email=APPLICANT, association_name="Réussir Ensemble")
        factories_applications.member(applicant.association, "collegue@example.org")

        # The open call: the applicant's complete draft, files of other associations.
        open_call = factories.call(slug="aap-ouvert", title="Appel à projets ouvert", reviewers_per_file=1)
        draft = factories_applications.complete_draft(open_call, applicant)
        to_check = factories.submitted_file(open_call, "Jeunes d'Avenir")
        scored = factories.submitted_file(open_call, "Passerelles", status="in_review")
        question = factories.submitted_file(open_call, "Tremplin", status="in_review")
        factories_review.assigned(scored, reviewer)
        factories_review.assigned(question, reviewer, confirmed=False)
        factories.submitted_file(open_call, "Cap Mentorat", status="admissible")

        # The closed call: reviewed files, draft decisions, one published (the applicant's).
        closed = factories.call(slug="aap-clos", title="Appel à projets clos", status="closed",
                                opens_in_days=-90, closes_in_days=-30, budget_cents=300_000_00)
        winner = factories_documents.winner(closed, applicant.association, amount_cents=100_000_00,
                                            requested_cents=100_000_00)
        factories_selection.review(winner, other_reviewer, (4, 4, 3))
        pool = factories_selection.reviewers(3)
        files = factories_selection.scored_files(closed, 5, pool, regions=("84", "11", "93"))
        conflicts.declare_conflict(pool[0], files[0].association, "Ancien salarié.")
        db.session.add(Decision(application_id=files[2].id, outcome="selected", amount_cents=80_000_00,
                                amount_per_year=[], decided_at=files[2].submitted_at))  # a draft decision
        db.session.commit()
        decision_file = files[1]
        # The winner asks to change its bank details: a request waiting for staff, with its RIB.
        import io

        from aap.associations import bank
        with app.test_request_context():
            bank.change_bank_details(applicant.association, applicant, PASSWORD, "FR1420041010050500013M02606",
                                     "PSSTFRPPXXX", "Réussir Ensemble", "rib.pdf",
                                     io.BytesIO(factories_applications.PDF))
        return {
            "open": open_call.id, "open_slug": open_call.slug, "closed": closed.id, "draft": draft.id,
            "to_check": to_check.id, "association": to_check.association_id, "scored": scored.id,
            "question": question.id, "winner": winner.id, "decision_file": decision_file.id,
            "applicant_association": applicant.association_id,
            "reset_token": make_token(staff, "reset"),
        }


def check_pages(browser, base, paths, storage_state=None):
    """{path: serious or critical violations} of the pages that have some, all pages visited in
    one browser context; each must answer 200 at its own address (no redirect to the login)."""
    context = axe_context(browser, storage_state=storage_state)
    found = {}
    try:
        page = context.new_page()
        for path in paths:
            response = page.goto(base + path)
            assert (response.status, page.url) == (200, base + path), (path, response.status, page.url)
            violations = run_axe(page)
            if violations:
                found[path] = violations
    finally:
        context.close()
    return found


@pytest.fixture
def data(live_app):
    return build(live_app.app)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One served data set for the tests that only read pages (built once per worker)."""
    with live_server(tmp_path_factory.mktemp("a11y"), database="_a11y") as server:
        yield server, build(server.app)


def test_public_pages(world, playwright_browser):
    live_app, data = world
    paths = ["/", "/appels", f"/appels/{data['open_slug']}", "/connexion", "/inscription",
             "/inscription/nouveau-lien", "/mot-de-passe/oublie", f"/mot-de-passe/reinitialiser/{data['reset_token']}",
             "/accessibilite", "/donnees-personnelles"]
    assert check_pages(playwright_browser, live_app.url, paths) == {}


def test_association_pages(world, playwright_browser):
    live_app, data = world
    base = live_app.url
    state = storage_state_of(playwright_browser, base, APPLICANT)
    draft = data["draft"]
    paths = ["/tableau-de-bord", "/compte", "/association", "/association/banque", "/association/membres",
             f"/appels/{data['open_slug']}", f"/candidatures/{draft}",
             *[f"/candidatures/{draft}/{section}" for section in
               ("projet", "jeunes", "territoires", "budget", "pieces", "attestation")],
             f"/candidatures/{data['winner']}"]
    assert check_pages(playwright_browser, base, paths, state) == {}


def test_reviewer_pages(world, playwright_browser):
    live_app, data = world
    base = live_app.url
    state = storage_state_of(playwright_browser, base, REVIEWER)
    paths = ["/tableau-de-bord", "/evaluation/liens-d-interets", "/evaluation/liens-d-interets?q=Jeunes",
             f"/evaluation/dossiers/{data['question']}", f"/evaluation/dossiers/{data['scored']}"]
    assert check_pages(playwright_browser, base, paths, state) == {}


def test_staff_and_admin_pages(world, playwright_browser):
    live_app, data = world
    base = live_app.url
    state = storage_state_of(playwright_browser, base, STAFF)
    open_call, closed = data["open"], data["closed"]
    paths = [
        "/tableau-de-bord", "/instruction/appels", "/instruction/appels/nouveau",
        f"/instruction/appels/{open_call}", f"/instruction/appels/{open_call}/criteres",
        f"/instruction/appels/{open_call}/pieces", f"/instruction/appels/{open_call}/dossiers",
        f"/candidatures/{data['to_check']}", f"/instruction/associations/{data['association']}",
        f"/instruction/associations/{data['applicant_association']}",  # a bank change request to examine
        f"/instruction/dossiers/{data['to_check']}/demande-pieces",
        f"/instruction/appels/{open_call}/affectations", f"/instruction/appels/{closed}/evaluations",
        f"/instruction/appels/{closed}/conflits", f"/instruction/dossiers/{data['decision_file']}/evaluations",
        "/selection/", f"/selection/appels/{closed}", f"/selection/appels/{closed}?calibration=1",
        f"/selection/appels/{closed}/proposition?calibrated=y&min_per_region=1&keep_drafts=y&calculer=1",
        f"/selection/appels/{closed}/dossiers/{data['decision_file']}",
        f"/instruction/appels/{closed}/documents", "/equipe/inviter",
    ]
    assert check_pages(playwright_browser, base, paths, state) == {}

    admin_state = storage_state_of(playwright_browser, base, ADMIN)
    assert check_pages(playwright_browser, base, ["/tableau-de-bord", "/administration/journal"], admin_state) == {}


def test_pages_reached_by_a_form(live_app, data, playwright_browser):
    """The proposal of automatic assignment (a POST), and forms sent with errors."""
    from .conftest import new_context

    base = live_app.url
    found = {}
    context = new_context(playwright_browser, bypass_csp=True)
    try:
        page = context.new_page()
        login(page, base, STAFF)
        page.goto(f"{base}/instruction/appels/{data['open']}/affectations")
        page.get_by_role("button", name="Affecter automatiquement").click()
        page.get_by_role("heading", name="Proposition d'affectation").first.wait_for()
        found["proposition d'affectation"] = run_axe(page)
        page.goto(f"{base}/instruction/appels/{data['open']}")
        page.locator("#budget").fill("beaucoup")
        page.get_by_role("button", name="Enregistrer").click()
        page.locator("#resume-erreurs").wait_for()
        found["paramètres de l'appel, erreurs"] = run_axe(page)
    finally:
        context.close()

    context = new_context(playwright_browser, bypass_csp=True)
    try:
        page = context.new_page()
        login(page, base, REVIEWER)
        page.goto(f"{base}/evaluation/dossiers/{data['scored']}")
        page.get_by_role("button", name="Envoyer l'évaluation").click()
        page.locator("#resume-erreurs").wait_for()
        found["évaluation incomplète"] = run_axe(page)
    finally:
        context.close()

    context = new_context(playwright_browser, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(base + "/inscription")
        page.get_by_role("button", name="Créer le compte").click()
        page.locator("#resume-erreurs").wait_for()
        found["inscription, erreurs"] = run_axe(page)
    finally:
        context.close()
    assert {name: v for name, v in found.items() if v} == {}


def focus_info(page):
    return page.evaluate("""() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return {id: el.id, tag: el.tagName, outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
                focusVisible: el.matches(':focus-visible')};
    }""")


def tab_to(page, element_id, limit=60):
    """Press Tab until the element has the focus; the number of presses."""
    for count in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == element_id:
            return count
    raise AssertionError(f"#{element_id} never reached with Tab")


def test_forms_work_with_the_keyboard_alone(live_app, data, page):
    base = live_app.url
    page.goto(base + "/connexion")
    # The first Tab reaches the skip link, which leads to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Contenu"
    assert focus_info(page)["focusVisible"]
    tab_to(page, "email")
    info = focus_info(page)
    assert info["focusVisible"] and info["outline"] != "none" and info["width"] > 0, info
    page.keyboard.type(APPLICANT)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/tableau-de-bord")
    page.shots("connexion-au-clavier")

    # A refused form: the error summary gets the focus (visibly), lists the error with a link
    # to the field, and the field says it is invalid and which message describes it.
    page.goto(base + "/association/banque")
    tab_to(page, "iban")
    page.keyboard.press("Control+A")
    page.keyboard.type("FR14 2004 1010 0505 0001 3M02 607")
    page.keyboard.press("Enter")
    page.locator("#resume-erreurs").wait_for()
    assert page.title().startswith("Erreur")
    assert page.locator("#resume-erreurs").get_attribute("role") == "alert"  # announced
    info = focus_info(page)
    assert info["id"] == "resume-erreurs", info
    assert info["focusVisible"] and info["outline"] != "none" and info["width"] > 0, info
    page.shots("erreur-au-clavier")
    # From the summary, the link leads to the field.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#iban"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "iban"
    assert page.locator("#iban").get_attribute("aria-invalid") == "true"
    assert page.locator("#iban-messages").inner_text().strip().startswith("Cet IBAN n'est pas valide")

    # Correct it and send again, still with the keyboard: the password confirms the change, and
    # the association being a winner, the RIB of the new account goes with the request (a file
    # chooser is the browser's own dialog: the file is given to the field directly).
    page.keyboard.press("Control+A")
    page.keyboard.type("FR14 2004 1010 0505 0001 3M02 606")
    page.locator("#rib").set_input_files(files=[{"name": "rib.pdf", "mimeType": "application/pdf",
                                                 "buffer": factories_applications.PDF}])
    tab_to(page, "password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_text("Votre demande de modification des coordonnées bancaires est transmise").wait_for()
    assert page.js_errors == []


def test_axe_reports_what_it_should(playwright_browser):
    """The checker itself: an unlabelled field and an image without text are reported."""
    context = playwright_browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        page.set_content('<!doctype html><html lang="fr"><head><title>Essai</title></head><body><main>'
                         '<h1>Essai</h1><input type="text"><img src="data:,"></main></body></html>')
        assert {v["id"] for v in run_axe(page)} >= {"label", "image-alt"}
    finally:
        context.close()
