"""The main menu, by role. Each blueprint's entry points are listed here."""
from flask import url_for
from werkzeug.routing import BuildError

# (endpoint, label) per role; endpoints of blueprints not yet present are skipped.
MENUS = {
    "anonymous": [("main.index", "Accueil"), ("calls.public_list", "Appels à projets")],
    "applicant": [("main.dashboard", "Tableau de bord"), ("associations.identity", "Mon association"),
                  ("calls.public_list", "Appels à projets")],
    "reviewer": [("main.dashboard", "Tableau de bord"), ("review.my_conflicts", "Mes liens d'intérêts")],
    "staff": [("main.dashboard", "Tableau de bord"), ("calls.staff_list", "Appels à projets"),
              ("selection.index", "Sélection"), ("auth.invite", "Équipe")],
    "admin": [("main.dashboard", "Tableau de bord"), ("calls.staff_list", "Appels à projets"),
              ("selection.index", "Sélection"), ("auth.invite", "Équipe"), ("main.audit", "Journal")],
}


def menu_for(user):
    role = user.role if user.is_authenticated else "anonymous"
    items = []
    for endpoint, label in MENUS[role]:
        try:
            items.append((url_for(endpoint), label))
        except BuildError:
            continue
    return items


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


def call_tabs(call):
    """[(url, label, endpoint)] of a call's staff pages (pages of absent blueprints skipped)."""
    tabs = []
    for endpoint, label in CALL_TABS:
        try:
            tabs.append((url_for(endpoint, call_id=call.id), label, endpoint))
        except BuildError:
            continue
    return tabs
