"""Reminders and alerts of the review (issue 15, points 9 and 10): staff choose whom to remind,
see when each reviewer was last reminded, and a reviewer is never reminded twice within 24
hours; a reviewer removed from a file is told; staff are told when a reviewer declares a conflict,
with the least loaded reviewer who may take the file, assigned in one click."""
from datetime import timedelta

import pytest

from aap import timeutil
from aap.extensions import db
from aap.models import Assignment, Event, OutboxMessage
from aap.review import reviews
from aap.review.reminders import send_reminders

from . import factories
from .factories import submitted_file
from .factories_review import assigned, reviewer_user


def named(email, first_name, region="11"):
    user = reviewer_user(email, region=region)
    user.first_name = first_name
    db.session.commit()
    return user


@pytest.fixture
def world(app):
    call = factories.call(reviewers_per_file=2, review_deadline=timeutil.now() - timedelta(days=1))
    files = [submitted_file(call, f"Asso {n}", region="53", status="in_review") for n in "ABC"]
    alice, bruno, chloe = named("alice@example.org", "Alice"), named("bruno@example.org", "Bruno"), \
        named("chloe@example.org", "Chloé")
    for application in files:
        assigned(application, alice)
    assigned(files[0], bruno)
    assigned(files[1], chloe)
    return call, files, (alice, bruno, chloe)


def reminders():
    db.session.expire_all()
    return [m for m in factories.outbox() if m.kind == "review_reminder"]


def remind(client, call, *reviewers, follow=False):
    return client.post_form(f"/instruction/appels/{call.id}/evaluations/relancer",
                            {"reviewer_ids": [r.id for r in reviewers]}, follow_redirects=follow)


def progress_row(client, call, reviewer):
    page = client.get(f"/instruction/appels/{call.id}/evaluations").get_data(as_text=True)
    return next(row for row in page.split("<tr>") if reviewer.email in row)


def test_only_the_chosen_reviewers_are_reminded(world, client, staff, login_as):
    call, files, (alice, bruno, chloe) = world
    login_as(staff)
    page = client.get(f"/instruction/appels/{call.id}/evaluations").get_data(as_text=True)
    for reviewer in (alice, bruno, chloe):  # one check box each, checked
        assert f'name="reviewer_ids" value="{reviewer.id}" checked' in page
    response = remind(client, call, alice, chloe, follow=True)
    assert "Rappel envoyé à 2 évaluateurs : Alice Test, Chloé Test." in response.get_data(as_text=True)
    assert sorted(m.to for m in reminders()) == ["alice@example.org", "chloe@example.org"]
    alice_mail = next(m for m in reminders() if m.to == alice.email)
    assert all(f.reference in alice_mail.body for f in files)
    # Nobody checked: nothing sent, and staff are told why.
    response = client.post_form(f"/instruction/appels/{call.id}/evaluations/relancer", {}, follow_redirects=True)
    assert "Cochez au moins un évaluateur à relancer." in response.get_data(as_text=True)
    assert len(reminders()) == 2


def test_never_two_reminders_within_24_hours(world, client, staff, login_as):
    call, files, (alice, bruno, chloe) = world
    login_as(staff)
    assert "jamais relancé" in progress_row(client, call, alice)
    remind(client, call, alice, bruno)
    response = remind(client, call, alice, bruno, chloe, follow=True)  # the second click
    html = response.get_data(as_text=True)
    assert "Rappel envoyé à 1 évaluateur : Chloé Test." in html
    assert "Déjà relancés depuis moins de 24 heures, donc pas de nouveau rappel : Alice Test, Bruno Test." in html
    assert sorted(m.to for m in reminders()) == [alice.email, bruno.email, chloe.email]  # one each

    # The date of the last reminder is shown, and the check box gives way to the next possible date.
    sent = db.session.scalar(db.select(Assignment.reminded_at).where(Assignment.reviewer_id == alice.id).limit(1))
    row = progress_row(client, call, alice)
    assert f"relancé le {timeutil.format_datetime(sent)}" in row
    assert 'name="reviewer_ids"' not in row
    assert f"possible le {timeutil.format_datetime(sent + timedelta(hours=24))}" in row

    # The rule is the server's, whoever clicks and whatever the call.
    other_call = factories.call(slug="aap-autre", reviewers_per_file=1)
    other = submitted_file(other_call, "Asso D", region="53", status="in_review")
    assigned(other, alice)
    reminded, skipped = send_reminders(other_call, staff)
    assert reminded == [] and [r.id for r in skipped] == [alice.id]
    assert len(reminders()) == 3

    # 24 hours later, a new reminder may go.
    earlier = timeutil.now() - timedelta(hours=25)
    db.session.execute(db.update(Assignment).values(reminded_at=earlier))
    db.session.execute(db.update(OutboxMessage).values(created_at=earlier))
    db.session.commit()
    remind(client, call, alice)
    assert [m.to for m in reminders()].count(alice.email) == 2
    event = db.session.scalars(db.select(Event).where(Event.action == "review_reminders_sent")
                               .order_by(Event.id.desc())).first()
    assert event.details["reviewer_ids"] == [alice.id]


def test_a_reviewer_removed_from_a_file_is_told(world, client, staff, login_as):
    call, files, (alice, bruno, chloe) = world
    reviews.save_review(files[0], bruno, {call.criteria[0].id: (3, "")})
    login_as(staff)
    client.post_form(f"/instruction/appels/{call.id}/affectations/retirer",
                     {"application_id": files[0].id, "reviewer_id": bruno.id})
    mail = factories.last_mail_to(bruno.email)
    assert mail.subject == f"Le dossier {files[0].reference} ne vous est plus affecté"
    assert "vous n'avez plus à l'évaluer" in mail.body and "brouillon" in mail.body
    # A file assigned and removed before the reviewer was told of it: no mail.
    fresh = named("david@example.org", "David")
    assigned(files[2], fresh, notified=False)
    client.post_form(f"/instruction/appels/{call.id}/affectations/retirer",
                     {"application_id": files[2].id, "reviewer_id": fresh.id})
    assert not [m for m in factories.outbox() if m.to == fresh.email]


def test_staff_are_alerted_of_a_conflict_and_offered_the_least_loaded_reviewer(world, client, staff, login_as):
    call, files, (alice, bruno, chloe) = world
    # Loads on the call: Alice 3 files, Bruno 1, Chloé 1; Emma none but she is from the file's région.
    emma = named("emma@example.org", "Emma", region="53")
    call.avoid_same_region = True
    db.session.commit()
    login_as(bruno)
    client.post_form(f"/evaluation/dossiers/{files[0].id}/liens-d-interets",
                     {"action": "conflict", "reason": "Je siège au bureau de l'association"})
    client.post_form("/deconnexion")
    assert db.session.scalar(db.select(Assignment).where(Assignment.reviewer_id == bruno.id)) is None

    mail = factories.last_mail_to(staff.email)
    assert mail.subject == f"Lien d'intérêts déclaré : le dossier {files[0].reference} a perdu un évaluateur"
    assert "Bruno Test a déclaré un lien d'intérêts avec l'association « Asso A »" in mail.body
    assert "Je siège au bureau" in mail.body
    assert "Il manque 1 évaluateur. Évaluateur disponible le moins chargé : Chloé Test." in mail.body
    assert emma.email not in mail.body and not [m for m in factories.outbox() if m.to == emma.email]

    login_as(staff)
    page = client.get(f"/instruction/appels/{call.id}/evaluations").get_data(as_text=True)
    notice = page.split('id="conflits-a-reaffecter"')[1].split("</ul>")[0]
    assert files[0].reference in notice and "Bruno Test a déclaré un lien d'intérêts" in notice
    assert "Affecter Chloé Test" in notice and f'name="reviewer_id" value="{chloe.id}"' in notice
    response = client.post_form(f"/instruction/appels/{call.id}/affectations/ajouter",
                                {"application_id": files[0].id, "reviewer_id": chloe.id, "retour": "suivi"})
    assert response.headers["Location"].endswith(f"/instruction/appels/{call.id}/evaluations")
    assert db.session.scalar(db.select(Assignment).where(Assignment.reviewer_id == chloe.id,
                                                         Assignment.application_id == files[0].id))
    page = client.get(f"/instruction/appels/{call.id}/evaluations").get_data(as_text=True)
    assert 'id="conflits-a-reaffecter"' not in page  # the file has its reviewers again
