"""The steering page (/pilotage), its reference figures (admins) and the public map of a call's
winners in Chromium, at 1280 px and 375 px: axe-core finds no serious or critical violation,
nothing scrolls sideways, and the map shows one path per département (overseas insets included)."""
from aap.extensions import db
from aap.pilotage import services

from .. import factories, factories_documents
from .conftest import axe_context, run_axe, storage_state_of

STAFF = "agent@example.org"
ADMIN = "admin@example.org"


def build(app):
    with app.app_context():
        factories.user("staff", email=STAFF)
        factories.user("admin", email=ADMIN)
        call = factories.call(slug="aap-carte", title="Appel à projets de la carte", status="closed",
                              opens_in_days=-90, closes_in_days=-30, years=3, year=2025)
        for name, departements, young in (("Mentors du Nord", ["59", "62"], 400), ("Avenir Réunion", ["974"], 120),
                                          ("Lyon Mentorat", ["69"], 300), ("Cap national", ["75", "13", "973"], 900)):
            factories_documents.winner(call, name=name, amount_cents=90_000_00, departements=departements,
                                       young_count=young)
        services.ensure_reference_figures()
        db.session.commit()
        return call.id, call.slug


def test_steering_page_and_public_map_are_accessible_at_1280_and_375(live_app, playwright_browser):
    call_id, slug = build(live_app.app)
    base = live_app.url
    state = storage_state_of(playwright_browser, base, STAFF)
    admin_state = storage_state_of(playwright_browser, base, ADMIN)
    for path, storage in ((f"/pilotage/?appel={call_id}", state), ("/pilotage/?mesure=amount", state),
                          (f"/appels/{slug}", None), ("/pilotage/chiffres-de-reference", admin_state)):
        for width in (1280, 375):
            context = axe_context(playwright_browser, storage_state=storage)
            try:
                page = context.new_page()
                page.set_viewport_size({"width": width, "height": 900})
                response = page.goto(base + path)
                assert response.status == 200, path
                if "chiffres" not in path:
                    assert page.locator("svg.aap-map__svg path[data-code]").count() == 101
                    assert page.locator("svg.aap-map__svg path[data-code='976'] title").count() == 1
                assert run_axe(page) == [], (path, width)
                assert page.evaluate("document.documentElement.scrollWidth") <= width, (path, width)
            finally:
                context.close()
