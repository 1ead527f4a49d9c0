"""Calls for projects: staff pages (settings, criteria, documents, publication) and public pages."""
from flask import Blueprint, current_app

bp = Blueprint("calls", __name__)


@bp.app_template_filter("markdown")
def _markdown_filter(text):
    from .services import render_markdown
    return render_markdown(text)


@bp.app_template_global()
def has_endpoint(name):
    """True when a view is registered under that endpoint (blueprints may come later)."""
    return name in current_app.view_functions


from . import views  # noqa: E402,F401
