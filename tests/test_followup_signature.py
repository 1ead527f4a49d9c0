"""The signature of a convention (aap/followup/signature.py and signature_views.py): the association
returns it signed (a PDF checked as a piece), staff countersign (date and signatory, or the PDF),
send a copy back with the reason, notify (in force), terminate; who may do what; the signed version
served from then on; the reminders."""
import html
import io
from datetime import datetime, timedelta, timezone

import pytest

from aap import timeutil
from aap.extensions import db
from aap.followup import signature
from aap.models import OutboxMessage
from aap.models.followup import ConventionDocument, ConventionState

from . import factories, factories_documents, factories_followup
from .conftest import count_queries
from .factories_applications import PDF
from .test_followup_pades import minimal_pdf

C = ConventionState


def paris_today():
    """Today in Paris (the service's days), not the machine's: around midnight they differ."""
    return timeutil.to_paris(timeutil.now()).date()


def page_text(response):
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def login_as(client, login_as):
    """Log in as `user`, after logging out whoever was (a login page skips a logged-in session)."""
    def _login(user):
        client.post_form("/deconnexion")
        return login_as(user)
    return _login


@pytest.fixture
def issued(call, applicant):
    """The applicant's winning file and its convention, issued (generated once) and not returned."""
    application = factories_documents.winner(call, applicant.association)
    convention = factories_followup.convention(application, C.ISSUED)
    convention.stored_name = f"{application.id}-test.pdf"
    convention.generated_at = timeutil.now() - timedelta(days=20)
    db.session.commit()
    return application, convention


def upload(content=None, name="convention-signee.pdf"):
    return {"retour-document": (io.BytesIO(content or minimal_pdf()), name)}


def _return(client, convention, content=None, name="convention-signee.pdf"):
    data = {f"convention-{convention.id}-return-document": (io.BytesIO(content or minimal_pdf()), name)}
    return client.post_form(f"/suivi/conventions/{convention.id}/retour", data,
                            content_type="multipart/form-data")


def mails(to=None):
    query = db.select(OutboxMessage).order_by(OutboxMessage.id)
    if to:
        query = query.where(OutboxMessage.to == to)
    return db.session.scalars(query).all()


def test_the_association_returns_its_signed_convention(issued, applicant, staff, login_as):
    application, convention = issued
    client = login_as(applicant)
    page = page_text(client.get(f"/suivi/dossiers/{application.id}"))
    assert "Émise, en attente de signature" in page and "Renvoyer la convention signée" in page
    assert "Attendu de vous" in page
    response = _return(client, convention)
    assert response.status_code == 302
    db.session.refresh(convention)
    assert convention.state == C.ASSOCIATION_SIGNED and convention.association_signed_at is not None
    [document] = convention.documents
    assert document.kind == "association_signed" and document.signature["kind"] == "scanned"
    staff_mail = mails(staff.email)[-1]
    assert application.reference in staff_mail.subject and "renvoyé signée" in staff_mail.body
    page = page_text(client.get(f"/suivi/dossiers/{application.id}"))
    assert "Signée par l'association" in page and "signature manuscrite scannée" in page.lower()
    assert "Renvoyer la convention signée" not in page  # once
    assert "Attendu de la DJEPVA</strong> : vérifier la convention signée et la contresigner." in page
    # the signed version is served from now on; staff cannot re-issue it
    served = client.get(f"/candidatures/{application.id}/convention.pdf")
    assert served.status_code == 200 and served.data == minimal_pdf()
    login_as(staff)
    response = client.post_form(f"/instruction/candidatures/{application.id}/convention/reemettre", {})
    assert "ses données sont figées" in page_text(client.get(response.location))


def test_a_convention_never_issued_cannot_be_returned(issued, applicant):
    _application, convention = issued
    convention.stored_name = None
    db.session.commit()
    with pytest.raises(signature.SignatureError, match="pas encore été émise"):
        signature.return_signed(convention, None, applicant)


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n" + b"0" * 20, "au format PDF"),
    (PDF.replace(b"/Catalog", b"/Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), "JavaScript"),
])
def test_a_returned_file_is_checked_as_a_piece(issued, applicant, login_as, content, message):
    _application, convention = issued
    response = _return(login_as(applicant), convention, content)
    assert response.status_code == 422 and message in page_text(response)
    db.session.refresh(convention)
    assert convention.state == C.ISSUED and convention.documents == []


def test_other_associations_and_reviewers_see_nothing(issued, other_applicant, reviewer, login_as):
    application, convention = issued
    for person in (other_applicant, reviewer):
        client = login_as(person)
        assert client.get(f"/suivi/dossiers/{application.id}").status_code == 404
        assert _return(client, convention).status_code == 404
    db.session.refresh(convention)
    assert convention.state == C.ISSUED


def test_staff_countersign_with_a_date_and_a_signatory(issued, applicant, staff, login_as):
    application, convention = issued
    _return(login_as(applicant), convention)
    client = login_as(staff)
    url = f"/suivi/conventions/{convention.id}/contreseing"
    prefix = f"convention-{convention.id}-countersign-"
    future = (paris_today() + timedelta(days=3)).strftime("%d/%m/%Y")
    response = client.post_form(url, {prefix + "day": future, prefix + "signatory": "Jeanne Martin"})
    assert response.status_code == 422 and "ne peut pas être dans le futur" in page_text(response)
    assert f'value="{future}"' in page_text(response)
    response = client.post_form(url, {prefix + "day": "01/01/2020", prefix + "signatory": "Jeanne Martin"})
    assert "ne peut pas précéder le retour" in page_text(response)
    response = client.post_form(url, {prefix + "day": paris_today().strftime("%d/%m/%Y"), prefix + "signatory": ""})
    assert "Indiquez le nom et la qualité du signataire" in page_text(response)
    response = client.post_form(url, {prefix + "day": paris_today().strftime("%d/%m/%Y"),
                                      prefix + "signatory": "Jeanne Martin, sous-directrice"})
    assert response.status_code == 302
    db.session.refresh(convention)
    assert convention.state == C.COUNTERSIGNED and convention.signed_at == paris_today()
    assert convention.state_signatory == "Jeanne Martin, sous-directrice"
    page = page_text(client.get(f"/suivi/dossiers/{application.id}"))
    assert "Notifier la convention à l'association" in page


def test_staff_send_a_returned_copy_back_with_the_reason(issued, applicant, staff, login_as):
    application, convention = issued
    _return(login_as(applicant), convention)
    client = login_as(staff)
    response = client.post_form(f"/suivi/conventions/{convention.id}/refus",
                                {f"convention-{convention.id}-refuse-reason": ""})
    assert response.status_code == 422 and "pourquoi la convention signée n'est pas recevable" in page_text(response)
    client.post_form(f"/suivi/conventions/{convention.id}/refus",
                     {f"convention-{convention.id}-refuse-reason": "La page 3 n'est pas paraphée."})
    db.session.refresh(convention)
    assert convention.state == C.ISSUED and convention.association_signed_at is None
    [document] = convention.documents
    assert document.superseded_at is not None  # kept in the history
    mail = mails(applicant.email)[-1]
    assert "La page 3 n'est pas paraphée." in mail.body and f"/suivi/dossiers/{application.id}" in mail.body
    page = page_text(login_as(applicant).get(f"/suivi/dossiers/{application.id}"))
    assert "Renvoyer la convention signée" in page and "historique" in page


def test_an_applicant_cannot_countersign_nor_notify(issued, applicant, login_as):
    _application, convention = issued
    client = login_as(applicant)
    _return(client, convention)
    for action in ("contreseing", "notification", "refus", "resiliation"):
        assert client.post_form(f"/suivi/conventions/{convention.id}/{action}", {}).status_code in (403, 404)
    db.session.refresh(convention)
    assert convention.state == C.ASSOCIATION_SIGNED


def test_notify_puts_in_force_and_tells_the_members(call, applicant, staff):
    application = factories_documents.winner(call, applicant.association)
    convention = factories_followup.convention(application, C.COUNTERSIGNED)
    signature.notify(convention, staff)
    db.session.commit()
    assert convention.state == C.IN_FORCE and convention.in_force_at is not None
    mail = mails(applicant.email)[-1]
    assert "en vigueur" in mail.subject and f"/suivi/dossiers/{application.id}" in mail.body
    assert convention.payments and convention.reports  # planned and opened by the other parts


def test_staff_confirm_the_notification_which_is_not_undone(call, applicant, staff, login_as):
    """Notifying mails the association, plans the payments and cannot be undone: the page says so
    and staff tick the box, checked on the server (without it: the message by the box, nothing done)."""
    application = factories_documents.winner(call, applicant.association)
    convention = factories_followup.convention(application, C.COUNTERSIGNED)
    client = login_as(staff)
    page = page_text(client.get(f"/suivi/dossiers/{application.id}"))
    assert "Je confirme la notification : elle met le document en vigueur et ne peut pas être annulée." in page
    url, box = f"/suivi/conventions/{convention.id}/notification", f"convention-{convention.id}-notify-confirmed"
    response = client.post_form(url, {})
    assert response.status_code == 422 and "Cochez la case pour confirmer la notification." in page_text(response)
    db.session.refresh(convention)
    assert convention.state == C.COUNTERSIGNED and not convention.payments and not mails(applicant.email)
    assert client.post_form(url, {box: "y"}).status_code == 302
    db.session.refresh(convention)
    assert convention.state == C.IN_FORCE and convention.payments


def test_terminate_needs_a_reason_and_a_signed_convention(call, applicant, staff):
    application = factories_documents.winner(call, applicant.association)
    convention = factories_followup.convention(application, C.ISSUED)
    with pytest.raises(signature.SignatureError, match="plus possible"):
        signature.terminate(convention, staff, "Activité arrêtée")
    db.session.rollback()
    convention.state = C.IN_FORCE
    db.session.commit()
    with pytest.raises(signature.SignatureError, match="motif"):
        signature.terminate(convention, staff, " ")
    signature.terminate(convention, staff, "Activité arrêtée")
    db.session.commit()
    assert convention.state == C.TERMINATED and convention.termination_reason == "Activité arrêtée"
    assert "Activité arrêtée" in mails(applicant.email)[-1].body


def test_reminders_once_per_delay(issued, applicant):
    application, convention = issued
    assert signature.send_convention_reminders() == 1
    db.session.commit()
    assert convention.reminder_count == 1 and convention.reminded_at is not None
    mail = mails(applicant.email)[-1]
    assert "à renvoyer signée" in mail.subject and f"/suivi/dossiers/{application.id}" in mail.body
    assert signature.send_convention_reminders() == 0  # reminded today
    later = timeutil.now() + timedelta(days=application.call.convention_reminder_days + 1)
    assert signature.send_convention_reminders(now=later) == 1


def test_staff_list_flags_the_late_and_sends_reminders(issued, staff, applicant, login_as):
    application, convention = issued
    for index in range(3):
        _other, returned = factories_followup.winner_convention(application.call, C.ASSOCIATION_SIGNED,
                                                                name=f"Association {index}")
        returned.stored_name = f"returned-{index}.pdf"
    db.session.commit()
    client = login_as(staff)
    with count_queries() as queries:
        page = page_text(client.get("/suivi/conventions"))
    assert queries() < 20
    assert "Non renvoyée dans le délai" in page and convention.number in page
    assert page.index("Association 0") < page.index(convention.number)  # to countersign first
    assert "1 association n'a pas renvoyé sa convention signée dans le délai de l'appel" in page
    client.post_form("/suivi/conventions/relances", {})
    db.session.refresh(convention)
    assert convention.reminder_count == 1
    page = page_text(client.get("/suivi/conventions"))
    assert "Aucune association à relancer aujourd'hui." in page and "0 association" not in page


def test_the_staff_list_is_staff_only(applicant, reviewer, login_as):
    for person in (applicant, reviewer):
        assert login_as(person).get("/suivi/conventions").status_code in (403, 404)


def test_a_signed_document_is_downloaded_by_members_and_staff_only(issued, applicant, other_applicant, staff,
                                                                   login_as):
    _application, convention = issued
    _return(login_as(applicant), convention)
    document = db.session.scalar(db.select(ConventionDocument))
    url = f"/suivi/conventions/{convention.id}/documents/{document.id}"
    assert login_as(applicant).get(url).data == minimal_pdf()
    assert login_as(staff).get(url).status_code == 200
    assert login_as(other_applicant).get(url).status_code == 404


def test_countersigned_pdf_becomes_the_served_version(issued, applicant, staff, login_as):
    application, convention = issued
    _return(login_as(applicant), convention)
    client = login_as(staff)
    prefix = f"convention-{convention.id}-countersign-"
    countersigned = minimal_pdf(b"Contresignee")
    response = client.post_form(f"/suivi/conventions/{convention.id}/contreseing", {
        prefix + "document": (io.BytesIO(countersigned), "contresignee.pdf"),
        prefix + "day": paris_today().isoformat(), prefix + "signatory": "Jeanne Martin"},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert client.get(f"/candidatures/{application.id}/convention.pdf").data == countersigned
    assert signature.served_document(convention).kind == "countersigned"
    assert datetime.now(timezone.utc) >= convention.countersigned_at


def test_the_staff_history_names_the_follow_up_states_in_french(issued, applicant, staff, login_as):
    application, convention = issued
    _return(login_as(applicant), convention)
    # Any follow-up machine, by the event's `subject` (a payment line here).
    from aap import events
    events.record("payment_requested", staff, application=application, from_state="planned",
                  to_state="requested", subject="paymentline", subject_id=1)
    db.session.commit()
    page = page_text(login_as(staff).get(f"/candidatures/{application.id}"))
    assert "Émise, en attente de signature → Signée par l'association" in page
    assert "Prévu → Mis en paiement" in page
    assert "issued →" not in page and "planned →" not in page


def test_a_signed_grant_is_neither_renounced_nor_withdrawn_but_terminated(app, call, staff):
    """Once the association signed its convention, renouncing or withdrawing the grant is refused
    (the convention is terminated instead); while it is only issued, both stay possible."""
    from aap.selection import amendments
    from aap.selection.services import DecisionError

    application, convention = factories_followup.winner_convention(call, ConventionState.IN_FORCE)
    member = factories.user("applicant", "membre-resiliation@example.org")
    member.association_id = application.association_id
    db.session.commit()
    for attempt in (lambda: amendments.renounce(application, member, "Nous arrêtons le projet."),
                    lambda: amendments.withdraw_grant(application, staff, "Projet abandonné.")):
        with pytest.raises(DecisionError) as refusal:
            attempt()
        assert "la convention se résilie" in str(refusal.value)
    assert application.status == "selected"
    issued_application, _ = factories_followup.winner_convention(call, ConventionState.ISSUED,
                                                                 name="Jeunes en Route")
    amendments.withdraw_grant(issued_application, staff, "Projet abandonné.")
    assert issued_application.status == "withdrawn"
