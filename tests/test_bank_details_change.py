"""Changing bank details (a fraud path): the password typed again, every member and the staff told
by e-mail with the IBAN masked, a request validated by staff once a file is selected (RIB joined,
read by the association and staff only), conventions that keep the account they were issued with,
and a history that names the administration « DJEPVA » to the association."""
import html as htmllib
import io
import re

import pytest
from pypdf import PdfReader

from aap import timeutil
from aap.associations import bank
from aap.documents.bulk import generate_call_conventions
from aap.extensions import db
from aap.mail import deliver_pending
from aap.models import Assignment, Association, BankChangeRequest, Convention, Event, OutboxMessage

from . import factories
from . import factories_applications as fa
from . import factories_documents as fd
from .conftest import login
from .test_associations import page

OLD_IBAN = "FR7630006000011234567890189"           # factories.complete_identity
OLD_GROUPED = "FR76 3000 6000 0112 3456 7890 189"
NEW_IBAN = "FR1420041010050500013M02606"
NEW_GROUPED = "FR14 2004 1010 0505 0001 3M02 606"
NEW = {"iban": NEW_GROUPED, "bic": "PSSTFRPPXXX", "account_holder": "Réussir Ensemble (compte projets)",
       "password": factories.PASSWORD}
BANK_URL = "/association/banque"


def new_client(app, user=None):
    client = app.test_client()
    if user is not None:
        login(client, user)
    return client


def association_of(user):
    db.session.expire_all()
    return db.session.get(Association, user.association_id)


def field_messages(response, name):
    return " ".join(page(response).messages.get(name, "").split())


def text(response):
    return htmllib.unescape(response.get_data(as_text=True))


def mails():
    db.session.expire_all()
    return db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()


def assert_no_full_iban(text):
    """Neither IBAN in full, grouped or not, nor any run of it longer than its last 4 characters."""
    compact = re.sub(r"\s", "", text)
    for iban in (OLD_IBAN, NEW_IBAN):
        assert iban not in compact
        assert iban[4:-4] not in compact  # the bank and account numbers
        assert iban[:-4] not in compact


def pdf_text(content):
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\u00a0", " "))


def rib(content=fa.PDF, name="rib-nouveau-compte.pdf"):
    return (io.BytesIO(content), name)


@pytest.fixture
def people(app, applicant, staff, reviewer):
    """The applicant's association (identity complete, contact address of its own), a colleague,
    a second staff member, an inactive staff account, and an administrator."""
    factories.complete_identity(applicant.association)
    colleague = fa.member(applicant.association, "collegue@example.org")
    second_staff = factories.user("staff", "agent2@example.org")
    gone = factories.user("staff", "ancien-agent@example.org")
    gone.active = False
    factories.user("admin", "admin@example.org")
    db.session.commit()
    return {"applicant": applicant, "colleague": colleague, "staff": staff, "second_staff": second_staff,
            "reviewer": reviewer}


@pytest.fixture
def selected(app, people, applicant):
    """The association has a selected file (a published « retenu » decision), with an assigned
    reviewer who confirmed having no link with it."""
    call = factories.call(slug="aap-2025", year=2025, status="closed", opens_in_days=-90, closes_in_days=-30)
    application = fd.winner(call, applicant.association)
    db.session.add(Assignment(application_id=application.id, reviewer_id=people["reviewer"].id,
                              no_conflict_confirmed_at=timeutil.now(), notified_at=timeutil.now()))
    db.session.commit()
    return application


def send_request(app, applicant, data=None, files=None):
    client = new_client(app, applicant)
    payload = dict(data or NEW)
    payload["rib"] = files if files is not None else rib()
    return client, client.post_form(BANK_URL, payload, content_type="multipart/form-data")


# --- the password --------------------------------------------------------------------------------

@pytest.mark.parametrize("password, message", [("", bank.PASSWORD_REQUIRED), ("pas-le-bon-mot-de-passe",
                                                                              bank.PASSWORD_WRONG)])
def test_a_change_needs_the_password_the_message_is_next_to_it_and_what_was_typed_stays(
        app, people, applicant, password, message):
    client = new_client(app, applicant)
    response = client.post_form(BANK_URL, {**NEW, "password": password})
    assert response.status_code == 200
    assert message in field_messages(response, "password")
    values = page(response).values
    assert (values["iban"], values["bic"], values["account_holder"]) == (
        NEW["iban"], NEW["bic"], NEW["account_holder"])
    assert values.get("password", "") == ""  # a password is never sent back
    assert 'id="resume-erreurs"' in response.get_data(as_text=True)
    association = association_of(applicant)
    assert (association.iban, association.bic) == (OLD_IBAN, "AGRIFRPP")
    assert db.session.scalar(db.select(Event).where(Event.action == "bank_details_changed")) is None
    assert mails() == []


def test_wrong_passwords_are_recorded_and_then_lock_the_change(app, people, applicant):
    client = new_client(app, applicant)
    for _ in range(bank.MAX_PASSWORD_FAILURES):
        response = client.post_form(BANK_URL, {**NEW, "password": "pas-le-bon-mot-de-passe"})
        assert bank.PASSWORD_WRONG in field_messages(response, "password")
    failures = db.session.scalars(db.select(Event).where(Event.action == "bank_password_refused")).all()
    assert len(failures) == bank.MAX_PASSWORD_FAILURES and {e.actor_id for e in failures} == {applicant.id}
    # Even the right password is refused for a while: the password cannot be guessed here.
    response = client.post_form(BANK_URL, NEW)
    assert "Trop d'essais" in field_messages(response, "password")
    assert association_of(applicant).iban == OLD_IBAN


# --- before any selection: applied at once, everybody told ----------------------------------------

def test_before_selection_the_change_applies_at_once_and_members_and_staff_get_a_masked_mail(
        app, people, applicant, smtp_server):
    client = new_client(app, applicant)
    response = client.post_form(BANK_URL, NEW)
    assert response.status_code == 302
    association = association_of(applicant)
    assert (association.iban, association.bic, association.account_holder) == (
        NEW_IBAN, "PSSTFRPPXXX", "Réussir Ensemble (compte projets)")
    assert db.session.scalar(db.select(BankChangeRequest)) is None

    sent, failed = deliver_pending()
    assert failed == 0
    delivered = {message["To"]: message for message in smtp_server.messages}
    # Every member, the association's contact address, every active staff member; no one else.
    assert set(delivered) == {"asso@example.org", "collegue@example.org", "contact@example.org",
                              "agent@example.org", "agent2@example.org"}
    for to, message in delivered.items():
        body = message.get_content()
        assert "se terminant par 0189" in body and "se terminant par 2606" in body, to
        assert_no_full_iban(body + message["Subject"])
        assert "Applicant Test" in body  # who made the change
    member_body = delivered["collegue@example.org"].get_content()
    assert "Si personne dans votre association n'est à l'origine de cette modification" in member_body
    assert "http://localhost/association/banque" in member_body
    assert f"http://localhost/instruction/associations/{association.id}" in delivered["agent@example.org"].get_content()

    html = client.get(BANK_URL).get_data(as_text=True)
    assert NEW_GROUPED in html
    assert "IBAN se terminant par 0189 → se terminant par 2606" in html


# --- after a selection: a request, validated or refused by staff ------------------------------------

def test_after_selection_a_change_needs_the_rib_with_the_checks_of_the_pieces(app, people, applicant, selected):
    app.config["MAX_FILE_SIZE"] = 2048
    cases = [
        (rib(b"", "vide.pdf"), bank.RIB_EMPTY),
        (rib(b"Ceci n'est pas un RIB", "rib.pdf"), "Le RIB doit être un fichier PDF, JPEG ou PNG"),
        (rib(fa.DOCX, "rib.docx"), "Le RIB doit être un fichier PDF, JPEG ou PNG"),
        (rib(b"%PDF-1.4\n" + b"0" * 4096, "gros.pdf"), "Le fichier dépasse la taille autorisée (2 ko"),
    ]
    for upload, message in cases:
        _client, response = send_request(app, applicant, files=upload)
        assert response.status_code == 200
        assert message in field_messages(response, "rib"), message
        assert page(response).values["iban"] == NEW["iban"]
    client = new_client(app, applicant)
    response = client.post_form(BANK_URL, NEW)  # no file at all
    assert bank.RIB_REQUIRED in field_messages(response, "rib")
    assert db.session.scalar(db.select(BankChangeRequest)) is None
    assert association_of(applicant).iban == OLD_IBAN


def test_after_selection_a_change_is_a_request_and_the_details_wait_for_staff(app, people, applicant, selected):
    page_before = text(new_client(app, applicant).get(BANK_URL))
    assert "Un dossier de votre association est retenu" in page_before and 'type="file"' in page_before

    client, response = send_request(app, applicant, files=rib(fa.PNG, "mon rib.png"))
    assert response.status_code == 302
    association = association_of(applicant)
    assert (association.iban, association.bic) == (OLD_IBAN, "AGRIFRPP")  # unchanged until validated
    request = db.session.scalar(db.select(BankChangeRequest))
    assert (request.status, request.iban, request.bic, request.rib_kind) == ("pending", NEW_IBAN, "PSSTFRPPXXX",
                                                                               "png")
    assert request.rib_original_name == "mon rib.png" and len(request.rib_sha256) == 64
    event = db.session.scalar(db.select(Event).where(Event.action == "bank_change_requested"))
    assert event.details["new_iban"] == "*" * 23 + "2606" and event.actor_id == applicant.id

    html = client.get(BANK_URL).get_data(as_text=True)
    assert "en attente de validation par la DJEPVA" in html and NEW_GROUPED in html
    assert re.search(r'id="iban-enregistre">\s*' + re.escape(OLD_GROUPED), html)

    messages = mails()
    assert {m.to for m in messages} == {"asso@example.org", "collegue@example.org", "contact@example.org",
                                        "agent@example.org", "agent2@example.org"}
    for message in messages:
        assert "se terminant par 2606" in message.body
        assert_no_full_iban(message.body + message.subject)
    assert "attend votre validation" in next(m for m in messages if m.to == "agent@example.org").body

    # Staff: a notice on the dashboard, the request on the association's page, its RIB.
    staff = new_client(app, people["staff"])
    dashboard = staff.get("/tableau-de-bord").get_data(as_text=True)
    assert "1 demande de modification de coordonnées bancaires à examiner" in dashboard
    assert f"/instruction/associations/{association.id}#demandes" in dashboard
    sheet = staff.get(f"/instruction/associations/{association.id}").get_data(as_text=True)
    assert NEW_GROUPED in sheet and "Valider les nouvelles coordonnées" in sheet and "mon rib.png" in sheet
    download = staff.get(f"/coordonnees-bancaires/demandes/{request.id}/rib")
    assert download.status_code == 200 and download.data == fa.PNG
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert client.get(f"/coordonnees-bancaires/demandes/{request.id}/rib").data == fa.PNG
    downloads = db.session.scalars(db.select(Event).where(Event.action == "bank_rib_downloaded")).all()
    assert {e.actor_id for e in downloads} == {people["staff"].id, applicant.id}

    # A second request replaces the first one.
    send_request(app, people["colleague"], data={**NEW, "bic": "AGRIFRPP"})
    db.session.expire_all()
    statuses = [r.status for r in db.session.scalars(db.select(BankChangeRequest).order_by(BankChangeRequest.id))]
    assert statuses == ["replaced", "pending"]


def test_staff_validation_applies_the_details_and_the_history_names_djepva_to_the_association(
        app, people, applicant, selected):
    send_request(app, applicant)
    request = db.session.scalar(db.select(BankChangeRequest))
    association_id = applicant.association_id
    staff = new_client(app, people["staff"])
    url = f"/instruction/associations/{association_id}/banque/demandes/{request.id}/valider"

    response = staff.post_form(url, {})  # the RIB not checked
    assert response.status_code == 422
    assert bank.CHECK_REQUIRED in text(response)
    assert association_of(applicant).iban == OLD_IBAN

    before = len(mails())
    response = staff.post_form(url, {"checked": "y"})
    assert response.status_code == 302
    association = association_of(applicant)
    assert (association.iban, association.bic, association.account_holder) == (
        NEW_IBAN, "PSSTFRPPXXX", "Réussir Ensemble (compte projets)")
    db.session.refresh(request)
    assert (request.status, request.decided_by_id) == ("validated", people["staff"].id)
    new_mails = mails()[before:]
    assert {m.to for m in new_mails} == {"asso@example.org", "collegue@example.org", "contact@example.org",
                                         "agent2@example.org"}  # not the staff member who validated
    member_mail = next(m for m in new_mails if m.to == "asso@example.org")
    assert "La DJEPVA a validé" in member_mail.body and "Staff Test" not in member_mail.body
    for message in new_mails:
        assert_no_full_iban(message.body)
    # Validated once: never twice.
    assert staff.post_form(url, {"checked": "y"}).status_code == 422

    # The association's history: its member by name, the administration as « DJEPVA ».
    html = new_client(app, applicant).get(BANK_URL).get_data(as_text=True)
    history = html[html.index('id="historique-banque"'):]
    assert "Demande validée : nouvelles coordonnées appliquées" in history
    assert "— DJEPVA" in history and "Staff Test" not in html and "agent@example.org" not in html
    assert "— Applicant Test" in history and "Demande de modification envoyée à la DJEPVA" in history
    assert "IBAN se terminant par 0189 → se terminant par 2606" in history
    assert OLD_GROUPED not in history and NEW_GROUPED not in history  # masked in the history
    # Staff read the staff member's name.
    sheet = staff.get(f"/instruction/associations/{association_id}").get_data(as_text=True)
    assert "Staff Test (DJEPVA)" in sheet[sheet.index('id="historique-banque"'):]


def test_staff_refusal_leaves_the_details_and_the_association_reads_the_reason(app, people, applicant, selected):
    send_request(app, applicant)
    request = db.session.scalar(db.select(BankChangeRequest))
    staff = new_client(app, people["staff"])
    url = f"/instruction/associations/{applicant.association_id}/banque/demandes/{request.id}/refuser"
    response = staff.post_form(url, {"reason": "  "})
    assert response.status_code == 422 and bank.REASON_REQUIRED in text(response)

    before = len(mails())
    reason = "Le RIB joint n'est pas au nom de l'association."
    assert staff.post_form(url, {"reason": reason}).status_code == 302
    association = association_of(applicant)
    assert (association.iban, association.bic) == (OLD_IBAN, "AGRIFRPP")
    db.session.refresh(request)
    assert (request.status, request.refusal_reason) == ("refused", reason)
    refused_mails = mails()[before:]
    assert {m.to for m in refused_mails} == {"asso@example.org", "collegue@example.org", "contact@example.org"}
    for message in refused_mails:
        assert reason in message.body and "se terminant par 2606" in message.body
        assert_no_full_iban(message.body)

    html = text(new_client(app, applicant).get(BANK_URL))
    assert "Demande de modification refusée" in html and reason in html
    history = html[html.index('id="historique-banque"'):]
    assert "Demande refusée" in history and "— DJEPVA" in history and reason in history
    assert "Staff Test" not in html
    # A refused request can no longer be validated.
    validate = f"/instruction/associations/{applicant.association_id}/banque/demandes/{request.id}/valider"
    assert staff.post_form(validate, {"checked": "y"}).status_code == 422
    assert association_of(applicant).iban == OLD_IBAN


def test_the_request_and_its_rib_are_for_the_association_and_staff_only(app, people, applicant, other_applicant,
                                                                          selected):
    send_request(app, applicant)
    request = db.session.scalar(db.select(BankChangeRequest))
    rib_url = f"/coordonnees-bancaires/demandes/{request.id}/rib"
    association_id = applicant.association_id

    reviewer = new_client(app, people["reviewer"])
    assert reviewer.get(rib_url).status_code == 404
    assert reviewer.get(f"/coordonnees-bancaires/demandes/{request.id + 1}/rib").status_code == 404
    assert reviewer.get(f"/instruction/associations/{association_id}").status_code == 403
    assert reviewer.get(BANK_URL).status_code == 403
    file_page = reviewer.get(f"/evaluation/dossiers/{selected.id}")
    assert file_page.status_code == 200
    for text in (NEW_GROUPED, NEW_IBAN, "rib-nouveau-compte", rib_url):
        assert text not in file_page.get_data(as_text=True)
    assert reviewer.post_form(f"/instruction/associations/{association_id}/banque/demandes/{request.id}/valider",
                              {"checked": "y"}).status_code == 403

    other = new_client(app, other_applicant)
    assert other.get(rib_url).status_code == 404
    assert NEW_GROUPED not in other.get(BANK_URL).get_data(as_text=True)
    assert new_client(app).get(rib_url).status_code == 302  # to the login page

    assert new_client(app, applicant).get(rib_url).status_code == 200
    assert new_client(app, people["staff"]).get(rib_url).status_code == 200
    # Nothing was applied by anyone of them.
    assert association_of(applicant).iban == OLD_IBAN and db.session.get(BankChangeRequest, request.id).is_pending
    assert not db.session.scalars(db.select(Event).where(Event.action == "bank_rib_downloaded",
                                                         Event.actor_id == people["reviewer"].id)).all()


# --- conventions keep the account they were issued with -----------------------------------------

def test_an_issued_convention_keeps_its_bank_details_and_a_new_one_takes_the_validated_ones(
        app, people, applicant, selected):
    owner = new_client(app, applicant)
    convention_url = f"/candidatures/{selected.id}/convention.pdf"
    first = owner.get(convention_url)
    assert first.status_code == 200
    text = pdf_text(first.data)
    assert OLD_GROUPED in text and "AGRIFRPP" in text

    send_request(app, applicant)
    request = db.session.scalar(db.select(BankChangeRequest))
    staff = new_client(app, people["staff"])
    assert staff.post_form(f"/instruction/associations/{applicant.association_id}/banque/demandes/{request.id}"
                           "/valider", {"checked": "y"}).status_code == 302
    assert association_of(applicant).iban == NEW_IBAN

    # Downloaded again by the association and by staff, and generated again in bulk: the original account.
    for client in (owner, staff):
        text = pdf_text(client.get(convention_url).data)
        assert OLD_GROUPED in text and NEW_GROUPED not in text and "PSSTFRPPXXX" not in text
    with app.test_request_context():
        entries = generate_call_conventions(selected.call, workers=1, force=True)
    text = pdf_text(entries[0][1].read_bytes())
    assert OLD_GROUPED in text and NEW_GROUPED not in text
    convention = db.session.scalar(db.select(Convention).where(Convention.application_id == selected.id))
    assert convention.bank_details == {"iban": OLD_IBAN, "bic": "AGRIFRPP", "account_holder": "Réussir Ensemble"}

    # A new convention (another call won after the change) carries the validated account.
    call = factories.call(slug="aap-2026", year=2026, status="closed", opens_in_days=-60, closes_in_days=-20)
    second = fd.winner(call, association_of(applicant))
    text = pdf_text(owner.get(f"/candidatures/{second.id}/convention.pdf").data)
    assert NEW_GROUPED in text and "PSSTFRPPXXX" in text and OLD_GROUPED not in text

    # Staff see which convention carries an old account, and issue it again with the current one.
    sheet = staff.get(f"/instruction/associations/{applicant.association_id}").get_data(as_text=True)
    assert "Compte différent du compte actuel" in sheet and "Réémettre avec le compte actuel" in sheet
    response = staff.post_form(f"/instruction/candidatures/{selected.id}/convention/reemettre")
    assert response.status_code == 302
    text = pdf_text(owner.get(convention_url).data)
    assert NEW_GROUPED in text and OLD_GROUPED not in text
    event = db.session.scalar(db.select(Event).where(Event.action == "convention_reissued"))
    assert (event.details["old_iban"][-4:], event.details["new_iban"][-4:]) == ("0189", "2606")
    assert event.actor_id == people["staff"].id
    # Issued again with the same account: nothing to do.
    staff.post_form(f"/instruction/candidatures/{selected.id}/convention/reemettre")
    assert len(db.session.scalars(db.select(Event).where(Event.action == "convention_reissued")).all()) == 1


# --- the services' own checks ----------------------------------------------------------------------

def test_services_check_who_acts_and_the_state_of_the_request(app, people, applicant, other_applicant, selected):
    association = association_of(applicant)
    with app.test_request_context():
        with pytest.raises(bank.AssociationError):  # not one of its members
            bank.change_bank_details(association, other_applicant, factories.PASSWORD, NEW_IBAN, "AGRIFRPP", "X",
                                     "rib.pdf", io.BytesIO(fa.PDF))
        with pytest.raises(bank.AssociationError):  # staff do not type an association's account
            bank.change_bank_details(association, people["staff"], factories.PASSWORD, NEW_IBAN, "AGRIFRPP", "X",
                                     "rib.pdf", io.BytesIO(fa.PDF))
        change = bank.change_bank_details(association, applicant, factories.PASSWORD, NEW_IBAN, "AGRIFRPP",
                                          "Réussir Ensemble", "rib.pdf", io.BytesIO(fa.PDF))
        assert not change.applied and change.request.is_pending and change.changed == ["iban"]
        with pytest.raises(bank.AssociationError):  # a member cannot validate
            bank.validate_request(change.request, applicant, True)
        with pytest.raises(bank.AssociationError):
            bank.refuse_request(change.request, people["staff"], "x" * (bank.REASON_MAX_LENGTH + 1))
        bank.validate_request(change.request, people["staff"], True)
        with pytest.raises(bank.AssociationError) as refusal:
            bank.refuse_request(change.request, people["staff"], "Trop tard")
        assert str(refusal.value) == bank.NOT_PENDING
        # The same details again: nothing to ask.
        again = bank.change_bank_details(association, applicant, factories.PASSWORD, NEW_GROUPED, "agrifrpp",
                                         "Réussir Ensemble", "rib.pdf", io.BytesIO(fa.PDF))
        assert again.changed == [] and again.request is None
    assert db.session.scalar(db.select(db.func.count(BankChangeRequest.id))) == 1
