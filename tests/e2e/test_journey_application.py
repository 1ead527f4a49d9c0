"""The association's whole way to a submitted application, in a browser: sign-up, e-mail
confirmation, identity, bank details (a wrong IBAN first), a draft started from the call's
public page and autosaved, attachments, submission and the receipt."""
import io
import re
import time

from pypdf import PdfReader, PdfWriter

from aap.extensions import db
from aap.models import Application, Association

from .. import factories
from .conftest import login, mail_link, unexpected_errors

EMAIL = "ines@asso-mentorat.fr"
PASSWORD = "un mot de passe long"


def small_pdf(text):
    """A valid one-page PDF (a few hundred bytes) whose metadata carries `text`."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": text})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def sign_up_and_confirm(page, live_app):
    base = live_app.url
    page.goto(base + "/inscription")
    page.locator("#first_name").fill("Inès")
    page.locator("#last_name").fill("Benali")
    page.locator("#email").fill(EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_confirm").fill(PASSWORD)
    page.locator("#association_name").fill("Mentorat Solidaire")
    page.locator("label[for=accept]").click()
    page.get_by_role("button", name="Créer le compte").click()
    page.get_by_text("Vérifiez votre messagerie").first.wait_for()
    page.goto(mail_link(live_app.app, EMAIL, r"http://\S+/inscription/confirmer/\S+"))
    page.get_by_text("Votre adresse e-mail est confirmée").wait_for()
    login(page, base, EMAIL, PASSWORD)
    page.get_by_role("heading", name="Tableau de bord de Mentorat Solidaire").wait_for()
    page.shots("tableau-de-bord-vide")


def fill_identity(page):
    page.get_by_role("link", name="Mon association").first.click()
    page.get_by_role("heading", name="Mentorat Solidaire", level=1).wait_for()
    page.shots("identite-vide")
    page.locator("#acronym").fill("MS")
    page.locator("#legal_form").select_option("association_1901")
    page.locator("#rna").fill("W691234567")
    page.locator("#siret").fill("732 829 320 00074")
    page.locator("#address").fill("12 rue de la République")
    page.locator("#postal_code").fill("69001")
    page.locator("#commune").fill("Lyon")
    page.locator("#representative_name").fill("Claire Martin")
    page.locator("#representative_function").fill("Présidente")
    page.locator("#contact_email").fill("contact@asso-mentorat.fr")
    page.locator("#phone").fill("04 72 00 00 00")
    page.locator("#creation_date").fill("2010-05-17")
    page.locator("#staff_count").fill("12")
    page.locator("#volunteer_count").fill("80")
    page.locator("#annual_budget").fill("850 000")
    page.get_by_role("button", name="Enregistrer l'identité").click()
    page.get_by_text("L'identité de l'association est enregistrée.").wait_for()
    # The département and the région are derived from the postal code.
    assert "Rhône (69)" in page.locator("#territoire-enregistre").inner_text()
    assert "Auvergne-Rhône-Alpes" in page.locator("#territoire-enregistre").inner_text()
    page.shots("identite-enregistree")


def fill_bank_details(page):
    page.get_by_role("link", name="Coordonnées bancaires").click()
    # A wrong check digit: refused, with the French message next to the field, linked to it.
    page.locator("#iban").fill("FR76 3000 6000 0112 3456 7890 188")
    page.locator("#bic").fill("AGRIFRPP")
    page.get_by_role("button", name="Enregistrer les coordonnées bancaires").click()
    message = page.locator("#iban-messages")
    assert message.inner_text().strip() == "Cet IBAN n'est pas valide (la clé de contrôle ne correspond pas)."
    assert page.locator("#iban").get_attribute("aria-describedby") == "iban-messages"
    assert page.locator("#iban").get_attribute("aria-invalid") == "true"
    assert page.locator("#resume-erreurs").get_attribute("role") == "alert"
    assert page.locator("#bic").input_value() == "AGRIFRPP"  # what was typed is kept
    page.shots("banque-iban-refuse")

    page.locator("#iban").fill("FR76 3000 6000 0112 3456 7890 189")
    page.locator("#password").fill(PASSWORD)  # a change of bank details is confirmed with the password
    page.get_by_role("button", name="Enregistrer les coordonnées bancaires").click()
    page.get_by_text("Les coordonnées bancaires sont enregistrées.").wait_for()
    assert page.locator("#iban-enregistre").inner_text() == "FR76 3000 6000 0112 3456 7890 189"
    page.shots("banque-enregistree")


def wait_autosaved(page):
    page.locator("#autosave-status").filter(has_text="Brouillon enregistré à").wait_for()


PROJECT = {
    "title": "Des mentors pour les jeunes de la Guillotière",
    "summary": "Un an de mentorat individuel pour 120 jeunes de 16 à 25 ans.",
    "objectives": "Accompagner 120 jeunes vers une formation ou un emploi.",
    "mentoring_forms": "Mentorat individuel, en entreprise.",
    "mentoring_duration_months": "9",
    "mentor_recruitment": "Salariés d'entreprises partenaires du quartier.",
    "mentor_training": "Deux jours de formation initiale.",
    "mentor_follow_up": "Un point mensuel avec chaque binôme.",
}


def fill_project_with_autosave(page, live_app, application_id):
    base = live_app.url
    page.locator("#title").fill(PROJECT["title"])
    page.locator("#summary").fill(PROJECT["summary"])
    page.locator("#summary").blur()  # autosave when leaving a field
    wait_autosaved(page)
    # The text reaches the server (not only this browser's storage), without any click.
    deadline = time.monotonic() + 10
    while True:
        with live_app.app.app_context():
            saved = db.session.get(Application, application_id)
            if (saved.title, saved.summary) == (PROJECT["title"], PROJECT["summary"]):
                break
        assert time.monotonic() < deadline, (saved.title, saved.summary)
        time.sleep(0.1)
    wait_autosaved(page)
    page.shots("projet-brouillon-enregistre")
    # Leave mid-way ...
    page.goto(base + "/tableau-de-bord")
    page.get_by_role("link", name=PROJECT["title"]).wait_for()
    # ... and back on the section, the form shows it.
    page.get_by_role("link", name=PROJECT["title"]).click()
    page.get_by_role("link", name="Continuer la saisie").click()
    assert page.locator("#title").input_value() == PROJECT["title"]
    assert page.locator("#summary").input_value() == PROJECT["summary"]
    for name, value in PROJECT.items():
        page.locator(f"#{name}").fill(value)
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.get_by_role("heading", name="Les jeunes accompagnés").first.wait_for()


def fill_other_sections(page):
    young = {"young_count": "120", "mentor_count": "110", "share_qpv": "60", "share_zrr": "0", "share_ase": "10",
             "share_disability": "5", "share_dropout": "30", "age_min": "16", "age_max": "25"}
    for name, value in young.items():
        page.locator(f"#{name}").fill(value)
    page.shots("jeunes")
    page.get_by_role("button", name="Enregistrer et continuer").click()

    page.get_by_role("heading", name="Les territoires").first.wait_for()
    page.locator("label[for=scope-1]").click()  # « Régional »: a DSFR radio, its label drawn over it
    assert page.get_by_label("Régional").is_checked()
    # The départements: searched and ticked (app/forms.js), the select hidden behind the list.
    for search, label in (("rhone", "69 – Rhône"), ("42", "42 – Loire")):
        page.locator("#departements-filtre").fill(search)
        page.locator("#departements-liste").get_by_text(label, exact=True).click()
    page.shots("territoires")
    page.get_by_role("button", name="Enregistrer et continuer").click()

    page.get_by_role("heading", name="Le budget").first.wait_for()
    # The Cerfa 12156 table: 180 000 € of charges, as many products (the grant asked: 60 000 €).
    for name, value in (("budget_1_62", "30 000"), ("budget_1_64", "150 000"), ("budget_1_74_aap", "60 000"),
                        ("budget_1_74_epci", "30 000"), ("budget_1_75", "90 000")):
        page.locator(f"#{name}").fill(value)
    page.locator("#budget_comment").fill("Métropole de Lyon : 30 000 € obtenus.")
    page.get_by_text("Budget équilibré").first.wait_for()
    page.shots("budget")
    page.get_by_role("button", name="Enregistrer et continuer").click()
    page.get_by_role("heading", name="Les pièces jointes").first.wait_for()


def upload_attachments(page, live_app, application_id):
    with live_app.app.app_context():
        call = db.session.get(Application, application_id).call
        documents = [(d.id, d.code, d.label) for d in call.pieces if d.mandatory]
    for document_id, code, label in documents:
        card = page.locator(f"#piece-{document_id}")
        card.locator("input[type=file]").set_input_files(
            {"name": f"{code}.pdf", "mimeType": "application/pdf", "buffer": small_pdf(label)})
        card.get_by_role("button", name="Envoyer").click()
        page.get_by_text(f"Pièce « {label} » enregistrée.").wait_for()
        assert page.locator(f"#piece-{document_id}").get_by_role("link", name=f"{code}.pdf").is_visible()
    page.shots("pieces-jointes")
    page.get_by_role("link", name="Continuer vers l'attestation").click()


def attest_and_submit(page):
    page.get_by_role("heading", name="Dépôt du dossier").wait_for()
    page.locator("label[for=attest]").click()
    page.locator("#attestation_name").fill("Claire Martin")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.get_by_text("Votre dossier est complet.").wait_for()
    page.shots("attestation")
    # The deposit goes through a confirmation page that says what will happen.
    page.get_by_role("link", name="Déposer ma candidature").click()
    page.get_by_role("heading", name="Ce qui va se passer").wait_for()
    page.shots("confirmation-depot")
    page.get_by_role("button", name="Confirmer le dépôt de ma candidature").click()
    page.get_by_text("Votre candidature est déposée sous la référence").wait_for()
    page.shots("dossier-depose")


def test_association_applies_from_sign_up_to_receipt(live_app, page):
    with live_app.app.app_context():
        call = factories.call(slug="aap-2026", title="Appel à projets 1 jeune 1 mentor 2026")
        slug = call.slug

    sign_up_and_confirm(page, live_app)
    fill_identity(page)
    fill_bank_details(page)

    # The public page of the open call has the button that starts the application.
    page.get_by_role("link", name="Appels à projets").first.click()
    page.get_by_role("link", name="Appel à projets 1 jeune 1 mentor 2026").first.click()
    page.wait_for_url(re.compile(rf".*/appels/{slug}$"))
    page.shots("appel-public")
    page.get_by_role("button", name="Candidater à cet appel").click()
    page.get_by_text("Votre brouillon de candidature est créé.").wait_for()
    application_id = int(re.search(r"/candidatures/(\d+)/projet", page.url).group(1))
    page.shots("projet-vide")

    fill_project_with_autosave(page, live_app, application_id)
    fill_other_sections(page)
    upload_attachments(page, live_app, application_id)
    attest_and_submit(page)

    with live_app.app.app_context():
        application = db.session.get(Application, application_id)
        assert application.status == "submitted"
        assert len(application.attachments) == 6
        reference = application.reference
        association = db.session.get(Association, application.association_id)
        assert (association.siret, association.iban) == ("73282932000074", "FR7630006000011234567890189")
    assert page.get_by_text(f"Référence {reference}", exact=True).is_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Récépissé de dépôt (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"recepisse-{reference}.pdf"
    content = open(download.path(), "rb").read()
    assert content.startswith(b"%PDF-")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert reference in text

    # The receipt is also in the outbox, and nothing went wrong in the browser.
    assert mail_link(live_app.app, EMAIL, re.escape(reference))
    assert unexpected_errors(page) == [], page.js_errors
    # The only error responses are the ones the journey provoked (the refused IBAN).
    assert [status for status, _url in page.http_errors if status != 400] == [], page.http_errors


def test_text_typed_after_the_session_expired_is_back_after_a_new_login(live_app, page):
    """The session ends while the association is typing: the autosave is refused, the browser
    keeps the text, and after logging in again the form gets it back and saves it."""
    from .. import factories_applications as fa

    base = live_app.url
    with live_app.app.app_context():
        call = factories.call()
        user = factories.user("applicant", email="lea@asso.fr", association_name="Les Passerelles")
        factories.complete_identity(user.association)
        application_id = fa.empty_draft(call, user.association, user).id
    login(page, base, "lea@asso.fr")
    page.goto(f"{base}/candidatures/{application_id}/projet")
    page.locator("#title").fill("Passerelles vers l'emploi")
    page.locator("#title").blur()
    wait_autosaved(page)

    page.context.clear_cookies()  # the session is over (expired, or logged out elsewhere)
    text = "Cent jeunes accompagnés par des mentors bénévoles pendant neuf mois."
    page.locator("#summary").fill(text)
    page.locator("#summary").blur()
    page.locator("#autosave-status").filter(has_text="Enregistrement impossible pour le moment").wait_for()
    page.shots("session-expiree")

    login(page, base, "lea@asso.fr")
    page.goto(f"{base}/candidatures/{application_id}/projet")
    page.get_by_text("n'avait pas été enregistrée (session expirée ou connexion perdue)").wait_for()
    assert page.locator("#summary").input_value() == text
    wait_autosaved(page)
    page.shots("saisie-retrouvee")
    deadline = time.monotonic() + 10
    while True:
        with live_app.app.app_context():
            saved = db.session.get(Application, application_id)
            if saved.summary == text:
                break
        assert time.monotonic() < deadline, saved.summary
        time.sleep(0.1)
    assert saved.title == "Passerelles vers l'emploi"
