"""The project budget in a browser (issue 14, trap 5): the totals of charges and products, the
balance and the grant's share follow the typing (app/budget.js), at 1280 and 375 px, without
sideways scrolling; saved, the page shows the same figures from the server."""
import pytest
from playwright.sync_api import expect

from aap.extensions import db
from aap.models import Application

from .. import factories
from .. import factories_applications as fa
from .conftest import login, unexpected_errors

EMAIL = "ines@asso-budget.fr"


def out(page, kind, year="1"):
    return page.locator(f'[data-budget-out="{kind}"][data-budget-year="{year}"]')


@pytest.mark.parametrize("width", [1280, 375])
def test_totals_follow_the_typing(live_app, page, width):
    with live_app.app.app_context():
        applicant = factories.user("applicant", email=EMAIL, association_name="Mentorat Solidaire")
        call = factories.call(years=3)
        draft = fa.empty_draft(call, applicant.association, applicant)
        draft_id, first_year = draft.id, call.year
    page.set_viewport_size({"width": width, "height": 900})
    login(page, live_app.url, EMAIL)
    page.goto(f"{live_app.url}/candidatures/{draft_id}/budget")
    expect(out(page, "difference")).to_have_text("—")
    expect(out(page, "share")).to_have_text("—")

    page.locator("#budget_1_64").fill("150 000")
    page.locator("#budget_1_62").fill("30 000,50")
    expect(out(page, "charges")).to_have_text("180\u202f000,50\u00a0€")
    expect(out(page, "difference")).to_have_text("Il manque 180\u202f000,50\u00a0€ de produits")
    page.locator("#budget_1_74_aap").fill("60 000")
    expect(out(page, "share")).to_have_text("33,3\u00a0%")
    page.locator("#budget_1_75").fill("120 000,50")
    expect(out(page, "products")).to_have_text("180\u202f000,50\u00a0€")
    expect(out(page, "difference")).to_have_text("Budget équilibré")
    page.locator("#budget_2_74_aap").fill("40 000")
    expect(out(page, "difference", "2")).to_have_text("Les produits dépassent les charges de 40\u202f000\u00a0€")
    expect(out(page, "products", "all")).to_have_text("220\u202f000,50\u00a0€")
    expect(page.locator('[data-budget-out="line"][data-budget-line="74_aap"]')).to_have_text("100\u202f000\u00a0€")
    page.locator("#budget_1_86").fill("5 000")
    expect(out(page, "kind_charges")).to_have_count(0)   # in kind: outside the totals
    expect(out(page, "charges")).to_have_text("180\u202f000,50\u00a0€")
    # Nothing scrolls sideways, even with one column per year on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.shots(f"budget-saisie-{width}")

    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.get_by_text("Brouillon enregistré").first.wait_for()
    expect(out(page, "charges")).to_have_text("180\u202f000,50\u00a0€")   # from the server this time
    expect(out(page, "difference", "2")).to_have_text("Les produits dépassent les charges de 40\u202f000\u00a0€")
    expect(page.get_by_text(f"Année {first_year + 1} : indiquez les charges du projet")).to_be_visible()
    page.shots(f"budget-enregistre-{width}")
    with live_app.app.app_context():
        saved = db.session.get(Application, draft_id)
        assert saved.requested_cents == 100_000_00 and saved.requested_per_year == [60_000_00, 40_000_00, 0]
    assert unexpected_errors(page) == []
