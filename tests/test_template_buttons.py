"""DSFR button groups in every template: an icon button (`fr-btn fr-icon-…`) inside a
`fr-btns-group` keeps its label only when the group says where icons go
(`fr-btns-group--icon-left` or `--icon-right`); without it, DSFR squeezes the button to its icon
and its label disappears. A button placed `fr-btn--icon-left` needs a group `--icon-left`, one
placed `--icon-right` a group `--icon-right`. The header's tool links are DSFR's own exception."""
from html.parser import HTMLParser
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Groups(HTMLParser):
    """Reads a template as HTML (Jinja tags are text to it) and lists the icon buttons of groups
    that squeeze them: [(line, button's classes, group's classes)]."""

    def __init__(self):
        super().__init__()
        self.open = []  # (tag, classes) of the elements open here
        self.problems = []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if "fr-btn" in classes and any(name.startswith("fr-icon-") for name in classes):
            self._check(classes)
        if tag not in VOID:
            self.open.append((tag, classes))

    def _check(self, classes):
        if any("fr-header__tools-links" in outer for _tag, outer in self.open):
            return
        group = next((outer for _tag, outer in reversed(self.open) if "fr-btns-group" in outer), None)
        if group is None:
            return
        sides = [side for side in ("left", "right") if f"fr-btn--icon-{side}" in classes]
        needed = [f"fr-btns-group--icon-{side}" for side in sides] or ["fr-btns-group--icon-left",
                                                                       "fr-btns-group--icon-right"]
        if not any(name in group for name in needed):
            self.problems.append((self.getpos()[0], " ".join(classes), " ".join(group)))

    def handle_endtag(self, tag):
        if all(open_tag != tag for open_tag, _classes in self.open):
            return  # a stray end tag (or one HTML closes implicitly): ignored
        while self.open and self.open.pop()[0] != tag:
            pass


def squeezed_buttons(text):
    parser = _Groups()
    parser.feed(text)
    parser.close()
    return parser.problems


@pytest.mark.parametrize("snippet, expected", [
    # the /pilotage exports before the fix
    ('<ul class="fr-btns-group fr-btns-group--inline-md">\n  <li><a class="fr-btn fr-btn--secondary '
     'fr-icon-download-line fr-btn--icon-left" href="{{ url }}">Télécharger en CSV</a></li>\n</ul>', 1),
    ('<ul class="fr-btns-group fr-btns-group--icon-left"><li><form method="post">{% if x %}<p>{% endif %}'
     '<button class="fr-btn fr-icon-add-line fr-btn--icon-right">Ajouter</button></form></li></ul>', 1),
    ('<div class="fr-btns-group fr-btns-group--sm"><a class="fr-btn fr-icon-add-line">Ajouter</a></div>', 1),
    ('<ul class="fr-btns-group fr-btns-group--icon-left"><li><a class="fr-btn fr-icon-add-line '
     'fr-btn--icon-left" href="#">Ajouter</a></li></ul>', 0),
    ('<ul class="fr-btns-group fr-btns-group--icon-right"><li><a class="fr-btn fr-icon-add-line '
     'fr-btn--icon-right" href="#">Suivant</a></li></ul>', 0),
    ('<ul class="fr-btns-group"><li><a class="fr-btn" href="#">Annuler</a></li></ul>'
     '<p><a class="fr-btn fr-icon-add-line fr-btn--icon-left" href="#">Hors groupe</a></p>', 0),
    ('<div class="fr-header__tools-links"><ul class="fr-btns-group"><li><a class="fr-btn fr-icon-lock-line" '
     'href="#">Se connecter</a></li></ul></div>', 0),
])
def test_the_check_finds_a_squeezed_icon_button(snippet, expected):
    assert len(squeezed_buttons(snippet)) == expected


def test_no_template_squeezes_an_icon_button_in_a_group():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for line, button, group in squeezed_buttons(path.read_text(encoding="utf-8")):
            found.append(f"{path.relative_to(TEMPLATES)}:{line}: « {button} » in « {group} »")
    assert not found, "\n".join(found)
