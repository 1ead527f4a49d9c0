"""A winner's year walked in Chromium (issue 18): the association downloads its convention, signs
it digitally (pyHanko, a throw-away certificate) and returns it; staff countersign and notify it
(in force: payment lines and yearly reports); staff put the first year's advance to payment and
record it paid, the second year's balance waiting for the first year's report; the association
files its report (activity, compte rendu financier with a gap explained, pieces) and submits it;
staff accept it and put the balance to payment; the association reads it all, and its mails."""
import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from pypdf import PdfReader

from aap import timeutil
from aap.extensions import db
from aap.models import OutboxMessage
from aap.timeutil import format_date

from .. import factories, factories_documents
from .. import test_followup_pades as pades_helpers
from .conftest import login, unexpected_errors

STAFF = "agent@example.org"
MEMBER = "claire@tremplin-mentorat.fr"
ASSOCIATION = "Tremplin Mentorat"
TITLE = "Projet de Tremplin Mentorat"
SIGNATORY = "Jeanne Martin, sous-directrice"


@pytest.fixture(scope="module")
def signer():
    # The throw-away certificate of tests/test_followup_pades.py (« Claire Dupont »).
    return pades_helpers.signer.__wrapped__()


def set_up(app):
    """A call of last year (two years, 50 % advance) decided; its winner has a member; a staff user."""
    with app.app_context():
        factories.user("staff", email=STAFF)
        year = timeutil.to_paris(timeutil.now()).year - 1
        # Reports due 12 months after each year's end: the first year's is due at the end of this year.
        call = factories.call(slug="aap-suivi", status="closed", year=year, years=2, advance_percent=50,
                              opens_in_days=-500, closes_in_days=-450, report_due_months=12,
                              title="Appel à projets 1 jeune 1 mentor — suivi")
        member = factories.user("applicant", email=MEMBER, association_name=ASSOCIATION)
        factories.complete_identity(member.association)
        application = factories_documents.winner(call, member.association, amount_cents=80_000_00, title=TITLE)
        return year, application.id, application.reference


def plain(text):
    return text.replace("\u202f", " ").replace("\xa0", " ")


def main_text(page):
    return plain(page.locator("main").inner_text())


def badges(locator):
    """The badges' words as written (the DSFR shows them in capitals)."""
    return [plain(text).strip() for text in locator.locator(".fr-badge").all_text_contents()]


def narrow(page, label):
    """The page at 375 px: screenshot, nothing scrolls sideways; back to 1280 px."""
    page.set_viewport_size({"width": 375, "height": 800})
    page.shots(f"{label}-375")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, (label, width)
    page.set_viewport_size({"width": 1280, "height": 900})


def line_row(page, label):
    """The row of a payment line (« Avance 2025 ») in the « Versements » table."""
    return page.locator("#versements tbody tr").filter(has=page.get_by_role("rowheader", name=label, exact=True))


def line_actions(page, label):
    """The staff's actions on a payment line, its accordion opened."""
    row_id = line_row(page, label).get_attribute("id")
    actions = page.locator(f"#actions-{row_id}")
    if not actions.is_visible():
        page.locator(f"button[aria-controls=actions-{row_id}]").click()
        actions.wait_for(state="visible")
        page.wait_for_timeout(400)  # the DSFR collapse's opening transition, for the screenshots
    return actions


# --- 1. The association returns its convention signed --------------------------------------------

def member_returns_the_signed_convention(page, base, reference, signer):
    login(page, base, MEMBER)
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("heading", name="Décision : Retenu").wait_for()
    page.shots("dossier-retenu")
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger la convention (PDF)").click()
    convention_pdf = open(info.value.path(), "rb").read()
    assert convention_pdf.startswith(b"%PDF-")
    number = re.fullmatch(r"convention-(.+)\.pdf", info.value.suggested_filename).group(1)
    # pyHanko signs with asyncio.run: in a thread of its own, beside Playwright's event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        signed = pool.submit(pades_helpers.sign, convention_pdf, signer).result()

    page.get_by_role("link", name="Suivi de la subvention").first.click()
    page.get_by_role("heading", name="Suivi de la subvention", level=1).wait_for()
    text = main_text(page)
    assert f"Convention {number}" in text, text
    assert badges(page.locator("#convention")) == ["Émise, en attente de signature"]
    assert "Attendu de vous : télécharger la convention, la faire signer" in text, text
    assert "L'échéancier des versements est établi à l'entrée en vigueur de la convention" in text
    page.shots("suivi-convention-emise")
    page.locator("#convention input[type=file]").set_input_files(
        {"name": f"convention-{number}-signee.pdf", "mimeType": "application/pdf", "buffer": signed})
    page.get_by_role("button", name="Renvoyer la convention signée").click()
    page.get_by_text(f"La convention {number} est renvoyée signée : la DJEPVA va la contresigner.").wait_for()
    text = main_text(page)
    assert badges(page.locator("#convention")) == ["Signée par l'association"]
    assert "Attendu de la DJEPVA : vérifier la convention signée" in text, text
    assert f"Signée par l'association — convention-{number}-signee.pdf" in text, text
    assert re.search(r"Signée électroniquement par Claire Dupont \(Association Tremplin\) le .+ — document non "
                     r"modifié depuis sa signature ; certificat non vérifié", text), text
    assert page.get_by_role("button", name="Renvoyer la convention signée").count() == 0
    page.shots("suivi-convention-renvoyee")
    narrow(page, "suivi-convention-renvoyee")
    return number


# --- 2. Staff countersign and notify -------------------------------------------------------------

def staff_countersign_and_notify(page, base, number, today):
    login(page, base, STAFF)
    page.get_by_role("link", name="Suivi des subventions").first.click()
    page.get_by_role("heading", name="Conventions des lauréats").wait_for()
    row = page.locator("table tbody tr").filter(has_text=number)
    row_text = plain(row.inner_text())
    assert ASSOCIATION in row_text and badges(row) == ["Signée par l'association"], row_text
    assert f"renvoyée le {format_date(today)}" in row_text, row_text
    page.shots("conventions-a-contresigner")
    row.get_by_role("link", name=number).click()
    page.get_by_role("heading", name="Suivi de la subvention", level=1).wait_for()
    text = main_text(page)
    assert "Attendu de vous : vérifier la convention signée et la contresigner." in text, text
    assert "Signée électroniquement par Claire Dupont" in text
    page.shots("suivi-a-contresigner")

    form = page.locator("form").filter(has=page.get_by_role("button", name="Enregistrer la contresignature"))
    form.get_by_label("Date de la signature de l'État").fill(today.isoformat())
    form.get_by_label("Signataire pour l'État (nom et qualité)").fill(SIGNATORY)
    form.get_by_role("button", name="Enregistrer la contresignature").click()
    page.get_by_text(f"La signature de l'État est enregistrée (la convention {number}).").wait_for()
    text = main_text(page)
    assert badges(page.locator("#convention")) == ["Contresignée par l'État"]
    assert f"Signataire pour l'État : {SIGNATORY}" in text, text
    assert "Attendu de vous : notifier la convention contresignée" in text, text
    page.shots("suivi-contresignee")

    page.get_by_text("Je confirme la notification").click()
    page.get_by_role("button", name="Notifier la convention à l'association").click()
    page.get_by_text(re.compile(r"La convention .* est notifiée : elle est en vigueur\.")).wait_for()
    text = main_text(page)
    assert badges(page.locator("#convention")) == ["En vigueur"]
    assert "Attendu de" not in plain(page.locator("#convention").inner_text())
    assert page.get_by_role("button", name="Notifier la convention à l'association").count() == 0
    page.shots("suivi-en-vigueur")


# --- 3. The advance paid, the balance waiting for the report --------------------------------------

def staff_pay_the_advance(page, year, today):
    text = main_text(page)
    # 80 000 € over two years, 50 % advance: four lines of 20 000 €.
    assert "Subvention accordée : 80 000,00 €" in text or "Subvention accordée : 80 000 €" in text, text
    # in force today: a line whose « au plus tard » day (article 5) is past is flagged
    deadlines = {f"Avance {year}": None, f"Solde {year}": date(year, 11, 30),
                 f"Avance {year + 1}": date(year + 1, 3, 31), f"Solde {year + 1}": date(year + 1, 11, 30)}
    for label, deadline in deadlines.items():
        row_text = plain(line_row(page, label).inner_text())
        late = ["Hors délai conventionnel"] if deadline and deadline < today else []
        assert "20 000" in row_text and badges(line_row(page, label)) == late + ["Prévu"], (label, row_text)
    assert f"Compte rendu {year}" in text and f"Compte rendu {year + 1}" in text, text
    assert (f"Le compte rendu {year}, à déposer au plus tard le 31/12/{year + 1} : le solde {year + 1} (20 000 €) "
            "est versé après son acceptation.") in text, text

    actions = line_actions(page, f"Avance {year}")
    actions.get_by_label("Date de mise en paiement").fill(today.isoformat())
    actions.get_by_label("Référence Chorus (facultatif)").fill("1000123456")
    page.shots("avance-mise-en-paiement")
    actions.get_by_role("button", name="Mettre en paiement").click()
    page.get_by_text("Le versement est mis en paiement ; l'association en est informée par e-mail.").wait_for()
    row_text = plain(line_row(page, f"Avance {year}").inner_text())
    assert badges(line_row(page, f"Avance {year}")) == ["Mis en paiement"]
    assert today.strftime("%d/%m/%Y") in row_text and "1000123456" in row_text

    actions = line_actions(page, f"Avance {year}")
    actions.get_by_label("Date du paiement").fill(today.isoformat())
    actions.get_by_role("button", name="Enregistrer le paiement").click()
    page.get_by_text("Le paiement est enregistré ; l'association en est informée par e-mail.").wait_for()
    assert badges(line_row(page, f"Avance {year}")) == ["Payé"]
    assert "Déjà versé : 20 000" in main_text(page)

    # The second year's balance: refused while the first year's report is not accepted.
    actions = line_actions(page, f"Solde {year + 1}")
    refusal = plain(actions.locator(".fr-alert").inner_text())
    assert (f"Le solde {year + 1} ne peut être mis en paiement qu'une fois le compte rendu {year} accepté "
            "(il n'est pas encore déposé)") in refusal, refusal
    assert actions.get_by_role("button", name="Mettre en paiement").count() == 0
    page.shots("solde-bloque")
    narrow(page, "versements-staff")


# --- 4. The association files its first year's report ---------------------------------------------

def euros_input(cents):
    whole, rest = divmod(cents, 100)
    return f"{whole}" + (f",{rest:02d}" if rest else "")


def member_files_the_report(page, base, year):
    page.goto(base + "/tableau-de-bord")
    page.get_by_role("link", name=re.compile(rf"Compte rendu {year} — ")).click()
    page.get_by_role("heading", name="Comptes rendus annuels").wait_for()
    text = main_text(page)
    assert badges(page.locator("#convention")) == ["En vigueur"] and f"Compte rendu {year}" in text, text
    page.get_by_role("link", name=f"Remplir le compte rendu {year}").click()
    page.get_by_role("heading", name=f"Compte rendu annuel {year}").wait_for()
    page.shots("compte-rendu-vide")

    for name, value in (("young_count", "100"), ("young_qpv", "40"), ("young_frr", "10"), ("young_ase", "5"),
                        ("young_disability", "3"), ("young_dropout", "20"), ("age_under_16", "10"),
                        ("age_16_17", "30"), ("age_18_25", "55"), ("age_over_25", "5"), ("mentor_count", "90"),
                        ("pair_count", "95"), ("average_duration_months", "8,5")):
        page.locator(f"#{name}").fill(value)
    page.locator("#departements-filtre").fill("rhone")
    page.locator("#departements-liste").get_by_text("69 – Rhône", exact=True).click()
    page.locator("#account").fill("Cent jeunes accompagnés à Lyon ; un partenariat avec la mission locale.")

    # The compte rendu financier: each line of the granted budget achieved as granted, but one
    # charge 30 % over: its gap is shown as it is typed, and its explanation asked for.
    rows = page.locator(".aap-fin-row")
    gap_row = None
    for index in range(rows.count()):
        row = rows.nth(index)
        granted = int(row.get_attribute("data-granted"))
        if not granted:
            continue
        achieved = granted
        if gap_row is None and row.locator("input").get_attribute("id").startswith("fin_6"):
            gap_row, achieved = row, granted * 13 // 10
        row.locator("input").fill(euros_input(achieved))
    assert gap_row is not None
    gap_code = gap_row.locator("input").get_attribute("id").removeprefix("fin_")
    gap_row.locator(".aap-fin-explain").wait_for(state="visible")
    assert "(+30 %) — plus de 15 % : à expliquer" in plain(gap_row.locator(".aap-fin-gap").inner_text())
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.get_by_text("Brouillon enregistré à").wait_for()
    missing = plain(page.locator("#manquants").inner_text())
    assert "Il reste 3 éléments à compléter avant le dépôt" in missing, missing
    assert "expliquez l'écart sur" in missing and "(+30,0 %)" in missing, missing
    assert "Pièce : Comptes annuels approuvés" in missing and "Pièce : Rapport d'activité" in missing, missing
    page.shots("compte-rendu-manquants")

    page.locator(f"#explain_{gap_code}").fill("Un second local loué en cours d'année pour les rencontres des binômes.")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    page.get_by_text("Brouillon enregistré à").wait_for()
    for code, name in (("accounts", "comptes-annuels.pdf"), ("activity_report", "rapport-activite.pdf")):
        piece = page.locator(f"#piece-{code}")
        piece.locator("input[type=file]").set_input_files(
            {"name": name, "mimeType": "application/pdf", "buffer": pades_helpers.minimal_pdf(b"Piece")})
        piece.get_by_role("button", name="Envoyer").click()
        page.locator(f"#piece-{code}").get_by_role("link", name=name).wait_for()
    assert page.locator("#manquants").count() == 0
    assert "Le compte rendu est complet." in main_text(page)
    page.shots("compte-rendu-complet")
    narrow(page, "compte-rendu-complet")

    page.get_by_role("link", name="Déposer le compte rendu").click()
    page.get_by_role("heading", name=f"Déposer le compte rendu annuel {year}").wait_for()
    assert "2 pièces" in main_text(page)
    page.shots("compte-rendu-depot")
    page.get_by_role("button", name="Confirmer le dépôt").click()
    page.get_by_text(f"Votre compte rendu {year} est déposé. L'accusé de réception vous est envoyé").wait_for()
    text = main_text(page)
    assert "Déposé" in badges(page.locator("main")), text
    assert "Empreinte SHA-256" in text and "après la date limite" not in text, text
    assert "Un second local loué" in text  # the explanation, read back
    assert "8,5 mois" in text and "À déposer au plus tard" not in text, text  # French decimals; no deadline once filed
    with page.expect_download() as info:
        page.get_by_role("link", name="Télécharger l'accusé de réception").click()
    receipt = open(info.value.path(), "rb").read()
    receipt_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(receipt)).pages)
    assert str(year) in receipt_text and ASSOCIATION in receipt_text, receipt_text[:500]
    page.shots("compte-rendu-depose")
    narrow(page, "compte-rendu-depose")  # the 64 characters of the fingerprint wrap
    return gap_code


# --- 5. Staff accept the report, the balance goes to payment ---------------------------------------

def staff_accept_and_pay_the_balance(page, base, year, reference, today):
    page.get_by_role("link", name="Suivi des subventions").first.click()
    page.get_by_role("link", name="Comptes rendus annuels").click()
    page.get_by_role("heading", name="À examiner (1)").wait_for()
    page.shots("comptes-rendus-a-examiner")
    narrow(page, "comptes-rendus-a-examiner")
    page.get_by_role("link", name=reference).first.click()
    page.get_by_role("heading", name=f"Compte rendu annuel {year}").wait_for()
    text = main_text(page)
    assert f"Examen du compte rendu {year} (DJEPVA)" in text and "Un second local loué" in text, text
    page.shots("compte-rendu-examen")
    page.get_by_text("Je confirme l'acceptation").click()  # the box, through its label as a person does
    page.get_by_role("button", name="Accepter le compte rendu").click()
    page.get_by_text(f"Compte rendu {year} accepté : l'association en est informée.").wait_for()
    assert page.get_by_role("button", name="Accepter le compte rendu").count() == 0

    page.locator(".fr-breadcrumb").get_by_role("link", name="Suivi de la subvention").click()
    page.get_by_role("heading", name="Suivi de la subvention", level=1).wait_for()
    actions = line_actions(page, f"Solde {year + 1}")
    assert actions.locator(".fr-alert--warning").count() == 0
    actions.get_by_label("Date de mise en paiement").fill(today.isoformat())
    actions.get_by_label("Référence Chorus (facultatif)").fill("1000123999")
    actions.get_by_role("button", name="Mettre en paiement").click()
    page.get_by_text("Le versement est mis en paiement ; l'association en est informée par e-mail.").wait_for()
    assert badges(line_row(page, f"Solde {year + 1}"))[-1:] == ["Mis en paiement"]  # the state: the last badge
    page.shots("solde-mis-en-paiement")


# --- 6. The association reads its follow-up and its mails ------------------------------------------

def member_reads_its_follow_up(page, base, application_id, year):
    page.goto(f"{base}/suivi/dossiers/{application_id}")
    page.get_by_role("heading", name="Suivi de la subvention", level=1).wait_for()
    text = main_text(page)
    assert badges(page.locator("#convention")) == ["En vigueur"], text
    assert f"Signataire pour l'État : {SIGNATORY}" in text, text
    assert badges(line_row(page, f"Avance {year}")) == ["Payé"]
    assert badges(line_row(page, f"Solde {year + 1}"))[-1:] == ["Mis en paiement"]
    assert badges(line_row(page, f"Solde {year}"))[-1:] == ["Prévu"]
    assert "Déjà versé : 20 000" in text and "Reste à verser : 60 000" in text, text
    report = plain(page.locator(f"#compte-rendu-{year}").inner_text())
    assert badges(page.locator(f"#compte-rendu-{year}")) == ["Accepté"]
    assert f"Consulter le compte rendu {year}" in report, report
    # Members do not act on payments, nor countersign.
    assert page.get_by_role("button", name="Mettre en paiement").count() == 0
    assert page.get_by_text("Actions sur les versements").count() == 0
    page.shots("suivi-association")
    narrow(page, "suivi-association")


def mails_to(app, to):
    with app.app_context():
        return [m.subject for m in db.session.scalars(
            db.select(OutboxMessage).where(OutboxMessage.to == to).order_by(OutboxMessage.id))]


def test_a_winners_year_convention_payments_and_report(live_app, open_page, signer):
    app, base = live_app.app, live_app.url
    year, application_id, reference = set_up(app)
    today = timeutil.to_paris(timeutil.now()).date()

    member = open_page("association")
    number = member_returns_the_signed_convention(member, base, reference, signer)

    staff = open_page("instructeur")
    staff_countersign_and_notify(staff, base, number, today)
    staff_pay_the_advance(staff, year, today)

    member_files_the_report(member, base, year)

    staff_accept_and_pay_the_balance(staff, base, year, reference, today)

    member_reads_its_follow_up(member, base, application_id, year)

    subjects = mails_to(app, MEMBER)
    assert f"[{reference}] La convention {number} est en vigueur" in subjects, subjects
    for text in (f"Versement mis en paiement : avance {year}", f"Versement effectué : avance {year}",
                 f"Versement mis en paiement : solde {year + 1}"):
        assert f"[{reference}] {text}" in subjects, (text, subjects)
    assert f"[{reference}] Votre compte rendu {year} est accepté" in subjects, subjects
    assert f"[{reference}] Compte rendu annuel {year} déposé" in subjects, subjects  # the receipt

    for page in (member, staff):
        assert unexpected_errors(page) == [], page.js_errors
        assert page.http_errors == [], page.http_errors
