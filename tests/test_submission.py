"""Submission: completeness, the deadline as seen by the server (Paris time, winter and summer),
atomicity, numbering, the receipt PDF, resubmission after a request for pieces, withdrawal."""
import hashlib
import io
import json
import re
from datetime import datetime, timedelta

import pytest
from pypdf import PdfReader

from aap import timeutil
from aap.applications import completeness, deposits, submission
from aap.documents import receipt as receipt_module
from aap.extensions import db
from aap.mail import build_email, deliver_pending
from aap.models import Application, Call, Decision, Event, OutboxMessage, PieceRequest

from . import factories
from . import factories_applications as fa


def fresh(application):
    db.session.expire_all()
    return db.session.get(Application, application.id)


def submit(client, application, **kwargs):
    return client.post_form(f"/candidatures/{application.id}/deposer", **kwargs)


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def at(moment):
    """Freeze the server clock (aap.timeutil.now) at this aware datetime."""
    return lambda: moment


# --- what is missing ----------------------------------------------------------------------------

def test_attestation_page_lists_what_is_missing_with_links(client, applicant, login_as, call):
    application = fa.empty_draft(call, applicant.association, applicant)
    login_as(applicant)
    html = client.get(f"/candidatures/{application.id}/attestation").get_data(as_text=True)
    assert 'id="manquants"' in html
    assert f'href="/candidatures/{application.id}/projet#title"' in html
    assert f'href="/candidatures/{application.id}/budget#budget_1_60"' in html
    assert f'href="/candidatures/{application.id}/pieces#piece-{call.pieces[0].id}"' in html
    assert "Pièce jointe : Statuts signés de l&#39;association" in html
    assert "Identité de l&#39;association" in html
    assert "Déposer ma candidature" not in html


def test_missing_items_of_a_complete_draft_is_empty(app, applicant, call):
    application = fa.complete_draft(call, applicant)
    assert completeness.missing_items(application) == []


def test_national_scope_needs_no_departement(app, applicant, call):
    application = fa.complete_draft(call, applicant, scope="national", departements=[])
    assert completeness.missing_items(application) == []
    application.scope = "local"
    assert [i.field for i in completeness.missing_items(application)] == ["departements"]


def test_incoherent_budget_blocks_submission(app, applicant, call):
    application = fa.complete_draft(call, applicant, budget={"1": {"64": 100_000_00, "74_aap": 400_000_00}})
    labels = " ".join(i.label for i in completeness.missing_items(application))
    assert "dépasse le maximum" in labels and "dépasse le coût total" in labels
    assert "doit être égal au total des charges" in labels


def test_forged_submission_of_an_incomplete_draft_is_refused(client, applicant, login_as, call):
    application = fa.draft(call, applicant.association)  # no identity, no attachments
    login_as(applicant)
    response = submit(client, application, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "des éléments manquent" in html and "Pièce jointe" in html
    saved = fresh(application)
    assert saved.status == "draft" and saved.reference is None and saved.snapshot is None


# --- a successful submission ----------------------------------------------------------------------

def test_submission_freezes_numbers_and_mails_the_receipt(app, client, applicant, login_as, call):
    application = fa.complete_draft(call, applicant)
    login_as(applicant)
    html = client.get(f"/candidatures/{application.id}/attestation").get_data(as_text=True)
    assert "Déposer ma candidature" in html
    response = submit(client, application)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/candidatures/{application.id}")

    saved = fresh(application)
    assert saved.status == "submitted"
    assert saved.reference == f"1J1M-{call.year}-0001"
    assert db.session.get(Call, call.id).next_number == 2
    snapshot = saved.snapshot
    assert snapshot["reference"] == saved.reference
    assert snapshot["sections"]["projet"]["title"] == "Mentorat pour les jeunes des quartiers"
    assert snapshot["sections"]["budget"]["budget"]["1"]["74_aap"] == 100_000_00
    assert snapshot["association"]["siret"] == "73282932000074" and "iban" not in snapshot["association"]
    assert {a["sha256"] for a in snapshot["attachments"]} == {a.sha256 for a in saved.attachments}
    canonical = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    assert saved.fingerprint == hashlib.sha256(canonical).hexdigest() == deposits.fingerprint(snapshot)

    event = db.session.scalar(db.select(Event).where(Event.action == "application_submitted"))
    assert (event.from_state, event.to_state, event.actor_id) == ("draft", "submitted", applicant.id)

    mail = factories.last_mail_to(applicant.email)
    assert saved.reference in mail.subject and saved.fingerprint in mail.body
    [attachment] = mail.attachments
    assert attachment["content_type"] == "application/pdf"
    # The receipt is rendered when the e-mail is built, from the committed snapshot.
    email = build_email(mail, app.config, app.instance_path)
    [part] = list(email.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    assert part.get_filename() == f"recepisse-{saved.reference}.pdf"
    receipt = part.get_content()
    assert receipt.startswith(b"%PDF-")
    assert saved.reference in pdf_text(receipt) and saved.fingerprint in re.sub(r"\s+", "", pdf_text(receipt))

    # Read-only from now on.
    page = client.get(f"/candidatures/{application.id}").get_data(as_text=True)
    assert "Dossier déposé" in page and "Brouillon → Déposé" in page and saved.reference in page


def test_references_follow_the_call_counter(app, applicant, other_applicant, call):
    first = fa.complete_draft(call, applicant)
    second = fa.complete_draft(call, other_applicant)
    fa.submit_now(second, other_applicant)
    fa.submit_now(first, applicant)
    assert (fresh(second).reference, fresh(first).reference) == (f"1J1M-{call.year}-0001", f"1J1M-{call.year}-0002")


def test_submitting_twice_is_refused(app, client, applicant, login_as, call):
    application = fa.complete_draft(call, applicant)
    login_as(applicant)
    submit(client, application)
    response = submit(client, application, follow_redirects=True)
    assert "déjà été déposé" in response.get_data(as_text=True)
    assert db.session.get(Call, call.id).next_number == 2


# --- the deadline (Europe/Paris) ------------------------------------------------------------------

DEADLINES = {
    # 31 January 2026 23:59:59 in Paris is 22:59:59 UTC (winter, UTC+1).
    "hiver": datetime(2026, 1, 31, 23, 59, 59),
    # 30 June 2026 23:59:59 in Paris is 21:59:59 UTC (summer, UTC+2).
    "ete": datetime(2026, 6, 30, 23, 59, 59),
}


@pytest.mark.parametrize("season,utc_hour", [("hiver", 22), ("ete", 21)])
def test_deadline_one_second_before(app, client, applicant, login_as, monkeypatch, season, utc_hour):
    closes_at = timeutil.paris_to_utc(DEADLINES[season])
    assert (closes_at.hour, closes_at.minute, closes_at.second) == (utc_hour, 59, 59)
    call = factories.call(slug=f"aap-{season}", opens_at=closes_at - timedelta(days=60), closes_at=closes_at,
                          year=2026)
    monkeypatch.setattr(timeutil, "now", at(closes_at - timedelta(seconds=1)))
    application = fa.complete_draft(call, applicant)
    login_as(applicant)
    assert "Déposer ma candidature" in client.get(f"/candidatures/{application.id}/attestation").get_data(as_text=True)
    submit(client, application)
    saved = fresh(application)
    assert saved.status == "submitted" and saved.submitted_at == closes_at - timedelta(seconds=1)
    # The receipt shows Paris time: 23:59:58.
    receipt = client.get(f"/candidatures/{application.id}/recepisse.pdf")
    text = pdf_text(receipt.data)
    day = DEADLINES[season].day
    assert f"{day} " in text and "23:59:58" in text and "heure de Paris" in text


@pytest.mark.parametrize("season", ["hiver", "ete"])
def test_deadline_one_second_after(app, client, applicant, login_as, monkeypatch, season):
    closes_at = timeutil.paris_to_utc(DEADLINES[season])
    call = factories.call(slug=f"aap-{season}", opens_at=closes_at - timedelta(days=60), closes_at=closes_at,
                          year=2026)
    monkeypatch.setattr(timeutil, "now", at(closes_at - timedelta(hours=1)))
    application = fa.complete_draft(call, applicant)
    login_as(applicant)
    monkeypatch.setattr(timeutil, "now", at(closes_at + timedelta(seconds=1)))
    page = client.get(f"/candidatures/{application.id}/attestation").get_data(as_text=True)
    assert "Déposer ma candidature" not in page and "date limite de dépôt" in page
    response = submit(client, application, follow_redirects=True)
    assert "La date limite de dépôt est dépassée" in response.get_data(as_text=True)
    saved = fresh(application)
    assert saved.status == "draft" and saved.reference is None
    assert db.session.get(Call, call.id).next_number == 1
    # The draft stays readable.
    show = client.get(f"/candidatures/{application.id}")
    assert show.status_code == 200 and "Mentorat pour les jeunes des quartiers" in show.get_data(as_text=True)


# --- atomicity -------------------------------------------------------------------------------------

@pytest.mark.parametrize("step", ["queue_mail", "build_snapshot", "fingerprint"])
def test_failure_midway_leaves_the_draft_intact(app, client, applicant, login_as, call, monkeypatch, step):
    application = fa.complete_draft(call, applicant)
    version = application.version
    login_as(applicant)

    def broken(*args, **kwargs):
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(submission, step, broken)
    with pytest.raises(RuntimeError, match="panne simulée"):
        submit(client, application)
    saved = fresh(application)
    assert saved.status == "draft" and saved.reference is None and saved.snapshot is None
    assert saved.fingerprint is None and saved.submitted_at is None and saved.version == version
    assert db.session.get(Call, call.id).next_number == 1
    assert db.session.query(OutboxMessage).count() == 0
    assert db.session.scalar(db.select(Event).where(Event.action == "application_submitted")) is None
    # ... and it can be submitted once the failure is gone.
    monkeypatch.undo()
    assert submit(client, application).status_code == 303
    assert fresh(application).reference == f"1J1M-{call.year}-0001"


def test_no_pdf_is_rendered_while_the_submission_holds_its_locks(app, client, applicant, login_as, call,
                                                                  monkeypatch, smtp_server):
    """The receipt is rendered when the e-mail is sent, after the commit: a rendering failure
    neither blocks nor undoes the submission, and the e-mail is retried with its receipt."""
    application = fa.complete_draft(call, applicant)
    login_as(applicant)

    def broken(*args, **kwargs):
        raise RuntimeError("panne simulée du rendu PDF")

    monkeypatch.setattr(receipt_module, "receipt_pdf", broken)
    assert submit(client, application).status_code == 303
    saved = fresh(application)
    assert saved.status == "submitted" and saved.reference == f"1J1M-{call.year}-0001"
    with app.test_request_context():
        assert deliver_pending() == (0, 1)
    message = factories.last_mail_to(applicant.email)
    assert message.sent_at is None and "panne simulée" in message.last_error and not message.failed
    monkeypatch.undo()
    message.next_attempt_at = timeutil.now()
    db.session.commit()
    with app.test_request_context():
        assert deliver_pending() == (1, 0)
    [email] = smtp_server.messages
    [part] = list(email.iter_attachments())
    assert part.get_filename() == f"recepisse-{saved.reference}.pdf"
    assert saved.reference in pdf_text(part.get_content())


# --- receipt ------------------------------------------------------------------------------------

def test_receipt_pdf_content(app, client, applicant, login_as, call, monkeypatch):
    application = fa.complete_draft(call, applicant)
    login_as(applicant)
    moment = timeutil.paris_to_utc(datetime.now().replace(hour=14, minute=32, second=7, microsecond=0))
    monkeypatch.setattr(timeutil, "now", at(moment))
    submit(client, application)
    saved = fresh(application)
    response = client.get(f"/candidatures/{application.id}/recepisse.pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    flat = re.sub(r"\s+", "", text)
    assert "Récépissé de dépôt" in text
    assert saved.reference in text
    assert saved.fingerprint in flat
    assert "14:32:07" in text and "heure de Paris" in text
    assert "Réussir Ensemble" in text and "73282932000074" in flat and "W691234567" in text
    assert call.title in re.sub(r"\s+", " ", text)
    for attachment in saved.attachments:
        assert attachment.sha256 in flat


def test_receipt_of_a_draft_is_404(client, applicant, login_as, call):
    application = fa.draft(call, applicant.association)
    login_as(applicant)
    assert client.get(f"/candidatures/{application.id}/recepisse.pdf").status_code == 404


def test_staff_see_the_file_and_its_receipt(client, applicant, staff, login_as, call):
    application = fa.complete_draft(call, applicant)
    fa.submit_now(application, applicant)
    login_as(staff)
    assert client.get(f"/candidatures/{application.id}").status_code == 200
    assert client.get(f"/candidatures/{application.id}/recepisse.pdf").status_code == 200


# --- requests for pieces: resubmission ---------------------------------------------------------

def test_resubmission_after_a_request_for_pieces(app, client, applicant, staff, login_as, call):
    application = fa.complete_draft(call, applicant)
    fa.submit_now(application, applicant)
    first = fresh(application)
    reference, fingerprint = first.reference, first.fingerprint
    request = fa.make_incomplete(first, ["budget"], staff)
    login_as(applicant)
    page = client.get(f"/candidatures/{application.id}").get_data(as_text=True)
    assert "Votre dossier est à compléter" in page
    assert fa.post_section(client, application, "budget", {"budget_1_64": "320000", "budget_1_74_aap": "100000",
                                                           "budget_1_74_region": "50000", "budget_1_75": "170000"}
                           ).status_code == 303
    assert submit(client, application).status_code == 303
    saved = fresh(application)
    assert saved.status == "submitted" and saved.reference == reference
    assert saved.fingerprint != fingerprint and saved.snapshot["sections"]["budget"]["budget"]["1"]["64"] == 320_000_00
    assert saved.reopened_sections == []
    assert db.session.get(PieceRequest, request.id).answered_at is not None
    assert db.session.get(Call, call.id).next_number == 2
    actions = db.session.scalars(db.select(Event.action).where(Event.application_id == application.id)
                                 .order_by(Event.id)).all()
    assert actions[-1] == "application_resubmitted"
    assert "Dossier complété" in factories.last_mail_to(applicant.email).subject


def test_resubmission_after_the_due_date_is_refused(app, client, applicant, staff, login_as, call, monkeypatch):
    application = fa.complete_draft(call, applicant)
    fa.submit_now(application, applicant)
    request = fa.make_incomplete(fresh(application), ["budget"], staff, due_in_days=3)
    login_as(applicant)
    monkeypatch.setattr(timeutil, "now", at(request.due_at + timedelta(seconds=1)))
    response = submit(client, application, follow_redirects=True)
    assert "La date limite de dépôt est dépassée" in response.get_data(as_text=True)
    assert fresh(application).status == "incomplete"


def test_resubmission_uses_the_due_date_not_the_call_deadline(app, client, applicant, staff, login_as, call,
                                                              monkeypatch):
    application = fa.complete_draft(call, applicant)
    fa.submit_now(application, applicant)
    due_at = call.closes_at + timedelta(days=10)
    fa.make_incomplete(fresh(application), ["budget"], staff, due_at=due_at)
    login_as(applicant)
    monkeypatch.setattr(timeutil, "now", at(call.closes_at + timedelta(days=5)))
    assert submit(client, application).status_code == 303
    assert fresh(application).status == "submitted"


# --- file page and withdrawal -----------------------------------------------------------------------

def test_file_page_shows_timeline_and_published_decision_only(client, applicant, staff, login_as, call):
    application = fa.complete_draft(call, applicant)
    fa.submit_now(application, applicant)
    decision = Decision(application_id=application.id, outcome="selected", amount_cents=80_000_00,
                        reason="Projet solide et bien implanté.")
    db.session.add(decision)
    db.session.commit()
    login_as(applicant)
    html = client.get(f"/candidatures/{application.id}").get_data(as_text=True)
    assert "Dossier déposé" in html and applicant.full_name in html
    assert "Projet solide" not in html
    decision.published_at = timeutil.now()
    db.session.commit()
    html = client.get(f"/candidatures/{application.id}").get_data(as_text=True)
    assert "Décision : Retenu" in html and "80\u202f000\u00a0€" in html and "Projet solide" in html


def test_withdrawal_with_confirmation(client, applicant, login_as, call):
    application = fa.complete_draft(call, applicant)
    fa.submit_now(application, applicant)
    login_as(applicant)
    assert "Retirer ma candidature" in client.get(f"/candidatures/{application.id}").get_data(as_text=True)
    confirm = client.get(f"/candidatures/{application.id}/retirer")
    assert confirm.status_code == 200 and "Confirmez-vous le retrait" in confirm.get_data(as_text=True)
    assert fresh(application).status == "submitted"
    response = client.post_form(f"/candidatures/{application.id}/retirer", {"reason": "Projet reporté"})
    assert response.status_code == 303
    saved = fresh(application)
    assert saved.status == "withdrawn"
    event = db.session.scalar(db.select(Event).where(Event.action == "application_withdrawn"))
    assert (event.from_state, event.to_state, event.reason) == ("submitted", "withdrawn", "Projet reporté")
    html = client.get(f"/candidatures/{application.id}").get_data(as_text=True)
    assert "Retiré" in html and "Projet reporté" in html


@pytest.mark.parametrize("status", ["draft", "selected", "rejected", "withdrawn"])
def test_withdrawal_refused_in_other_states(client, applicant, login_as, call, status):
    application = factories.application(call, applicant.association, status=status)
    login_as(applicant)
    client.post_form(f"/candidatures/{application.id}/retirer", {"reason": "x"})
    assert fresh(application).status == status


@pytest.mark.real_db  # threads, each with its own connection
def test_concurrent_submissions_get_distinct_numbers(app, call):
    """Eight associations submit at the same moment: eight distinct, consecutive references."""
    import threading

    from aap.models import User

    pairs = []
    for i in range(8):
        user = factories.user("applicant", email=f"asso{i}@example.org", association_name=f"Association {i}")
        pairs.append((fa.complete_draft(call, user).id, user.id))
    year = call.year
    db.session.commit()  # release the test's own transaction before the threads write
    barrier = threading.Barrier(len(pairs))
    failures = []

    def worker(application_id, user_id):
        try:
            barrier.wait(30)
            with app.app_context(), app.test_request_context(method="POST"):
                application = db.session.get(Application, application_id)
                user = db.session.get(User, user_id)
                submission.submit(application, user)
                db.session.remove()
        except Exception as error:  # reported below
            failures.append(repr(error))

    threads = [threading.Thread(target=worker, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    db.session.expire_all()
    references = sorted(db.session.scalars(db.select(Application.reference)).all())
    assert references == [f"1J1M-{year}-{n:04d}" for n in range(1, 9)]
    assert db.session.get(Call, call.id).next_number == 9
