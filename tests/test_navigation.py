"""The main menu of each role and the tabs of a call's staff pages (aap/navigation.py): every
entry is on the page, and an entry whose endpoint is renamed or gone is an error, never a link
that silently disappears."""
import pytest
from flask import url_for
from markupsafe import escape
from werkzeug.routing import BuildError

from aap import navigation
from aap.navigation import CALL_TABS, MENUS, call_tabs, menu_for

from . import factories


def nav_links(html):
    """The text of the main menu of a page."""
    start = html.index('id="navigation"')
    return html[start:html.index("</nav>", start)]


@pytest.mark.parametrize("role", sorted(MENUS))
def test_every_menu_entry_is_on_the_page_of_its_role(app, client, login_as, role):
    if role != "anonymous":
        user = factories.user(role, email=f"{role}@example.org",
                              association_name="Réussir Ensemble" if role == "applicant" else None)
        login_as(user)
    response = client.get("/accessibilite")
    assert response.status_code == 200
    menu = nav_links(response.get_data(as_text=True))
    assert len(MENUS[role]) >= 2
    for endpoint, label in MENUS[role]:
        with app.test_request_context():
            url = url_for(endpoint)
        assert f'href="{url}"' in menu and str(escape(label)) in menu, (role, endpoint)


def test_every_tab_of_a_call_is_on_its_staff_pages(app, client, login_as, staff):
    call = factories.call()
    login_as(staff)
    html = client.get(f"/instruction/appels/{call.id}/evaluations").get_data(as_text=True)
    assert len(CALL_TABS) >= 5
    with app.test_request_context():
        tabs = call_tabs(call)
    assert len(tabs) == len(CALL_TABS)
    for url, label, _endpoint in tabs:
        assert f'href="{url}"' in html and str(escape(label)) in html, label


def test_a_menu_entry_with_an_unknown_endpoint_is_an_error(app, staff, monkeypatch):
    monkeypatch.setitem(MENUS, "staff", MENUS["staff"] + [("calls.renamed_list", "Appels")])
    with app.test_request_context(), pytest.raises(BuildError):
        menu_for(staff)


def test_a_call_tab_with_an_unknown_endpoint_is_an_error(app, monkeypatch):
    call = factories.call()
    monkeypatch.setattr(navigation, "CALL_TABS", CALL_TABS + [("review.renamed_progress", "Suivi")])
    with app.test_request_context(), pytest.raises(BuildError):
        call_tabs(call)


def current_entries(html):
    """The labels of the main menu's entries marked as the current page."""
    import re
    return re.findall(r'<a class="fr-nav__link" href="[^"]*" aria-current="page">([^<]*)</a>', nav_links(html))


def test_a_menu_entry_is_current_on_every_page_of_its_section(app, client, login_as, admin):
    """« Suivi des subventions » on each follow-up page (a file's included), « Pilotage » on its
    reference figures; « Tableau de bord » on its own page only; never two entries."""
    call = factories.call(slug="aap-menu", year=2025)
    from . import factories_documents, factories_followup
    application = factories_documents.winner(call)
    factories_followup.convention(application)
    login_as(admin)
    expected = {
        "/tableau-de-bord": ["Tableau de bord"],
        "/suivi/conventions": ["Suivi des subventions"],
        "/suivi/versements": ["Suivi des subventions"],
        "/suivi/comptes-rendus": ["Suivi des subventions"],
        f"/suivi/dossiers/{application.id}": ["Suivi des subventions"],
        "/pilotage/": ["Pilotage"],
        "/pilotage/chiffres-de-reference": ["Pilotage"],
        "/selection/": ["Sélection"],
        "/instruction/appels": ["Appels à projets"],
        f"/instruction/appels/{call.id}/dossiers": ["Appels à projets"],
        "/equipe/inviter": ["Équipe"],
        "/administration/journal": ["Journal"],
        "/accessibilite": [],
    }
    for path, labels in expected.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert current_entries(response.get_data(as_text=True)) == labels, path


def test_a_section_prefix_is_a_whole_path_segment(app, staff):
    with app.test_request_context():
        assert [label for _url, label, current in menu_for(staff, "/suivi-autre") if current] == []
        assert [label for _url, label, current in menu_for(staff, "/pilotage/x") if current] == ["Pilotage"]
        assert [label for _url, label, current in menu_for(staff, "/tableau-de-bord/x") if current] == []
