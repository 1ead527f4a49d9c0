"""French typography of the generated documents, one rule applied to every PDF (aap/documents/pdf.py):
a no-break space (U+00A0, « espace insécable ») inside French quotation marks, and a narrow
no-break space (U+202F, « espace fine insécable ») between a number and « % », so that
« ci-après « l'association » » never leaves a « at the end of a line and « 21 % » never breaks
between the number and the sign.

The rule runs on the text of the HTML only: tags, attributes and the <style> sheet are untouched.
"""
import re

NBSP, NNBSP = "\u00a0", "\u202f"
_SPACES = "[ \u00a0\u202f]*"
_OPENING = re.compile("«" + _SPACES)
_CLOSING = re.compile(_SPACES + "»")
_PERCENT = re.compile(r"(\d)" + _SPACES + "%")
_MARKUP = re.compile(r"(<style\b.*?</style>|<[^>]*>)", re.IGNORECASE | re.DOTALL)


def french_spacing(text):
    """Plain text with the spacing rule applied: « 21 % », « texte »."""
    text = _OPENING.sub("«" + NBSP, text)
    text = _CLOSING.sub(NBSP + "»", text)
    return _PERCENT.sub(r"\1" + NNBSP + "%", text)


def french_spacing_html(html):
    """The HTML of a document with french_spacing applied to its text nodes."""
    parts = _MARKUP.split(html)
    return "".join(part if index % 2 else french_spacing(part) for index, part in enumerate(parts))
