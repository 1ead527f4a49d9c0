"""The application's forms in a browser (issue 14, traps 1, 7, 9 and 10): every radio and check
box is clicked by its label, the character counter follows the typing and nothing pasted is
cut, text areas grow, no page scrolls sideways at 375 px, the départements are searched,
ticked and saved, and the notice of a draft restored from the browser says when, in words."""
import json
import re

import pytest
from playwright.sync_api import expect

from aap.extensions import db
from aap.models import Application

from .. import factories
from .. import factories_applications as fa
from .conftest import RESULTS, login, new_context, unexpected_errors

EMAIL = "claire@asso-mentorat.fr"
FORM_SECTIONS = ("projet", "jeunes", "territoires", "attestation")
ALL_SECTIONS = ("projet", "jeunes", "territoires", "budget", "pieces", "attestation")


@pytest.fixture
def data(live_app):
    with live_app.app.app_context():
        applicant = factories.user("applicant", email=EMAIL, association_name="Mentorat Solidaire")
        factories.complete_identity(applicant.association)
        call = factories.call()
        draft = fa.draft(call, applicant.association, summary="Un programme d'un an.", attestation_name=None)
        submitted = factories.application(factories.call(slug="aap-2025"), applicant.association)
        return {"draft": draft.id, "submitted": submitted.id}


def saved(live_app, application_id):
    with live_app.app.app_context():
        return db.session.get(Application, application_id)


@pytest.mark.parametrize("width", [1280, 375])
def test_every_radio_and_checkbox_label_checks_its_input(live_app, data, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    login(page, live_app.url, EMAIL)
    clicked = 0
    for section in FORM_SECTIONS:
        page.goto(f"{live_app.url}/candidatures/{data['draft']}/{section}")
        page.locator("#section-form").wait_for()
        # The boxes' ids and states in one call (one call per box and attribute took most of the time).
        boxes = page.locator("#section-form input[type=radio], #section-form input[type=checkbox]").evaluate_all(
            "inputs => inputs.map(i => [i.id, i.type === 'checkbox' && i.checked])")
        for box_id, ticked in boxes:
            box = page.locator(f'[id="{box_id}"]')
            label = page.locator(f'label[for="{box_id}"]')
            if ticked:
                label.click()  # a ticked box: the label unticks it first
                assert not box.is_checked(), box_id
            label.click()  # (Playwright scrolls the label into view and clicks where it is drawn)
            assert box.is_checked(), f"{section}: clicking « {label.inner_text()} » did not check #{box_id}"
            clicked += 1
        page.shots(f"{section}-{width}-tout-coche")
    # the three scopes (« Local » included), the 101 départements and the attestation
    assert clicked >= 3 + 101 + 1
    assert unexpected_errors(page) == []


def test_counter_follows_the_typing_and_a_long_text_is_kept_and_refused(live_app, data, page):
    login(page, live_app.url, EMAIL)
    page.goto(f"{live_app.url}/candidatures/{data['draft']}/projet")
    counter = page.locator("#summary-counter")
    assert counter.inner_text() == "21 caractères sur 3\u202f000"
    summary = page.locator("#summary")
    height = summary.bounding_box()["height"]
    summary.fill("Un mentorat.\n" * 40)
    assert counter.inner_text() == "520 caractères sur 3\u202f000"
    assert summary.bounding_box()["height"] > height + 200  # the text area grew with its content
    expect(page.locator("#summary-counter-live")).to_have_text("520 caractères sur 3\u202f000")
    assert page.locator("#summary-counter-live").get_attribute("aria-live") == "polite"

    # A one-line field says its limit in its hint; its counter shows from 80 % of it on.
    title_counter = page.locator("#title-counter")
    assert title_counter.is_hidden() and "255 caractères au maximum." in page.locator("label[for=title]").inner_text()
    page.locator("#title").fill("M" * 204)
    assert title_counter.is_visible() and title_counter.inner_text() == "204 caractères sur 255"

    pasted = ("Le mentorat change des trajectoires. " * 200)[:5000]
    summary.fill(pasted)
    assert len(summary.input_value()) == 5000  # no maxlength: the browser cuts nothing
    assert counter.inner_text() == "5\u202f000 caractères sur 3\u202f000 : 2\u202f000 de trop"
    assert "aap-counter--over" in counter.get_attribute("class")
    page.shots("compteur-depasse")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.locator("#summary-messages .fr-message--error").wait_for()
    message = page.locator("#summary-messages").inner_text()
    assert "Ce texte compte 5\u202f000 caractères : 3\u202f000 au maximum" in message
    assert len(page.locator("#summary").input_value()) == 5000  # shown back whole
    page.shots("texte-trop-long-refuse")
    kept = saved(live_app, data["draft"]).summary  # the autosave kept the earlier text, never a cut one
    assert not kept.startswith("Le mentorat") and len(kept) <= 3000


def test_no_page_of_the_application_scrolls_sideways_at_375_px(live_app, data, playwright_browser):
    context = new_context(playwright_browser)
    page = context.new_page()
    page.set_viewport_size({"width": 375, "height": 800})
    try:
        login(page, live_app.url, EMAIL)
        urls = ["/tableau-de-bord", f"/candidatures/{data['draft']}", f"/candidatures/{data['submitted']}"]
        urls += [f"/candidatures/{data['draft']}/{s}" for s in ALL_SECTIONS]
        urls += [f"/candidatures/{data['submitted']}/{s}" for s in ALL_SECTIONS]
        wide = {}
        for url in urls:
            response = page.goto(live_app.url + url)
            assert response.status == 200, url
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 375:
                wide[url] = width
        assert wide == {}
    finally:
        context.close()


def test_departements_are_searched_ticked_and_saved_on_a_phone(live_app, data, playwright_browser):
    context = new_context(playwright_browser, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_viewport_size({"width": 375, "height": 800})
    try:
        login(page, live_app.url, EMAIL)
        page.goto(f"{live_app.url}/candidatures/{data['draft']}/territoires")
        assert page.locator("select#departements").is_hidden()  # replaced by the list, still in the form
        assert page.get_by_text("Maintenez la touche Ctrl").is_hidden()
        assert page.locator("#departements-choisis").inner_text() == \
            "2 départements sélectionnés : 42 – Loire, 69 – Rhône."
        page.locator("#departements-filtre").fill("cotes d arm")  # no accents, no hyphens needed
        visible = page.locator("#departements-liste .fr-checkbox-group:visible")
        assert visible.count() == 1 and visible.inner_text() == "22 – Côtes-d'Armor"
        assert page.locator("#departements-resultat").inner_text() == "1 département correspond à « cotes d arm »."
        page.locator("#departements-filtre").press("Enter")  # filters, does not send the form
        assert page.url.endswith("/territoires")
        page.locator("#departements-liste").get_by_text("22 – Côtes-d'Armor", exact=True).tap()
        expect(page.locator("#autosave-status")).to_contain_text("Brouillon enregistré")
        assert saved(live_app, data["draft"]).departements == ["22", "42", "69"]
        page.locator("#departements-filtre").fill("")
        assert page.locator("#departements-liste .fr-checkbox-group:visible").count() == 101
        RESULTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(RESULTS / "departements-375.png"), full_page=True)

        page.reload()
        assert page.locator("#departements-choisis").inner_text().startswith("3 départements sélectionnés : 22 –")
        assert page.locator("select#departements option:checked").count() == 3
    finally:
        context.close()


def test_departements_work_without_javascript(live_app, data, playwright_browser):
    context = new_context(playwright_browser, java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, live_app.url, EMAIL)
        page.goto(f"{live_app.url}/candidatures/{data['draft']}/territoires")
        assert page.locator("select#departements").is_visible()
        assert page.get_by_text("Maintenez la touche Ctrl (ou Cmd)").is_visible()
        page.locator("select#departements").select_option(["13", "83"])
        page.get_by_role("button", name="Enregistrer le brouillon").click()
        page.get_by_text("Brouillon enregistré").wait_for()
        assert saved(live_app, data["draft"]).departements == ["13", "83"]
    finally:
        context.close()


def test_restored_draft_notice_says_what_happened_in_the_site_date_format(live_app, data, page):
    login(page, live_app.url, EMAIL)
    url = f"{live_app.url}/candidatures/{data['draft']}/projet"
    page.goto(url)
    version = int(page.locator("#version").input_value())
    user_id = page.locator("#section-form").get_attribute("data-user")
    key = f"aap-brouillon:{user_id}:{data['draft']}:projet"
    values = page.evaluate("""() => {
        const out = {};
        for (const el of document.getElementById('section-form').elements) {
          if (el.name && !['csrf_token', 'version', 'action'].includes(el.name)) out[el.name] = el.value;
        }
        return out;
    }""")
    values["summary"] = "Texte tapé pendant que la session expirait."
    at = 1796303100000  # 3 December 2026, 13:05 UTC = 14 h 05 in Paris
    page.evaluate("([key, value]) => localStorage.setItem(key, value)",
                  [key, json.dumps({"version": version, "at": at, "values": values})])
    page.goto(url)
    notice = page.locator("#autosave-alert")
    notice.wait_for()
    text = notice.inner_text()
    assert "Votre saisie du 3 décembre 2026 à 14 h 05 n'avait pas été enregistrée" in text
    assert "nous l'avons remise dans le formulaire" in text
    assert not re.search(r"\d{2}/\d{2}/\d{4}", text)
    assert page.locator("#summary").input_value() == "Texte tapé pendant que la session expirait."
    expect(page.locator("#autosave-status")).to_contain_text("Brouillon enregistré")
    assert saved(live_app, data["draft"]).summary == "Texte tapé pendant que la session expirait."
    # the counter follows the restored text
    assert page.locator("#summary-counter").inner_text().startswith("43 caractères")
