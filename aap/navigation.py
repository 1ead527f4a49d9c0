"""The main menu, by role. Each blueprint's entry points are listed here."""
from flask import url_for

from .models.users import ADMIN, APPLICANT, REVIEWER, STAFF

# (endpoint, label) per role; "anonymous" for a visitor who is not logged in.
MENUS = {
    "anonymous": [("main.index", "Accueil"), ("calls.public_list", "Appels à projets")],
    APPLICANT: [("main.dashboard", "Tableau de bord"), ("associations.identity", "Mon association"),
                ("calls.public_list", "Appels à projets")],
    REVIEWER: [("main.dashboard", "Tableau de bord"), ("review.my_conflicts", "Mes liens d'intérêts")],
    STAFF: [("main.dashboard", "Tableau de bord"), ("calls.staff_list", "Appels à projets"),
            ("selection.index", "Sélection"), ("followup.conventions", "Suivi des subventions"),
            ("pilotage.index", "Pilotage"), ("auth.invite", "Équipe")],
    ADMIN: [("main.dashboard", "Tableau de bord"), ("calls.staff_list", "Appels à projets"),
            ("selection.index", "Sélection"), ("followup.conventions", "Suivi des subventions"),
            ("pilotage.index", "Pilotage"), ("auth.invite", "Équipe"), ("main.audit", "Journal")],
}


# The URL prefix of a menu entry's section: the entry is the current one on every page under it
# (an entry not listed here is current on its own page only, e.g. « Tableau de bord »).
SECTION_PREFIXES = {
    "calls.staff_list": "/instruction/appels",
    "selection.index": "/selection/",
    "followup.conventions": "/suivi/",
    "pilotage.index": "/pilotage/",
    "auth.invite": "/equipe/",
}


def _is_under(path, prefix):
    return path == prefix.rstrip("/") or path.startswith(prefix.rstrip("/") + "/")


def menu_for(user, path=None):
    """[(url, label, current)] of the user's menu; `current`: the entry of the page at `path` —
    its own page, else the section whose prefix the path is under (one entry at most)."""
    role = user.role if user.is_authenticated else "anonymous"
    items = [(url_for(endpoint), label, endpoint) for endpoint, label in MENUS[role]]
    current = next((url for url, _label, _endpoint in items if url == path), None)
    if current is None and path:
        current = next((url for url, _label, endpoint in items
                        if endpoint in SECTION_PREFIXES and _is_under(path, SECTION_PREFIXES[endpoint])), None)
    return [(url, label, url == current) for url, label, _endpoint in items]


# The staff pages of one call, in the order of the work (the same tabs on every such page).
CALL_TABS = [
    ("calls.edit", "Paramètres de l'appel"),
    ("instruction.applications", "Dossiers"),
    ("review.assignments", "Affectations"),
    ("review.progress", "Suivi des évaluations"),
    ("review.conflicts", "Liens d'intérêts"),
    ("selection.ranking", "Classement et sélection"),
    ("documents.call_documents", "Conventions et exports"),
]


# The staff pages of the follow-up after the decision, across calls (the same tabs on each).
FOLLOWUP_TABS = [
    ("followup.conventions", "Conventions"),
    ("followup.payments", "Versements"),
    ("followup.reports", "Comptes rendus annuels"),
]


def followup_tabs():
    """[(url, label, endpoint)] of the follow-up's staff pages."""
    return [(url_for(endpoint), label, endpoint) for endpoint, label in FOLLOWUP_TABS]


def call_tabs(call):
    """[(url, label, endpoint)] of a call's staff pages."""
    return [(url_for(endpoint, call_id=call.id), label, endpoint) for endpoint, label in CALL_TABS]
