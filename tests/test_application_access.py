"""Nobody but the association's members, staff and the assigned reviewers (without conflict)
reaches a file: every URL of the applications blueprint, with every method, is tried."""
import io

import pytest

from aap import timeutil
from aap.extensions import db
from aap.models import Application, Assignment, Attachment, Conflict, Event

from . import factories
from . import factories_applications as fa
from .conftest import login

SKIPPED_METHODS = {"HEAD", "OPTIONS"}
# applications.start and start_from are about a call, not a file: any association may start its own application.
NOT_FILE_URLS = {"applications.start", "applications.start_from"}


@pytest.fixture
def world(app, applicant, other_applicant, reviewer, staff):
    call = factories.call()
    submitted = fa.complete_draft(call, applicant)
    fa.submit_now(submitted, applicant)
    draft_call = factories.call(slug="second-appel")
    draft = fa.empty_draft(draft_call, applicant.association, applicant)
    fa.attach_all(draft, applicant)
    conflicted = factories.user("reviewer", email="lien@example.org", region_code="11")
    assigned = factories.user("reviewer", email="assigne@example.org", region_code="11")
    for application in (submitted, draft):
        db.session.add(Assignment(application_id=application.id, reviewer_id=conflicted.id))
        # The assigned reviewer has declared, on opening the file, having no link with it.
        db.session.add(Assignment(application_id=application.id, reviewer_id=assigned.id,
                                  no_conflict_confirmed_at=timeutil.now()))
    db.session.add(Conflict(reviewer_id=conflicted.id, association_id=applicant.association_id,
                            reason="Administrateur de l'association"))
    db.session.commit()
    return {"submitted": submitted, "draft": draft, "conflicted": conflicted, "assigned": assigned}


def file_urls(app, application):
    """(endpoint, method, url) of every rule of the blueprint for this file."""
    attachment = application.attachments[0]
    document = application.call.pieces[0]
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != "applications" or rule.endpoint in NOT_FILE_URLS:
            continue
        sections = [None]
        if "section" in rule.arguments:
            sections = rule._converters["section"].items if hasattr(rule._converters["section"], "items") else None
            sections = sorted(sections) if sections else ["projet"]
        for section in sections:
            values = {"application_id": application.id, "attachment_id": attachment.id,
                      "document_id": document.id, "section": section,
                      "deposit_id": application.deposits[0].id if application.deposits else 1}
            with app.test_request_context():
                from flask import url_for
                url = url_for(rule.endpoint, **{k: v for k, v in values.items() if k in rule.arguments})
            for method in sorted(rule.methods - SKIPPED_METHODS):
                urls.append((rule.endpoint, method, url))
    return urls


def test_every_rule_of_the_blueprint_is_covered(app, world):
    endpoints = {endpoint for endpoint, _, _ in file_urls(app, world["submitted"])}
    blueprint = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("applications.")}
    assert endpoints == blueprint - NOT_FILE_URLS
    assert len(file_urls(app, world["submitted"])) >= 15


def attempt(client, method, url):
    if method == "GET":
        return client.get(url)
    data = {"csrf_token": client.csrf_token(), "version": "1", "title": "Piraté", "reason": "Piraté"}
    if url.endswith("/envoyer"):
        data["file"] = (io.BytesIO(fa.PDF), "pirate.pdf")
        return client.post(url, data=data, content_type="multipart/form-data")
    return client.post(url, data=data, headers={"X-CSRFToken": data["csrf_token"]})


def snapshot_state(application_id):
    db.session.expire_all()
    application = db.session.get(Application, application_id)
    return (application.status, application.version, application.title, application.fingerprint,
            db.session.query(Attachment).filter_by(application_id=application_id).count())


def check_no_access(app, client, world, allowed_statuses, who):
    for key in ("submitted", "draft"):
        application = world[key]
        before = snapshot_state(application.id)
        urls = file_urls(app, application)
        assert len(urls) >= 15, urls  # built from the URL map: an empty list would prove nothing
        for endpoint, method, url in urls:
            response = attempt(client, method, url)
            assert response.status_code != 200, (who, endpoint, method, url)
            assert response.status_code in allowed_statuses, (who, endpoint, method, url, response.status_code)
            if response.status_code == 302:
                assert "/connexion" in response.headers["Location"], (who, endpoint, method, url)
        assert snapshot_state(application.id) == before, (who, key)


def test_another_association_gets_404_everywhere(app, world, other_applicant):
    client = app.test_client()
    login(client, other_applicant)
    check_no_access(app, client, world, {404}, "autre association")


def test_reviewer_not_assigned_gets_nothing(app, world, reviewer):
    client = app.test_client()
    login(client, reviewer)
    check_no_access(app, client, world, {403, 404}, "évaluateur non assigné")


def test_assigned_reviewer_with_a_conflict_gets_nothing(app, world):
    client = app.test_client()
    login(client, world["conflicted"])
    check_no_access(app, client, world, {403, 404}, "évaluateur en conflit")


def test_anonymous_visitor_is_sent_to_login(app, world):
    client = app.test_client()
    check_no_access(app, client, world, {302}, "anonyme")


def test_assigned_reviewer_without_conflict_downloads_attachments_of_submitted_files_only(app, world):
    client = app.test_client()
    login(client, world["assigned"])
    submitted, draft = world["submitted"], world["draft"]
    attachment = submitted.attachments[0]
    response = client.get(f"/candidatures/{submitted.id}/pieces/{attachment.id}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert db.session.scalar(db.select(Event).where(Event.action == "attachment_downloaded",
                                                    Event.actor_id == world["assigned"].id))
    # The association's own pages are not for reviewers; nor are drafts.
    assert client.get(f"/candidatures/{submitted.id}").status_code == 404
    assert client.get(f"/candidatures/{draft.id}/pieces/{draft.attachments[0].id}").status_code == 404


def test_members_reach_their_file(app, world, applicant):
    client = app.test_client()
    login(client, applicant)
    submitted = world["submitted"]
    assert client.get(f"/candidatures/{submitted.id}").status_code == 200
    assert client.get(f"/candidatures/{submitted.id}/recepisse.pdf").status_code == 200
    assert client.get(f"/candidatures/{submitted.id}/pieces/{submitted.attachments[0].id}").status_code == 200


def test_unknown_file_is_404(client, applicant, login_as, world):
    login_as(applicant)
    assert client.get("/candidatures/999999").status_code == 404
    assert client.get(f"/candidatures/{world['submitted'].id}/pieces/999999").status_code == 404


def test_assigned_reviewer_must_answer_the_conflict_question_before_reading_attachments(app, world):
    from aap.models import Assignment
    assignment = db.session.scalar(db.select(Assignment).where(Assignment.reviewer_id == world["assigned"].id))
    assignment.no_conflict_confirmed_at = None
    db.session.commit()
    client = app.test_client()
    login(client, world["assigned"])
    submitted = world["submitted"]
    response = client.get(f"/candidatures/{submitted.id}/pieces/{submitted.attachments[0].id}")
    assert response.status_code == 404
