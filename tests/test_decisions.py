"""Decisions: drafts (per file and in bulk), the proposal applied as drafts, publication in one
transaction with its draft mails (and a full rollback when anything fails), then the mails sent.
The confirmation page and the mail drafts themselves: tests/test_publication.py."""
import pytest

from aap.extensions import db
from aap.models import Application, Decision, DecisionMail, Event, OutboxMessage, User
from aap.selection import services
from aap.selection.services import DecisionError

from . import factories
from . import factories_selection as fs


@pytest.fixture
def call(app):
    return factories.call(slug="aap-2025", budget_cents=200_000_00)


def _decision(application):
    return db.session.scalar(db.select(Decision).where(Decision.application_id == application.id))


def _text(response):
    return response.get_data(as_text=True)


def _url(call, application):
    return f"/selection/appels/{call.id}/dossiers/{application.id}"


def test_staff_records_a_winner_with_an_amount(app, call, staff, login_as):
    application = fs.file(call, "Retenue", requested_cents=80_000_00)
    client = login_as(staff)
    page = _text(client.get(_url(call, application)))
    assert 'value="80 000"' in page  # the amount requested is offered, digits grouped
    response = client.post_form(_url(call, application), {"outcome": "selected", "amount": "75 000"})
    assert response.status_code == 302
    decision = _decision(application)
    assert (decision.outcome, decision.amount_cents, decision.amount_per_year) == ("selected", 75_000_00, [75_000_00])
    assert decision.published_at is None and decision.decided_by_id == staff.id
    assert db.session.get(Application, application.id).status == "reviewed"  # unchanged until published
    assert "brouillon" in _text(client.get(f"/selection/appels/{call.id}"))


def test_amount_above_the_request_is_a_warning_not_a_block(app, call, staff, login_as):
    application = fs.file(call, "Gourmande", requested_cents=50_000_00)
    client = login_as(staff)
    response = client.post_form(_url(call, application), {"outcome": "selected", "amount": "60000"},
                                follow_redirects=True)
    page = _text(response)
    assert _decision(application).amount_cents == 60_000_00
    assert "dépasse le montant demandé" in page
    assert "au-dessus de la demande" in _text(client.get(f"/selection/appels/{call.id}"))


def test_rejection_requires_a_reason(app, call, staff, login_as):
    application = fs.file(call, "Refusee")
    client = login_as(staff)
    page = _text(client.post_form(_url(call, application), {"outcome": "rejected", "reason": "  "}))
    assert "Indiquez le motif de non-sélection" in page
    assert _decision(application) is None
    client.post_form(_url(call, application), {"outcome": "rejected", "reason": "Projet hors du champ de l'appel."})
    assert _decision(application).reason == "Projet hors du champ de l'appel."


def test_multi_year_amounts_must_sum_to_the_total(app, staff, login_as):
    call = factories.call(slug="cpo-2025", years=3, budget_cents=900_000_00)
    application = fs.file(call, "Pluriannuelle", requested_cents=90_000_00,
                          requested_per_year=[20_000_00, 30_000_00, 40_000_00])
    client = login_as(staff)
    page = _text(client.get(_url(call, application)))
    assert 'value="20 000"' in page and 'value="40 000"' in page
    data = {"outcome": "selected", "amount": "90000", "amount_per_year-0": "30000",
            "amount_per_year-1": "30000", "amount_per_year-2": "20000"}
    page = _text(client.post_form(_url(call, application), data))
    assert "doit être égale au montant accordé" in page and _decision(application) is None
    data["amount_per_year-2"] = "30000"
    assert client.post_form(_url(call, application), data).status_code == 302
    assert _decision(application).amount_per_year == [30_000_00] * 3
    # Left empty: the split requested by the association (it sums to the total).
    client.post_form(_url(call, application), {"outcome": "selected", "amount": "90000"})
    assert _decision(application).amount_per_year == [20_000_00, 30_000_00, 40_000_00]


def test_bulk_decisions_on_checked_rows(app, call, staff, login_as):
    first = fs.file(call, "Une", requested_cents=40_000_00)
    second = fs.file(call, "Deux", requested_cents=30_000_00)
    third = fs.file(call, "Trois")
    client = login_as(staff)
    url = f"/selection/appels/{call.id}/decisions/lot"
    page = _text(client.post_form(url, {"outcome": "rejected", "application_ids": [first.id, second.id]},
                                  follow_redirects=True))
    assert "Indiquez le motif" in page and _decision(first) is None
    client.post_form(url, {"outcome": "selected", "application_ids": [first.id, second.id]})
    assert _decision(first).amount_cents == 40_000_00 and _decision(second).amount_cents == 30_000_00
    assert _decision(third) is None
    client.post_form(url, {"outcome": "waitlisted", "application_ids": [second.id]})
    assert _decision(second).outcome == "waitlisted" and _decision(second).amount_cents is None


def test_decisions_only_on_ranked_files(app, call, staff):
    draft = fs.file(call, "Brouillon", status="draft")
    with pytest.raises(DecisionError):
        services.set_decision(draft, "selected", staff, amount_cents=10_000_00)


def _publishable(call):
    winner = fs.file(call, "Laureate", with_member=True, requested_cents=70_000_00)
    extra = User(email="second.membre@example.org", role="applicant", association_id=winner.association_id)
    db.session.add(extra)
    waiting = fs.file(call, "En Attente", with_member=True)
    refused = fs.file(call, "Refusee", with_member=True)
    db.session.commit()
    return winner, waiting, refused


def test_publish_locks_changes_states_then_sends_one_mail_per_member(app, call, staff, login_as):
    winner, waiting, refused = _publishable(call)
    client = login_as(staff)
    client.post_form(_url(call, winner), {"outcome": "selected", "amount": "70000"})
    client.post_form(_url(call, waiting), {"outcome": "waitlisted"})
    client.post_form(_url(call, refused), {"outcome": "rejected", "reason": "Budget insuffisant pour ce projet."})
    assert factories.outbox() == []
    response = fs.publish(client, call, follow_redirects=True)
    assert "3 décision(s) publiée(s)" in _text(response)
    assert factories.outbox() == []  # the mails are drafts until staff send them
    assert "Envoyer les 4 messages" in _text(client.get(f"/selection/appels/{call.id}/courriers"))
    response = fs.send_mails(client, call, follow_redirects=True)
    assert "3 courrier(s) envoyé(s) : 4 message(s)" in _text(response)

    for application, state in ((winner, "selected"), (waiting, "waitlisted"), (refused, "rejected")):
        db.session.refresh(application)
        assert application.status == state
        decision = _decision(application)
        assert decision.published_at is not None and decision.published_by_id == staff.id
        event = db.session.scalar(db.select(Event).where(Event.application_id == application.id,
                                                          Event.action == "decision_published"))
        assert (event.from_state, event.to_state, event.actor_id) == ("reviewed", state, staff.id)
    refused_event = db.session.scalar(db.select(Event).where(Event.application_id == refused.id,
                                                              Event.action == "decision_published"))
    assert refused_event.reason == "Budget insuffisant pour ce projet."

    mails = factories.outbox()
    assert len(mails) == 4  # two members for the winner, one for each other association
    winner_mails = [m for m in mails if winner.reference in m.subject]
    assert sorted(m.to for m in winner_mails)[1] == "second.membre@example.org"
    body = winner_mails[0].body
    assert "retenu" in body and "70\u202f000\u00a0€" in body and "convention" in body
    assert "compte rendu financier" in body
    assert f"http://localhost/candidatures/{winner.id}" in body  # straight to the file, not the home page
    refused_mail = [m for m in mails if refused.reference in m.subject][0]
    assert "Budget insuffisant pour ce projet." in refused_mail.body
    waiting_mail = [m for m in mails if waiting.reference in m.subject][0]
    assert "liste d'attente" in waiting_mail.body


def test_a_published_decision_can_no_longer_be_changed(app, call, staff, login_as):
    winner, _, _ = _publishable(call)
    client = login_as(staff)
    client.post_form(_url(call, winner), {"outcome": "selected", "amount": "70000"})
    fs.publish(client, call)
    page = _text(client.get(_url(call, winner)))
    # The draft form is gone; a winner's grant is changed only through a new version
    # (tests/test_waitlist_and_amendments.py).
    assert 'name="outcome"' not in page and "Modifier le montant" in page
    client.post_form(_url(call, winner), {"outcome": "rejected", "reason": "Changement d'avis"})
    client.post_form(f"/selection/appels/{call.id}/decisions/lot",
                     {"outcome": "rejected", "reason": "x", "application_ids": [winner.id]})
    client.post_form(f"/selection/appels/{call.id}/dossiers/{winner.id}/annuler")
    decision = _decision(winner)
    assert (decision.outcome, decision.amount_cents) == ("selected", 70_000_00)
    with pytest.raises(DecisionError):
        services.set_decision(db.session.get(Application, winner.id), "rejected", staff, reason="x")
    # Publishing again drafts and sends nothing more.
    assert services.publish_decisions(call, staff) == 0
    assert db.session.scalar(db.select(db.func.count(DecisionMail.id))) == 1
    assert factories.outbox() == []


def test_publication_is_all_or_nothing(app, call, staff, monkeypatch):
    from aap.selection import mails

    winner, waiting, refused = _publishable(call)
    services.set_decision(winner, "selected", staff, amount_cents=70_000_00)
    services.set_decision(waiting, "waitlisted", staff)
    services.set_decision(refused, "rejected", staff, reason="Hors champ.")
    events_before = db.session.scalar(db.select(db.func.count(Event.id)))
    real_draft_mails = mails.draft_mails

    def failing_draft_mails(call, decisions):
        real_draft_mails(call, decisions[:2])  # two drafts written, then the third fails
        raise RuntimeError("mail template exploded")

    monkeypatch.setattr(mails, "draft_mails", failing_draft_mails)
    with app.test_request_context(), pytest.raises(RuntimeError):
        services.publish_decisions(call, staff)
    db.session.expire_all()
    for application in (winner, waiting, refused):
        assert db.session.get(Application, application.id).status == "reviewed"
        assert _decision(application).published_at is None
    assert db.session.scalars(db.select(DecisionMail)).all() == []
    assert db.session.scalars(db.select(OutboxMessage)).all() == []
    assert db.session.scalar(db.select(db.func.count(Event.id))) == events_before
    # Once the fault is gone, everything is published at once, with one draft mail per decision.
    monkeypatch.setattr(mails, "draft_mails", real_draft_mails)
    with app.test_request_context():
        assert services.publish_decisions(call, staff) == 3
    assert db.session.scalar(db.select(db.func.count(DecisionMail.id))) == 3
    assert factories.outbox() == []


def test_proposal_page_and_applying_chosen_lines(app, call, staff, login_as):
    ev1, ev2 = fs.reviewers(2)
    best = fs.file(call, "Meilleure", region="84", requested_cents=100_000_00)
    good = fs.file(call, "Bonne", region="11", departement="75", requested_cents=100_000_00)
    weak = fs.file(call, "Faible", region="84", requested_cents=100_000_00)
    for application, values in ((best, [5, 5, 5]), (good, [4, 4, 4]), (weak, [2, 2, 2])):
        fs.review(application, ev1, values)
        fs.review(application, ev2, values)
    services.set_decision(weak, "selected", staff, amount_cents=100_000_00)
    client = login_as(staff)
    url = f"/selection/appels/{call.id}/proposition"
    assert "Proposer une sélection" in _text(client.get(url))
    page = _text(client.get(url + "?calculer=1&min_per_region=1"))  # keep_drafts unchecked
    assert "Entrent (2)" in page and "Sortent (1)" in page
    assert "Meilleure" in page and "Bonne" in page
    assert "Régions couvertes" in page
    # Keeping drafts: « Faible » stays, only one more fits in the envelope.
    page = _text(client.get(url + "?calculer=1&min_per_region=1&keep_drafts=y"))
    assert "Entrent (1)" in page and "Sortent (0)" in page
    # Apply only « Meilleure » entering and « Faible » leaving.
    response = client.post_form(url + "/appliquer", {"entrer": [best.id], "sortir": [weak.id]})
    assert response.status_code == 302
    assert _decision(best).outcome == "selected" and _decision(best).amount_cents == 100_000_00
    assert _decision(weak).outcome == "waitlisted"
    assert _decision(good) is None
    # The reason is what the association reads: the proposal leaves it empty, the history says « via ».
    assert _decision(best).reason == "" and _decision(weak).reason == ""
    event = db.session.scalar(db.select(Event).where(Event.action == "decision_drafted",
                                                      Event.details["reference"].as_string() == best.reference))
    assert event.details["via"] == "proposal"


def test_infeasible_proposal_is_explained(app, call, staff, login_as):
    # (issue 16: a région whose files are all under the minimum score has no guarantee any more;
    # the guarantees can still exceed the envelope)
    ev1, = fs.reviewers(1)
    lyon = fs.file(call, "Lyon", region="84", requested_cents=600_000_00)
    corse = fs.file(call, "Ajaccio", region="94", departement="2A", requested_cents=600_000_00)
    fs.review(lyon, ev1, [5, 5, 5])
    fs.review(corse, ev1, [4, 4, 4])
    page = _text(login_as(staff).get(f"/selection/appels/{call.id}/proposition?calculer=1&min_per_region=1"
                                     f"&min_score=10"))
    assert "Aucune sélection ne respecte toutes les contraintes" in page
    assert "Impossible de retenir au moins 1 dossier par région avec cette enveloppe" in page


def test_proposal_form_errors_are_in_french(app, call, staff, login_as):
    page = _text(login_as(staff).get(f"/selection/appels/{call.id}/proposition?calculer=1&min_per_region=abc"
                                     f"&min_score=25"))
    assert "Saisissez un nombre entier entre 0 et 20." in page
    assert "Saisissez une note entre 0 et 20." in page


def test_drafts_stay_out_of_the_file_history_until_published(app, call, staff):
    application = fs.file(call, "Discrete")
    services.set_decision(application, "rejected", staff, reason="Hors champ.")
    assert db.session.scalars(db.select(Event).where(Event.application_id == application.id)).all() == []
    drafted = db.session.scalar(db.select(Event).where(Event.action == "decision_drafted"))
    assert drafted.call_id == call.id and drafted.details["application_id"] == application.id


def test_a_file_withdrawn_after_its_draft_blocks_publication_with_a_clear_message(app, call, staff):
    kept = fs.file(call, "Toujours La", with_member=True)
    gone = fs.file(call, "Partie", with_member=True)
    services.set_decision(kept, "selected", staff, amount_cents=10_000_00)
    services.set_decision(gone, "selected", staff, amount_cents=10_000_00)
    gone.status = "withdrawn"
    db.session.commit()
    with app.test_request_context():
        with pytest.raises(DecisionError, match="n'est plus en attente de décision"):
            services.publish_decisions(call, staff)
        assert _decision(kept).published_at is None
        assert services.clear_decision(db.session.get(Application, gone.id), staff)
        assert services.publish_decisions(call, staff) == 1
    assert db.session.get(Application, kept.id).status == "selected"
