"""Requests for missing pieces: staff reopen parts of a submitted file until a due date."""
from datetime import date, timedelta
from html import unescape

import pytest

from aap import timeutil
from aap.extensions import db
from aap.instruction import services
from aap.models import PieceRequest

from . import factories
from . import factories_instruction as fi


def paris_today():
    return timeutil.to_paris(timeutil.now()).date()


def url(application):
    return f"/instruction/dossiers/{application.id}/demande-pieces"


def piece_requests(application):
    return db.session.scalars(db.select(PieceRequest).where(PieceRequest.application_id == application.id)).all()


def test_request_reopens_the_file_and_mails_the_members(client, login_as, staff, own_file, applicant, call):
    colleague = fi.member(applicant.association, "tresoriere@example.org", first_name="Trésorière")
    statutes = next(d for d in call.pieces if d.mandatory)
    due = paris_today() + timedelta(days=10)
    login_as(staff)
    response = client.post_form(url(own_file), {
        "piece_items": ["budget", f"doc:{statutes.id}"],
        "piece_message": "Le budget ne fait pas apparaître les cofinancements.\nMerci de joindre les statuts signés.",
        "piece_due_date": due.isoformat(),
    })
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/candidatures/{own_file.id}")
    db.session.refresh(own_file)
    assert own_file.status == "incomplete"
    assert own_file.reopened_sections == ["budget", f"doc:{statutes.id}"]

    [request] = piece_requests(own_file)
    assert request.sections == ["budget", f"doc:{statutes.id}"]
    assert request.requested_by_id == staff.id and request.answered_at is None
    assert request.due_at == timeutil.end_of_day_paris(due)
    assert timeutil.to_paris(request.due_at).strftime("%H:%M:%S") == "23:59:59"

    [event] = fi.events_of(own_file, "piece_request")
    assert (event.from_state, event.to_state, event.actor_id) == ("submitted", "incomplete", staff.id)
    assert event.reason.startswith("Le budget ne fait pas apparaître")
    assert event.details["items"] == ["budget", f"doc:{statutes.id}"]

    assert sorted(m.to for m in factories.outbox()) == ["asso@example.org", "tresoriere@example.org"]
    mail = factories.last_mail_to(colleague.email)
    assert own_file.reference in mail.subject
    assert "Bonjour Trésorière Test" in mail.body
    assert "- 4. Budget" in mail.body and f"- Pièce : {statutes.label}" in mail.body
    assert "Merci de joindre les statuts signés." in mail.body
    assert f"Date limite : {timeutil.format_date(due)} à 23 h 59 (heure de Paris)" in mail.body
    assert f"http://localhost/candidatures/{own_file.id}" in mail.body


def test_due_date_in_the_past_is_refused(client, login_as, staff, own_file):
    login_as(staff)
    response = client.post_form(url(own_file), {
        "piece_items": ["projet"], "piece_message": "Précisez les objectifs chiffrés.",
        "piece_due_date": (paris_today() - timedelta(days=1)).isoformat()})
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "La date limite de réponse doit être dans le futur." in html
    assert "Précisez les objectifs chiffrés." in html  # what was typed is kept
    db.session.refresh(own_file)
    assert own_file.status == "submitted" and own_file.reopened_sections == []
    assert piece_requests(own_file) == [] and factories.outbox() == []


def test_today_is_still_in_the_future(app, staff, own_file):
    with app.test_request_context():  # queue_mail renders templates (context processors need a request)
        request = services.request_pieces(own_file, staff, ["attestation"], "Signez l'attestation.",
                                          paris_today())
    assert request.due_at > timeutil.now()
    assert own_file.status == "incomplete"


@pytest.mark.parametrize("data, message", [
    ({"piece_message": "Un message", "piece_due_date": "2099-01-01"},
     "Cochez au moins une partie du dossier ou une pièce à compléter."),
    ({"piece_items": ["budget"], "piece_message": "  ", "piece_due_date": "2099-01-01"},
     "Rédigez un message expliquant ce que l'association doit compléter."),
    ({"piece_items": ["budget"], "piece_message": "Un message", "piece_due_date": "demain"},
     "Indiquez une date limite valide"),
    ({"piece_items": ["doc:9999"], "piece_message": "Un message", "piece_due_date": "2099-01-01"},
     "Un des éléments cochés n'existe pas pour cet appel à projets."),
    ({"piece_items": ["statuts"], "piece_message": "Un message", "piece_due_date": "2099-01-01"},
     "Un des éléments cochés n'existe pas pour cet appel à projets."),
])
def test_invalid_requests_are_refused_in_french(client, login_as, staff, own_file, data, message):
    login_as(staff)
    response = client.post_form(url(own_file), data)
    assert response.status_code == 200
    assert message in unescape(response.get_data(as_text=True))
    db.session.refresh(own_file)
    assert own_file.status == "submitted"
    assert piece_requests(own_file) == []


def test_document_of_another_call_is_refused_by_the_service(app, staff, own_file):
    other = factories.call(slug="autre")
    with pytest.raises(services.InstructionError, match="n'existe pas"):
        services.request_pieces(own_file, staff, [f"doc:{other.pieces[0].id}"], "Message",
                                paris_today() + timedelta(days=3))
    with pytest.raises(services.InstructionError, match="futur"):
        services.request_pieces(own_file, staff, ["budget"], "Message", date(2020, 1, 1))
    assert piece_requests(own_file) == [] and own_file.status == "submitted"


def test_request_refused_when_not_submitted(client, login_as, staff, call):
    admissible = factories.submitted_file(call, fi.association("Déjà recevable"), status="admissible")
    login_as(staff)
    response = client.post_form(url(admissible), {
        "piece_items": ["budget"], "piece_message": "Un message",
        "piece_due_date": (paris_today() + timedelta(days=5)).isoformat()})
    assert response.status_code == 302
    assert "des pièces ne peuvent être demandées que sur un dossier déposé" in unescape(
        client.get("/accessibilite").get_data(as_text=True))
    db.session.refresh(admissible)
    assert admissible.status == "admissible" and piece_requests(admissible) == []


def test_standalone_form_lists_sections_and_documents(client, login_as, staff, own_file, call):
    login_as(staff)
    html = unescape(client.get(url(own_file)).get_data(as_text=True))
    for label in services.SECTIONS.values():
        assert label in html
    for document in call.pieces:
        assert f'value="doc:{document.id}"' in html and document.label in html


def test_panel_shows_open_requests_with_due_date(app, staff, own_file, applicant):
    due = paris_today() + timedelta(days=7)
    with app.test_request_context():
        services.request_pieces(own_file, staff, ["territoires", "pieces"], "Listez les départements.", due)
    html = unescape(fi.render_partial(app, staff, "instruction/_panel.html", own_file))
    assert "3. Territoires, 5. Pièces jointes" in html
    assert f"{timeutil.format_date(due)} à 23 h 59" in html
    assert "En attente" in html and "Listez les départements." in html
    # An incomplete file can still be declared inadmissible, not admissible, nor asked again.
    assert "Déclarer irrecevable" in html
    assert "Déclarer recevable" not in html and "Envoyer la demande de pièces" not in html
    assert fi.render_partial(app, applicant, "instruction/_panel.html", own_file).strip() == ""


def test_answered_request_is_shown_as_completed(app, staff, own_file):
    with app.test_request_context():
        request = services.request_pieces(own_file, staff, ["budget"], "Budget à revoir.",
                                          paris_today() + timedelta(days=7))
    request.answered_at = timeutil.now()
    own_file.status = "submitted"
    db.session.commit()
    html = unescape(fi.render_partial(app, staff, "instruction/_panel.html", own_file))
    assert "Complété le" in html and "En attente" not in html
