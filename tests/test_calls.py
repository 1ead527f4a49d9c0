"""Calls for projects: staff pages (create, edit, criteria, documents, publish, close),
criteria locking, public pages, role checks and query counts."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from aap import timeutil
from aap.calls import services
from aap.extensions import db
from aap.models import Application, Call, Criterion, Event, Review, Score

from . import factories
from .conftest import count_queries


def call_form(**overrides):
    data = {
        "title": "Appel à projets 1 jeune 1 mentor 2027",
        "slug": "aap-2027",
        "description": "## Objet\n\nFinancer le **mentorat**.",
        "opens_date": "2027-10-01", "opens_time": "09:00",
        "closes_date": "2028-01-31", "closes_time": "23:59",
        "review_deadline": "2028-03-15",
        "budget": "18 000 000", "min_amount": "20 000", "max_amount": "500 000",
        "years": "3", "reviewers_per_file": "3", "avoid_same_region": "y", "hide_other_reviews": "y",
        "advance_percent": "50",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def submitted_review(call, association, reviewer, status="submitted"):
    application = factories.application(call, association)
    review = Review(application_id=application.id, reviewer_id=reviewer.id, status=status,
                    recommendation="favorable",
                    submitted_at=timeutil.now() if status == "submitted" else None)
    review.scores = [Score(criterion_id=c.id, value=3, comment="Correct") for c in call.criteria]
    db.session.add(review)
    db.session.commit()
    return review


# ---------------------------------------------------------------- creation and editing

def test_new_call_starts_from_the_template(client, staff, login_as):
    login_as(staff)
    page = client.get("/instruction/appels/nouveau")
    assert page.status_code == 200
    assert "modèle « 1 jeune 1 mentor »" in page.get_data(as_text=True)

    response = client.post_form("/instruction/appels/nouveau", call_form())
    assert response.status_code == 302
    call = db.session.scalar(db.select(Call).where(Call.slug == "aap-2027"))
    assert call.status == "draft" and call.year == 2027 and call.years == 3
    assert [c.label for c in call.criteria] == ["Solidité structurelle",
                                                "Capacité à toucher les jeunes les plus éloignés",
                                                "Diversité territoriale"]
    assert {c.weight for c in call.criteria} == {Decimal("1")}
    assert {c.scale_max for c in call.criteria} == {5}
    assert all(c.description for c in call.criteria)
    assert len(call.pieces) >= 6
    # Paris wall-clock times stored in UTC: 09:00 in October is 07:00 UTC (summer time),
    # 23:59 in January is 22:59:59 UTC (winter time).
    assert call.opens_at == datetime(2027, 10, 1, 7, 0, tzinfo=timezone.utc)
    assert call.closes_at == datetime(2028, 1, 31, 22, 59, 59, tzinfo=timezone.utc)
    assert call.budget_cents == 18_000_000_00 and call.min_amount_cents == 20_000_00
    assert call.max_amount_cents == 500_000_00
    assert db.session.scalar(db.select(Event).where(Event.action == "call_created")).call_id == call.id


def test_edit_shows_paris_times_and_saves(client, staff, login_as):
    call = factories.call(slug="aap-2026", status="draft")
    login_as(staff)
    page = client.get(f"/instruction/appels/{call.id}").get_data(as_text=True)
    opens = timeutil.to_paris(call.opens_at)
    assert f'value="{opens:%Y-%m-%d}"' in page and f'value="{opens:%H:%M}"' in page
    response = client.post_form(f"/instruction/appels/{call.id}",
                                call_form(slug="aap-2026-bis", years="1", title="Nouveau titre"))
    assert response.status_code == 302
    db.session.refresh(call)
    assert call.title == "Nouveau titre" and call.slug == "aap-2026-bis" and call.years == 1
    event = db.session.scalar(db.select(Event).where(Event.action == "call_updated"))
    assert "title" in event.details["fields"]


@pytest.mark.parametrize("overrides, field, message", [
    ({"closes_date": "2027-09-30"}, "closes_date",
     "La date de clôture doit être postérieure à la date d&#39;ouverture."),
    ({"min_amount": "600 000"}, "min_amount", "Le montant minimum ne peut pas dépasser le montant maximum."),
    ({"max_amount": "20 000 000"}, "max_amount",
     "Le montant maximum par dossier ne peut pas dépasser l&#39;enveloppe."),
    ({"slug": "AAP 2027 !"}, "slug", "lettres minuscules sans accent"),
    ({"budget": "douze"}, "budget", "Saisissez un montant en euros"),
    ({"budget": "12,345"}, "budget", "plus de deux décimales"),
    ({"opens_date": "31/02/2027"}, "opens_date", "Saisissez une date valide"),
    ({"reviewers_per_file": "0"}, "reviewers_per_file", "de 1 à 10"),
    ({"title": ""}, "title", "Saisissez le titre"),
])
def test_validation_errors_are_french_next_to_the_field_and_keep_values(client, staff, login_as,
                                                                        overrides, field, message):
    login_as(staff)
    response = client.post_form("/instruction/appels/nouveau", call_form(**overrides))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    # The message sits in the field's own message group.
    group = html.split(f'id="{field}-messages"')[1].split("</div>")[0]
    assert message in group
    # Everything typed is kept.
    for name, value in call_form(**overrides).items():
        if name in ("description", "years", "avoid_same_region", "hide_other_reviews") or not value:
            continue
        if name == "slug":
            value = value.lower()  # the address is lowercased as it is typed
        assert f'value="{value}"' in html.replace("&#39;", "'"), name
    assert db.session.scalar(db.select(Call)) is None


def test_slug_must_be_unique(client, staff, login_as):
    factories.call(slug="aap-2027")
    login_as(staff)
    html = client.post_form("/instruction/appels/nouveau", call_form()).get_data(as_text=True)
    assert "Cette adresse courte est déjà utilisée" in html
    assert db.session.scalar(db.select(db.func.count(Call.id))) == 1


def test_service_refuses_what_the_form_refuses(staff):
    opens = timeutil.now()
    with pytest.raises(services.CallError) as error:
        services.create_call(staff, title="T", slug="t", opens_at=opens, closes_at=opens - timedelta(hours=1),
                             budget_cents=100, min_amount_cents=50, max_amount_cents=200)
    assert set(error.value.errors) == {"closes_at", "max_amount_cents"}


def test_years_cannot_change_once_applications_exist(client, staff, applicant, login_as):
    call = factories.call(years=1)
    factories.application(call, applicant.association, status="draft")
    with pytest.raises(services.CallError) as error:
        services.update_call(call, staff, years=3)
    assert "durée de la convention ne peut plus changer" in error.value.errors["years"]


# ---------------------------------------------------------------- criteria

def criteria_post(call, rows):
    data = {}
    for i, row in enumerate(rows):
        for key, value in row.items():
            if value is not None:
                data[f"criteria-{i}-{key}"] = value
    return data


def existing_rows(call):
    return [{"id": str(c.id), "label": c.label, "description": c.description,
             "weight": str(c.weight), "scale_max": str(c.scale_max)} for c in call.criteria]


def test_staff_edit_add_and_remove_criteria(client, staff, login_as):
    call = factories.call(status="draft")
    login_as(staff)
    rows = existing_rows(call)
    rows[0]["weight"] = "2,5"
    rows[1]["label"] = "Publics éloignés"
    rows[2]["remove"] = "y"
    rows.append({"id": "", "label": "Qualité du suivi des binômes", "description": "Fréquence des points",
                 "weight": "1", "scale_max": "10"})
    response = client.post_form(f"/instruction/appels/{call.id}/criteres", criteria_post(call, rows))
    assert response.status_code == 302
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert [(c.label, c.weight, c.scale_max) for c in call.criteria] == [
        ("Solidité structurelle", Decimal("2.5"), 5),
        ("Publics éloignés", Decimal("1"), 5),
        ("Qualité du suivi des binômes", Decimal("1"), 10)]
    assert db.session.scalar(db.select(db.func.count(Criterion.id))) == 3


@pytest.mark.parametrize("key, value, message", [
    ("weight", "0", "Le poids doit être supérieur à 0."),
    ("weight", "-1", "Le poids doit être supérieur à 0."),
    ("weight", "beaucoup", "Saisissez un nombre"),
    ("scale_max", "1", "La note maximale va de 2 à 20."),
    ("scale_max", "21", "La note maximale va de 2 à 20."),
    ("label", "", "Saisissez l&#39;intitulé du critère."),
])
def test_criteria_validation(client, staff, login_as, key, value, message):
    call = factories.call(status="draft")
    login_as(staff)
    rows = existing_rows(call)
    rows[0][key] = value
    html = client.post_form(f"/instruction/appels/{call.id}/criteres",
                            criteria_post(call, rows)).get_data(as_text=True)
    group = html.split(f'id="criteria-0-{key}-messages"')[1].split("</div>")[0]
    assert message in group
    db.session.expire_all()
    assert db.session.get(Call, call.id).criteria[0].weight == Decimal("1")


def test_removing_a_criterion_drops_draft_scores(staff, applicant, reviewer):
    call = factories.call()
    submitted_review(call, applicant.association, reviewer, status="draft")
    items = [{"id": c.id, "label": c.label, "description": "", "weight": c.weight, "scale_max": c.scale_max}
             for c in call.criteria[:2]]
    services.set_criteria(call, items, staff)
    assert db.session.scalar(db.select(db.func.count(Score.id))) == 2


def test_criteria_lock_after_first_submitted_review(client, staff, applicant, reviewer, login_as):
    call = factories.call()
    assert not services.criteria_locked(call)
    submitted_review(call, applicant.association, reviewer, status="draft")
    assert not services.criteria_locked(call)  # a draft review does not lock
    other_call = factories.call(slug="autre")
    other = factories.user("applicant", email="b@example.org", association_name="B")
    submitted_review(other_call, other.association, reviewer)
    assert not services.criteria_locked(call)  # another call's review does not lock this one
    assert services.criteria_locked(other_call)

    review = db.session.scalar(db.select(Review).join(Application).where(Application.call_id == call.id))
    review.status, review.submitted_at = "submitted", timeutil.now()
    db.session.commit()
    assert services.criteria_locked(call)

    with pytest.raises(services.CriteriaLocked):
        services.set_criteria(call, [], staff)

    login_as(staff)
    page = client.get(f"/instruction/appels/{call.id}/criteres").get_data(as_text=True)
    assert "Les critères sont verrouillés" in page and "1 évaluation a déjà été envoyée" in page
    assert 'name="criteria-0-label"' not in page

    rows = existing_rows(call)
    rows[0]["weight"] = "3"
    response = client.post_form(f"/instruction/appels/{call.id}/criteres", criteria_post(call, rows),
                                follow_redirects=True)
    assert "ne peuvent plus être modifiés" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Call, call.id).criteria[0].weight == Decimal("1")


# ---------------------------------------------------------------- documents

def test_documents_edit_add_remove_and_formats(client, staff, login_as):
    call = factories.call(status="draft")
    login_as(staff)
    data = {}
    for i, d in enumerate(call.pieces[:2]):
        data[f"documents-{i}-id"] = str(d.id)
        data[f"documents-{i}-label"] = d.label
        data[f"documents-{i}-mandatory"] = "y"
        data[f"documents-{i}-formats"] = ["pdf"]
    data["documents-1-mandatory"] = ""
    data["documents-2-id"] = ""
    data["documents-2-label"] = "Attestation d'assurance"
    data["documents-2-formats"] = ["pdf", "jpeg", "png"]
    response = client.post_form(f"/instruction/appels/{call.id}/pieces", data)
    assert response.status_code == 302
    db.session.expire_all()
    docs = db.session.get(Call, call.id).pieces
    assert [(d.label, d.mandatory, d.formats) for d in docs] == [
        ("Statuts signés de l'association", True, "pdf"),
        ("Liste des membres du conseil d'administration et du bureau", False, "pdf"),
        ("Attestation d'assurance", False, "pdf,jpeg,png")]
    assert docs[2].code == "attestation_d_assurance"


def test_documents_need_a_format(client, staff, login_as):
    call = factories.call(status="draft")
    login_as(staff)
    d = call.pieces[0]
    html = client.post_form(f"/instruction/appels/{call.id}/pieces", {
        "documents-0-id": str(d.id), "documents-0-label": d.label}).get_data(as_text=True)
    assert "Cochez au moins un format accepté." in html
    with pytest.raises(services.CallError):
        services.set_pieces(call, [{"id": d.id, "label": d.label, "formats": ["exe"]}], staff)


# ---------------------------------------------------------------- publication

def test_publishing_rules(client, staff, login_as):
    call = factories.call(status="draft", budget_cents=0)
    call.criteria = []
    db.session.commit()
    problems = services.publish_problems(call)
    assert "Ajoutez au moins un critère d'évaluation." in problems
    assert "Indiquez l'enveloppe budgétaire de l'appel." in problems

    login_as(staff)
    response = client.post_form(f"/instruction/appels/{call.id}/publier", {}, follow_redirects=True)
    assert "ne peut pas être publié" in response.get_data(as_text=True)
    assert db.session.get(Call, call.id).status == "draft"

    call.closes_at = call.opens_at
    with pytest.raises(services.CallError, match="postérieure"):
        services.publish_call(call, staff)
    db.session.rollback()

    call = db.session.get(Call, call.id)
    call.budget_cents = 1_000_000_00
    call.closes_at = call.opens_at + timedelta(days=30)
    services.set_criteria(call, [{"label": "Unique", "weight": 1, "scale_max": 5}], staff)
    response = client.post_form(f"/instruction/appels/{call.id}/publier", {})
    assert response.status_code == 302
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert call.status == "published" and call.published_at is not None
    event = db.session.scalar(db.select(Event).where(Event.action == "call_published"))
    assert event.call_id == call.id and event.actor_id == staff.id

    response = client.post_form(f"/instruction/appels/{call.id}/clore", {"back": "list"})
    assert response.headers["Location"].endswith("/instruction/appels")
    db.session.expire_all()
    assert db.session.get(Call, call.id).status == "closed"
    assert db.session.scalar(db.select(Event).where(Event.action == "call_closed")).call_id == call.id
    with pytest.raises(services.CallError):
        services.close_call(db.session.get(Call, call.id), staff)


def test_publish_needs_csrf(client, staff, login_as):
    call = factories.call(status="draft")
    login_as(staff)
    assert client.post(f"/instruction/appels/{call.id}/publier").status_code == 400
    assert db.session.get(Call, call.id).status == "draft"


# ---------------------------------------------------------------- public pages

def test_public_page_only_when_published(client, applicant, login_as):
    draft = factories.call(slug="brouillon", status="draft")
    published = factories.call(slug="aap-2026", description="Le plan **1 jeune 1 mentor**.")
    assert client.get("/appels/brouillon").status_code == 404
    assert "brouillon" not in client.get("/appels").get_data(as_text=True)
    page = client.get("/appels/aap-2026")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<strong>1 jeune 1 mentor</strong>" in html
    assert "Solidité structurelle" in html and "1\u202f000\u202f000\u00a0€" in html
    assert "Se connecter pour candidater" in html and "Créer un compte" in html
    assert timeutil.format_datetime(published.closes_at) in html
    listing = client.get("/appels").get_data(as_text=True)
    assert "/appels/aap-2026" in listing
    login_as(applicant)
    assert client.get(f"/appels/{draft.slug}").status_code == 404


def test_staff_can_preview_a_draft(client, staff, login_as):
    factories.call(slug="brouillon", status="draft")
    login_as(staff)
    html = client.get("/appels/brouillon").get_data(as_text=True)
    assert "Aperçu" in html


def test_markdown_is_sanitised(client):
    factories.call(slug="aap-2026", description=(
        "Texte\n\n<script>alert('x')</script>\n\n[lien](javascript:alert(1)) "
        '<img src=x onerror="alert(2)"> <a href="https://www.jeunes.gouv.fr" onclick="x()">site</a>'))
    html = client.get("/appels/aap-2026").get_data(as_text=True)
    body = html.split('class="aap-markdown"')[1].split("Critères d")[0]
    assert "<script" not in body
    assert "javascript:" not in body and "onerror" not in body and "onclick" not in body and "<img" not in body
    assert 'href="https://www.jeunes.gouv.fr"' in body


def test_apply_button_for_an_applicant_while_open(app, client, applicant, login_as):
    factories.call(slug="ouvert")
    factories.call(slug="futur", opens_in_days=5, closes_in_days=40)
    factories.call(slug="fini", opens_in_days=-40, closes_in_days=-1)
    login_as(applicant)
    html = client.get("/appels/ouvert").get_data(as_text=True)
    if "applications.start" in app.view_functions:
        assert "Candidater à cet appel" in html and 'name="csrf_token"' in html
    else:
        assert "Candidater à cet appel" not in html
    assert "Se connecter pour candidater" not in html
    assert "ouvrira le" in client.get("/appels/futur").get_data(as_text=True)
    assert "est clos depuis" in client.get("/appels/fini").get_data(as_text=True)


def test_apply_button_posts_to_the_start_endpoint(app, client, applicant, login_as):
    """With an applications.start endpoint registered, the page posts to it."""
    call = factories.call(slug="ouvert")
    if "applications.start" not in app.view_functions:
        app.add_url_rule("/candidatures/nouvelle/<int:call_id>", "applications.start",
                         lambda call_id: "", methods=["POST"])
    login_as(applicant)
    html = client.get("/appels/ouvert").get_data(as_text=True)
    assert f'action="/candidatures/nouvelle/{call.id}"' in html
    factories.application(call, applicant.association, status="draft")
    html = client.get("/appels/ouvert").get_data(as_text=True)
    assert "déjà une candidature" in html and f'action="/candidatures/nouvelle/{call.id}"' not in html


def test_public_list_open_first(client):
    factories.call(slug="clos", status="closed", opens_in_days=-400, closes_in_days=-300)
    factories.call(slug="ouvert")
    html = client.get("/appels").get_data(as_text=True)
    assert html.index("/appels/ouvert") < html.index("/appels/clos")


def test_home_page_links_to_open_calls(client):
    factories.call(slug="aap-2026")
    html = client.get("/").get_data(as_text=True)
    assert "/appels/aap-2026" in html and 'href="/appels"' in html


# ---------------------------------------------------------------- roles

STAFF_PAGES = ["/instruction/appels", "/instruction/appels/nouveau", "/instruction/appels/{id}",
               "/instruction/appels/{id}/criteres", "/instruction/appels/{id}/pieces"]


@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_other_roles_get_403(client, login_as, applicant, reviewer, role):
    call = factories.call(status="draft")
    login_as(applicant if role == "applicant" else reviewer)
    for url in STAFF_PAGES:
        assert client.get(url.format(id=call.id)).status_code == 403, url
    for action in ("publier", "clore"):
        assert client.post_form(f"/instruction/appels/{call.id}/{action}", {}).status_code == 403
    assert client.post_form("/instruction/appels/nouveau", call_form()).status_code == 403
    assert db.session.scalar(db.select(db.func.count(Call.id))) == 1


def test_anonymous_is_sent_to_login(client):
    call = factories.call(status="draft")
    for url in STAFF_PAGES:
        response = client.get(url.format(id=call.id))
        assert response.status_code == 302 and "/connexion" in response.headers["Location"], url


def test_admin_counts_as_staff(client, admin, login_as):
    login_as(admin)
    assert client.get("/instruction/appels").status_code == 200


def test_unknown_call_is_404(client, staff, login_as):
    login_as(staff)
    assert client.get("/instruction/appels/999").status_code == 404
    assert client.get("/appels/inconnu").status_code == 404


# ---------------------------------------------------------------- staff list

def populate(n_calls, per_call):
    for i in range(n_calls):
        call = factories.call(slug=f"appel-{i}-{n_calls}")
        for j in range(per_call):
            user = factories.user("applicant", email=f"a{i}-{j}-{n_calls}@example.org",
                                  association_name=f"Association {i}-{j}")
            factories.application(call, user.association, status=["submitted", "draft", "selected"][j % 3])


def test_staff_list_counts_per_state_with_constant_queries(client, staff, login_as):
    login_as(staff)
    populate(1, 1)
    client.get("/instruction/appels")
    with count_queries() as small:
        assert client.get("/instruction/appels").status_code == 200
    populate(4, 5)
    client.get("/instruction/appels")  # same state of the session as for the first count
    with count_queries() as large:
        html = client.get("/instruction/appels").get_data(as_text=True)
    assert small() == large()
    assert "Déposé : 2" in html and "Brouillon : 2" in html and "Retenu : 1" in html
