"""Conflicts of interest: the reviewer's declaration, the check on opening a file, and the
refusal of every URL of a file (and its attachments) to a reviewer in conflict."""
from pathlib import Path

import pytest

from aap.extensions import db
from aap.models import Assignment, Attachment, Conflict, Event, Review
from aap.review import assignment, conflicts, errors, reviews

from . import factories
from .factories import submitted_file
from .factories_review import assigned, reviewer_user


def events(action):
    return db.session.scalars(db.select(Event).where(Event.action == action)).all()


@pytest.fixture
def call(app):
    return factories.call(reviewers_per_file=2)


def test_search_by_name_and_siret_then_declare_and_remove(call, client, reviewer, login_as):
    target = submitted_file(call, "Les Amis du Mentorat", region="53")
    submitted_file(call, "Tremplin Jeunes", region="53")
    login_as(reviewer)
    page = client.get("/evaluation/liens-d-interets?q=amis").get_data(as_text=True)
    assert "Les Amis du Mentorat" in page and "Tremplin Jeunes" not in page
    page = client.get("/evaluation/liens-d-interets?q=732829").get_data(as_text=True)  # SIRET prefix
    assert "Les Amis du Mentorat" in page and "Tremplin Jeunes" in page

    # The nature of the link is required.
    response = client.post_form("/evaluation/liens-d-interets?q=amis",
                                {"action": "add", "add-association_id": target.association_id, "add-reason": ""})
    assert response.status_code == 400
    assert "Précisez la nature du lien" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Conflict.id))) == 0

    response = client.post_form("/evaluation/liens-d-interets",
                                {"action": "add", "add-association_id": target.association_id,
                                 "add-reason": "Je suis trésorière bénévole"})
    assert response.status_code == 302
    conflict = db.session.scalar(db.select(Conflict))
    assert (conflict.reviewer_id, conflict.association_id, conflict.application_id) == \
        (reviewer.id, target.association_id, None)
    assert conflict.reason == "Je suis trésorière bénévole"
    assert len(events("conflict_declared")) == 1
    page = client.get("/evaluation/liens-d-interets?q=amis").get_data(as_text=True)
    assert "Je suis trésorière bénévole" in page and "Déjà déclarée" in page

    response = client.post_form("/evaluation/liens-d-interets",
                                {"action": "remove", "remove-conflict_id": conflict.id, "remove-reason": ""})
    assert response.status_code == 400 and "Indiquez pourquoi" in response.get_data(as_text=True)
    response = client.post_form("/evaluation/liens-d-interets",
                                {"action": "remove", "remove-conflict_id": conflict.id,
                                 "remove-reason": "J'ai quitté le bureau"})
    assert response.status_code == 302
    assert db.session.scalar(db.select(db.func.count(Conflict.id))) == 0
    assert events("conflict_removed")[0].reason == "J'ai quitté le bureau"


def test_cannot_remove_another_reviewers_conflict(call, client, reviewer, login_as):
    other = reviewer_user("autre@example.org")
    target = submitted_file(call, "Asso A")
    conflict = conflicts.declare_conflict(other, target.association, "Salarié")
    login_as(reviewer)
    response = client.post_form("/evaluation/liens-d-interets", {
        "action": "remove", "remove-conflict_id": conflict.id, "remove-reason": "x"}, follow_redirects=True)
    assert "introuvable" in response.get_data(as_text=True)
    assert db.session.get(Conflict, conflict.id) is not None


def test_declaring_a_link_removes_current_assignments_and_drafts(call, reviewer):
    application = submitted_file(call, "Asso A", status="in_review")
    assigned(application, reviewer)
    db.session.add(Review(application_id=application.id, reviewer_id=reviewer.id, status="draft"))
    db.session.commit()
    conflicts.declare_conflict(reviewer, application.association, "Mon frère préside l'association")
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Review.id))) == 0
    db.session.refresh(application)
    assert application.status == "admissible"  # nobody left on it: back to the assignment pool
    event = events("conflict_declared")[0]
    assert event.application_id == application.id and event.details["assignment_removed"] is True


def test_opening_a_file_asks_about_links_before_showing_it(call, client, reviewer, login_as):
    application = submitted_file(call, "Asso A", status="in_review", summary="Résumé très secret")
    assigned(application, reviewer, confirmed=False)
    login_as(reviewer)
    page = client.get(f"/evaluation/dossiers/{application.id}").get_data(as_text=True)
    assert "Je n'ai pas de lien avec cette association" in page
    assert "Résumé très secret" not in page
    # Saving a review before the check is refused.
    assert client.post_form(f"/evaluation/dossiers/{application.id}", {"action": "draft"}).status_code == 409
    response = client.post_form(f"/evaluation/dossiers/{application.id}/liens-d-interets", {"action": "no_conflict"})
    assert response.status_code == 302
    page = client.get(f"/evaluation/dossiers/{application.id}").get_data(as_text=True)
    assert "Résumé très secret" in page
    assert db.session.scalar(db.select(Assignment.no_conflict_confirmed_at)) is not None
    assert len(events("no_conflict_confirmed")) == 1


def test_declaring_a_conflict_on_opening_removes_the_file(call, client, reviewer, staff, login_as):
    application = submitted_file(call, "Asso A", status="in_review", summary="Résumé très secret")
    assigned(application, reviewer, confirmed=False)
    login_as(reviewer)
    response = client.post_form(f"/evaluation/dossiers/{application.id}/liens-d-interets",
                                {"action": "conflict", "reason": ""})
    assert response.status_code == 400
    assert "Précisez la nature du lien" in response.get_data(as_text=True)
    response = client.post_form(f"/evaluation/dossiers/{application.id}/liens-d-interets",
                                {"action": "conflict", "reason": "Ancienne salariée"})
    assert response.status_code == 302
    conflict = db.session.scalar(db.select(Conflict))
    assert conflict.application_id == application.id and conflict.reason == "Ancienne salariée"
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0
    assert client.get(f"/evaluation/dossiers/{application.id}").status_code == 404
    client.post_form("/deconnexion")

    login_as(staff)
    page = client.get(f"/instruction/appels/{call.id}/conflits").get_data(as_text=True)
    assert reviewer.full_name in page and "Ancienne salariée" in page and application.reference in page
    assert "ouverture du dossier" in page
    # A link declared on a file cannot be withdrawn by the reviewer.
    with pytest.raises(errors.ReviewError):
        conflicts.remove_conflict(reviewer, conflict.id, "erreur")


def _attachment(app, application):
    stored = "ab" * 16
    folder = Path(app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(b"%PDF-1.4 test")
    statuts = next(d for d in application.call.pieces if not d.reserved)  # a piece reviewers read
    attachment = Attachment(application_id=application.id, document_id=statuts.id, original_name="statuts.pdf",
                            stored_name=stored, kind="pdf", content_type="application/pdf", size=13, sha256="0" * 64)
    db.session.add(attachment)
    db.session.commit()
    return attachment


def test_conflict_closes_every_url_of_the_file(app, call, client, reviewer, login_as):
    application = submitted_file(call, "Asso A", status="in_review", summary="Résumé très secret")
    attachment = _attachment(app, application)
    clean = reviewer_user("propre@example.org")
    assigned(application, clean)
    # The reviewer in conflict still has an assignment row (e.g. assigned before declaring through
    # another path): the declared link alone must close every door.
    assigned(application, reviewer)
    db.session.add(Conflict(reviewer_id=reviewer.id, association_id=application.association_id, reason="Lien"))
    db.session.commit()
    urls = [f"/evaluation/dossiers/{application.id}", f"/candidatures/{application.id}"]
    has_attachments = "applications.attachment" in app.view_functions
    if has_attachments:
        urls.append(f"/candidatures/{application.id}/pieces/{attachment.id}")

    login_as(clean)
    assert client.get(urls[0]).status_code == 200
    if has_attachments:
        response = client.get(urls[2])
        assert response.status_code == 200 and response.data == b"%PDF-1.4 test"
    client.post_form("/deconnexion")

    login_as(reviewer)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Résumé très secret" not in response.get_data(as_text=True)
    assert client.post_form(urls[0], {"action": "draft"}).status_code == 404
    assert client.post_form(f"/evaluation/dossiers/{application.id}/liens-d-interets",
                            {"action": "no_conflict"}).status_code == 404
    with pytest.raises(errors.ReviewError):
        reviews.save_review(application, reviewer, {}, submit=False)


def test_reviewer_in_conflict_is_never_proposed(app, call, reviewer):
    application = submitted_file(call, "Asso A", region="53", status="admissible")
    conflicts.declare_conflict(reviewer, application.association, "Bénévole")
    others = [reviewer_user(f"r{i}@example.org", region="11") for i in range(2)]
    proposal, _ = assignment.propose_assignment(call)
    assert sorted(r for _, r in proposal.pairs) == sorted(r.id for r in others)
    assert assignment.ineligibility(call, application, reviewer) == \
        "Cet évaluateur a déclaré un lien d'intérêts avec cette association."


def test_staff_conflicts_page_is_for_staff(call, client, applicant, reviewer, login_as):
    for user in (applicant, reviewer):
        login_as(user)
        assert client.get(f"/instruction/appels/{call.id}/conflits").status_code == 403
        client.post_form("/deconnexion")


def test_only_reviewers_declare_links(call, client, applicant, staff, login_as):
    for user in (applicant, staff):
        login_as(user)
        assert client.get("/evaluation/liens-d-interets").status_code == 403
        client.post_form("/deconnexion")
