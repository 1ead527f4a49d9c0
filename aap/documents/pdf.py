"""PDF rendering with WeasyPrint: a pure function from a template and data to bytes.

During a request the template is rendered by Flask's Jinja environment; otherwise (worker
processes of the bulk generation, CLI, background threads, services called from tests) by a
standalone environment over the same templates/ folder with the same filters, so both give
the same document and need no request.
"""
import re
from functools import lru_cache
from pathlib import Path

from .typography import french_spacing_html

STATIC = Path(__file__).resolve().parent.parent / "static"
TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
FONTS_URL = (STATIC / "dsfr" / "fonts").as_uri()


@lru_cache(maxsize=1)
def standalone_environment():
    """A Jinja environment for documents, usable without a Flask app (no DB, no request)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from .. import money, numbers, timeutil
    from ..web import _nl2br

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    env.filters["euros"] = money.format_euros
    env.filters["date_fr"] = timeutil.format_date
    env.filters["datetime_fr"] = timeutil.format_datetime
    env.filters["time_fr"] = timeutil.format_time
    env.filters["nl2br"] = _nl2br
    env.filters["decimal_fr"] = numbers.format_decimal
    from ..applications.budget import view_of_snapshot
    env.globals["budget_of_snapshot"] = view_of_snapshot  # as aap/applications/views.py sets it
    return env


@lru_cache(maxsize=1)
def marianne_uri():
    """The Marianne of the bloc-marque, as the DSFR draws it (the SVG of its `.fr-logo::before`,
    white on the blue and red of the flag), for the header of every document."""
    css = (STATIC / "dsfr" / "dsfr.min.css").read_text(encoding="utf-8")
    match = re.search(r'\.fr-logo:before\{background-image:url\("(data:image/svg\+xml;[^"]+)"\)', css)
    return match.group(1) if match else ""


def render_html(template, **context):
    """The HTML of a document, with the French spacing rule (typography.py) applied to its text."""
    from flask import has_request_context, render_template

    context.setdefault("fonts_url", FONTS_URL)
    context.setdefault("marianne_uri", marianne_uri())
    if has_request_context():
        html = render_template(f"documents/pdf/{template}", **context)
    else:
        html = standalone_environment().get_template(f"documents/pdf/{template}").render(**context)
    return french_spacing_html(html)


def html_to_pdf(html):
    """PDF bytes of a document's HTML (fonts, Marianne from the DSFR and DejaVu as fallback,
    are embedded by WeasyPrint)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=str(STATIC)).write_pdf()


def render_pdf(template, **context):
    """Render templates/documents/pdf/<template> (HTML + print CSS) to PDF bytes."""
    return html_to_pdf(render_html(template, **context))


@lru_cache(maxsize=8)
def cached_pdf(html):
    """The PDF of an HTML text, rendered once per process: for the parts shared by many
    documents. Keyed by the HTML itself, so a change of data or template is a new entry."""
    return html_to_pdf(html)
