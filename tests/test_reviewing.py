"""Scoring a file: score ranges, required comments, draft then submit, read-only after
submission, reopening by staff, visibility of the other reviews, state of the file."""
import pytest

from aap.extensions import db
from aap.models import Event, Review
from aap.review import errors, reviews

from . import factories
from .factories import submitted_file
from .factories_review import assigned, reviewer_user


@pytest.fixture
def setup(app, reviewer):
    call = factories.call(reviewers_per_file=2)
    application = submitted_file(call, "Asso A", region="53", status="in_review")
    assigned(application, reviewer)
    return call, application


def form_data(call, scores=(3, 4, 2), comments=("", "", ""), action="draft", **extra):
    data = {"action": action}
    for criterion, score, comment in zip(call.criteria, scores, comments):
        data[f"score_{criterion.id}"] = str(score)
        data[f"comment_{criterion.id}"] = comment
    data.update(extra)
    return data


def url(application):
    return f"/evaluation/dossiers/{application.id}"


def own_review(application, reviewer):
    db.session.expire_all()
    return db.session.scalar(db.select(Review).where(Review.application_id == application.id,
                                                     Review.reviewer_id == reviewer.id))


@pytest.mark.parametrize("value, message", [
    ("-1", "La note doit être comprise entre 0 et 5."),
    ("6", "La note doit être comprise entre 0 et 5."),
    ("trois", "Saisissez une note entière entre 0 et 5."),
    ("2,5", "Saisissez une note entière entre 0 et 5."),
])
def test_score_out_of_range_or_not_a_number(setup, client, reviewer, login_as, value, message):
    call, application = setup
    login_as(reviewer)
    data = form_data(call, comments=("Gouvernance solide", "", ""))
    data[f"score_{call.criteria[1].id}"] = value
    response = client.post_form(url(application), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert f'id="score_{call.criteria[1].id}-messages"' in html  # the message sits next to the field
    assert "Gouvernance solide" in html  # what was typed is kept
    assert own_review(application, reviewer) is None


def test_service_rejects_scores_outside_the_scale(setup, reviewer):
    call, application = setup
    with pytest.raises(errors.ReviewError):
        reviews.save_review(application, reviewer, {call.criteria[0].id: (9, "")})
    with pytest.raises(errors.ReviewError):
        reviews.save_review(application, reviewer, {call.criteria[0].id: (-1, "")})
    assert own_review(application, reviewer) is None


def test_service_rejects_a_score_on_another_calls_criterion(setup, reviewer):
    """Issue 16: the demo's top-up reviews were scored on the 2025 grid; a score belongs to its own
    call's criteria."""
    call, application = setup
    other = factories.call(slug="aap-autre")
    with pytest.raises(errors.ReviewError, match="pas celui de cet appel"):
        reviews.save_review(application, reviewer, {other.criteria[0].id: (3, "")})
    assert own_review(application, reviewer) is None
    review = reviews.save_review(application, reviewer, {call.criteria[0].id: (3, "")})
    assert {s.criterion.call_id for s in review.scores} == {call.id}


def test_comment_required_for_lowest_and_highest_marks_at_submission(setup, client, reviewer, login_as):
    call, application = setup
    login_as(reviewer)
    c0, c1, c2 = call.criteria
    data = form_data(call, scores=(0, 5, 3), action="submit", recommendation="favorable")
    response = client.post_form(url(application), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Un commentaire est obligatoire pour la note 0" in html
    assert "Un commentaire est obligatoire pour la note 5" in html
    assert own_review(application, reviewer) is None
    # A draft may wait for its comments.
    data["action"] = "draft"
    assert client.post_form(url(application), data).status_code == 302
    assert own_review(application, reviewer).status == "draft"
    data.update({"action": "submit", f"comment_{c0.id}": "Aucun jeune en QPV", f"comment_{c1.id}": "Excellent"})
    assert client.post_form(url(application), data).status_code == 302
    assert client.post_form(url(application) + "/envoi").status_code == 302  # « Confirmer l'envoi »
    review = own_review(application, reviewer)
    assert review.status == "submitted"
    assert {s.criterion_id: (s.value, s.comment) for s in review.scores} == {
        c0.id: (0, "Aucun jeune en QPV"), c1.id: (5, "Excellent"), c2.id: (3, "")}


def test_draft_then_submit_then_read_only(setup, client, reviewer, login_as):
    call, application = setup
    login_as(reviewer)
    # A partial draft: one score, no recommendation yet.
    data = {"action": "draft", f"score_{call.criteria[0].id}": "4", f"comment_{call.criteria[0].id}": "Solide",
            "proposed_amount": "42 500,50"}
    assert client.post_form(url(application), data).status_code == 302
    review = own_review(application, reviewer)
    assert review.status == "draft" and review.proposed_amount_cents == 4_250_050
    page = client.get(url(application)).get_data(as_text=True)
    assert "Brouillon enregistré" in page and 'value="42500,50"' in page and "Solide" in page

    # Submission needs every criterion and a recommendation.
    response = client.post_form(url(application), dict(data, action="submit"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"Notez le critère « {call.criteria[1].label} »" in html
    assert "Choisissez un avis global" in html
    assert own_review(application, reviewer).status == "draft"

    full = form_data(call, scores=(4, 3, 2), action="submit", recommendation="reserve", proposed_amount="40000",
                     comment="Projet intéressant")
    assert client.post_form(url(application), full).status_code == 302
    assert client.post_form(url(application) + "/envoi").status_code == 302  # « Confirmer l'envoi »
    review = own_review(application, reviewer)
    assert review.status == "submitted" and review.submitted_at is not None
    assert review.recommendation == "reserve" and review.proposed_amount_cents == 4_000_000
    assert db.session.scalar(db.select(db.func.count(Event.id)).where(Event.action == "review_submitted")) == 1

    page = client.get(url(application)).get_data(as_text=True)
    assert "Envoyer l'évaluation" not in page and "Réservé" in page and "Projet intéressant" in page
    response = client.post_form(url(application), form_data(call, scores=(1, 1, 1), action="draft"),
                                follow_redirects=True)
    assert "Cette évaluation a déjà été envoyée" in response.get_data(as_text=True)
    assert sorted(s.value for s in own_review(application, reviewer).scores) == [2, 3, 4]
    with pytest.raises(errors.ReviewError):
        reviews.save_review(application, reviewer, {c.id: (1, "x") for c in call.criteria}, "favorable")


def test_invalid_amount(setup, client, reviewer, login_as):
    call, application = setup
    login_as(reviewer)
    response = client.post_form(url(application), form_data(call, proposed_amount="beaucoup"))
    assert response.status_code == 400
    assert "Saisissez un montant en euros" in response.get_data(as_text=True)


def submit(application, reviewer, scores=(3, 3, 3), recommendation="favorable"):
    return reviews.submit_review(application, reviewer, {c.id: (s, "ok") for c, s in
                                                          zip(application.call.criteria, scores)}, recommendation)


def test_file_is_reviewed_when_all_reviews_are_in_and_reopen_brings_it_back(setup, client, reviewer, staff, login_as):
    call, application = setup
    second = reviewer_user("second@example.org")
    assigned(application, second)
    submit(application, reviewer)
    db.session.refresh(application)
    assert application.status == "in_review"
    review = submit(application, second, recommendation="defavorable")
    db.session.refresh(application)
    assert application.status == "reviewed"

    login_as(staff)
    page = client.get(f"/instruction/dossiers/{application.id}/evaluations").get_data(as_text=True)
    assert "Défavorable" in page and second.full_name in page
    response = client.post_form(f"/instruction/evaluations/{review.id}/rouvrir", {"reason": ""},
                                follow_redirects=True)
    assert "Indiquez pourquoi" in response.get_data(as_text=True)
    assert own_review(application, second).status == "submitted"
    response = client.post_form(f"/instruction/evaluations/{review.id}/rouvrir",
                                {"reason": "Le montant proposé dépasse le plafond"})
    assert response.status_code == 302
    review = own_review(application, second)
    assert review.status == "draft" and review.submitted_at is None
    db.session.refresh(application)
    assert application.status == "in_review"
    mail = factories.last_mail_to(second.email)
    assert "rouvert" in mail.subject and "Le montant proposé dépasse le plafond" in mail.body
    reopened = db.session.scalar(db.select(Event).where(Event.action == "review_reopened"))
    assert reopened.actor_id == staff.id and reopened.reason == "Le montant proposé dépasse le plafond"
    client.post_form("/deconnexion")

    # The reviewer can edit it again.
    login_as(second)
    assert "Envoyer l'évaluation" in client.get(url(application)).get_data(as_text=True)


def test_reopen_is_for_staff(setup, client, reviewer, login_as):
    call, application = setup
    review = submit(application, reviewer)
    login_as(reviewer)
    assert client.post_form(f"/instruction/evaluations/{review.id}/rouvrir", {"reason": "x"}).status_code == 403
    assert client.get(f"/instruction/dossiers/{application.id}/evaluations").status_code == 403
    assert own_review(application, reviewer).status == "submitted"


def test_other_reviews_hidden_until_own_submission(setup, client, reviewer, login_as):
    call, application = setup
    other = reviewer_user("autre@example.org")
    assigned(application, other)
    reviews.save_review(application, other, {call.criteria[0].id: (2, "")}, comment="Brouillon caché")
    login_as(reviewer)
    page = client.get(url(application)).get_data(as_text=True)
    assert "visibles après l'envoi de la vôtre" in page
    reviews.submit_review(application, other, {c.id: (1, "Avis de l'autre") for c in call.criteria}, "defavorable",
                           comment="Appréciation du second évaluateur")
    page = client.get(url(application)).get_data(as_text=True)
    assert "Appréciation du second évaluateur" not in page
    submit(application, reviewer)
    page = client.get(url(application)).get_data(as_text=True)
    assert "Appréciation du second évaluateur" in page and "Autre évaluation n° 1" in page


def test_other_reviews_always_visible_when_setting_is_off(app, client, reviewer, login_as):
    call = factories.call(reviewers_per_file=3, hide_other_reviews=False)
    application = submitted_file(call, "Asso A", region="53", status="in_review")
    assigned(application, reviewer)
    other, third = reviewer_user("autre@example.org"), reviewer_user("troisieme@example.org")
    assigned(application, other)
    assigned(application, third)
    reviews.submit_review(application, other, {c.id: (1, "x") for c in call.criteria}, "defavorable",
                           comment="Appréciation du second évaluateur")
    reviews.save_review(application, third, {}, comment="Brouillon du troisième")
    login_as(reviewer)
    page = client.get(url(application)).get_data(as_text=True)
    assert "Appréciation du second évaluateur" in page
    assert "Brouillon du troisième" not in page  # drafts are never shown


def test_role_and_object_checks(setup, client, applicant, staff, login_as):
    call, application = setup
    stranger = reviewer_user("inconnu@example.org")
    login_as(stranger)
    assert client.get(url(application)).status_code == 404
    assert client.post_form(url(application), form_data(call)).status_code == 404
    client.post_form("/deconnexion")
    for user in (applicant, staff):
        login_as(user)
        assert client.get(url(application)).status_code == 403
        client.post_form("/deconnexion")
    assert db.session.scalar(db.select(db.func.count(Review.id))) == 0


def test_dashboard_lists_files_to_review_and_done(setup, client, reviewer, login_as):
    from datetime import datetime, timezone
    call, application = setup
    call.review_deadline = datetime(2030, 3, 15, 17, 0, tzinfo=timezone.utc)
    done_file = submitted_file(call, "Asso B", region="53", status="in_review")
    assigned(done_file, reviewer)
    submit(done_file, reviewer)
    login_as(reviewer)
    page = client.get("/tableau-de-bord").get_data(as_text=True)
    todo, done = page.split("Évaluations envoyées")
    assert application.reference in todo and "15 mars 2030" in todo
    assert done_file.reference in done and f"/evaluation/dossiers/{done_file.id}" in done
