"""How the forms read and behave (issue 14, traps 1, 7, 9 and 10), as the server renders them:
radios and check boxes in DSFR markup, limited texts that say their limit and are refused —
never cut — past it, numeric keypads, amounts and counts with thousands separators, the
required fields marked one way, the attestation offered to the legal representative, the IBAN
rule and its hint saying the same thing, the dashboard alert's link, and the fingerprints
explained. The browser side (clicks, counters, 375 px) is in tests/e2e/test_form_usability.py."""
import re
from html import unescape
from html.parser import HTMLParser

import pytest

from aap.extensions import db
from aap.models import Application

from . import factories
from . import factories_applications as fa

SECTIONS = ("projet", "jeunes", "territoires", "attestation")
NNBSP = "\u202f"


def fresh(application):
    db.session.expire_all()
    return db.session.get(Application, application.id)


class Inputs(HTMLParser):
    """Every <input> of a page with the classes of the elements around it, and the labels' for."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "source", "col", "area", "base", "wbr"}

    def __init__(self, html):
        super().__init__()
        self.stack, self.inputs, self.label_for = [], [], set()
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input":
            self.inputs.append((attrs, [classes for _, classes in self.stack]))
        if tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        if tag not in self.VOID:
            self.stack.append((tag, attrs.get("class") or ""))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break


def choice_inputs(html):
    parsed = Inputs(html)
    return [(attrs, around, attrs.get("id") in parsed.label_for) for attrs, around in parsed.inputs
            if attrs.get("type") in ("radio", "checkbox")]


# --- trap 1: radios and check boxes -------------------------------------------------------------

@pytest.mark.parametrize("section", SECTIONS)
def test_every_radio_and_checkbox_of_the_application_is_a_dsfr_group_with_its_label(
        client, applicant, login_as, application, section):
    login_as(applicant)
    html = client.get(fa.section_url(application, section)).get_data(as_text=True)
    choices = choice_inputs(html)
    if section == "territoires":
        assert {a["value"] for a, _, _ in choices if a.get("name") == "scope"} == {"national", "regional", "local"}
    if section == "attestation":
        assert any(a.get("name") == "attest" for a, _, _ in choices)
    for attrs, around, labelled in choices:
        group = "fr-radio-group" if attrs["type"] == "radio" else "fr-checkbox-group"
        assert any(group in classes.split() for classes in around), (section, attrs)
        assert labelled, (section, attrs)
        # never a bulleted list inside a grey text field (the « Local » that could not be clicked)
        assert not any("fr-input" in classes.split() for classes in around), (section, attrs)
    if section == "territoires":
        radios = [around for attrs, around, _ in choices if attrs.get("name") == "scope"]
        assert all(any("fr-fieldset" in c.split() for c in around) for around in radios)
        assert re.search(r'<legend class="[^"]*fr-fieldset__legend[^"]*" id="scope-legend">Échelle du projet', html)


def test_a_radio_subclass_of_another_form_gets_the_same_markup(app):
    """The macro draws by class, not by class name: OptionalRadioField is a RadioField."""
    from flask import render_template_string
    from wtforms import Form, RadioField

    from aap.applications.forms import OptionalRadioField
    from aap.forms import select_choices

    class Sample(Form):
        plain = RadioField("Choix", choices=select_choices([("a", "A"), ("b", "B")]))

    class Derived(Form):
        plain = OptionalRadioField("Choix", choices=select_choices([("a", "A"), ("b", "B")]))

    template = '{% from "macros/forms.html" import field %}{{ field(form.plain) }}'
    with app.test_request_context():
        one = render_template_string(template, form=Sample())
        two = render_template_string(template, form=Derived())
    assert one == two and one.count('class="fr-radio-group"') == 2


# --- trap 7: limited texts ------------------------------------------------------------------------

def test_limited_fields_say_their_limit_and_have_no_maxlength(client, applicant, login_as, application):
    login_as(applicant)
    html = client.get(fa.section_url(application, "projet")).get_data(as_text=True)
    assert "maxlength" not in html.replace("data-maxlength", "")  # a browser would cut a pasted text
    assert re.search(r'<textarea[^>]*data-maxlength="3000"[^>]*name="summary"', html) or \
        re.search(r'<textarea[^>]*name="summary"[^>]*data-maxlength="3000"', html)
    assert f"3{NNBSP}000 caractères au maximum." in html
    assert f"10{NNBSP}000 caractères au maximum." in html and "255 caractères au maximum." in html
    assert 'id="summary-counter"' in html and 'aria-describedby="summary-messages summary-counter"' in html
    assert "data-autogrow" in html  # text areas grow with their content (app/forms.js)


def test_text_over_the_limit_is_refused_with_a_message_and_kept_whole(client, applicant, login_as, application):
    login_as(applicant)
    fa.post_section(client, application, "projet", {"title": "Un titre", "summary": "Court."})
    pasted = ("Le mentorat change des trajectoires. " * 200)[:5000]
    response = fa.post_section(client, application, "projet", {"title": "Un titre", "summary": pasted})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (f"Ce texte compte 5{NNBSP}000 caractères : 3{NNBSP}000 au maximum. "
            f"Raccourcissez-le de 2{NNBSP}000 caractères") in html
    kept = re.search(r'<textarea[^>]*name="summary"[^>]*>(?:\r?\n)?(.*?)</textarea>', html, re.S).group(1)
    assert len(kept) == 5000  # shown back whole, not cut
    assert fresh(application).summary == "Court."  # and nothing was saved

    answer = fa.autosave(client, application, "projet", {"title": "Un titre", "summary": pasted})
    assert answer.status_code == 422 and "3\u202f000 au maximum" in answer.get_json()["errors"]["summary"][0]
    assert fresh(application).summary == "Court."


def test_line_breaks_count_once_as_in_the_browser(client, applicant, login_as, application):
    login_as(applicant)
    lines = "\r\n".join(["x" * 99] * 30)  # 30 lines: 2,999 characters in the browser, 3,028 bytes of CRLF
    assert len(lines.replace("\r\n", "\n")) == 2999
    response = fa.post_section(client, application, "projet", {"summary": lines})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert len(fresh(application).summary) == 2999


# --- trap 9: keypads and thousands separators ------------------------------------------------------

def test_number_and_amount_fields_open_a_numeric_keypad(client, applicant, login_as, application):
    login_as(applicant)
    html = client.get(fa.section_url(application, "jeunes")).get_data(as_text=True)
    for name in ("young_count", "mentor_count", "age_min", "age_max"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        assert 'inputmode="numeric"' in tag, tag
    identity = client.get("/association").get_data(as_text=True)
    assert 'inputmode="decimal"' in re.search(r'<input[^>]*name="annual_budget"[^>]*>', identity).group(0)
    assert 'inputmode="numeric"' in re.search(r'<input[^>]*name="staff_count"[^>]*>', identity).group(0)


def test_an_amount_field_of_the_application_opens_the_decimal_keypad(app):
    from aap.applications.forms import MoneyField
    from aap.forms import AppForm

    class Sample(AppForm):
        amount = MoneyField("Montant")

    with app.test_request_context():
        assert 'inputmode="decimal"' in Sample(meta={"csrf": False}).amount()


def test_counts_are_shown_with_thousands_separators(client, applicant, login_as, call):
    application = factories.application(call, applicant.association, young_count=1500, mentor_count=1200)
    login_as(applicant)
    html = client.get(f"/candidatures/{application.id}").get_data(as_text=True)
    assert f">1{NNBSP}500</dd>" in html and f">1{NNBSP}200</dd>" in html and ">1500<" not in html


def test_the_departements_hint_does_not_depend_on_a_keyboard(client, applicant, login_as, application):
    login_as(applicant)
    html = client.get(fa.section_url(application, "territoires")).get_data(as_text=True)
    assert 'data-multi-search="département"' in html  # app/forms.js: filter and check boxes
    # The Ctrl hint only for the plain select, hidden once the list of check boxes replaces it.
    assert "<span data-nojs-hint> Maintenez la touche Ctrl (ou Cmd)" in html


# --- trap 10: the smaller things -------------------------------------------------------------------

def test_required_fields_are_marked_the_same_way(client, applicant, login_as, application):
    login_as(applicant)
    notice = "Les champs marqués d'un astérisque (*) sont obligatoires"
    for url in (fa.section_url(application, "projet"), "/association", "/association/banque"):
        html = client.get(url).get_data(as_text=True)
        assert notice in html, url
    projet = client.get(fa.section_url(application, "projet")).get_data(as_text=True)
    assert re.search(r'for="title">Titre du projet&nbsp;\*', projet)
    assert re.search(r'for="partners">Partenaires du projet\s*<span class="fr-hint-text">', projet)  # optional
    identity = client.get("/association").get_data(as_text=True)
    assert re.search(r'for="siret">Numéro SIRET&nbsp;\*', identity)
    assert re.search(r'for="acronym">Sigle\s*<span class="fr-hint-text">50 caractères', identity)  # optional
    assert "Facultatif." not in identity


def test_attestation_name_is_offered_to_the_legal_representative(client, applicant, login_as, application):
    association = applicant.association
    association.representative_name = "Claire Martin"
    db.session.commit()
    login_as(applicant)
    html = client.get(fa.section_url(application, "attestation")).get_data(as_text=True)
    assert re.search(r'<input[^>]*name="attestation_name"[^>]*value="Claire Martin"', html) or \
        re.search(r'<input[^>]*value="Claire Martin"[^>]*name="attestation_name"', html)
    assert not re.search(r'<input[^>]*checked[^>]*name="attest"', html)
    # Saving the page as offered attests nothing, and is not an error.
    response = fa.post_section(client, application, "attestation", {"attestation_name": "Claire Martin"})
    assert response.status_code == 303
    assert fresh(application).attestation_name is None
    # Ticking the box attests in the representative's name.
    fa.post_section(client, application, "attestation", {"attest": "y", "attestation_name": "Claire Martin"})
    assert fresh(application).attestation_name == "Claire Martin"


def test_a_typed_name_without_the_box_is_still_refused(client, applicant, login_as, application):
    applicant.association.representative_name = "Claire Martin"
    db.session.commit()
    login_as(applicant)
    response = fa.post_section(client, application, "attestation", {"attestation_name": "Paul Durand"})
    assert response.status_code == 200
    assert "Cochez la case pour attester sur l'honneur" in unescape(response.get_data(as_text=True))


GERMAN_IBAN = "DE89 3704 0044 0532 0130 00"
BRAZILIAN_IBAN = "BR15 0000 0000 0000 1093 2840 814P 2"


def test_iban_rule_and_hint_say_the_same_thing(client, applicant, login_as):
    login_as(applicant)
    page = client.get("/association/banque").get_data(as_text=True)
    assert "Tout compte de la zone SEPA" in page and "commençant par FR." not in page
    bank = {"bic": "COBADEFFXXX", "account_holder": "Réussir Ensemble", "password": factories.PASSWORD}
    refused = client.post_form("/association/banque", {**bank, "iban": BRAZILIAN_IBAN})
    assert refused.status_code == 200
    assert "un IBAN commençant par BR n'est pas accepté" in unescape(refused.get_data(as_text=True))
    accepted = client.post_form("/association/banque", {**bank, "iban": GERMAN_IBAN})
    assert accepted.status_code == 302
    db.session.expire_all()
    assert applicant.association.iban == "DE89370400440532013000"


def test_dashboard_alert_links_to_the_identity_form(client, applicant, login_as):
    login_as(applicant)
    html = client.get("/tableau-de-bord").get_data(as_text=True)
    alert = html[html.index("Complétez l'identité de votre association"):]
    alert = alert[:alert.index("</div>")]
    assert 'href="/association"' in alert


def test_fingerprints_are_explained_on_the_file_page(client, applicant, login_as, call):
    application = factories.application(call, applicant.association)
    login_as(applicant)
    html = client.get(f"/candidatures/{application.id}").get_data(as_text=True)
    assert "Empreinte numérique SHA-256 du dossier déposé" in html
    assert "Elle prouve que le contenu déposé n'a pas changé" in html
    assert "Empreinte numérique (SHA-256)" in html  # the pieces' column
