"""Rules on text typed by users, shared by the forms (what is accepted), the exports and the
e-mails (what is written out) and the searches (how it is matched). One rule, one place:

- formula text: a spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage
  return (OWASP « CSV injection »); `looks_like_formula` says so for every writer (Excel, CSV)
  and for the form validator that refuses such names and titles at input;
- control characters (Unicode category C: C0/C1 controls, format characters, surrogates,
  private use, unassigned) and the Unicode line and paragraph separators (U+2028, U+2029):
  refused in every single-line field; multi-line text keeps its line breaks (those separators
  included) and tabs only; an e-mail header never carries any (`header_text`);
- LIKE patterns: what a person types is matched literally (`like_pattern`), « % » and « _ »
  included.
"""
import re
import unicodedata

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MULTILINE_ALLOWED = frozenset("\n\r\t\u2028\u2029")
LIKE_ESCAPE = "\\"


def looks_like_formula(value):
    """True when a spreadsheet could read this text as a formula (or a DDE command)."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS)


def csv_text(value):
    """A CSV cell that no spreadsheet runs: formula-looking text gets a leading apostrophe
    (OWASP's advice; the value stays readable, as in the Excel export where the same text is a
    plain string cell with a quote prefix). Other values are returned unchanged."""
    return "'" + value if looks_like_formula(value) else value


def is_control(char):
    """A control, format, surrogate, private-use or unassigned character (category C), or a
    line or paragraph separator (Zl, Zp): nothing a single line of text needs."""
    category = unicodedata.category(char)
    return category[0] == "C" or category in ("Zl", "Zp")


def control_characters(text, multiline=False):
    """The control characters (is_control) of text, in order, without repeats; line breaks and
    tabs are allowed in multi-line text."""
    found = []
    for char in text or "":
        if is_control(char) and not (multiline and char in MULTILINE_ALLOWED):
            if char not in found:
                found.append(char)
    return found


_SPACE_RUNS = re.compile(r" {2,}")


def header_text(value):
    """Text safe in an e-mail header: each run of control characters (CR, LF, tab, NUL...),
    with the spaces around it, becomes one space, and the ends are trimmed. Text without any is
    returned as it is."""
    text = str(value or "")
    if not control_characters(text):
        return text
    spaced = "".join(" " if is_control(char) else char for char in text)
    return _SPACE_RUNS.sub(" ", spaced).strip()


def like_pattern(text, prefix="%", suffix="%"):
    """A LIKE pattern that matches text literally (use with escape=LIKE_ESCAPE): « 100% » finds
    « 100% », not « 1000 »; « a_b » does not find « axb ». prefix/suffix are the wildcards
    around it (« % » for « contains », "" for « starts with »)."""
    escaped = (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
               .replace("_", LIKE_ESCAPE + "_"))
    return f"{prefix}{escaped}{suffix}"
