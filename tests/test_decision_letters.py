"""Decision letters (issue 17 §9): one PDF per notified decision, at /candidatures/<id>/decision.pdf,
for the association's members and staff only, attached to the decision mail.

What each letter must carry: the decision and its reasons (selected: the amount, its split per
year and the next steps — the convention to sign, the budget to adjust when the grant is below the
request; waiting list; not retained; inadmissible), its author's name and title (CRPA L212-1, the
signatory set per call), the service in charge (per call) and the routes and time limits of appeal
(recours gracieux or hiérarchique, CRPA L411-2; tribunal administratif within two months of the
notification, CJA R421-1; Télérecours citoyens). A draft decision has no letter (404).
"""
import io
import re

import pytest
from pypdf import PdfReader

from aap.extensions import db
from aap.instruction import services as instruction
from aap.mail import build_email
from aap.models import Application, OutboxMessage
from aap.money import format_euros
from aap.selection import mails, services

from . import factories
from . import factories_selection as fs
from .conftest import login

SIGNATORY = {"signatory_name": "Jeanne Exemple",
             "signatory_title": "directrice de la jeunesse, de l'éducation populaire et de la vie associative"}


def pdf_text(data):
    return re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


@pytest.fixture
def login_as(client):
    """Log in as `user`, whoever was logged in before (the login page is for guests only)."""
    def _login(user):
        client.post_form("/deconnexion")
        login(client, user)
        return client
    return _login


@pytest.fixture
def call(app):
    return factories.call(slug="aap-2025", years=3, budget_cents=1_000_000_00, convention_texts=dict(SIGNATORY),
                          service_name="DJEPVA – Bureau des essais", service_address="12 rue des Essais\n75007 Paris",
                          service_email="essais@jeunesse.gouv.fr", service_phone="01 23 45 67 89")


@pytest.fixture
def files(call, applicant, staff):
    """Four files: A's (the applicant's association) selected with a reduced grant, one waitlisted,
    one not retained, one inadmissible; the three decisions as drafts."""
    winner = factories.application(call, applicant.association, status="reviewed", requested_cents=90_000_00,
                                   requested_per_year=[30_000_00] * 3, title="Mentorat des lycéens")
    waiting = fs.file(call, "En Attente", with_member=True)
    refused = fs.file(call, "Refusée", with_member=True)
    inadmissible = fs.file(call, "Hors Délai", status="submitted", with_member=True)
    services.set_decision(winner, "selected", staff, amount_cents=75_000_00, amount_per_year=[25_000_00] * 3)
    services.set_decision(waiting, "waitlisted", staff)
    services.set_decision(refused, "rejected", staff, reason="Le projet ne touche pas les publics prioritaires.")
    return winner, waiting, refused, inadmissible


def euros(cents):
    return re.sub(r"\s+", " ", format_euros(cents))  # (as pdf_text reads it)


def letter(client, application):
    return client.get(f"/candidatures/{application.id}/decision.pdf")


def common_mentions(text):
    assert "Pour la ministre et par délégation" in text
    assert "Jeanne Exemple" in text and "Directrice de la jeunesse, de l'éducation populaire" in text
    assert "DJEPVA – Bureau des essais — 12 rue des Essais, 75007 Paris" in text
    assert "essais@jeunesse.gouv.fr" in text and "01 23 45 67 89" in text
    assert "Voies et délais de recours" in text
    assert "recours gracieux" in text and "recours hiérarchique" in text and "L. 411-2" in text
    assert "tribunal administratif de Paris" in text and "deux mois à compter de sa notification" in text
    assert "R. 421-1" in text and "Télérecours citoyens" in text


def test_a_draft_decision_has_no_letter(app, call, files, applicant, staff, login_as):
    winner = files[0]
    for user in (applicant, staff):
        client = login_as(user)
        assert letter(client, winner).status_code == 404
    client = login_as(applicant)
    assert "Lettre de décision" not in client.get(f"/candidatures/{winner.id}").get_data(as_text=True)


def test_each_kind_of_letter_says_its_decision(app, call, files, applicant, staff, login_as):
    winner, waiting, refused, inadmissible = files
    services.publish_decisions(call, staff)
    instruction.mark_inadmissible(inadmissible, staff, "Dossier déposé sans les statuts signés.")
    client = login_as(staff)

    text = pdf_text(letter(client, winner).data)
    assert "Décision d'attribution de subvention" in text
    assert winner.reference in text and "Mentorat des lycéens" in text and applicant.association.name in text
    assert f"Subvention accordée {euros(75_000_00)}" in text
    for year in call.year_list:
        assert f"dont au titre de {year} {euros(25_000_00)}" in text
    assert "convention pluriannuelle d'objectifs" in text and "signée par le représentant légal" in text
    assert f"inférieur au montant demandé ({euros(90_000_00)})" in text
    assert "ajustez le budget du projet" in text
    common_mentions(text)

    text = pdf_text(letter(client, waiting).data)
    assert "Décision d'inscription sur la liste d'attente" in text and "si des crédits se libèrent" in text
    assert "Subvention accordée" not in text
    common_mentions(text)

    text = pdf_text(letter(client, refused).data)
    assert "Décision de refus de subvention" in text and "n'est pas retenu" in text
    assert "Motifs : Le projet ne touche pas les publics prioritaires." in text
    common_mentions(text)

    text = pdf_text(letter(client, inadmissible).data)
    assert "Décision d'irrecevabilité" in text and "déclaré irrecevable" in text
    assert "Motifs : Dossier déposé sans les statuts signés." in text
    common_mentions(text)


def test_the_letter_is_for_the_members_and_staff_only(app, call, files, applicant, other_applicant, reviewer,
                                                      staff, client, login_as):
    winner = files[0]
    services.publish_decisions(call, staff)
    assert letter(client, winner).status_code == 302  # to the login page
    for user, status in ((applicant, 200), (staff, 200), (other_applicant, 404), (reviewer, 404)):
        response = letter(login_as(user), winner)
        assert response.status_code == status, user.email
    response = letter(login_as(applicant), winner)
    assert response.headers["Content-Type"] == "application/pdf"
    assert f'filename=decision-{winner.reference}.pdf' in response.headers["Content-Disposition"]
    # The link, on the association's file page and on the staff's decision page.
    page = login_as(applicant).get(f"/candidatures/{winner.id}").get_data(as_text=True)
    assert f'href="/candidatures/{winner.id}/decision.pdf"' in page and "Lettre de décision (PDF)" in page
    page = login_as(staff).get(f"/selection/appels/{call.id}/dossiers/{winner.id}").get_data(as_text=True)
    assert f'href="/candidatures/{winner.id}/decision.pdf"' in page


def attached_letter(app, message):
    [part] = list(build_email(message, app.config, app.instance_path).iter_attachments())
    return part.get_filename(), pdf_text(part.get_content())


def test_the_letter_is_attached_to_the_decision_mail(app, call, files, applicant, staff):
    winner, waiting, refused, inadmissible = files
    services.publish_decisions(call, staff)
    assert db.session.query(OutboxMessage).count() == 0  # drafts until staff send them
    mails.send_mails(call, staff)
    message = factories.last_mail_to(applicant.email)
    name, text = attached_letter(app, message)
    assert name == f"decision-{winner.reference}.pdf" and "Décision d'attribution de subvention" in text
    refused_member = db.session.get(Application, refused.id).association
    [refused_mail] = [m for m in db.session.scalars(db.select(OutboxMessage))
                      if m.kind == "decision_rejected"]
    assert refused_member.name in attached_letter(app, refused_mail)[1]
    # The inadmissibility mail, sent at once, carries its letter too.
    instruction.mark_inadmissible(inadmissible, staff, "Dossier déposé sans les statuts signés.")
    [mail] = [m for m in db.session.scalars(db.select(OutboxMessage)) if m.kind == "instruction_inadmissible"]
    name, text = attached_letter(app, mail)
    assert name == f"decision-{inadmissible.reference}.pdf" and "Décision d'irrecevabilité" in text
