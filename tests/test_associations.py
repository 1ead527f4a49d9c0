"""The association's identity, bank details and members, through HTTP and through the services."""
import html as htmllib
import json
import re
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from itsdangerous import URLSafeTimedSerializer
from stdnum import iban as std_iban

from aap.associations import services
from aap.extensions import db
from aap.models import Association, Event, User

from . import factories
from .conftest import count_queries, login


def new_client(app):
    """Another browser: its own cookies."""
    return app.test_client()


class FormReader(HTMLParser):
    """The value of each input/select and the error messages of each field of a page."""

    def __init__(self, html):
        super().__init__()
        self.values, self.messages = {}, {}
        self._messages_of = self._select = None
        self._depth = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("id"):
            self.values[attrs["id"]] = attrs.get("value", "")
        elif tag == "select":
            self._select = attrs.get("id")
            self.values[self._select] = None
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value")
        if tag == "div" and attrs.get("id", "").endswith("-messages"):
            self._messages_of = attrs["id"][: -len("-messages")]
            self.messages[self._messages_of] = ""
            self._depth = 1
        elif tag == "div" and self._messages_of:
            self._depth += 1

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "div" and self._messages_of:
            self._depth -= 1
            if self._depth == 0:
                self._messages_of = None

    def handle_data(self, data):
        if self._messages_of:
            self.messages[self._messages_of] += data


def text(response):
    return htmllib.unescape(response.get_data(as_text=True))


def page(response):
    return FormReader(response.get_data(as_text=True))


VALID_IDENTITY = {
    "name": "Réussir Ensemble", "acronym": "RE", "legal_form": "association_1901",
    "rna": "W691234567", "siret": "732 829 320 00074", "address": "12 rue de la République",
    "postal_code": "69001", "commune": "Lyon", "departement_code": "",
    "representative_name": "Claire Martin", "representative_function": "Présidente",
    "contact_email": "contact@example.org", "phone": "04 72 00 00 00", "creation_date": "2010-05-17",
    "staff_count": "12", "volunteer_count": "80", "annual_budget": "850 000,50",
}
IBAN = "FR7630006000011234567890189"
OTHER_IBAN = "FR1420041010050500013M02606"


def tomorrow_paris():
    return (services.today_paris() + timedelta(days=1)).isoformat()


# ---------------------------------------------------------------------------------------------
# Identity: validation

BAD_IDENTITY_VALUES = [
    ("siret", "73282932000075", "la clé de contrôle ne correspond pas"),
    ("siret", "7328293200007", "doit comporter 14 chiffres"),
    ("rna", "W12345678", "W suivi de 9 chiffres"),
    ("rna", "X123456789", "W suivi de 9 chiffres"),
    ("postal_code", "99999", "ne correspond à aucun département"),
    ("postal_code", "6900", "comporte 5 chiffres"),
    ("staff_count", "-3", "nombre entier positif ou nul"),
    ("volunteer_count", "douze", "nombre entier positif ou nul"),
    ("staff_count", "2000000", "trop élevé"),
    ("annual_budget", "beaucoup", "Saisissez un montant en euros"),
    ("annual_budget", "-100", "ne peut pas être négatif"),
    ("creation_date", "TOMORROW", "ne peut pas être dans le futur"),
    ("creation_date", "31/02/2010", "Saisissez une date valide"),
    ("contact_email", "contact@", "adresse e-mail valide"),
    ("phone", "appelez-moi", "numéro de téléphone valide"),
    ("name", "", "Saisissez le nom de l'association"),
]


@pytest.mark.parametrize("field, value, message", BAD_IDENTITY_VALUES,
                         ids=[f"{f}={v or 'vide'}" for f, v, _ in BAD_IDENTITY_VALUES])
def test_identity_bad_value_has_french_message_next_to_field_and_keeps_input(
        client, applicant, login_as, field, value, message):
    value = tomorrow_paris() if value == "TOMORROW" else value
    login_as(applicant)
    response = client.post_form("/association", {**VALID_IDENTITY, field: value})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    form = page(response)
    assert message in form.messages[field]
    assert 'id="resume-erreurs"' in html and f'href="#{field}"' in html
    # What was typed stays: the wrong value and every other field.
    assert form.values[field] == value
    assert form.values["commune"] == "Lyon" and form.values["annual_budget" if field != "annual_budget" else "rna"]
    assert form.values["siret" if field != "siret" else "rna"] in ("732 829 320 00074", "73282932000074", "W691234567")
    # Nothing was saved.
    db.session.expire_all()
    assert applicant.association.siret is None and applicant.association.commune == ""
    assert db.session.scalar(db.select(Event).where(Event.action == "association_updated")) is None


def test_identity_bad_choices_are_refused_in_french(client, applicant, login_as):
    login_as(applicant)
    response = client.post_form("/association", {**VALID_IDENTITY, "legal_form": "sarl", "departement_code": "99"})
    form = page(response)
    assert "Choisissez une forme juridique" in form.messages["legal_form"]
    assert "Choisissez un département" in form.messages["departement_code"]


def test_identity_all_errors_at_once_every_value_kept(client, applicant, login_as):
    login_as(applicant)
    bad = {**VALID_IDENTITY, "siret": "12345678901234", "rna": "X123456789", "postal_code": "99999",
           "staff_count": "-1", "annual_budget": "beaucoup", "creation_date": tomorrow_paris(),
           "commune": "Lyon 1er"}
    response = client.post_form("/association", bad)
    html = response.get_data(as_text=True)
    form = page(response)
    for name in ("siret", "rna", "postal_code", "staff_count", "annual_budget", "creation_date"):
        assert form.messages[name].strip(), name
        assert form.values[name] == bad[name], name
    assert form.values["commune"] == "Lyon 1er"
    assert form.values["representative_name"] == "Claire Martin"
    assert "Le formulaire contient 6 erreurs" in html


# ---------------------------------------------------------------------------------------------
# Identity: saving and derived values

def test_identity_saved_with_derived_siren_departement_region_and_event(client, applicant, login_as):
    login_as(applicant)
    response = client.post_form("/association", VALID_IDENTITY)
    assert response.status_code == 302 and response.headers["Location"].endswith("/association")
    association = db.session.get(Association, applicant.association_id)
    db.session.refresh(association)
    assert association.siret == "73282932000074" and association.siren == "732829320"
    assert association.rna == "W691234567"
    assert (association.departement_code, association.region_code) == ("69", "84")
    assert association.creation_date == date(2010, 5, 17)
    assert (association.staff_count, association.volunteer_count) == (12, 80)
    assert association.annual_budget_cents == 850_000_50
    assert association.representative_name == "Claire Martin"
    event = db.session.scalar(db.select(Event).where(Event.action == "association_updated"))
    assert event.actor_id == applicant.id and event.association_id == association.id
    assert {"siret", "rna", "postal_code", "departement_code", "region_code", "annual_budget_cents"} <= set(
        event.details["fields"])
    assert "name" not in event.details["fields"]  # unchanged

    html = client.get("/association").get_data(as_text=True)
    assert "SIREN enregistré : 732829320" in html
    assert "Rhône (69)" in html and "Auvergne-Rhône-Alpes" in html
    form = FormReader(html)
    assert form.values["annual_budget"] == "850000,50" and form.values["departement_code"] == ""

    # Saving again without change records nothing.
    client.post_form("/association", VALID_IDENTITY)
    assert len(db.session.scalars(db.select(Event).where(Event.action == "association_updated")).all()) == 1


@pytest.mark.parametrize("postal_code, departement, region", [
    ("20000", "2A", "94"), ("20200", "2B", "94"), ("97400", "974", "04"), ("97600", "976", "06"),
    ("75015", "75", "11")])
def test_departement_and_region_derived_from_postal_code(client, applicant, login_as, postal_code,
                                                         departement, region):
    login_as(applicant)
    response = client.post_form("/association", {**VALID_IDENTITY, "postal_code": postal_code})
    assert response.status_code == 302
    association = db.session.get(Association, applicant.association_id)
    db.session.refresh(association)
    assert (association.postal_code, association.departement_code, association.region_code) == (
        postal_code, departement, region)


def test_explicit_departement_overrides_postal_code_and_region_follows(client, applicant, login_as):
    login_as(applicant)
    # 05110: a postal code of the Hautes-Alpes also used by communes of the Alpes-de-Haute-Provence.
    response = client.post_form("/association", {**VALID_IDENTITY, "postal_code": "05110",
                                                 "commune": "Curbans", "departement_code": "04"})
    assert response.status_code == 302
    association = db.session.get(Association, applicant.association_id)
    db.session.refresh(association)
    assert (association.departement_code, association.region_code) == ("04", "93")
    assert page(client.get("/association")).values["departement_code"] == "04"
    # Back to automatic: derived from the postal code again.
    client.post_form("/association", {**VALID_IDENTITY, "postal_code": "20000", "departement_code": ""})
    db.session.refresh(association)
    assert (association.departement_code, association.region_code) == ("2A", "94")


# ---------------------------------------------------------------------------------------------
# Bank details

VALID_BANK = {"iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "AGRIFRPP", "account_holder": "Réussir Ensemble",
              "password": factories.PASSWORD}  # a change of bank details is confirmed with the password
BAD_BANK_VALUES = [
    ("iban", "FR7630006000011234567890188", "la clé de contrôle ne correspond pas"),
    ("iban", "1234567890", "commencer par le code pays"),
    ("iban", "", "Saisissez l'IBAN"),
    ("bic", "BNP", "8 ou 11 caractères"),
    ("bic", "12345678", "8 ou 11 caractères"),
    ("account_holder", "", "Saisissez le titulaire"),
]


@pytest.mark.parametrize("field, value, message", BAD_BANK_VALUES,
                         ids=[f"{f}={v or 'vide'}" for f, v, _ in BAD_BANK_VALUES])
def test_bank_bad_value_has_french_message_and_keeps_input(client, applicant, login_as, field, value, message):
    login_as(applicant)
    response = client.post_form("/association/banque", {**VALID_BANK, field: value})
    assert response.status_code == 200
    form = page(response)
    assert message in form.messages[field]
    assert form.values[field] == value
    other = "bic" if field != "bic" else "iban"
    assert form.values[other] == VALID_BANK[other]
    assert 'id="resume-erreurs"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert applicant.association.iban is None
    assert db.session.scalar(db.select(Event).where(Event.action == "bank_details_changed")) is None


def test_bank_changes_recorded_with_masked_iban_and_shown_grouped(client, applicant, login_as):
    assert std_iban.is_valid(OTHER_IBAN)
    login_as(applicant)
    assert client.post_form("/association/banque", VALID_BANK).status_code == 302
    association = db.session.get(Association, applicant.association_id)
    db.session.refresh(association)
    assert (association.iban, association.bic, association.account_holder) == (IBAN, "AGRIFRPP", "Réussir Ensemble")

    assert client.post_form("/association/banque", {**VALID_BANK, "iban": OTHER_IBAN.lower(),
                                                     "bic": "PSSTFRPPXXX"}).status_code == 302
    events = db.session.scalars(db.select(Event).where(Event.action == "bank_details_changed")
                                .order_by(Event.id)).all()
    assert len(events) == 2
    first, second = (event.details for event in events)
    assert first["old_iban"] is None and first["new_iban"] == "*" * 23 + "0189"
    assert second["old_iban"] == "*" * 23 + "0189" and second["new_iban"] == "*" * 23 + "2606"
    assert (second["old_bic"], second["new_bic"]) == ("AGRIFRPP", "PSSTFRPPXXX")
    assert all(event.actor_id == applicant.id for event in events)
    stored = json.dumps([e.details for e in events])
    for full in (IBAN, OTHER_IBAN, "30006000011234567890", "20041010050500013M"):
        assert full not in stored

    html = client.get("/association/banque").get_data(as_text=True)
    assert "FR14 2004 1010 0505 0001 3M02 606" in html  # stored, grouped by 4
    assert "FR76 3000 6000 0112 3456 7890 189" not in html  # the old IBAN only masked in the history
    assert "IBAN se terminant par 0189 → se terminant par 2606" in html
    assert "BIC AGRIFRPP → PSSTFRPPXXX" in html


def test_bank_details_only_for_members_and_staff(app, client, applicant, other_applicant, reviewer, staff,
                                                 admin, login_as):
    factories.complete_identity(applicant.association)
    association_id = applicant.association_id
    grouped = "FR76 3000 6000 0112 3456 7890 189"

    login_as(other_applicant)
    own = client.get("/association/banque")
    assert own.status_code == 200 and grouped not in own.get_data(as_text=True)
    assert client.get(f"/instruction/associations/{association_id}").status_code == 403
    client.post_form("/deconnexion")

    login_as(reviewer)
    assert client.get(f"/instruction/associations/{association_id}").status_code == 403
    assert client.get("/association/banque").status_code == 403
    client.post_form("/deconnexion")

    for user in (staff, admin):
        viewer = new_client(app)
        login(viewer, user)
        response = viewer.get(f"/instruction/associations/{association_id}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert grouped in html and "AGRIFRPP" in html and "73282932000074" in html
        assert "Auvergne-Rhône-Alpes" in html and "Réussir Ensemble" in html
        assert viewer.get("/instruction/associations/999999").status_code == 404

    anonymous = new_client(app)
    response = anonymous.get(f"/instruction/associations/{association_id}")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


@pytest.mark.parametrize("url", ["/association", "/association/banque", "/association/membres"])
def test_association_pages_are_for_applicants_only(app, client, reviewer, staff, admin, url):
    for user in (reviewer, staff, admin):
        viewer = new_client(app)
        login(viewer, user)
        assert viewer.get(url).status_code == 403, (user.role, url)
        assert viewer.post_form(url, {"name": "X", "email": "x@example.org"}).status_code == 403
    response = new_client(app).get(url)
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_applicant_without_association_gets_404(client, login_as):
    lonely = factories.user("applicant", email="seul@example.org")
    login_as(lonely)
    assert client.get("/association").status_code == 404
    assert client.get("/association/banque").status_code == 404


def test_forms_need_the_csrf_token(client, applicant, login_as):
    login_as(applicant)
    assert client.post("/association", data=VALID_IDENTITY).status_code == 400
    assert client.post("/association/banque", data=VALID_BANK).status_code == 400


# ---------------------------------------------------------------------------------------------
# Members

LINK_RE = re.compile(r"http://localhost/association/rejoindre/[A-Za-z0-9_.\-]+")


def invite(client, email):
    response = client.post_form("/association/membres", {"email": email})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    mail = factories.last_mail_to(email.lower())
    return LINK_RE.search(mail.body).group(0)


def test_member_invitation_end_to_end(app, client, applicant, login_as):
    factories.complete_identity(applicant.association)
    login_as(applicant)
    link = invite(client, "Collegue@Example.org")
    mail = factories.last_mail_to("collegue@example.org")
    assert "Réussir Ensemble" in mail.subject and "Applicant Test" in mail.body and "14 jours" in mail.body
    members_page = client.get("/association/membres").get_data(as_text=True)
    assert "collegue@example.org" in members_page and "Invitations en attente" in members_page

    invitee = new_client(app)
    form_page = invitee.get(link)
    assert form_page.status_code == 200
    assert "Rejoindre Réussir Ensemble" in form_page.get_data(as_text=True)

    short = invitee.post_form(link, {"first_name": "Nadia", "last_name": "Benali", "password": "court",
                                     "password_confirm": "court"})
    assert short.status_code == 200
    assert "au moins 12 caractères" in page(short).messages["password"]
    assert page(short).values["first_name"] == "Nadia" and page(short).values["last_name"] == "Benali"
    assert db.session.scalar(db.select(User).where(User.email == "collegue@example.org")) is None

    response = invitee.post_form(link, {"first_name": "Nadia", "last_name": "Benali",
                                        "password": "un-autre-mot-de-passe",
                                        "password_confirm": "un-autre-mot-de-passe"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/association")
    user = db.session.scalar(db.select(User).where(User.email == "collegue@example.org"))
    assert user.association_id == applicant.association_id and user.role == "applicant"
    assert user.email_confirmed_at is not None and user.full_name == "Nadia Benali"
    event = db.session.scalar(db.select(Event).where(Event.action == "member_joined"))
    assert event.actor_id == user.id and event.association_id == applicant.association_id

    # Logged in, and sees the same association as the inviter.
    own = invitee.get("/association")
    assert own.status_code == 200
    assert page(own).values["siret"] == "73282932000074"
    assert "FR76 3000 6000 0112 3456 7890 189" in invitee.get("/association/banque").get_data(as_text=True)

    # Can log in again with the chosen password.
    invitee.post_form("/deconnexion")
    assert invitee.get("/association").status_code == 302
    login(invitee, user, password="un-autre-mot-de-passe")
    assert invitee.get("/association").status_code == 200

    # The link cannot be used twice; the inviter sees the new member and no pending invitation.
    again = new_client(app).get(link)
    assert again.status_code == 400 and "Un compte existe déjà" in again.get_data(as_text=True)
    members_page = client.get("/association/membres").get_data(as_text=True)
    assert "Nadia Benali" in members_page and "Invitations en attente" not in members_page

    # A member edits the association; the other sees the change.
    changed = invitee.post_form("/association", {**VALID_IDENTITY, "commune": "Lyon 2e", "postal_code": "69002"})
    assert changed.status_code == 302
    assert page(client.get("/association")).values["commune"] == "Lyon 2e"


def test_inviting_an_existing_account_creates_nothing_and_tells_its_owner(client, applicant, other_applicant,
                                                                          reviewer, login_as):
    # Changed on purpose (issue 13, point 9): the page used to answer « Un compte existe déjà »,
    # telling any member which addresses have an account. It answers as for a new address; the
    # owner of the account is told by e-mail, without any link to join.
    login_as(applicant)
    for email in (other_applicant.email, reviewer.email.upper()):
        response = client.post_form("/association/membres", {"email": email}, follow_redirects=True)
        assert f"Invitation envoyée à {email.lower()}." in text(response)
        assert "Un compte existe déjà" not in text(response)
        mail = factories.last_mail_to(email.lower())
        assert "a voulu vous inviter" in mail.body and "/association/rejoindre/" not in mail.body
    db.session.refresh(other_applicant)
    db.session.refresh(reviewer)
    assert other_applicant.association.name == "Une Autre Association" and reviewer.association_id is None
    response = client.post_form("/association/membres", {"email": applicant.email})
    assert "déjà membre de votre association" in page(response).messages["email"]
    response = client.post_form("/association/membres", {"email": "pas-une-adresse"})
    assert "adresse e-mail valide" in page(response).messages["email"]


def test_link_refused_when_an_account_was_created_since(app, client, applicant, login_as):
    login_as(applicant)
    link = invite(client, "plus-tard@example.org")
    factories.user("applicant", email="plus-tard@example.org", association_name="Ailleurs")
    invitee = new_client(app)
    response = invitee.get(link)
    assert response.status_code == 400 and "Un compte existe déjà" in response.get_data(as_text=True)
    posted = invitee.post_form(link, {"first_name": "A", "last_name": "B", "password": "x" * 12,
                                      "password_confirm": "x" * 12})
    assert posted.status_code == 400
    user = db.session.scalar(db.select(User).where(User.email == "plus-tard@example.org"))
    assert user.association.name == "Ailleurs"


def test_tampered_or_expired_link_refused(app, client, applicant, login_as):
    login_as(applicant)
    link = invite(client, "colleague@example.org")
    token = link.rsplit("/", 1)[1]
    invitee = new_client(app)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    other_key = URLSafeTimedSerializer("une-autre-cle", salt="aap-member").dumps(
        {"a": applicant.association_id, "e": "pirate@example.org"})
    for bad in (forged, "pas-un-jeton", other_key):
        response = invitee.get(f"/association/rejoindre/{bad}")
        assert response.status_code == 400
        assert "n'est pas valide" in text(response)
    app.config["TOKEN_MAX_AGE"] = {**app.config["TOKEN_MAX_AGE"], "member": -1}
    response = invitee.get(link)
    assert response.status_code == 400 and "a expiré" in text(response)
    posted = invitee.post_form(link, {"first_name": "A", "last_name": "B", "password": "x" * 12,
                                      "password_confirm": "x" * 12})
    assert posted.status_code == 400
    assert db.session.scalar(db.select(User).where(User.email == "colleague@example.org")) is None


def test_members_page_query_count_does_not_grow(app, client, applicant, login_as):
    login_as(applicant)
    association = applicant.association

    def add(n, start):
        with app.test_request_context():
            for i in range(start, start + n):
                db.session.add(User(email=f"membre{i}@example.org", role="applicant", first_name=f"M{i}",
                                    last_name="Test", association=association))
                services.invite_member(association, applicant, f"invite{i}@example.org")

    add(1, 0)
    with count_queries() as small:
        assert client.get("/association/membres").status_code == 200
    add(6, 10)
    with count_queries() as large:
        html = client.get("/association/membres").get_data(as_text=True)
    assert "membre15@example.org" in html and "invite15@example.org" in html
    assert small() == large()


def test_other_association_members_are_not_listed(client, applicant, other_applicant, login_as):
    login_as(other_applicant)
    html = client.get("/association/membres").get_data(as_text=True)
    assert other_applicant.email in html and applicant.email not in html


# ---------------------------------------------------------------------------------------------
# Services

def test_identity_missing_lists_what_to_fill_with_links(app, applicant):
    with app.test_request_context():
        missing = services.identity_missing(applicant.association)
        labels = [label for label, _ in missing]
        assert labels == ["Numéro SIRET", "Numéro RNA", "Adresse du siège", "Code postal", "Commune",
                          "Représentant légal (nom et fonction)", "Adresse e-mail de contact", "IBAN", "BIC",
                          "Titulaire du compte bancaire"]
        urls = dict(missing)
        assert urls["Numéro SIRET"] == "/association#siret" and urls["IBAN"] == "/association/banque#iban"
        factories.complete_identity(applicant.association)
        assert services.identity_missing(applicant.association) == []
        applicant.association.representative_function = ""
        assert [label for label, _ in services.identity_missing(applicant.association)] == [
            "Représentant légal (nom et fonction)"]


def test_update_identity_service_validates_and_reports_changes(applicant):
    association = applicant.association
    with pytest.raises(services.AssociationError) as refusal:
        services.update_identity(association, {"siret": "73282932000075", "rna": "W1", "staff_count": -1,
                                               "postal_code": "99999"}, applicant)
    assert set(refusal.value.errors) == {"siret", "rna", "staff_count", "postal_code"}
    assert association.siret is None
    with pytest.raises(TypeError):
        services.update_identity(association, {"iban": IBAN}, applicant)
    changed = services.update_identity(association, {"siret": "73282932000074", "postal_code": "97400"}, applicant)
    assert set(changed) == {"siret", "postal_code", "departement_code", "region_code"}
    assert (association.departement_code, association.region_code) == ("974", "04")
    assert services.update_identity(association, {"siret": "732 829 320 00074"}, applicant) == []


def test_update_bank_service_refuses_bad_values_and_masks(applicant):
    from aap.associations import bank
    association = applicant.association
    with pytest.raises(services.AssociationError) as refusal:
        bank.change_bank_details(association, applicant, factories.PASSWORD, "FR7630006000011234567890188", "XX", "")
    assert set(refusal.value.errors) == {"iban", "bic", "account_holder"}
    change = bank.change_bank_details(association, applicant, factories.PASSWORD, IBAN, "agrifrpp", "Asso")
    assert change.applied and change.changed == ["iban", "bic", "account_holder"]
    assert association.bic == "AGRIFRPP"
    assert services.mask_iban(IBAN) == "***********************0189"
    from aap.validators import group_iban
    assert group_iban(IBAN) == "FR76 3000 6000 0112 3456 7890 189"


def test_accept_member_invitation_service(app, applicant):
    with app.test_request_context():
        token = services.make_member_token(applicant.association, "Nouveau@Example.org")
        with pytest.raises(services.AssociationError) as refusal:
            services.accept_member_invitation(token, "", "Durand", "court")
        assert set(refusal.value.errors) == {"first_name", "password"}
        user = services.accept_member_invitation(token, " Paul ", "Durand", "un-mot-de-passe-long")
        assert (user.email, user.first_name, user.association_id) == ("nouveau@example.org", "Paul",
                                                                      applicant.association_id)
        assert user.check_password("un-mot-de-passe-long")
        with pytest.raises(services.AssociationError, match="Un compte existe déjà"):
            services.accept_member_invitation(token, "Paul", "Durand", "un-mot-de-passe-long")
        with pytest.raises(services.AssociationError, match="Seuls les membres"):
            services.invite_member(applicant.association, factories.user("staff", email="agent2@example.org"),
                                   "z@example.org")


def test_invitations_are_limited_per_day(app, client, applicant, login_as, monkeypatch):
    monkeypatch.setattr(services, "MAX_INVITATIONS_PER_DAY", 2)
    login_as(applicant)
    invite(client, "un@example.org")
    invite(client, "deux@example.org")
    response = client.post_form("/association/membres", {"email": "trois@example.org"})
    assert response.status_code == 200
    assert "Réessayez demain" in page(response).messages["email"]
    assert not [m for m in factories.outbox() if m.to == "trois@example.org"]
