"""The message thread of a file, between DJEPVA staff and the association's members."""
from html import unescape

import pytest

from aap.extensions import db
from aap.instruction import services
from aap.models import Message

from . import factories
from . import factories_instruction as fi
from .conftest import count_queries


def url(application):
    return f"/dossiers/{application.id}/messages"


def thread(application):
    return db.session.scalars(db.select(Message).where(Message.application_id == application.id)
                              .order_by(Message.id)).all()


def logout(client):
    client.post_form("/deconnexion")


def test_staff_message_is_stored_recorded_and_notified_to_each_member(client, login_as, staff, own_file,
                                                                      applicant):
    colleague = fi.member(applicant.association, "collegue@example.org")
    login_as(staff)
    body = "Bonjour,\npouvez-vous préciser le nombre de mentors bénévoles ?"
    response = client.post_form(url(own_file), {"message_body": body})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/candidatures/{own_file.id}#messages")
    [message] = thread(own_file)
    assert (message.author_id, message.body) == (staff.id, body)
    [event] = fi.events_of(own_file, "message")
    assert event.actor_id == staff.id and event.details == {"message_id": message.id}
    assert sorted(m.to for m in factories.outbox()) == ["asso@example.org", "collegue@example.org"]
    mail = factories.last_mail_to(colleague.email)
    assert "Nouveau message" in mail.subject and own_file.reference in mail.subject
    assert "La DJEPVA vous a écrit" in mail.body
    assert f"http://localhost/candidatures/{own_file.id}#messages" in mail.body
    assert "mentors bénévoles" not in mail.body  # the body stays on the site


def test_member_message_goes_to_the_staff_who_last_wrote(client, login_as, staff, own_file, applicant, app):
    other_staff = factories.user("staff", email="agent2@example.org")
    with app.test_request_context():
        services.post_message(own_file, other_staff, "Première question.")
        services.post_message(own_file, staff, "Deuxième question.")
    before = len(factories.outbox())
    login_as(applicant)
    response = client.post_form(url(own_file), {"message_body": "Voici notre réponse."})
    assert response.status_code == 302
    new = factories.outbox()[before:]
    assert [m.to for m in new] == [staff.email]
    assert f"{applicant.full_name} (Réussir Ensemble) a écrit" in new[0].body
    assert [m.body for m in thread(own_file)][-1] == "Voici notre réponse."
    assert thread(own_file)[-1].author_id == applicant.id


def test_member_message_without_staff_writer_goes_to_every_staff(client, login_as, staff, own_file,
                                                                 applicant, admin):
    other_staff = factories.user("staff", email="agent2@example.org")
    inactive = factories.user("staff", email="parti@example.org")
    inactive.active = False
    db.session.commit()
    login_as(applicant)
    client.post_form(url(own_file), {"message_body": "Une question sur le budget."})
    assert sorted(m.to for m in factories.outbox()) == sorted([staff.email, other_staff.email])
    assert admin.email not in [m.to for m in factories.outbox()]


@pytest.mark.parametrize("body, error", [
    ("   ", "Écrivez votre message."),
    ("x" * 5001, "Le message ne doit pas dépasser 5000 caractères."),
])
def test_empty_or_too_long_message_is_refused(client, login_as, applicant, own_file, body, error):
    login_as(applicant)
    response = client.post_form(url(own_file), {"message_body": body})
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    assert error in html
    assert thread(own_file) == [] and factories.outbox() == []


def test_message_of_5000_characters_is_accepted(client, login_as, applicant, staff, own_file):
    login_as(applicant)
    assert client.post_form(url(own_file), {"message_body": "é" * 5000}).status_code == 302
    assert len(thread(own_file)[0].body) == 5000


def test_others_cannot_post(client, login_as, own_file, reviewer, other_applicant, staff):
    fi.assign(reviewer, own_file)
    response = client.post_form(url(own_file), {"message_body": "Anonyme"})
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    login_as(reviewer)
    assert client.post_form(url(own_file), {"message_body": "Je suis évaluateur"}).status_code == 403
    logout(client)
    login_as(other_applicant)
    assert client.post_form(url(own_file), {"message_body": "Autre association"}).status_code == 404
    assert client.post_form("/dossiers/999/messages", {"message_body": "?"}).status_code == 404
    assert thread(own_file) == [] and factories.outbox() == []


def test_unassigned_reviewer_gets_404(client, login_as, own_file, reviewer):
    login_as(reviewer)
    assert client.post_form(url(own_file), {"message_body": "?"}).status_code == 404


def test_service_refuses_reviewers(app, own_file, reviewer):
    fi.assign(reviewer, own_file)
    with pytest.raises(services.InstructionError):
        services.post_message(own_file, reviewer, "Bonjour")
    assert thread(own_file) == []


def test_no_instruction_url_for_reviewer_other_association_or_anonymous(client, login_as, own_file, reviewer,
                                                                        other_applicant, call):
    fi.assign(reviewer, own_file)
    get_urls = [f"/instruction/appels/{call.id}/dossiers", f"/instruction/dossiers/{own_file.id}/demande-pieces"]
    post_urls = [f"/instruction/dossiers/{own_file.id}/recevable",
                 f"/instruction/dossiers/{own_file.id}/irrecevable",
                 f"/instruction/dossiers/{own_file.id}/demande-pieces"]
    for target in get_urls:
        assert client.get(target).status_code == 302
    for user in (reviewer, other_applicant):
        login_as(user)
        for target in get_urls:
            assert client.get(target).status_code in (403, 404), (user.email, target)
        for target in post_urls:
            assert client.post_form(target, {"inadmissible_reason": "x"}).status_code in (403, 404)
        logout(client)


def test_thread_partial_shows_messages_to_staff_and_members_only(app, own_file, staff, applicant, reviewer,
                                                                other_applicant):
    fi.assign(reviewer, own_file)
    with app.test_request_context():
        services.post_message(own_file, staff, "Pouvez-vous préciser <le budget> ?")
        services.post_message(own_file, applicant, "Oui :\nvoici le détail.")
    for user in (staff, applicant):
        html = fi.render_partial(app, user, "instruction/_messages.html", own_file)
        assert 'id="messages"' in html
        # Staff read their colleague's name; the association reads « DJEPVA » (its own members by name).
        assert ("Staff Test" in html) == (user is staff) and "Applicant Test" in html
        assert "DJEPVA" in html and "Association" in html
        assert "&lt;le budget&gt;" in html and "<le budget>" not in html  # escaped
        assert "Oui :<br>voici le détail." in html
        assert 'name="message_body"' in html and f'action="/dossiers/{own_file.id}/messages"' in html
        assert html.index("préciser") < html.index("voici le détail")
    for user in (reviewer, other_applicant, None):
        html = fi.render_partial(app, user, "instruction/_messages.html", own_file)
        assert html.strip() == "", user
        assert "budget" not in html


def test_thread_shows_paris_time(app, own_file, staff):
    from datetime import datetime, timezone
    with app.test_request_context():
        message = services.post_message(own_file, staff, "Message d'été")
    message.created_at = datetime(2026, 7, 1, 22, 30, tzinfo=timezone.utc)  # 00:30 on 2 July in Paris
    db.session.commit()
    html = fi.render_partial(app, staff, "instruction/_messages.html", own_file)
    assert "2 juillet 2026 à 0 h 30" in html


def test_messages_for_is_one_query(app, own_file, staff, applicant):
    with app.test_request_context():
        for i in range(6):
            services.post_message(own_file, staff if i % 2 else applicant, f"Message {i}")
    db.session.expire_all()
    assert own_file.id  # reloads the file itself before counting
    with count_queries() as queries:
        messages = services.messages_for(own_file)
        names = [m.author.full_name for m in messages]
    assert len(names) == 6
    assert queries() == 1
