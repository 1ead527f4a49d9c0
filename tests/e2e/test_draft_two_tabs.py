"""Two tabs of the same draft, in Chromium (issue 14, traps 2 and 6): each keeps its own change,
a change of the same field is a conflict shown with both texts, nothing is overwritten; the
autosave of a step with one invalid field saves the others."""
import re

from aap.extensions import db
from aap.models import Application

from .. import factories
from .. import factories_applications as fa
from .conftest import login, unexpected_errors

EMAIL = "tabs@asso.fr"


def stored(app, application_id):
    with app.app_context():
        db.session.expire_all()
        return db.session.get(Application, application_id)


def wait_saved(page):
    page.locator("#autosave-status").filter(has_text=re.compile("Brouillon enregistré")).wait_for()


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_two_tabs_keep_each_other_s_changes_and_conflicts_show_both_texts(live_app, page):
    app = live_app.app
    with app.app_context():
        user = factories.user("applicant", email=EMAIL, association_name="Deux Onglets")
        call = factories.call()
        application_id = fa.draft(call, user.association).id
    base = live_app.url
    login(page, base, EMAIL)
    url = f"{base}/candidatures/{application_id}/projet"
    tab_a = page
    tab_b = page.context.new_page()
    tab_b.js_errors = []
    tab_b.on("pageerror", lambda error: tab_b.js_errors.append(str(error)))
    tab_a.goto(url)
    tab_b.goto(url)

    # Tab A changes « Partenaires » and saves; tab B changes « Suivi » and saves.
    tab_a.locator("#partners").fill("Missions locales de Lyon et de Villeurbanne.")
    tab_a.get_by_role("button", name="Enregistrer le brouillon").click()
    tab_a.get_by_text("Brouillon enregistré à").first.wait_for()
    tab_b.locator("#mentor_follow_up").fill("Un point mensuel avec chaque binôme.")
    tab_b.get_by_role("button", name="Enregistrer le brouillon").click()
    tab_b.get_by_text("Brouillon enregistré à").first.wait_for()
    assert tab_b.get_by_text("Un autre membre").count() == 0
    # Both changes are kept, and tab B now shows tab A's.
    assert tab_b.locator("#partners").input_value() == "Missions locales de Lyon et de Villeurbanne."
    saved = stored(app, application_id)
    assert saved.partners == "Missions locales de Lyon et de Villeurbanne."
    assert saved.mentor_follow_up == "Un point mensuel avec chaque binôme."

    # Both change the same field (autosave when leaving it): the second sees both texts.
    tab_a.reload()
    tab_a.locator("#partners").fill("Texte de l'onglet A.")
    tab_a.locator("#partners").press("Tab")
    wait_saved(tab_a)
    tab_b.locator("#partners").fill("Texte de l'onglet B.")
    tab_b.locator("#partners").press("Tab")
    box = tab_b.locator("#conflit-auto")
    box.wait_for()
    assert "Partenaires du projet" in box.inner_text()
    assert box.locator(".aap-conflict-theirs").inner_text() == "Texte de l'onglet A."
    assert box.locator(".aap-conflict-yours").inner_text() == "Texte de l'onglet B."
    assert stored(app, application_id).partners == "Texte de l'onglet A."
    assert stored(app, application_id).mentor_follow_up == "Un point mensuel avec chaque binôme."
    box.scroll_into_view_if_needed()
    tab_b.screenshot(path=str(page.shots.folder / "conflit-autosave-1280.png"), full_page=True)
    tab_b.set_viewport_size({"width": 375, "height": 800})
    assert no_sideways_scroll(tab_b)
    tab_b.screenshot(path=str(page.shots.folder / "conflit-autosave-375.png"), full_page=True)

    # B keeps its text, having seen A's.
    box.get_by_text("Garder ma saisie").click()
    tab_b.locator("#conflit-auto").wait_for(state="detached")
    assert stored(app, application_id).partners == "Texte de l'onglet B."

    # A full « Enregistrer » of a stale tab on the same field: the server shows both texts.
    tab_a.locator("#partners").fill("Encore l'onglet A.")
    tab_a.get_by_role("button", name="Enregistrer le brouillon").click()
    drawn = tab_a.locator("#conflit")
    drawn.wait_for()
    assert "Texte de l'onglet B." in drawn.inner_text() and "Encore l'onglet A." in drawn.inner_text()
    assert stored(app, application_id).partners == "Texte de l'onglet B."
    page.shots("conflit-enregistrer-1280")
    tab_a.set_viewport_size({"width": 375, "height": 800})
    assert no_sideways_scroll(tab_a)
    page.shots("conflit-enregistrer-375")
    drawn.get_by_text("Garder la version enregistrée").click()
    tab_a.get_by_role("button", name="Enregistrer le brouillon").click()
    tab_a.get_by_text("Brouillon enregistré à").first.wait_for()
    assert tab_a.locator("#partners").input_value() == "Texte de l'onglet B."
    assert stored(app, application_id).partners == "Texte de l'onglet B."

    assert unexpected_errors(tab_a, allowed_statuses=(409,)) == []
    assert tab_b.js_errors == []


def test_autosave_of_a_step_with_one_invalid_field_saves_the_others(live_app, page):
    app = live_app.app
    with app.app_context():
        user = factories.user("applicant", email=EMAIL, association_name="Deux Onglets")
        call = factories.call()
        application_id = fa.draft(call, user.association).id
    base = live_app.url
    login(page, base, EMAIL)
    page.goto(f"{base}/candidatures/{application_id}/jeunes")
    page.locator("#mentor_count").fill("150")
    page.locator("#share_qpv").fill("25,5")
    page.locator("#young_count").fill("25,5")
    page.locator("#young_count").press("Tab")
    message = page.locator("#young_count-messages .fr-message--error")
    message.wait_for()
    assert message.inner_text() == "Saisissez un nombre entier, sans virgule (par exemple 25 et non 25,5)."
    assert page.locator("#young_count").get_attribute("aria-invalid") == "true"
    assert page.locator("#young_count").input_value() == "25,5"  # the typed text stays
    page.locator("#autosave-status").filter(has_text="sauf les champs signalés").wait_for()
    saved = stored(app, application_id)
    assert saved.mentor_count == 150 and saved.share_qpv == 25.5
    assert saved.young_count == 300
    page.locator("#young_count").scroll_into_view_if_needed()
    page.shots("champ-invalide-1280")
    page.set_viewport_size({"width": 375, "height": 800})
    assert no_sideways_scroll(page)
    page.shots("champ-invalide-375")

    # Corrected: saved, and the message goes.
    page.locator("#young_count").fill("26")
    page.locator("#young_count").press("Tab")
    message.wait_for(state="detached")
    page.locator("#autosave-status").filter(has_text=re.compile(r"Brouillon enregistré à \d+ h \d+$")).wait_for()
    assert stored(app, application_id).young_count == 26
    assert page.locator("#young_count").get_attribute("aria-invalid") is None
    assert unexpected_errors(page, allowed_statuses=(422,)) == []
