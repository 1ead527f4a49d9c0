"""What an association reads of its file's history, messages and e-mails: its own members by
name, the administration as « DJEPVA », nothing of the review (no reviewer's name, no review or
conflict event, no conflict text, no internal reason). Staff read the whole journal."""
from datetime import timedelta
from html import unescape

import pytest

from aap import timeutil
from aap.applications import history
from aap.extensions import db
from aap.instruction import services as instruction
from aap.models import Application, User
from aap.review import assignment, conflicts, reviews
from aap.selection import mails as decision_mails
from aap.selection import services as selection

from . import factories
from . import factories_applications as fa
from .conftest import count_queries, login

REVIEWER_NAME = ("Anastasia", "Vauquelin-Lambrecht")
CONFLICTED_NAME = ("Barnabé", "Quintard-Oudinot")
STAFF_NAME = ("Sidonie", "Marchetti-Roux")
CONFLICT_TEXT = "Je siège au conseil d'administration de cette association depuis 2019"
STAFF_MESSAGE = "Merci de nous transmettre le calendrier prévisionnel du projet."
MEMBER_MESSAGE = "Voici le calendrier demandé, en pièce jointe de notre dossier."
PIECES_MESSAGE = "Le budget prévisionnel doit détailler les cofinancements."
REOPEN_REASON = "Notation du critère 2 incohérente avec le commentaire"

# What the association must never read, anywhere.
SECRETS = (
    " ".join(REVIEWER_NAME), REVIEWER_NAME[1], " ".join(CONFLICTED_NAME), CONFLICTED_NAME[1],
    " ".join(STAFF_NAME), STAFF_NAME[1], CONFLICT_TEXT, REOPEN_REASON,
    "évaluateur", "Évaluateur", "Évaluation envoyée", "lien d'intérêts", "Lien d'intérêts",
    "Absence de lien", "Affectation", "Toutes les évaluations attendues", "Décision du comité de sélection",
)
# The review's own events as staff read them (aap.main.audit labels).
REVIEW_LABELS = ("Absence de lien d'intérêts confirmée", "Évaluation envoyée", "Lien d'intérêts déclaré",
                 "Évaluateur affecté", "Évaluation rouverte")


def person(role, email, first_name, last_name, region_code=None):
    account = User(email=email, role=role, first_name=first_name, last_name=last_name, region_code=region_code,
                   email_confirmed_at=timeutil.now())
    account.set_password(factories.PASSWORD)
    db.session.add(account)
    db.session.commit()
    return account


def scores(call, value=3):
    return {criterion.id: (value, "Appréciation argumentée.") for criterion in call.criteria}


@pytest.fixture
def journey(app, applicant):
    """A file taken from its draft to a published decision, through a request for pieces, the
    review (one reviewer confirms and reviews, another declares a conflict), a reopened and
    resent review, and messages both ways."""
    call = factories.call(slug="aap-historique", reviewers_per_file=1)
    colleague = fa.member(applicant.association, email="collegue@example.org")
    agent = person("staff", "sidonie@example.org", *STAFF_NAME)
    first = person("reviewer", "anastasia@example.org", *REVIEWER_NAME, region_code="11")
    second = person("reviewer", "barnabe@example.org", *CONFLICTED_NAME, region_code="11")
    application = fa.complete_draft(call, applicant)
    with app.test_request_context():
        fa.submit_now(application, applicant)
        instruction.request_pieces(application, agent, ["budget"], PIECES_MESSAGE,
                                   (timeutil.now() + timedelta(days=10)).date())
        fa.submit_now(application, colleague)
        instruction.mark_admissible(application, agent)
        assignment.assign(application, first, agent)
        assignment.assign(application, second, agent)
        conflicts.declare_conflict(second, application.association, CONFLICT_TEXT, application=application)
        conflicts.confirm_no_conflict(first, application)
        submitted = reviews.submit_review(application, first, scores(call), "favorable")
        reviews.reopen_review(submitted, agent, REOPEN_REASON)
        reviews.submit_review(application, first, scores(call, 4), "favorable")
        instruction.post_message(application, agent, STAFF_MESSAGE)
        instruction.post_message(application, colleague, MEMBER_MESSAGE)
        assert db.session.get(Application, application.id).status == "reviewed"
        selection.set_decision(application, "selected", agent, amount_cents=90_000_00,
                               reason="Projet solide et bien implanté.")
        assert selection.publish_decisions(call, agent) == 1
        assert decision_mails.send_mails(call, agent) == (1, 2)  # the decision mail, drafted then sent
    return application, agent, colleague


def page_of(app, user, application):
    client = app.test_client()
    login(client, user)
    response = client.get(f"/candidatures/{application.id}")
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def main_of(html):
    """The page's own content (the shared footer speaks of reviewers in general)."""
    return html[html.index('<main id="contenu"'):html.index("</main>")]


def history_section(html):
    start = html.index("<h2>Historique</h2>")
    return html[start:html.index("</ol>", start)]


def test_the_association_reads_its_members_djepva_and_nothing_of_the_review(app, journey, applicant):
    application, agent, colleague = journey
    html = main_of(page_of(app, applicant, application))
    for secret in SECRETS:
        assert secret not in html, secret
    timeline = history_section(html)
    for label in ("Pièce jointe ajoutée", "Dossier déposé", "Pièces complémentaires demandées",
                  "Dossier complété et déposé à nouveau", "Dossier déclaré recevable", "Message de la DJEPVA",
                  "Message de l'association", "Décision publiée : Retenu"):
        assert label in timeline, label
    for label in REVIEW_LABELS + ("En évaluation", "Évalué"):
        assert label not in timeline, label
    # Its members by name, the administration as « DJEPVA », nobody else.
    assert applicant.full_name in timeline and colleague.full_name in timeline
    assert "— DJEPVA</p>" in timeline
    # The request for pieces was written for the association: its text is shown.
    assert PIECES_MESSAGE in timeline
    assert "Montant accordé : 90\u202f000\u00a0€" in timeline
    # Only allowed events: as many rows as the allow-list keeps of the journal.
    rows = history.association_history(application)
    assert timeline.count("<li>") == len(rows)
    journal = history.journal(application)
    assert {e.action for e in journal} - set(history.ASSOCIATION_EVENTS) >= {
        "reviewer_assigned", "conflict_declared", "no_conflict_confirmed", "review_submitted", "review_reopened",
        "state_change"}
    # The message thread names the administration « DJEPVA », not its agent.
    assert STAFF_MESSAGE in html and MEMBER_MESSAGE in html


def test_staff_read_the_whole_journal_with_names(app, journey, staff):
    application, agent, colleague = journey
    html = page_of(app, staff, application)
    timeline = history_section(html)
    for text in (" ".join(REVIEWER_NAME), " ".join(CONFLICTED_NAME), " ".join(STAFF_NAME), CONFLICT_TEXT,
                 REOPEN_REASON, colleague.full_name, "Toutes les évaluations attendues ont été envoyées."):
        assert text in timeline, text
    for label in REVIEW_LABELS + ("Décision publiée", "Demande de pièces complémentaires"):
        assert label in timeline, label
    assert f"Évaluateur : {' '.join(CONFLICTED_NAME)}" in timeline  # whom staff assigned
    # The thread shows staff their colleague's name.
    assert " ".join(STAFF_NAME) in html[html.index('id="messages"'):]


def test_the_mails_the_association_received_tell_nothing_of_the_review(app, journey, applicant):
    application, agent, colleague = journey
    members = {applicant.email, colleague.email}
    mails = [m for m in factories.outbox() if m.to in members]
    subjects = " | ".join(m.subject for m in mails)
    for expected in ("Candidature déposée", "Dossier complété", "Des pièces sont à compléter", "recevable",
                     "Nouveau message sur votre dossier", "décision sur votre dossier"):
        assert expected in subjects, (expected, subjects)
    for mail in mails:
        for secret in SECRETS:
            assert secret not in mail.body and secret not in mail.subject, (secret, mail.subject)
    # Staff, for their part, are told by name which member wrote (and, apart, of the conflict).
    [to_staff] = [m for m in factories.outbox() if m.to == agent.email and "message" in m.subject.lower()]
    assert colleague.full_name in to_staff.body


def test_reasons_are_shown_only_where_written_for_the_association(app, applicant, staff):
    call = factories.call(slug="aap-motifs", reviewers_per_file=1)
    refused = fa.complete_draft(call, applicant)
    other = factories.user("applicant", email="deux@example.org", association_name="Deuxième Association")
    rejected = fa.complete_draft(call, other)
    reviewer = person("reviewer", "rev@example.org", *REVIEWER_NAME, region_code="11")
    with app.test_request_context():
        fa.submit_now(refused, applicant)
        instruction.mark_inadmissible(refused, staff, "Le projet ne relève pas du mentorat.")
        fa.submit_now(rejected, other)
        instruction.mark_admissible(rejected, staff)
        assignment.assign(rejected, reviewer, staff)
        conflicts.confirm_no_conflict(reviewer, rejected)
        reviews.submit_review(rejected, reviewer, scores(call), "defavorable")
        selection.set_decision(rejected, "rejected", staff, reason="Le territoire est déjà couvert.")
        selection.publish_decisions(call, staff)
    refused_html = history_section(page_of(app, applicant, refused))
    assert "Dossier déclaré irrecevable" in refused_html
    assert "Motif : Le projet ne relève pas du mentorat." in refused_html
    rejected_html = main_of(page_of(app, other, rejected))
    timeline = history_section(rejected_html)
    assert "Décision publiée : Non retenu" in timeline and "Motif : Le territoire est déjà couvert." in timeline
    assert REVIEWER_NAME[1] not in rejected_html and "Toutes les évaluations" not in rejected_html
    assert "Affectation des évaluateurs" not in rejected_html


def test_a_withdrawal_shows_its_reason_and_its_member(app, client, applicant, login_as):
    call = factories.call(slug="aap-retrait")
    application = fa.complete_draft(call, applicant)
    fa.submit_now(application, applicant)
    login_as(applicant)
    assert client.post_form(f"/candidatures/{application.id}/retirer",
                            {"reason": "Projet reporté à l'an prochain"}).status_code == 303
    timeline = history_section(unescape(client.get(f"/candidatures/{application.id}").get_data(as_text=True)))
    assert "Candidature retirée" in timeline and "Motif : Projet reporté à l'an prochain" in timeline
    assert "Déposé → Retiré" in timeline and applicant.full_name in timeline


def test_an_event_outside_the_allow_list_never_reaches_the_association(app, applicant, staff):
    """A new kind of event (here invented) stays out of the association's history until it is
    given wording of its own; staff see it at once."""
    from aap import events
    call = factories.call(slug="aap-nouveau")
    application = fa.complete_draft(call, applicant)
    events.record("internal_note_added", actor=staff, application=application, reason="Note interne sensible")
    db.session.commit()
    assert "Note interne sensible" not in page_of(app, applicant, application)
    assert "Note interne sensible" in page_of(app, staff, application)


def test_the_page_runs_as_many_queries_for_a_long_history_as_for_a_short_one(app, journey, applicant, staff):
    application, agent, colleague = journey
    clients = {}
    for who, user in (("association", applicant), ("staff", staff)):
        clients[who] = app.test_client()
        login(clients[who], user)

    def measure():
        counts = {}
        for who, client in clients.items():
            assert client.get(f"/candidatures/{application.id}").status_code == 200
            db.session.remove()
            with count_queries() as queries:
                assert client.get(f"/candidatures/{application.id}").status_code == 200
            counts[who] = queries()
        return counts

    few = measure()
    file = db.session.get(Application, application.id)
    with app.test_request_context():
        for i in range(4):
            instruction.post_message(file, db.session.get(User, agent.id), f"Question {i}")
            instruction.post_message(file, db.session.get(User, colleague.id), f"Réponse {i}")
    assert measure() == few
