"""Publishing decisions through a confirmation page, the decision mails as drafts (read, edited,
held back, then sent in a second step), their place in the file's history, and the wording of the
decision mails editable per call (issue 15, points 1, 2 and 5)."""
import re
from html import unescape

import pytest

from aap.extensions import db
from aap.instruction import services as instruction
from aap.models import Application, CallMailTemplate, Decision, DecisionMail, Event
from aap.selection import services

from . import factories
from . import factories_applications as fa
from . import factories_selection as fs
from .conftest import login

WARNINGS = "Des évaluations sont encore attendues", "Des dossiers restent sans décision", "L'enveloppe est dépassée"


def _text(response):
    return unescape(response.get_data(as_text=True))


def _main(response):
    """The text of the page's own content (no tags), its runs of spaces and line breaks as one
    space (a mail's text keeps its own in the database)."""
    html = _text(response)
    text = re.sub(r"<[^>]+>", " ", html[html.index('<main id="contenu"'):html.index("</main>")])
    return re.sub(r" ([.,])", r"\1", re.sub(r"[ \t\r\n]+", " ", text))


@pytest.fixture
def call(app):
    return factories.call(slug="aap-publication", budget_cents=200_000_00, reviewers_per_file=1)


@pytest.fixture
def drafts(app, call, staff):
    """Three reviewed files (one member each, two for the winner) with one draft decision of
    each outcome; nothing to warn about."""
    reviewer, = fs.reviewers(1)
    winner = fs.file(call, "Lauréate", with_member=True, requested_cents=70_000_00, title="Mentorat rural")
    waiting = fs.file(call, "En Attente", with_member=True)
    refused = fs.file(call, "Refusée", with_member=True)
    factories.user("applicant", email="seconde@example.org").association_id = winner.association_id
    db.session.commit()
    for application in (winner, waiting, refused):
        fs.review(application, reviewer, [4, 4, 4])
    services.set_decision(winner, "selected", staff, amount_cents=70_000_00)
    services.set_decision(waiting, "waitlisted", staff, reason="Budget épuisé à ce stade.")
    services.set_decision(refused, "rejected", staff, reason="Le projet ne relève pas du mentorat.")
    return winner, waiting, refused


def _untouched(*applications):
    db.session.expire_all()
    for application in applications:
        assert db.session.get(Application, application.id).status == "reviewed"
        assert db.session.scalar(db.select(Decision).where(Decision.application_id == application.id)) \
            .published_at is None
    assert db.session.scalars(db.select(DecisionMail)).all() == []
    assert factories.outbox() == []


def test_the_confirmation_page_says_what_will_happen_and_changes_nothing(app, call, drafts, staff, login_as):
    winner, waiting, refused = drafts
    client = login_as(staff)
    ranking = _text(client.get(f"/selection/appels/{call.id}"))
    assert f'href="/selection/appels/{call.id}/publier"' in ranking  # a link to the page, not a POST
    page = _main(client.get(f"/selection/appels/{call.id}/publier"))
    assert "3 décisions seront publiées : 1 « Retenu », 1 « Liste d'attente », 1 « Non retenu »." in page
    assert "4 messages (un par membre de l'association)" in page and "Aucun courrier ne part maintenant" in page
    assert "l'association voit la décision sur la page de son dossier dès la publication" in page
    # The total granted against the envelope.
    assert "Accordé par les décisions à publier" in page and "70\u202f000\u00a0€" in page
    assert "Enveloppe de l'appel" in page and "200\u202f000\u00a0€" in page and "130\u202f000\u00a0€" in page
    # One preview of each kind, from the call's wording, filled with a real file.
    assert f"Retenu — exemple du dossier {winner.reference}" in page
    assert f"Objet : Appel à projets « 1 jeune 1 mentor » : décision sur votre dossier {winner.reference}" in page
    assert "votre projet est retenu" in page and "Montant de la subvention accordée : 70\u202f000\u00a0€." in page
    assert "Précisions" not in page and "Budget épuisé à ce stade." in page
    assert "Motif : Le projet ne relève pas du mentorat." in page
    assert not any(warning in page for warning in WARNINGS)
    _untouched(winner, waiting, refused)
    # A POST without the page's fingerprint (a forged or old form) publishes nothing.
    response = client.post_form(f"/selection/appels/{call.id}/publier", {"ack": list(fs.ALL_WARNINGS)})
    assert response.status_code == 422
    assert "Rien n'a été publié" in _text(response) and "ont changé depuis l'affichage" in _text(response)
    _untouched(winner, waiting, refused)


def test_each_warning_is_shown_and_must_be_acknowledged(app, call, drafts, staff, login_as):
    winner, waiting, refused = drafts
    late, = fs.reviewers(1)
    pending = fs.file(call, "Sans Décision")  # no decision, and a review still expected
    fs.review(pending, late, [3, 3, 3], status="draft")
    services.set_decision(winner, "selected", staff, amount_cents=190_000_00)
    other_winner = fs.file(call, "Deuxième Lauréate", with_member=True, requested_cents=50_000_00)
    fs.review(other_winner, late, [5, 5, 5])
    services.set_decision(other_winner, "selected", staff, amount_cents=50_000_00)
    client = login_as(staff)
    url = f"/selection/appels/{call.id}/publier"
    page = _main(client.get(url))
    for warning in WARNINGS:
        assert warning in page
    assert "1 évaluation attendue n'est pas encore rendue (sur 1 dossier)" in page
    assert "1 dossier en attente de décision n'a pas de décision en brouillon" in page and pending.reference in page
    assert "Le total accordé (240\u202f000\u00a0€" in page and "de 40\u202f000\u00a0€" in page
    html = _text(client.get(url))
    assert html.count('name="ack"') == 3
    fingerprint = fs.confirmation_fingerprint(html)
    # Two of three acknowledged: refused, with the one missing named.
    response = client.post_form(url, {"fingerprint": fingerprint, "ack": ["evaluations", "sans_decision"]})
    assert response.status_code == 422
    refusal = _main(response)
    assert "Cochez chaque avertissement" in refusal and "L'enveloppe est dépassée." in refusal
    assert 'value="evaluations" id="ack-evaluations" checked' in _text(response)  # ticks kept
    _untouched(winner, waiting, refused)
    response = client.post_form(url, {"fingerprint": fingerprint, "ack": list(fs.ALL_WARNINGS)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/appels/{call.id}/courriers")
    assert db.session.get(Application, refused.id).status == "rejected"
    assert db.session.scalar(db.select(db.func.count(DecisionMail.id))) == 4
    assert factories.outbox() == []


def test_a_stale_page_cannot_skip_a_new_warning(app, call, drafts, staff, login_as):
    winner, waiting, refused = drafts
    client = login_as(staff)
    url = f"/selection/appels/{call.id}/publier"
    fingerprint = fs.confirmation_fingerprint(_text(client.get(url)))  # no warning on this page
    # Meanwhile a file becomes ready for a decision, without one: a new warning.
    fs.file(call, "Arrivée Tardive")
    response = client.post_form(url, {"fingerprint": fingerprint})
    assert response.status_code == 422 and "Des dossiers restent sans décision" in _text(response)
    _untouched(winner, waiting, refused)
    # Meanwhile a draft changes: the page no longer says what would be published.
    services.set_decision(winner, "selected", staff, amount_cents=60_000_00)
    response = client.post_form(url, {"fingerprint": fingerprint, "ack": ["sans_decision"]})
    assert response.status_code == 422 and "ont changé depuis l'affichage" in _text(response)
    _untouched(winner, waiting, refused)


def test_a_rejection_without_reason_is_refused_by_the_form_and_blocks_publication(app, call, drafts, staff,
                                                                                  login_as):
    winner, waiting, refused = drafts
    client = login_as(staff)
    page = _text(client.post_form(f"/selection/appels/{call.id}/dossiers/{waiting.id}",
                                  {"outcome": "rejected", "reason": " "}))
    assert "Indiquez le motif de non-sélection : il sera communiqué à l'association." in page
    page = _text(client.post_form(f"/selection/appels/{call.id}/decisions/lot",
                                  {"outcome": "rejected", "reason": "", "application_ids": [waiting.id]},
                                  follow_redirects=True))
    assert "Indiquez le motif de non-sélection" in page
    assert db.session.scalar(db.select(Decision).where(Decision.application_id == waiting.id)).outcome == "waitlisted"
    # A draft without reason (recorded before the rule) blocks the publication, named.
    decision = db.session.scalar(db.select(Decision).where(Decision.application_id == refused.id))
    decision.reason = ""
    db.session.commit()
    response = client.get(f"/selection/appels/{call.id}/publier")
    assert f"Le dossier {refused.reference} est « Non retenu » sans motif" in _main(response)
    response = client.post_form(f"/selection/appels/{call.id}/publier",
                                {"fingerprint": fs.confirmation_fingerprint(_text(response))})
    assert response.status_code == 422
    _untouched(winner, waiting, refused)


def _mail(application):
    return db.session.scalar(db.select(DecisionMail).where(DecisionMail.application_id == application.id))


def test_mails_are_drafts_edited_or_held_then_sent_in_a_second_step(app, call, drafts, staff, login_as):
    winner, waiting, refused = drafts
    client = login_as(staff)
    fs.publish(client, call)
    assert factories.outbox() == []
    listing = _main(client.get(f"/selection/appels/{call.id}/courriers"))
    assert "À envoyer (3)" in listing and "Envoyer les 4 messages" in listing
    # Staff rewrite the winner's mail...
    url = f"/selection/appels/{call.id}/courriers/{_mail(winner).id}"
    page = _main(client.get(url))
    assert "Montant de la subvention accordée : 70\u202f000\u00a0€." in page
    assert "seconde@example.org" in page  # the recipients, before sending
    response = client.post_form(url, {"subject": "Votre projet est retenu", "body": "Bravo !\r\nÀ bientôt."})
    assert response.status_code == 302
    assert (_mail(winner).subject, _mail(winner).body) == ("Votre projet est retenu", "Bravo !\nÀ bientôt.\n")
    assert "Indiquez l'objet du courrier." in _text(client.post_form(url, {"subject": "", "body": "x"}))
    # ... and hold the waiting list's mail back.
    client.post_form(f"/selection/appels/{call.id}/courriers/{_mail(waiting).id}", {"action": "hold", "back": "list"})
    assert _mail(waiting).held
    listing = _main(client.get(f"/selection/appels/{call.id}/courriers"))
    assert "À envoyer (2)" in listing and "Mis de côté (1)" in listing and "Envoyer les 3 messages" in listing
    # The sending has its own confirmation: which mails, to whom, how many messages.
    send_url = f"/selection/appels/{call.id}/courriers/envoyer"
    confirmation = _main(client.get(send_url))
    assert "2 courriers, soit 3 messages, vont partir" in confirmation and "1 courrier mis de côté" in confirmation
    assert "seconde@example.org" in confirmation and waiting.reference not in confirmation
    assert factories.outbox() == []
    response = fs.send_mails(client, call, follow_redirects=True)
    assert "2 courrier(s) envoyé(s) : 3 message(s)" in _text(response)
    mails = factories.outbox()
    assert len(mails) == 3
    winner_mails = [m for m in mails if m.subject == "Votre projet est retenu"]
    assert len(winner_mails) == 2 and all(m.body == "Bravo !\nÀ bientôt.\n" for m in winner_mails)
    assert {m.kind for m in mails} == {"decision_selected", "decision_rejected"}
    [refusal] = [m for m in mails if refused.reference in m.subject]
    assert "Motif : Le projet ne relève pas du mentorat." in refusal.body
    assert _mail(waiting).sent_at is None and _mail(winner).sent_at is not None
    assert sorted(_mail(winner).recipients)[1] == "seconde@example.org"
    # A sent mail is read, never edited; sending again sends nothing more; the held mail goes when released.
    before = _mail(winner).body
    client.post_form(url, {"subject": "Autre", "body": "Autre texte"})
    assert _mail(winner).body == before
    assert "Aucun courrier à envoyer." in _text(client.get(send_url))
    client.post_form(f"/selection/appels/{call.id}/courriers/{_mail(waiting).id}", {"action": "release"})
    fs.send_mails(client, call)
    assert len(factories.outbox()) == 4 and _mail(waiting).sent_at is not None


def test_a_changed_list_of_mails_refuses_the_sending(app, call, drafts, staff, login_as):
    client = login_as(staff)
    fs.publish(client, call)
    send_url = f"/selection/appels/{call.id}/courriers/envoyer"
    fingerprint = fs.confirmation_fingerprint(_text(client.get(send_url)))
    mail = _mail(drafts[0])
    client.post_form(f"/selection/appels/{call.id}/courriers/{mail.id}", {"subject": "Nouvel objet", "body": "Texte"})
    response = client.post_form(send_url, {"fingerprint": fingerprint}, follow_redirects=True)
    assert "Les courriers à envoyer ont changé" in _text(response)
    assert factories.outbox() == [] and _mail(drafts[0]).sent_at is None


def test_the_sent_mail_is_in_the_history_of_the_association_and_of_staff(app, call, staff, login_as, applicant):
    winner = fa.complete_draft(call, applicant)
    held = fs.file(call, "Association Discrète", with_member=True)
    for application in (winner, held):
        application.status = "reviewed"
    db.session.commit()
    services.set_decision(winner, "selected", staff, amount_cents=70_000_00)
    services.set_decision(held, "rejected", staff, reason="Territoire déjà couvert.")
    client = login_as(staff)
    fs.publish(client, call)
    client.post_form(f"/selection/appels/{call.id}/courriers/{_mail(winner).id}",
                     {"subject": "Votre projet est retenu", "body": "Texte relu par la DJEPVA."})
    client.post_form(f"/selection/appels/{call.id}/courriers/{_mail(held).id}", {"action": "hold"})
    fs.send_mails(client, call)
    staff_page = _main(client.get(f"/candidatures/{winner.id}"))
    assert "Courrier de décision envoyé" in staff_page and f"envoyé à {applicant.email}" in staff_page
    assert "Texte du courrier" in staff_page and "Texte relu par la DJEPVA." in staff_page
    held_staff_page = _main(client.get(f"/candidatures/{held.id}"))
    assert "Courrier de décision envoyé" not in held_staff_page
    association = app.test_client()
    login(association, applicant)
    page = _main(association.get(f"/candidatures/{winner.id}"))
    assert "Courrier de décision envoyé" in page and "Objet : Votre projet est retenu" in page
    assert "Texte relu par la DJEPVA." in page
    assert staff.full_name not in page  # the administration is « DJEPVA »
    event = db.session.scalar(db.select(Event).where(Event.action == "decision_mail_sent"))
    assert event.application_id == winner.id and event.actor_id == staff.id


def test_staff_edit_the_wording_per_call_and_placeholders_are_filled_safely(app, call, drafts, staff, login_as):
    winner, waiting, refused = drafts
    other_call = factories.call(slug="aap-autre")
    client = login_as(staff)
    url = f"/instruction/appels/{call.id}/courriers"
    page = _main(client.get(url))
    assert "Courriers de décision" in page and "{association}" in page and "{motif}" in page
    assert "texte par défaut" in page
    form = {}
    for kind in ("selected", "waitlisted", "rejected", "inadmissible"):
        form[f"{kind}-subject"] = f"Objet {kind} {{reference}}"
        form[f"{kind}-body"] = f"Corps {kind} pour {{association}}."
    form["rejected-body"] = ("Madame, Monsieur,\n{association} ({reference}) : refus.\nMotif : {motif}\n"
                             "Montant : {montant}\n{{ 7 * 7 }} {% if x %}{{ config }}")
    form["waitlisted-body"] = "Bonjour {nom}"
    page = _main(client.post_form(url, form))
    assert "Champ inconnu : {nom}." in page and "Les modèles n'ont pas été enregistrés" in page
    assert db.session.scalars(db.select(CallMailTemplate)).all() == []
    form["waitlisted-body"] = "Liste d'attente pour {association}."
    assert client.post_form(url, form).status_code == 302
    assert db.session.scalar(db.select(db.func.count(CallMailTemplate.id))) == 4
    assert "modifié pour cet appel" in _text(client.get(url))
    # The confirmation page previews the call's own wording, and the drafts are written from it.
    preview = _main(client.get(f"/selection/appels/{call.id}/publier"))
    assert f"Objet : Objet rejected {refused.reference}" in preview
    fs.publish(client, call)
    body = _mail(refused).body
    assert body.startswith("Madame, Monsieur,\nRefusée ")
    assert f"Refusée ({refused.reference}) : refus." in body
    assert "Motif : Le projet ne relève pas du mentorat." in body
    assert "Montant : \n" in body  # no amount for a refusal
    assert "{{ 7 * 7 }} {% if x %}{{ config }}" in body  # never executed: kept as written
    assert _mail(waiting).body == "Liste d'attente pour En Attente.\n"
    assert _mail(winner).subject == f"Objet selected {winner.reference}"
    # Another call keeps the default wording.
    assert "texte par défaut" in _text(client.get(f"/instruction/appels/{other_call.id}/courriers"))
    # Back to the default wording.
    form["selected-reset"] = "y"
    client.post_form(url, form)
    assert db.session.scalar(db.select(db.func.count(CallMailTemplate.id))) == 3


def test_the_inadmissibility_mail_uses_the_call_wording_with_its_reason(app, call, staff, applicant, login_as):
    client = login_as(staff)
    form = {f"{kind}-subject": "Objet {reference}" for kind in ("selected", "waitlisted", "rejected")}
    form.update({f"{kind}-body": "Texte {motif}" for kind in ("selected", "waitlisted", "rejected")})
    form["inadmissible-subject"] = "Dossier {reference} irrecevable"
    form["inadmissible-body"] = "{association}, votre dossier « {projet} » est irrecevable.\nMotif : {motif}\n{lien}"
    assert client.post_form(f"/instruction/appels/{call.id}/courriers", form).status_code == 302
    application = fa.complete_draft(call, applicant)
    with app.test_request_context():
        fa.submit_now(application, applicant)
        instruction.mark_inadmissible(application, staff, "Pièces manquantes : statuts.")
    mail = factories.last_mail_to(applicant.email)
    assert mail.subject == f"Dossier {application.reference} irrecevable"
    assert mail.body.startswith(f"{applicant.association.name}, votre dossier « {application.title} » est irrecevable.")
    assert "Motif : Pièces manquantes : statuts." in mail.body
    assert f"http://localhost/candidatures/{application.id}" in mail.body
