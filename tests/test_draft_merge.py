"""Saving drafts without losing or overwriting anything (issue 14, traps 2 and 6).

Two pages of the same draft: each saves only the fields it changed (a three-way merge against
the values the page loaded, which it carries as digests); a conflict arises only on a field both
changed, shows both texts and lets the user choose; nothing newer is overwritten by a person, a
full « Enregistrer » post or an autosave. One invalid field no longer blocks its step: the valid
fields are saved, the invalid ones are shown with their message; French numbers (« 25,5 »,
« 1 234,50 € ») are read in one place (aap/numbers.py).
"""
from html.parser import HTMLParser

import pytest

from aap import numbers
from aap.applications import deposits, drafts
from aap.extensions import db
from aap.models import Application, Event

from . import factories_applications as fa
from .conftest import login

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.fixture
def application(call, applicant):
    return fa.draft(call, applicant.association)


def fresh(application):
    db.session.expire_all()
    return db.session.get(Application, application.id)


class FormReader(HTMLParser):
    """The fields of the section form (#section-form) as a browser would post them, with the
    inputs outside it that belong to it (form="section-form")."""

    def __init__(self):
        super().__init__()
        self.fields, self.radios = [], {}
        self.inside = False
        self.textarea = None
        self.select = None

    def _ours(self, attrs):
        return self.inside or attrs.get("form") == "section-form"

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "section-form":
            self.inside = True
        elif tag == "input" and self._ours(attrs) and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind == "radio":
                self.radios.setdefault(attrs["name"], []).append(attrs.get("value"))
                if "checked" in attrs:
                    self.fields.append((attrs["name"], attrs.get("value", "")))
            elif kind == "checkbox":
                if "checked" in attrs:
                    self.fields.append((attrs["name"], attrs.get("value", "y")))
            elif kind not in ("submit", "button", "file"):
                self.fields.append((attrs["name"], attrs.get("value", "")))
        elif tag == "textarea" and self._ours(attrs):
            self.textarea = [attrs["name"], ""]
        elif tag == "select" and self._ours(attrs):
            self.select = attrs["name"]
        elif tag == "option" and self.select and "selected" in attrs:
            self.fields.append((self.select, attrs.get("value", "")))

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea[0], self.textarea[1].removeprefix("\n")))
            self.textarea = None
        elif tag == "select":
            self.select = None


class Page:
    """One browser tab showing a section of a draft: what it loaded, what the user types in it."""

    def __init__(self, client, application, section):
        self.client, self.application, self.section = client, application, section
        self.load()

    def load(self, html=None):
        if html is None:
            html = self.client.get(fa.section_url(self.application, self.section)).get_data(as_text=True)
        self.html = html
        reader = FormReader()
        reader.feed(html)
        self.values = {}
        for name, value in reader.fields:
            if name in self.values:
                previous = self.values[name]
                self.values[name] = (previous if isinstance(previous, list) else [previous]) + [value]
            else:
                self.values[name] = value
        self.radios = reader.radios

    def post(self, action="enregistrer"):
        data = {k: v for k, v in self.values.items() if k != "csrf_token"}
        data["action"] = action
        response = self.client.post_form(fa.section_url(self.application, self.section), data)
        if response.status_code == 200:
            self.load(response.get_data(as_text=True))
        elif response.status_code == 303:
            self.load()  # the browser follows the redirect to the page saved
        return response

    def autosave(self):
        data = {k: v for k, v in self.values.items() if k != "csrf_token"}
        return self.client.post(fa.section_url(self.application, self.section) + "/brouillon", data=data,
                                headers={"X-CSRFToken": self.client.csrf_token(), "Accept": "application/json"})

    def follow(self, answer):
        """What autosave.js does with an answer: new version and bases, values put back."""
        body = answer.json
        self.values["version"] = str(body["version"])
        for name, digest in body.get("bases", {}).items():
            self.values[f"base-{name}"] = digest
        for name, item in {**body.get("replace", {}), **body.get("refresh", {})}.items():
            self.values.update(item["values"])
            self.values[f"base-{name}"] = item["base"]
        for name in list(self.values):
            if name.startswith(("choix-", "vu-")):
                del self.values[name]


@pytest.fixture
def two_members(app, applicant):
    colleague = fa.member(applicant.association)
    alice, karim = app.test_client(), app.test_client()
    login(alice, applicant)
    login(karim, colleague)
    return alice, karim


# --- trap 2: two pages of the same draft --------------------------------------------------------

def test_two_pages_changing_different_fields_both_keep_their_change(two_members, application):
    alice, karim = two_members
    tab_a = Page(alice, application, "projet")
    tab_b = Page(karim, application, "projet")

    tab_a.values["partners"] = "Missions locales de Lyon et de Villeurbanne"
    assert tab_a.post().status_code == 303
    tab_b.values["mentor_follow_up"] = "Un point mensuel avec chaque binôme."
    response = tab_b.post()

    # B is not told that someone changed « Partenaires », which it never touched...
    assert response.status_code == 303, "Un autre membre" in response.get_data(as_text=True)
    saved = fresh(application)
    # ... and its full post did not put back the old « Partenaires ».
    assert saved.partners == "Missions locales de Lyon et de Villeurbanne"
    assert saved.mentor_follow_up == "Un point mensuel avec chaque binôme."
    last = db.session.scalars(db.select(Event).where(Event.action == "draft_saved").order_by(Event.id.desc())).first()
    assert last.details["fields"] == ["mentor_follow_up"]


def test_a_page_that_changed_nothing_never_writes_however_old(two_members, application):
    alice, karim = two_members
    old_page = Page(karim, application, "projet")
    for text in ("Premier", "Deuxième", "Troisième"):
        tab = Page(alice, application, "projet")
        tab.values["title"] = text
        assert tab.post().status_code == 303
    version = fresh(application).version
    assert old_page.post().status_code == 303
    assert old_page.autosave().json["ok"] is True
    saved = fresh(application)
    assert saved.title == "Troisième" and saved.version == version


def test_same_field_changed_on_both_pages_is_a_conflict_with_both_texts(two_members, application, applicant):
    alice, karim = two_members
    tab_a = Page(alice, application, "projet")
    tab_b = Page(karim, application, "projet")
    tab_a.values["partners"] = "La mission locale"
    assert tab_a.post().status_code == 303

    tab_b.values["partners"] = "Les entreprises du bassin"
    tab_b.values["mentor_training"] = "Deux jours de formation initiale."
    response = tab_b.post()
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Un autre membre de l'association a modifié le même champ que vous" in html
    assert "Partenaires du projet" in html
    assert "La mission locale" in html and "Les entreprises du bassin" in html
    assert f"Garder la version enregistrée par {applicant.full_name}" in html
    assert "Garder ma saisie" in html
    # Nothing was overwritten; B's other change is saved.
    saved = fresh(application)
    assert saved.partners == "La mission locale"
    assert saved.mentor_training == "Deux jours de formation initiale."
    assert "vos autres modifications sont enregistrées" in html

    # Saving again without choosing changes nothing: the conflict is shown again.
    response = tab_b.post()
    assert response.status_code == 200 and fresh(application).partners == "La mission locale"

    # B chooses its own text, having seen A's: it is saved.
    tab_b.values["choix-partners"] = drafts.MINE
    assert tab_b.post().status_code == 303
    assert fresh(application).partners == "Les entreprises du bassin"


def test_choosing_the_stored_version_keeps_it(two_members, application):
    alice, karim = two_members
    tab_a = Page(alice, application, "projet")
    tab_b = Page(karim, application, "projet")
    tab_a.values["partners"] = "La mission locale"
    tab_a.post()
    tab_b.values["partners"] = "Les entreprises du bassin"
    tab_b.post()
    tab_b.values["choix-partners"] = drafts.THEIRS
    assert tab_b.post().status_code == 303
    assert fresh(application).partners == "La mission locale"
    # The page shown after the save has A's text.
    assert "La mission locale</textarea>" in Page(karim, application, "projet").html


def test_a_choice_applies_only_to_the_version_shown(two_members, application, app, applicant):
    alice, karim = two_members
    tab_a = Page(alice, application, "projet")
    tab_b = Page(karim, application, "projet")
    tab_a.values["partners"] = "Version 1"
    tab_a.post()
    tab_b.values["partners"] = "Version de Karim"
    tab_b.post()  # conflict shown with « Version 1 »
    tab_a.values["partners"] = "Version 2"
    tab_a.post()  # A changes it again meanwhile
    tab_b.values["choix-partners"] = drafts.MINE
    response = tab_b.post()
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Version 2" in html
    assert fresh(application).partners == "Version 2"


def test_autosave_merges_field_by_field_and_refreshes_untouched_fields(two_members, application):
    alice, karim = two_members
    tab_a = Page(alice, application, "projet")
    tab_b = Page(karim, application, "projet")
    tab_a.values["partners"] = "La mission locale"
    assert tab_a.autosave().json["ok"] is True

    tab_b.values["mentor_follow_up"] = "Un point mensuel."
    answer = tab_b.autosave()
    assert answer.status_code == 200 and answer.json["ok"] is True
    assert "conflict" not in answer.json and answer.json["saved"] == ["mentor_follow_up"]
    # B's page is told A's « Partenaires », to show it (the field was untouched in B).
    assert answer.json["refresh"]["partners"]["values"] == {"partners": "La mission locale"}
    saved = fresh(application)
    assert saved.partners == "La mission locale" and saved.mentor_follow_up == "Un point mensuel."

    # A's next autosave (its « Suivi » untouched) does not put the old one back.
    tab_a.values["objectives"] = "Des objectifs précis."
    assert tab_a.autosave().json["ok"] is True
    assert fresh(application).mentor_follow_up == "Un point mensuel."


def test_autosave_conflict_answers_both_texts_and_the_choice_settles_it(two_members, application, applicant):
    alice, karim = two_members
    tab_a = Page(alice, application, "projet")
    tab_b = Page(karim, application, "projet")
    tab_a.values["partners"] = "La mission locale"
    tab_a.autosave()
    tab_b.values["partners"] = "Les entreprises"
    tab_b.values["objectives"] = "Objectifs de Karim."
    answer = tab_b.autosave()
    assert answer.status_code == 409 and answer.json["conflict"] is True
    [conflict] = answer.json["fields"]
    assert conflict["name"] == "partners" and conflict["label"] == "Partenaires du projet"
    assert conflict["theirs"] == "La mission locale" and conflict["yours"] == "Les entreprises"
    assert conflict["by"] == applicant.full_name
    assert answer.json["saved"] == ["objectives"]
    assert fresh(application).partners == "La mission locale"
    assert fresh(application).objectives == "Objectifs de Karim."

    tab_b.follow(answer)
    tab_b.values.update({"choix-partners": drafts.THEIRS, "vu-partners": conflict["seen"]})
    settled = tab_b.autosave()
    assert settled.status_code == 200 and settled.json["ok"] is True
    assert settled.json["replace"]["partners"]["values"] == {"partners": "La mission locale"}
    assert fresh(application).partners == "La mission locale"


def test_a_page_without_bases_falls_back_on_its_version(two_members, application):
    """Pages opened before this change post no base: fields saved since their version by others
    are conflicts only if the page changed them."""
    alice, karim = two_members
    start = fresh(application).version
    assert fa.post_section(alice, application, "projet", {"partners": "Version d'Alice"},
                           version=start).status_code == 303
    response = fa.post_section(karim, application, "projet", {"partners": "Version de Karim"}, version=start)
    assert response.status_code == 200 and fresh(application).partners == "Version d'Alice"


# --- trap 6: one invalid field does not block its step -------------------------------------------

def test_autosave_of_a_step_with_one_invalid_field_saves_the_others(client, applicant, login_as, application):
    login_as(applicant)
    page = Page(client, application, "jeunes")
    page.values.update({"young_count": "25,5", "mentor_count": "1 200", "share_qpv": "25,5",
                        "share_zrr": f"12,25{NBSP}%", "age_min": "15"})
    answer = page.autosave()
    assert answer.status_code == 422
    assert answer.json["errors"] == {
        "young_count": ["Saisissez un nombre entier, sans virgule (par exemple 25 et non 25,5)."]}
    assert sorted(answer.json["saved"]) == ["age_min", "mentor_count", "share_qpv", "share_zrr"]
    assert "sauf les champs signalés" in answer.json["saved_at_label"]
    saved = fresh(application)
    assert saved.young_count == 300  # the stored value stays
    assert saved.mentor_count == 1200 and saved.share_qpv == 25.5 and saved.share_zrr == 12.25
    assert saved.age_min == 15


def test_full_save_with_one_invalid_field_saves_the_others_and_keeps_the_typed_text(client, applicant, login_as,
                                                                                     application):
    login_as(applicant)
    page = Page(client, application, "jeunes")
    page.values.update({"young_count": "25,5", "share_ase": "7,5"})
    response = page.post()
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Saisissez un nombre entier, sans virgule (par exemple 25 et non 25,5)." in html
    assert 'value="25,5"' in html  # the typed text is shown back
    assert "Les autres champs sont enregistrés" in html and "Le champ signalé ne l’est pas" in html
    assert fresh(application).share_ase == 7.5 and fresh(application).young_count == 300
    # The page shown again carries the new base of the saved field: saving it again is no change.
    page.values["young_count"] = "26"
    assert page.post().status_code == 303
    saved = fresh(application)
    assert saved.young_count == 26 and saved.share_ase == 7.5


def test_decimal_percentages_are_shown_the_french_way(client, applicant, login_as, application):
    login_as(applicant)
    assert fa.post_section(client, application, "jeunes", {"share_qpv": "33,33"}).status_code == 303
    assert fresh(application).share_qpv == 33.33
    assert 'value="33,33"' in client.get(fa.section_url(application, "jeunes")).get_data(as_text=True)
    assert f"33,33{NBSP}%" in client.get(f"/candidatures/{application.id}").get_data(as_text=True)
    # Whole percentages stay whole numbers (snapshots and fingerprints unchanged).
    assert fresh(application).share_zrr == 10 and isinstance(fresh(application).share_zrr, int)
    snapshot = deposits.build_snapshot(fresh(application))
    assert snapshot["sections"]["jeunes"]["share_qpv"] == 33.33
    deposits.canonical_json(snapshot)


@pytest.mark.parametrize("typed,message", [
    ("25,555", "2 décimales au plus"),
    ("beaucoup", "nombre en chiffres"),
    ("120", "entre 0 et 100"),
])
def test_bad_percentages_are_refused_in_french(client, applicant, login_as, application, typed, message):
    login_as(applicant)
    answer = fa.autosave(client, application, "jeunes", {"share_dropout": typed})
    assert message in answer.json["errors"]["share_dropout"][0]
    assert fresh(application).share_dropout == 20


@pytest.mark.parametrize("typed", ["1 234,50", f"1{NBSP}234,50{NBSP}€", f"1{NNBSP}234,50 €", "1234.5", "1 234,50€"])
def test_amounts_take_spaces_and_decimal_commas(typed):
    from aap import money

    assert money.parse_euros(typed) == 123450


def test_french_numbers_are_parsed_in_one_place():
    from decimal import Decimal

    assert numbers.parse_decimal("25,5") == Decimal("25.5")
    assert numbers.parse_decimal(f"1{NNBSP}234,50{NBSP}€", unit="€") == Decimal("1234.50")
    assert numbers.parse_decimal("12,340") == Decimal("12.340")  # two decimals, written with three
    assert numbers.parse_decimal("  ") is None
    assert numbers.parse_integer(f"1{NBSP}200") == 1200
    for text, reason in [("25,5", "decimals"), ("douze", "format"), ("1e5", "format")]:
        with pytest.raises(numbers.NumberError) as error:
            numbers.parse_integer(text)
        assert error.value.reason == reason
    for text, reason in [("1,234", "decimals"), ("NaN", "format"), ("-3", "negative"), ("1_000", "format")]:
        with pytest.raises(numbers.NumberError) as error:
            numbers.parse_decimal(text, places=2)
        assert error.value.reason == reason
    assert numbers.format_decimal(25.5) == "25,5" and numbers.format_decimal(40.0) == "40"


def test_the_same_person_in_two_tabs_is_told_it_was_their_other_tab(client, applicant, login_as, application):
    login_as(applicant)
    tab_a = Page(client, application, "projet")
    tab_b = Page(client, application, "projet")
    tab_a.values["partners"] = "Depuis l'onglet A"
    tab_a.post()
    tab_b.values["partners"] = "Depuis l'onglet B"
    html = tab_b.post().get_data(as_text=True)
    assert "Vous avez modifié ce champ aussi dans un autre onglet" in html
    assert "Garder la version enregistrée depuis votre autre onglet" in html
    assert "Un autre membre" not in html
    assert fresh(application).partners == "Depuis l'onglet A"
