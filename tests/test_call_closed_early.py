"""A call closed early by staff is closed for every write of an association (issue 13, point 4).

The one rule is `applications.deadlines.closed_reason`: a draft follows its call (published and
between its opening and its deadline), a file reopened by a request for missing pieces follows
that request's own due date, whatever the call's state.
"""
import io

import pytest

from aap import timeutil
from aap.applications import deadlines, errors, submission
from aap.calls.services import close_call
from aap.extensions import db
from aap.models import Application, Attachment, Event

from . import factories
from . import factories_applications as fa


def close_early(call, staff):
    close_call(call, staff)
    db.session.commit()
    assert call.closes_at > timeutil.now(), "the deadline is still ahead: the call is closed early"


def fresh(application):
    db.session.expire_all()
    return db.session.get(Application, application.id)


def test_staff_closing_a_call_closes_every_write_path(client, applicant, staff, login_as, call):
    application = fa.complete_draft(call, applicant)
    close_early(call, staff)
    version_before = fresh(application).version
    title_before = fresh(application).title
    login_as(applicant)

    # Save (full form post) and autosave.
    response = fa.post_section(client, application, "projet", dict(fa.VALID["projet"], title="Nouveau titre"))
    assert response.status_code == 303
    assert "plus modifiable" in client.get(response.headers["Location"]).get_data(as_text=True)
    response = fa.autosave(client, application, "projet", {"title": "Titre par autosave"})
    assert response.status_code == 403
    assert fresh(application).title == title_before
    assert fresh(application).version == version_before

    # Upload and delete of a piece.
    document = call.pieces[0]
    attachments_before = db.session.query(Attachment).filter_by(application_id=application.id).count()
    response = client.post_form(f"/candidatures/{application.id}/pieces/{document.id}/envoyer",
                                {"file": (io.BytesIO(fa.PDF), "statuts.pdf")},
                                content_type="multipart/form-data")
    assert response.status_code in (302, 303)
    attachment = fresh(application).attachments[0]
    response = client.post_form(f"/candidatures/{application.id}/pieces/{attachment.id}/supprimer")
    assert response.status_code in (302, 303, 403, 404)
    assert db.session.query(Attachment).filter_by(application_id=application.id).count() == attachments_before

    # Submission.
    response = client.post_form(f"/candidatures/{application.id}/deposer", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "L&#39;appel à projets est clos" in html
    assert fresh(application).status == "draft"
    assert fresh(application).reference is None

    # Starting a new application to the closed call.
    other = factories.user("applicant", email="nouvelle@example.org", association_name="Nouvelle")
    client.post_form("/deconnexion")
    login_as(other)
    response = client.post_form(f"/candidatures/nouvelle/{call.id}")
    assert response.status_code == 404
    assert db.session.query(Application).filter_by(association_id=other.association_id).count() == 0


def test_the_association_reads_why_it_cannot_deposit(client, applicant, staff, login_as, call):
    application = fa.complete_draft(call, applicant)
    close_early(call, staff)
    login_as(applicant)
    for url in (f"/candidatures/{application.id}", f"/candidatures/{application.id}/attestation",
                f"/candidatures/{application.id}/projet"):
        html = client.get(url).get_data(as_text=True)
        assert "L&#39;appel à projets est clos" in html, url
        assert "Déposer ma candidature" not in html, url
        assert "Dépôt possible jusqu" not in html, url


def test_submit_service_refuses_a_closed_call(app, applicant, staff, call):
    application = fa.complete_draft(call, applicant)
    close_early(call, staff)
    with app.test_request_context():
        with pytest.raises(errors.SubmissionError) as refusal:
            submission.submit(application, applicant)
    assert "clos" in refusal.value.message
    assert not db.session.query(Event).filter_by(application_id=application.id,
                                                 action="application_submitted").count()


def test_a_request_for_pieces_keeps_its_own_deadline_after_the_call_closed(client, applicant, staff, login_as,
                                                                          call):
    application = fa.complete_draft(call, applicant)
    fa.submit_now(application, applicant)
    fa.make_incomplete(fresh(application), ["budget"], staff, due_in_days=5)
    close_early(call, staff)
    application = fresh(application)
    assert deadlines.closed_reason(application) is None
    assert deadlines.editable_sections(application) == {"budget"}
    login_as(applicant)
    response = fa.autosave(client, application, "budget", {"total_cost": "310 000"})
    assert response.status_code == 200, response.get_data(as_text=True)
    response = client.post_form(f"/candidatures/{application.id}/deposer")
    assert response.status_code in (302, 303)
    assert fresh(application).status == "submitted"


def test_a_draft_call_not_yet_open_refuses_writes(app, applicant):
    call = factories.call(opens_in_days=3, closes_in_days=30)
    application = fa.draft(call, applicant.association)
    reason = deadlines.closed_reason(application)
    assert reason and reason.startswith("Le dépôt des candidatures ouvrira le")
    assert deadlines.editable_sections(application) == set()
