"""Calls for projects: staff pages (settings, criteria, documents, publication) and public pages."""
from flask import Blueprint

bp = Blueprint("calls", __name__)


@bp.app_template_filter("markdown")
def _markdown_filter(text):
    from .services import render_markdown
    return render_markdown(text)


from . import comparison_views, help_views, views  # noqa: E402,F401
