"""PDF rendering with WeasyPrint: a pure function from a template and data to bytes.

During a request the template is rendered by Flask's Jinja environment; otherwise (worker
processes of the bulk generation, CLI, background threads, services called from tests) by a
standalone environment over the same templates/ folder with the same filters, so both give
the same document and need no request.
"""
import io
import threading
from functools import lru_cache
from pathlib import Path

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


def render_html(template, **context):
    from flask import has_request_context, render_template

    context.setdefault("fonts_url", FONTS_URL)
    if has_request_context():
        return render_template(f"documents/pdf/{template}", **context)
    return standalone_environment().get_template(f"documents/pdf/{template}").render(**context)


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


@lru_cache(maxsize=8)
def _parsed(pdf):
    from pypdf import PdfReader

    return PdfReader(io.BytesIO(pdf))


_SHARED_READERS = threading.Lock()  # a reader reads its stream lazily: one thread at a time


def concatenate(first, *shared):
    """One PDF: the pages of `first`, then those of the `shared` parts, in order (with their
    bookmarks), with the metadata (title, date) of `first`. pypdf copies the pages without
    laying anything out again. The shared parts are those joined to many documents (a call's
    general conditions, from cached_pdf): each is parsed once per process and kept."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(first)))
    with _SHARED_READERS:
        for part in shared:
            writer.append(_parsed(part))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
