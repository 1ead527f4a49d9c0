"""The review form (issue 15, point 7): what each score means beside it, scores chosen from the
scale, every error at once, the draft saved as the reviewer types, and a confirmation before
the review is sent; staff write the meanings in the criteria editor."""
import re

import pytest

from aap.extensions import db
from aap.models import Criterion, Event, Review

from . import factories
from .factories import submitted_file
from .factories_review import assigned


@pytest.fixture
def setup(app, reviewer):
    call = factories.call(reviewers_per_file=2)
    application = submitted_file(call, "Asso A", region="53", status="in_review")
    assigned(application, reviewer)
    return call, application


def url(application, suffix=""):
    return f"/evaluation/dossiers/{application.id}{suffix}"


def own_review(application, reviewer):
    db.session.expire_all()
    return db.session.scalar(db.select(Review).where(Review.application_id == application.id,
                                                     Review.reviewer_id == reviewer.id))


def test_the_2025_criteria_come_with_what_each_score_means(setup):
    call, _ = setup
    solidity = call.criteria[0]
    assert solidity.label == "Solidité structurelle"
    assert sorted(solidity.descriptors, key=int) == ["0", "1", "2", "3", "4", "5"]
    assert solidity.descriptors["0"].startswith("Absente")
    assert solidity.descriptors["3"].startswith("Solide")
    assert solidity.descriptors["5"].startswith("Exemplaire")


def test_scores_are_radio_buttons_with_their_meaning(setup, client, reviewer, login_as):
    call, application = setup
    login_as(reviewer)
    page = client.get(url(application)).get_data(as_text=True)
    for criterion in call.criteria:
        radios = re.findall(rf'<input[^>]*name="score_{criterion.id}"[^>]*>', page)
        assert len(radios) == criterion.scale_max + 1
        assert all('type="radio"' in radio for radio in radios)
        assert [re.search(r'value="(\d+)"', r).group(1) for r in radios] == [str(v) for v in range(6)]
    assert "3 — Solide : gouvernance et comptes en ordre" in page
    assert "0 — Absente : aucun territoire précisé." in page
    assert 'type="number"' not in page


def test_a_large_scale_is_a_select(setup, client, reviewer, login_as):
    call, application = setup
    criterion = call.criteria[2]
    criterion.scale_max = 20
    criterion.descriptors = {"0": "Rien", "10": "Moyen", "20": "Parfait"}
    db.session.commit()
    login_as(reviewer)
    page = client.get(url(application)).get_data(as_text=True)
    select = page.split('<select')[1].split("</select>")[0]
    assert f'name="score_{criterion.id}"' in select
    assert select.count("<option") == 22  # « Choisir une note », then 0 to 20
    assert "10 — Moyen" in select and "20 — Parfait" in select


def test_every_error_at_once(setup, client, reviewer, login_as):
    call, application = setup
    login_as(reviewer)
    c0, c1, c2 = call.criteria
    data = {"action": "submit", f"score_{c0.id}": "9", f"score_{c2.id}": "5", "proposed_amount": "beaucoup"}
    response = client.post_form(url(application), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    summary = html.split('id="resume-erreurs"')[1].split("</div>")[0]
    assert "5 erreurs" in summary
    for text in ("La note doit être comprise entre 0 et 5.",                          # out of the scale
                 f"Notez le critère « {c1.label} ».",                                  # missing
                 "Un commentaire est obligatoire pour la note 5",                      # extreme without comment
                 "Choisissez un avis global",                                          # no recommendation
                 "Saisissez un montant en euros"):                                     # not an amount
        assert text in summary
    for name in (f"score_{c0.id}", f"score_{c1.id}", f"comment_{c2.id}", "recommendation", "proposed_amount"):
        messages = html.split(f'id="{name}-messages"')[1].split("</div>")[0]
        assert "fr-message--error" in messages, name  # each message also sits beside its field
    assert own_review(application, reviewer) is None


def test_autosave_saves_the_draft(setup, client, reviewer, login_as):
    call, application = setup
    login_as(reviewer)
    c0, c1, _ = call.criteria
    token = client.csrf_token()
    response = client.post(url(application, "/brouillon"), headers={"X-CSRFToken": token}, data={
        f"score_{c0.id}": "4", f"comment_{c0.id}": "Structure solide", "proposed_amount": "12 000",
        "recommendation": "favorable"})
    assert response.status_code == 200
    assert response.json["message"].startswith("Brouillon enregistré automatiquement à")
    assert response.json["errors"] == {}
    review = own_review(application, reviewer)
    assert review.status == "draft" and review.recommendation == "favorable"
    assert review.proposed_amount_cents == 1_200_000
    assert {s.criterion_id: (s.value, s.comment) for s in review.scores}[c0.id] == (4, "Structure solide")
    # An invalid field is reported and keeps its stored value; the valid ones are saved.
    response = client.post(url(application, "/brouillon"), headers={"X-CSRFToken": token}, data={
        f"score_{c0.id}": "4", f"score_{c1.id}": "2", "proposed_amount": "douze", "recommendation": "favorable"})
    assert response.status_code == 200
    assert "sauf les champs signalés" in response.json["message"]
    assert "Saisissez un montant en euros" in response.json["errors"]["proposed_amount"]
    review = own_review(application, reviewer)
    assert review.proposed_amount_cents == 1_200_000
    assert {s.criterion_id: s.value for s in review.scores}[c1.id] == 2
    # Without the CSRF token nothing is saved.
    assert client.post(url(application, "/brouillon"), data={f"score_{c1.id}": "0"}).status_code == 400
    assert {s.criterion_id: s.value for s in own_review(application, reviewer).scores}[c1.id] == 2
    page = client.get(url(application)).get_data(as_text=True)
    assert f'data-review-autosave="/evaluation/dossiers/{application.id}/brouillon"' in page
    assert "app/review.js" in page


def test_autosave_refuses_a_sent_review(setup, client, reviewer, login_as):
    call, application = setup
    from aap.review import reviews
    reviews.submit_review(application, reviewer, {c.id: (3, "ok") for c in call.criteria}, "favorable")
    login_as(reviewer)
    response = client.post(url(application, "/brouillon"), headers={"X-CSRFToken": client.csrf_token()},
                           data={f"score_{call.criteria[0].id}": "1"})
    assert response.status_code == 409 and "déjà été envoyée" in response.json["error"]
    assert {s.value for s in own_review(application, reviewer).scores} == {3}


def test_sending_asks_for_confirmation(setup, client, reviewer, login_as):
    call, application = setup
    login_as(reviewer)
    data = {"action": "submit", "recommendation": "reserve", "comment": "Projet prometteur"}
    for criterion, value in zip(call.criteria, (4, 3, 2)):
        data[f"score_{criterion.id}"] = str(value)
    response = client.post_form(url(application), data)
    assert response.status_code == 302 and response.headers["Location"].endswith(url(application, "/envoi"))
    assert own_review(application, reviewer).status == "draft"  # not sent yet
    page = client.get(url(application, "/envoi")).get_data(as_text=True)
    assert "Confirmer l'envoi" in page and "vous ne pourrez plus modifier" in page
    assert "Projet prometteur" in page and "Réservé" in page and "4 / 5" in page
    assert not db.session.scalar(db.select(Event).where(Event.action == "review_submitted"))

    response = client.post_form(url(application, "/envoi"), follow_redirects=True)
    assert "Votre évaluation est envoyée" in response.get_data(as_text=True)
    review = own_review(application, reviewer)
    assert review.status == "submitted" and review.submitted_at is not None
    assert db.session.scalar(db.select(Event).where(Event.action == "review_submitted")).actor_id == reviewer.id
    # Once sent, the confirmation page leads back to the (read-only) review.
    assert client.get(url(application, "/envoi")).status_code == 302


def test_confirmation_of_an_incomplete_draft_sends_nothing(setup, client, reviewer, login_as):
    call, application = setup
    login_as(reviewer)
    client.post_form(url(application), {"action": "draft", f"score_{call.criteria[0].id}": "3"})
    page = client.get(url(application, "/envoi")).get_data(as_text=True)
    assert "n'est pas complète" in page and ">Confirmer l'envoi</button>" not in page
    assert f"Notez le critère « {call.criteria[1].label} »" in page
    client.post_form(url(application, "/envoi"))
    assert own_review(application, reviewer).status == "draft"


def criteria_rows(call, descriptors):
    data = {}
    for i, c in enumerate(call.criteria):
        data.update({f"criteria-{i}-id": str(c.id), f"criteria-{i}-label": c.label,
                     f"criteria-{i}-description": c.description, f"criteria-{i}-weight": str(c.weight),
                     f"criteria-{i}-scale_max": str(c.scale_max), f"criteria-{i}-descriptors": descriptors[i]})
    return data


def test_staff_write_the_meanings_in_the_criteria_editor(client, staff, login_as):
    call = factories.call(status="draft")
    login_as(staff)
    page = client.get(f"/instruction/appels/{call.id}/criteres").get_data(as_text=True)
    assert "Signification des notes" in page and "3 : Solide : gouvernance" in page
    response = client.post_form(f"/instruction/appels/{call.id}/criteres", criteria_rows(
        call, ["0 : Absent\n3 : Solide\n5 : Exemplaire", "", "1 - Faible\n\n4 = Fort"]))
    assert response.status_code == 302
    db.session.expire_all()
    criteria = db.session.scalars(db.select(Criterion).where(Criterion.call_id == call.id)
                                  .order_by(Criterion.position)).all()
    assert criteria[0].descriptors == {"0": "Absent", "3": "Solide", "5": "Exemplaire"}
    assert criteria[1].descriptors == {}
    assert criteria[2].descriptors == {"1": "Faible", "4": "Fort"}

    # A level beyond the scale, twice the same level or a line without its level: refused, beside the field.
    for text, message in (("6 : Au-delà", "La note 6 dépasse la note maximale du critère (5)."),
                          ("2 : Un\n2 : Deux", "La note 2 est décrite deux fois."),
                          ("Très bien", "Écrivez une note par ligne")):
        response = client.post_form(f"/instruction/appels/{call.id}/criteres",
                                    criteria_rows(call, [text, "", ""]))
        html = response.get_data(as_text=True)
        assert message in html.split('id="criteria-0-descriptors-messages"')[1].split("</div>")[0]
        db.session.expire_all()
        assert db.session.get(Criterion, criteria[0].id).descriptors == {"0": "Absent", "3": "Solide",
                                                                         "5": "Exemplaire"}
