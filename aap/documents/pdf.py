"""PDF rendering with WeasyPrint: a pure function from a template and data to bytes."""
from pathlib import Path

from flask import render_template

STATIC = Path(__file__).resolve().parent.parent / "static"


def render_pdf(template, **context):
    """Render templates/documents/<template> (HTML + print CSS) to PDF bytes.

    Fonts (Marianne from the DSFR, DejaVu as fallback) are embedded by WeasyPrint.
    """
    from weasyprint import HTML

    html = render_template(f"documents/{template}", fonts_url=(STATIC / "dsfr" / "fonts").as_uri(), **context)
    return HTML(string=html, base_url=str(STATIC)).write_pdf()
