"""Messages to many files, as drafts first (issue 19 §3): staff choose the files by a filter,
write once with per-file {fields}, read the drafts, confirm; each file gets its own filled mail
(through the outbox, under the limits of messages) and the message in its thread."""
import html
import re

import pytest

from aap.extensions import db
from aap.mail import queue_text
from aap.models import Event, Message, OutboxMessage, User

from . import factories
from . import factories_applications as fa
from . import factories_documents as fd
from . import factories_instruction as fi

SUBJECT = "[{reference}] Rencontre des lauréats"
BODY = "Bonjour {association},\n\nVotre subvention de {montant} pour « {projet} » ({appel}).\nDossier : {lien}"


@pytest.fixture
def winners(call):
    """Three winners with a member each, and a file not retained (with its member)."""
    files = []
    for n, amount in enumerate((40_000_00, 55_000_00, 61_500_00), start=1):
        association = fd.association(f"Lauréate {n}")
        fi.member(association, f"membre{n}@example.org")
        files.append(fd.winner(call, association, amount_cents=amount))
    loser = fd.association("Non retenue")
    fi.member(loser, "perdu@example.org")
    fd.winner(call, loser, outcome="rejected", amount_cents=None)
    return files


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _url(call):
    return f"/instruction/appels/{call.id}/messages"


def _preview(client, call, subject=SUBJECT, body=BODY, target="selected"):
    return client.post_form(_url(call), {"cible": target, "objet": subject, "texte": body, "action": "apercu"})


def _fingerprint(page):
    return re.search(r'name="empreinte" value="([0-9a-f]+)"', page).group(1)


def _send(client, call, fingerprint, subject=SUBJECT, body=BODY, target="selected"):
    return client.post_form(_url(call), {"cible": target, "objet": subject, "texte": body, "action": "envoyer",
                                         "empreinte": fingerprint})


def _count(model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_every_winner_gets_its_own_filled_message_after_the_drafts(login_as, client, staff, call, winners):
    login_as(staff)
    assert re.search(r'<option (selected )?value="selected"( selected)?', _text(client.get(_url(call))))
    page = _text(_preview(client, call))
    assert "Aperçu : 3 messages" in page and "Envoyer les 3 messages" in page
    for application, amount in zip(winners, ("40\u202f000\xa0€", "55\u202f000\xa0€", "61\u202f500\xa0€")):
        assert f"[{application.reference}] Rencontre des lauréats" in page
        assert f"Bonjour {application.association.name}," in page and amount in page
    assert "Non retenue" not in page
    assert _count(Message) == 0 and _count(OutboxMessage) == 0  # drafts only

    response = _send(client, call, _fingerprint(page))
    assert response.status_code == 302
    db.session.expire_all()
    for n, application in enumerate(winners, start=1):
        [message] = db.session.scalars(db.select(Message).where(Message.application_id == application.id)).all()
        assert message.author_id == staff.id and f"Bonjour Lauréate {n}," in message.body
        [mail] = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.to == f"membre{n}@example.org")).all()
        assert mail.subject == f"[{application.reference}] Rencontre des lauréats"
        assert f"Bonjour Lauréate {n}," in mail.body and f"/candidatures/{application.id}#messages" in mail.body
        assert "{" not in mail.body
    assert not db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.to == "perdu@example.org")).all()
    assert [e.details["files"] for e in _events("messages_sent_to_many")] == [3]
    client.post("/deconnexion", data={"csrf_token": client.csrf_token()})

    # The association reads its message on its file page; another association does not.
    first, second = winners[0], winners[1]
    login_as(db.session.scalar(db.select(User).where(User.email == "membre1@example.org")))
    page = _text(client.get(f"/candidatures/{first.id}"))
    assert "Bonjour Lauréate 1," in page and "Bonjour Lauréate 2," not in page
    assert client.get(f"/candidatures/{second.id}").status_code == 404


def _events(action):
    return db.session.scalars(db.select(Event).where(Event.action == action)).all()


def test_an_unknown_field_is_refused(login_as, client, staff, call, winners):
    login_as(staff)
    response = _preview(client, call, body="Bonjour {asociation}, votre montant : {montant}.")
    page = _text(response)
    assert response.status_code == 400 and "Champ inconnu : {asociation}" in page
    assert "Envoyer les" not in page
    response = _send(client, call, "0" * 32, subject="[{ref}] Objet")
    assert response.status_code == 400 and "Champ inconnu : {ref}" in _text(response)
    assert _count(Message) == 0 and _count(OutboxMessage) == 0


def test_sending_needs_the_drafts_previewed(login_as, client, staff, call, winners):
    login_as(staff)
    # Without the preview's fingerprint: nothing sent, the drafts shown again to confirm.
    response = _send(client, call, "")
    page = _text(response)
    assert response.status_code == 409 and "ont changé depuis l'aperçu" in page and "Envoyer les 3 messages" in page
    assert _count(Message) == 0 and _count(OutboxMessage) == 0
    # A winner more since the preview: refused too, the new count shown.
    fingerprint = _fingerprint(_text(_preview(client, call)))
    fd.winner(call, fd.association("Lauréate tardive"))
    response = _send(client, call, fingerprint)
    assert response.status_code == 409 and "Envoyer les 4 messages" in _text(response)
    assert _count(Message) == 0
    # The text changed since the preview: refused.
    response = _send(client, call, _fingerprint(_text(response)), body=BODY + " Post-scriptum.")
    assert response.status_code == 409 and _count(Message) == 0
    # Sent once; the same confirmation posted again (a second click) sends nothing more.
    fingerprint = _fingerprint(_text(_preview(client, call)))
    assert _send(client, call, fingerprint).status_code == 302 and _count(Message) == 4
    mails = _count(OutboxMessage)
    assert _send(client, call, fingerprint).status_code == 409
    assert _count(Message) == 4 and _count(OutboxMessage) == mails


def test_the_limits_of_messages_apply(app, login_as, client, staff, call, winners):
    limit = app.config["MAIL_LIMITS"]["instruction_message"][0]
    for _ in range(limit):
        queue_text("membre1@example.org", "Message", "Texte", "instruction_message")
    db.session.commit()
    login_as(staff)
    response = _send(client, call, _fingerprint(_text(_preview(client, call))))
    assert response.status_code == 302
    flashed = _text(client.get(f"/instruction/appels/{call.id}/dossiers"))
    assert "3 messages envoyés" in flashed and "2 e-mails mis en file d'envoi, 1 e-mail non envoyé" in flashed
    db.session.expire_all()
    assert _count(Message) == 3  # every file has its message in its thread
    assert len(db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.to == "membre1@example.org")).all()) \
        == limit


def test_files_to_complete_get_their_due_date(login_as, client, staff, call):
    application = factories.submitted_file(call, "À compléter")
    fi.member(application.association, "incomplet@example.org")
    fa.make_incomplete(application, ["budget"], staff)
    factories.submitted_file(call, "Déposée seulement")
    login_as(staff)
    page = _text(_preview(client, call, subject="Relance {reference}", body="Date limite : {date_limite}.",
                          target="incomplete"))
    assert "Aperçu : 1 message" in page and "Relance " + application.reference in page
    assert re.search(r"Date limite : \d{1,2} \w+ \d{4} à \d{1,2} h \d{2} \(heure de Paris\)\.", page)
    assert "incomplet@example.org" in page
