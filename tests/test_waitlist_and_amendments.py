"""Published decisions changed afterwards (selection.amendments): a file of the waiting list
selected when credits free up, the waiting list closed, a winner renouncing its grant or staff
withdrawing it (the freed amount in the budget panel at once), a winner's grant amended (a new
version, the old one kept; the association told; the convention follows). Each read by the role
that reads it: pages, e-mails, the convention's PDF."""
import html
import io
import re

import pytest
from pypdf import PdfReader

from aap import events
from aap.extensions import db
from aap.models import Application, Decision, DecisionVersion, Event
from aap.selection import amendments
from aap.selection.services import DecisionError
from aap.transitions import TransitionError

from . import factories
from . import factories_documents as fd
from .conftest import login


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _plain(page):
    """The text of a page, tags removed, spaces (narrow, non-breaking) made plain."""
    text = re.sub(r"<[^>]+>", " ", page).replace("\u202f", " ").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text)


def _pdf_text(content):
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\u00a0", " "))


def _remaining(page):
    match = re.search(r"Reste : ([\d  ]+) €", _plain(page))
    assert match, "no remaining amount in the budget panel"
    return int(match.group(1).replace(" ", ""))


def _client(app, user):
    client = app.test_client()
    login(client, user)
    return client


def _member(name, association):
    user = factories.user("applicant", f"{name}@example.org")
    user.association = association
    db.session.commit()
    return user


@pytest.fixture
def call(app):
    return factories.call(slug="aap-2025", budget_cents=300_000_00)


@pytest.fixture
def files(app, call, applicant):
    """A winner (the applicant's association, 100,000 €) and two files on the waiting list."""
    factories.complete_identity(applicant.association)
    winner = fd.winner(call, association_record=applicant.association, amount_cents=100_000_00,
                       per_year=[100_000_00])
    first = fd.winner(call, name="Premiers en attente", outcome="waitlisted", amount_cents=None,
                      requested_cents=80_000_00, requested_per_year=[80_000_00])
    second = fd.winner(call, name="Seconds en attente", outcome="waitlisted", amount_cents=None)
    return winner, first, second


def _waiting_member(application):
    return _member("attente", application.association)


def _ranking(client, call):
    return _text(client.get(f"/selection/appels/{call.id}"))


def _adjust_budget(application, actor):
    """The association's budget adjusted to its grant (the step before the convention)."""
    from aap.applications import adjustment
    from aap.applications import budget as B
    application = db.session.get(Application, application.id)
    years = max(int(application.call.years or 1), 1)
    granted = adjustment.granted_amounts(application)
    adjustment.save_adjusted_budget(application, B.reduced_to_grant(B.clean(application.budget, years), granted, years),
                                    db.session.merge(actor))
    db.session.commit()


# --- the waiting list: promotion ---------------------------------------------------------------

def test_staff_select_a_file_of_the_waiting_list(app, call, files, staff):
    _, first, _ = files
    member = _waiting_member(first)
    client = _client(app, staff)
    assert _remaining(_ranking(client, call)) == 200_000
    decision_page = _text(client.get(f"/selection/appels/{call.id}/dossiers/{first.id}"))
    assert "ne peut plus être modifiée" not in decision_page and "Retenir ce dossier" in decision_page
    page = _text(client.get(f"/selection/appels/{call.id}/dossiers/{first.id}/retenir"))
    assert 'value="80 000"' in page  # the amount requested is offered, digits grouped
    assert "Ce qui va se passer" in page
    response = client.post_form(f"/selection/appels/{call.id}/dossiers/{first.id}/retenir",
                                {"retenir-amount": "75 000", "retenir-reason": "Un lauréat a renoncé."})
    assert response.status_code == 303

    db.session.expire_all()
    application = db.session.get(Application, first.id)
    decision = application.decision
    assert application.status == "selected"
    assert (decision.outcome, decision.amount_cents, decision.amount_per_year, decision.version, decision.change) \
        == ("selected", 75_000_00, [75_000_00], 2, "promoted")
    assert decision.state == "amended" and decision.published_by_id == staff.id
    kept = db.session.scalars(db.select(DecisionVersion).where(DecisionVersion.decision_id == decision.id)).all()
    assert [(v.version, v.outcome, v.amount_cents) for v in kept] == [(1, "waitlisted", None)]
    event = db.session.scalar(db.select(Event).where(Event.application_id == first.id,
                                                      Event.action == "decision_promoted"))
    assert (event.from_state, event.to_state, event.actor_id) == ("waitlisted", "selected", staff.id)

    # Its own mail, to the association only.
    mails = factories.outbox()
    assert [m.to for m in mails] == [member.email]
    assert "votre projet est retenu" in mails[0].subject and first.reference in mails[0].subject
    body = mails[0].body.replace("\u202f", " ").replace("\u00a0", " ")
    assert "liste d'attente" in body and "désormais retenu" in body and "75 000 €" in body
    assert "Un lauréat a renoncé." in body and f"/candidatures/{first.id}" in body

    # The budget panel: 75,000 € less remaining; the file counts among the winners.
    ranking = _ranking(client, call)
    assert _remaining(ranking) == 125_000
    assert "pour 2 lauréats" in _plain(ranking)

    # The association reads its decision: granted less than it asked (80,000 €), it adjusts its
    # budget first (issue 17 §2), then downloads its convention, with the amount.
    association = _client(app, member)
    show = _plain(_text(association.get(f"/candidatures/{first.id}")))
    assert "Décision : Retenu" in show and "75 000 €" in show and "Ajuster votre budget" in show
    assert "Télécharger la convention" not in show
    assert "Décision modifiée : retenu après la liste d'attente" in show  # its history
    _adjust_budget(first, member)
    show = _plain(_text(association.get(f"/candidatures/{first.id}")))
    assert "Télécharger la convention" in show
    convention = association.get(f"/candidatures/{first.id}/convention.pdf")
    assert convention.status_code == 200
    assert "75 000,00 €" in _pdf_text(convention.data)
    # The documents page lists it among the winners (documents.data.winners).
    assert first.reference in _text(client.get(f"/instruction/appels/{call.id}/documents"))


def test_promotion_checks_the_amount_and_the_state(app, call, files, staff):
    winner, first, _ = files
    client = _client(app, staff)
    page = _text(client.post_form(f"/selection/appels/{call.id}/dossiers/{first.id}/retenir",
                                  {"retenir-amount": ""}))
    assert "Indiquez le montant accordé." in page
    assert db.session.get(Application, first.id).status == "waitlisted"
    # A winner, or a file not on the list, cannot be « promoted ».
    response = client.post_form(f"/selection/appels/{call.id}/dossiers/{winner.id}/retenir",
                                {"retenir-amount": "10000"}, follow_redirects=True)
    assert "n'est pas sur la liste d'attente" in _text(response)
    with pytest.raises(DecisionError, match="n'est pas sur la liste d'attente"):
        amendments.promote(db.session.get(Application, winner.id), staff, 10_000_00)
    assert db.session.get(Application, winner.id).decision.version == 1
    assert factories.outbox() == []


# --- the waiting list: closing it ----------------------------------------------------------------

def test_staff_close_the_waiting_list(app, call, files, staff):
    winner, first, second = files
    members = [_member("premier", first.association), _member("second", second.association)]
    client = _client(app, staff)
    page = _plain(_text(client.get(f"/selection/appels/{call.id}/liste-attente")))
    assert first.reference in page and second.reference in page and "Clore la liste d'attente" in page
    # Without the confirmation box, nothing happens.
    reason = "Les crédits de l'appel sont épuisés."
    page = _text(client.post_form(f"/selection/appels/{call.id}/liste-attente", {"cloture-reason": reason}))
    assert "Cochez la case pour confirmer." in page
    assert db.session.get(Application, first.id).status == "waitlisted" and factories.outbox() == []

    response = client.post_form(f"/selection/appels/{call.id}/liste-attente",
                                {"cloture-reason": reason, "cloture-confirm": "y"}, follow_redirects=True)
    assert "Liste d'attente close : 2 dossier(s) non retenu(s)" in _text(response)
    db.session.expire_all()
    for application in (first, second):
        application = db.session.get(Application, application.id)
        assert application.status == "rejected"
        assert (application.decision.outcome, application.decision.reason, application.decision.version) \
            == ("rejected", reason, 2)
    assert db.session.get(Application, winner.id).status == "selected"  # winners are left alone
    mails = factories.outbox()
    assert sorted(m.to for m in mails) == sorted(m.email for m in members)
    assert all("liste d'attente de cet appel est désormais close" in m.body and reason in m.body for m in mails)
    # The association reads it in its history, with the reason.
    history = _plain(_text(_client(app, members[0]).get(f"/candidatures/{first.id}")))
    assert "Liste d'attente close : non retenu" in history and reason in history
    # Nothing left to close; closing again changes nothing.
    assert "Aucun dossier sur la liste d'attente" in _text(client.get(f"/selection/appels/{call.id}/liste-attente"))
    assert amendments.close_waitlist(call, staff, reason) == 0 and len(factories.outbox()) == 2


# --- a winner's grant: renounced, withdrawn --------------------------------------------------------

def test_the_association_renounces_its_grant_and_the_amount_is_freed(app, call, files, applicant, staff):
    winner, _, _ = files
    staff_client = _client(app, staff)
    assert _remaining(_ranking(staff_client, call)) == 200_000
    client = _client(app, applicant)
    assert "Renoncer à la subvention" in _text(client.get(f"/candidatures/{winner.id}"))
    page = _plain(_text(client.get(f"/candidatures/{winner.id}/renoncer")))
    assert "100 000 €" in page and "définitif" in page
    # A reason and the confirmation are required.
    page = _text(client.post_form(f"/candidatures/{winner.id}/renoncer", {"confirm": "y"}))
    assert "Indiquez pourquoi votre association renonce" in page
    assert db.session.get(Application, winner.id).status == "selected"
    response = client.post_form(f"/candidatures/{winner.id}/renoncer",
                                {"reason": "Notre coordinatrice est partie.", "confirm": "y"})
    assert response.status_code == 303
    db.session.expire_all()
    application = db.session.get(Application, winner.id)
    assert application.status == "withdrawn"
    event = db.session.scalar(db.select(Event).where(Event.action == "grant_renounced"))
    assert (event.from_state, event.to_state, event.actor_id, event.reason) == \
        ("selected", "withdrawn", applicant.id, "Notre coordinatrice est partie.")
    mails = factories.outbox()
    assert applicant.email in [m.to for m in mails] and staff.email in [m.to for m in mails]
    assert "Notre coordinatrice est partie." in factories.last_mail_to(staff.email).body

    # The association: no convention any more, the renunciation in its history.
    page = _plain(_text(client.get(f"/candidatures/{winner.id}")))
    assert "Télécharger la convention" not in page and "Renoncer à la subvention" not in page
    assert "Renoncement à la subvention" in page and "Notre coordinatrice est partie." in page
    assert client.get(f"/candidatures/{winner.id}/convention.pdf").status_code == 404
    # Staff: the amount is freed at once in the budget panel of the ranking and the proposal.
    ranking = _ranking(staff_client, call)
    assert _remaining(ranking) == 300_000
    assert "dont 100 000 € libérés par 1 renoncement ou retrait de subvention" in _plain(ranking)
    proposal = _text(staff_client.get(f"/selection/appels/{call.id}/proposition"))
    assert _remaining(proposal) == 300_000
    assert winner.reference not in _text(staff_client.get(f"/instruction/appels/{call.id}/documents"))


def test_staff_withdraw_a_grant_with_a_reason(app, call, files, applicant, staff):
    winner, _, _ = files
    client = _client(app, staff)
    page = _plain(_text(client.get(f"/selection/appels/{call.id}/dossiers/{winner.id}/retirer-subvention")))
    assert "le reste de l'enveloppe passe de 200 000 € à 300 000 €" in page
    page = _text(client.post_form(f"/selection/appels/{call.id}/dossiers/{winner.id}/retirer-subvention",
                                  {"confirm": "y"}))
    assert "Indiquez le motif du retrait" in page
    response = client.post_form(f"/selection/appels/{call.id}/dossiers/{winner.id}/retirer-subvention",
                                {"reason": "Association dissoute.", "confirm": "y"}, follow_redirects=True)
    assert _remaining(_text(response)) == 300_000  # back on the ranking, the amount freed
    assert db.session.get(Application, winner.id).status == "withdrawn"
    mail = factories.last_mail_to(applicant.email)
    assert "retrait de la subvention" in mail.subject and "Association dissoute." in mail.body
    page = _plain(_text(_client(app, applicant).get(f"/candidatures/{winner.id}")))
    assert "Subvention retirée par la DJEPVA" in page and "Association dissoute." in page


def test_only_a_winner_of_the_association_may_renounce(app, call, files, applicant, other_applicant, staff,
                                                       reviewer):
    winner, first, _ = files
    # Another association's member does not see the file at all.
    assert _client(app, other_applicant).get(f"/candidatures/{winner.id}/renoncer").status_code == 404
    # Staff do not renounce in the association's name (they withdraw a grant: withdraw_grant), nor
    # does another association's member.
    for someone in (staff, other_applicant):
        with pytest.raises(DecisionError, match="Seul un membre de l'association"):
            amendments.renounce(db.session.get(Application, winner.id), someone, "Motif")
    # The table names the roles of each move: a reviewer moves no file to « Retiré ».
    with pytest.raises(TransitionError, match="votre rôle ne permet pas"):
        events.change_state(db.session.get(Application, winner.id), "withdrawn", reviewer)
    db.session.rollback()
    assert db.session.get(Application, winner.id).status == "selected"
    # A file on the waiting list has no grant to renounce.
    member = _waiting_member(first)
    response = _client(app, member).post_form(f"/candidatures/{first.id}/renoncer",
                                              {"reason": "x", "confirm": "y"}, follow_redirects=True)
    assert "pas de subvention à laquelle renoncer" in _text(response)
    assert db.session.get(Application, first.id).status == "waitlisted"
    # A reviewer or an association reaching the staff pages: refused.
    assert _client(app, applicant).get(f"/selection/appels/{call.id}/liste-attente").status_code == 403
    assert factories.outbox() == []


# --- amending a winner's decision ------------------------------------------------------------------

@pytest.fixture
def multi_year(app, applicant):
    call = factories.call(slug="cpo-2025", years=3, budget_cents=900_000_00, year=2025)
    factories.complete_identity(applicant.association)
    return call, fd.winner(call, association_record=applicant.association, amount_cents=90_000_00,
                           per_year=[30_000_00] * 3)


def test_staff_amend_a_decision_and_the_association_reads_the_new_version(app, multi_year, applicant, staff):
    call, winner = multi_year
    association = _client(app, applicant)
    first = association.get(f"/candidatures/{winner.id}/convention.pdf")
    assert "90 000,00 €" in _pdf_text(first.data)

    client = _client(app, staff)
    url = f"/selection/appels/{call.id}/dossiers/{winner.id}/modifier"
    page = _text(client.get(url))
    assert 'value="90 000"' in page and 'value="30 000"' in page
    data = {"modifier-amount": "75000", "modifier-amount_per_year-0": "25000",
            "modifier-amount_per_year-1": "25000", "modifier-amount_per_year-2": "20000"}
    page = _text(client.post_form(url, data))
    assert "doit être égale au montant accordé" in page  # 70,000 ≠ 75,000
    data["modifier-amount_per_year-2"] = "25000"
    page = _text(client.post_form(url, data))
    assert "Indiquez le motif de la modification" in page  # a reason is required
    assert db.session.get(Application, winner.id).decision.version == 1
    data["modifier-reason"] = "Le cofinancement régional est plus élevé que prévu."
    assert client.post_form(url, data).status_code == 303

    db.session.expire_all()
    decision = db.session.get(Application, winner.id).decision
    assert (decision.amount_cents, decision.amount_per_year, decision.version, decision.change) == \
        (75_000_00, [25_000_00] * 3, 2, "amended")
    assert db.session.get(Application, winner.id).status == "selected"
    # Staff see every version on the decision page.
    page = _plain(_text(client.get(f"/selection/appels/{call.id}/dossiers/{winner.id}")))
    assert "Versions de la décision" in page
    assert "90 000 €" in page and "75 000 €" in page and "en vigueur" in page
    assert "Le cofinancement régional est plus élevé que prévu." in page
    # The association: « Décision modifiée », the new amount and the reason written for it.
    page = _plain(_text(association.get(f"/candidatures/{winner.id}")))
    assert "Décision modifiée : Retenu" in page and "75 000 €" in page
    assert "Motif de la modification : Le cofinancement régional est plus élevé que prévu." in page
    assert "Montant accordé : 75 000 € (auparavant 90 000 €)" in page  # its history
    # Its mail.
    mail = factories.last_mail_to(applicant.email)
    body = mail.body.replace("\u202f", " ").replace("\u00a0", " ")
    assert "décision modifiée" in mail.subject
    assert "75 000 € (au lieu de 90 000 €)" in body and "2026 : 25 000 €" in body
    assert "Le cofinancement régional est plus élevé que prévu." in body
    # Not signed yet: the convention is rendered again, with the new amount, once the budget is
    # adjusted to it.
    assert association.get(f"/candidatures/{winner.id}/convention.pdf").status_code == 302
    _adjust_budget(winner, applicant)
    text = _pdf_text(association.get(f"/candidatures/{winner.id}/convention.pdf").data)
    assert "75 000,00 €" in text and "90 000,00 €" not in text


def test_an_amendment_is_refused_when_nothing_changes_or_the_file_is_not_a_winner(app, call, files, staff):
    winner, first, _ = files
    client = _client(app, staff)
    url = f"/selection/appels/{call.id}/dossiers/{winner.id}/modifier"
    page = _text(client.post_form(url, {"modifier-amount": "100000", "modifier-reason": "Rien"},
                                  follow_redirects=True))
    assert "rien à modifier" in page
    with pytest.raises(DecisionError, match="n'est pas retenu"):
        amendments.amend_decision(db.session.get(Application, first.id), staff, 10_000_00, reason="x")
    response = client.get(f"/selection/appels/{call.id}/dossiers/{first.id}/modifier", follow_redirects=True)
    assert "n'est pas retenu" in _text(response)
    # A withdrawn grant is neither amended nor withdrawn again.
    amendments.withdraw_grant(db.session.get(Application, winner.id), staff, "Dissolution")
    with pytest.raises(DecisionError, match="n'est pas retenu"):
        amendments.amend_decision(db.session.get(Application, winner.id), staff, 50_000_00, reason="x")
    with pytest.raises(DecisionError, match="n'est pas retenu"):
        amendments.withdraw_grant(db.session.get(Application, winner.id), staff, "x")
    decision = db.session.scalar(db.select(Decision).where(Decision.application_id == winner.id))
    assert (decision.version, decision.amount_cents) == (1, 100_000_00)


def test_the_waiting_list_pages_are_for_staff_only(app, call, files, applicant, reviewer):
    _, first, _ = files
    for user in (applicant, reviewer):
        client = _client(app, user)
        for url in (f"/selection/appels/{call.id}/liste-attente",
                    f"/selection/appels/{call.id}/dossiers/{first.id}/retenir",
                    f"/selection/appels/{call.id}/dossiers/{first.id}/modifier",
                    f"/selection/appels/{call.id}/dossiers/{first.id}/retirer-subvention"):
            assert client.get(url).status_code == 403
            assert client.post_form(url, {"retenir-amount": "1000", "reason": "x", "confirm": "y",
                                          "cloture-reason": "x", "cloture-confirm": "y"}).status_code == 403
    assert db.session.get(Application, first.id).status == "waitlisted" and factories.outbox() == []
