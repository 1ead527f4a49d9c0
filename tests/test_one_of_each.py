"""One place for each rule: one pagination, one status badge, one breadcrumb, one IBAN grouping,
one euro formatter, one token serialiser, one table of event labels. Each rule has a test of
what a reader sees, and, where it can be checked, a test that fails when a second copy of the
rule reappears in the code or the templates."""
import ast
import re
from html import unescape
from pathlib import Path

import pytest
from itsdangerous import BadSignature

from aap import events
from aap.applications import history
from aap.auth import tokens
from aap.documents.convention import presentation
from aap.extensions import db
from aap.instruction import queries as instruction_queries
from aap.models import Event
from aap.money import format_euros
from aap.validators import group_iban

from . import factories
from . import factories_instruction as fi
from .conftest import login

ROOT = Path(__file__).resolve().parent.parent
CODE = sorted((ROOT / "aap").rglob("*.py"))
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


def _where(pattern, files, root=ROOT):
    regex = re.compile(pattern)
    return sorted(str(path.relative_to(root)) for path in files if regex.search(path.read_text(encoding="utf-8")))


def text(response):
    return unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


# --- pagination ---------------------------------------------------------------------------------

def test_lists_are_paged_by_flask_sqlalchemy_only():
    """No hand-written LIMIT/OFFSET paging: every list page goes through aap/paging.py."""
    assert _where(r"\.offset\(", CODE) == []
    assert _where(r"db\.paginate\(", CODE) == ["aap/paging.py"]
    assert _where(r'import pagination %\}', TEMPLATES) == [
        "templates/followup/conventions.html", "templates/followup/payments.html",
        "templates/instruction/applications.html", "templates/main/audit.html", "templates/review/assignments.html",
        "templates/search/results.html"]


def test_files_list_pages_keep_the_filters_and_end_on_the_last_page(client, login_as, staff, call, monkeypatch):
    monkeypatch.setattr(instruction_queries, "PER_PAGE", 2)
    for n in range(5):
        factories.submitted_file(call, fi.association(f"Asso {n}", "69", "84"), reference=f"1J1M-2026-{n + 1:04d}")
    factories.submitted_file(call, fi.association("Asso recevable", "69", "84"), reference="1J1M-2026-0099",
                             status="admissible")
    login_as(staff)
    url = f"/instruction/appels/{call.id}/dossiers?etat=submitted"

    def page(query=""):
        response = client.get(url + query)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    first, second, third = page(), page("&page=2"), page("&page=3")
    assert re.findall(r"1J1M-2026-\d{4}(?=</a>)", second) == ["1J1M-2026-0003", "1J1M-2026-0004"]
    assert "5 dossiers — page 2 sur 3" in unescape(second)
    assert re.findall(r"1J1M-2026-\d{4}(?=</a>)", third) == ["1J1M-2026-0005"]
    # The page links keep the state filter (and page 1 has no ?page=).
    links = set(re.findall(r'class="fr-pagination__link[^"]*" href="([^"]+)"', first))
    assert f"/instruction/appels/{call.id}/dossiers?etat=submitted&amp;page=2" in links
    assert all("etat=submitted" in link for link in links)
    assert '<nav role="navigation" class="fr-pagination"' in first
    # Past the end: the last page, not an empty list.
    assert re.findall(r"1J1M-2026-\d{4}(?=</a>)", page("&page=40")) == ["1J1M-2026-0005"]
    # A list that fits on one page has no pagination.
    assert "fr-pagination" not in client.get(f"/instruction/appels/{call.id}/dossiers?etat=admissible").get_data(
        as_text=True)


# --- status badges --------------------------------------------------------------------------------

def test_state_badges_come_from_one_macro():
    """A badge whose colour depends on a state is drawn by templates/macros/badges.html only."""
    assert _where(r"fr-badge--\{\{ *[a-z_]", TEMPLATES) == ["templates/macros/badges.html"]
    assert _where(r"\.status_badge\b|STATUS_BADGES|state_badge", CODE + TEMPLATES) == []


def test_badges_show_the_french_label_and_colour_of_the_state(app, client, login_as, staff, applicant, call):
    factories.complete_identity(applicant.association)
    own = factories.application(call, applicant.association, status="incomplete", reference="1J1M-2026-0007")
    login_as(applicant)
    dashboard = client.get("/tableau-de-bord").get_data(as_text=True)
    assert '<span class="fr-badge fr-badge--no-icon fr-badge--warning fr-badge--sm">À compléter</span>' in dashboard
    assert '<span class="fr-badge fr-badge--no-icon fr-badge--success fr-badge--sm">Appel : ouvert</span>' in dashboard
    page = client.get(f"/candidatures/{own.id}").get_data(as_text=True)
    assert '<span class="fr-badge fr-badge--no-icon fr-badge--warning">À compléter</span>' in page
    client = app.test_client()
    login(client, staff)
    listing = client.get(f"/instruction/appels/{call.id}/dossiers").get_data(as_text=True)
    assert '<span class="fr-badge fr-badge--no-icon fr-badge--warning fr-badge--sm">À compléter</span>' in listing
    calls = client.get("/instruction/appels").get_data(as_text=True)
    assert '<span class="fr-badge fr-badge--no-icon fr-badge--success fr-badge--sm">Ouvert</span>' in calls
    assert "À compléter : 1</span>" in calls


# --- breadcrumb -----------------------------------------------------------------------------------

def test_breadcrumbs_come_from_one_macro():
    assert _where(r"fr-breadcrumb", TEMPLATES) == ["templates/macros/breadcrumb.html"]


def test_breadcrumb_folds_behind_its_button_and_ends_on_the_current_page(client, login_as, staff, call):
    file = factories.submitted_file(call, fi.association("Asso fil", "69", "84"), reference="1J1M-2026-0042")
    login_as(staff)
    html = client.get(f"/instruction/dossiers/{file.id}/demande-pieces").get_data(as_text=True)
    nav = re.search(r'<nav role="navigation" class="fr-breadcrumb".*?</nav>', html, re.S).group(0)
    button = re.search(r'<button type="button" class="fr-breadcrumb__button" aria-expanded="false" '
                       r'aria-controls="([^"]+)">Voir le fil d\'Ariane</button>', nav)
    assert button and f'<div class="fr-collapse" id="{button.group(1)}">' in nav
    items = re.findall(r'<li><a class="fr-breadcrumb__link" ([^>]*)>([^<]*)</a></li>', unescape(nav))
    assert [label for _, label in items] == ["Tableau de bord", f"Dossiers — {call.title}", "Dossier 1J1M-2026-0042",
                                             "Demande de pièces"]
    assert [attributes for attributes, _ in items][:3] == [
        'href="/tableau-de-bord"', f'href="/instruction/appels/{call.id}/dossiers"', f'href="/candidatures/{file.id}"']
    assert items[-1][0] == 'aria-current="page"'


# --- IBAN, euros, tokens --------------------------------------------------------------------------

def test_one_iban_grouping_and_one_euro_formatter():
    assert group_iban("fr76 3000 6000 0112 3456 7890 189") == "FR76 3000 6000 0112 3456 7890 189"
    assert group_iban(None) == ""
    assert _where(r"def group_iban\b", CODE) == ["aap/validators.py"]
    # French typography: narrow no-break spaces between thousands, a no-break space before €.
    assert format_euros(1234567) == "12\u202f345,67\u00a0€"
    assert format_euros(1234500) == "12\u202f345\u00a0€"
    assert format_euros(1234500, decimals=True) == "12\u202f345,00\u00a0€"
    assert _where(r'\\u00a0€|\\xa0€', CODE) == ["aap/money.py"]


def test_convention_amounts_and_iban_use_the_shared_formatters():
    data = {"decision": {"amount_cents": 1234567, "amount_per_year": [1234567], "published_on": None},
            "application": {"cofunding": [], "requested_cents": 1234567, "total_cost_cents": 0},
            "call": {"year_list": [2026], "advance_percent": 50},
            "bank": {"iban": "fr7630006000011234567890189"}}
    shown = presentation(data)
    assert shown["total"] == "12\u202f345,67\u00a0€"
    assert shown["iban"] == "FR76 3000 6000 0112 3456 7890 189"


def test_one_token_serialiser_with_a_salt_per_purpose(app):
    assert _where(r"URLSafeTimedSerializer\(", CODE) == ["aap/auth/tokens.py"]
    token = tokens.sign("member", {"a": 1})
    assert tokens.unsign("member", token) == {"a": 1}
    with pytest.raises(BadSignature):
        tokens.unsign("reset", token)


# --- event labels ---------------------------------------------------------------------------------

def _string_constants(path):
    return {node.value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_staff_labels_live_in_one_table_and_the_association_wording_does_not_copy_it():
    assert _where(r"(?m)^ACTION_LABELS\b", CODE) == ["aap/events.py"]
    copies = _string_constants(ROOT / "aap/applications/history.py") & set(events.ACTION_LABELS.values())
    assert copies == set()
    assert set(history.ASSOCIATION_EVENTS) <= set(events.ACTION_LABELS)


def test_both_histories_read_the_staff_wording_where_it_is_shared(app, call, applicant, staff):
    file = factories.submitted_file(call, applicant.association, reference="1J1M-2026-0050")
    db.session.add_all([
        Event(action="application_submitted", actor_id=applicant.id, application_id=file.id,
              association_id=file.association_id, call_id=call.id, from_state="draft", to_state="submitted",
              details={}),
        Event(action="reviewer_assigned", actor_id=staff.id, application_id=file.id,
              association_id=file.association_id, call_id=call.id, details={}),
        Event(action="grant_withdrawn", actor_id=staff.id, application_id=file.id,
              association_id=file.association_id, call_id=call.id, details={}, reason="Projet abandonné."),
    ])
    db.session.commit()
    staff_labels = [row.label for row in history.staff_history(file)]
    assert staff_labels == ["Dossier déposé", "Évaluateur affecté", "Subvention retirée"]
    association_labels = [row.label for row in history.association_history(file)]
    assert association_labels == ["Dossier déposé", "Subvention retirée par la DJEPVA"]
