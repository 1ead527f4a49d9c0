"""Receipts and requests for pieces (issue 14, traps 3, 4 and 8).

- The original receipt (attestation de dépôt) never changes: a complement has a receipt of its
  own (time, fingerprint) that names the original deposit; the file lists every receipt.
- A request for pieces cannot deadlock: the completeness of a complement counts only what was
  reopened; staff widen, extend or cancel a request; a due date passed is extended or ends in
  inadmissibility.
- Deposit and withdrawal go through a confirmation page that says what will happen; a GET
  changes nothing; the final POST is CSRF-protected.
"""
import io
import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from pypdf import PdfReader

from aap import timeutil
from aap.extensions import db
from aap.mail import build_email
from aap.models import Application, Deposit, Event, OutboxMessage, PieceRequest, RequiredPiece

from . import factories
from . import factories_applications as fa
from . import factories_instruction as fi
from .conftest import login


@pytest.fixture
def login_as(client):
    """Log in as `user`, whoever was logged in before (the login page is for guests only)."""
    def _login(user):
        client.post_form("/deconnexion")
        login(client, user)
        return client
    return _login


def fresh(application):
    db.session.expire_all()
    return db.session.get(Application, application.id)


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def flat(text):
    return re.sub(r"\s+", "", text)


def html_of(response):
    return unescape(response.get_data(as_text=True))


def paris(hour, minute, second, days=0):
    """An aware UTC moment: today (+days) at this Paris time."""
    day = timeutil.to_paris(timeutil.now()).date() + timedelta(days=days)
    return timeutil.paris_to_utc(datetime(day.year, day.month, day.day, hour, minute, second))


def paris_today():
    return timeutil.to_paris(timeutil.now()).date()


def document(call, code):
    return next(d for d in call.pieces if d.code == code)


def deposits(application):
    return db.session.scalars(db.select(Deposit).where(Deposit.application_id == application.id)
                              .order_by(Deposit.number)).all()


def counts():
    """What a GET must never change."""
    return (db.session.query(Event).count(), db.session.query(OutboxMessage).count(),
            db.session.query(Deposit).count(), db.session.query(PieceRequest).count(),
            [(a.status, a.version, a.fingerprint) for a in db.session.scalars(db.select(Application))])


def submitted(call, applicant, client, login_as, monkeypatch=None, at=None):
    """A complete draft deposited through the confirmation page's POST (at `at`, Paris time)."""
    application = fa.complete_draft(call, applicant)
    login_as(applicant)
    if at is not None:
        monkeypatch.setattr(timeutil, "now", lambda: at)
    assert client.post_form(f"/candidatures/{application.id}/deposer").status_code == 303
    if at is not None:
        monkeypatch.undo()
    assert fresh(application).status == "submitted"
    return fresh(application)


def ask(client, login_as, staff, application, items, due=None, message="Merci de joindre les statuts signés."):
    login_as(staff)
    response = client.post_form(f"/instruction/dossiers/{application.id}/demande-pieces", {
        "piece_items": items, "piece_message": message,
        "piece_due_date": (due or paris_today() + timedelta(days=10)).isoformat()})
    assert response.status_code == 302
    assert fresh(application).status == "incomplete"


def upload(client, application, document, content=b"signed"):
    return client.post_form(f"/candidatures/{application.id}/pieces/{document.id}/envoyer",
                            {"file": (io.BytesIO(fa.PDF + content), f"{document.code}-v2.pdf")})


def deposit_complement(client, application):
    page = html_of(client.get(f"/candidatures/{application.id}/attestation"))
    assert 'id="manquants"' not in page, page[page.find('id="manquants"'):][:600]
    assert f'href="/candidatures/{application.id}/deposer"' in page and "Déposer les compléments" in page
    assert client.get(f"/candidatures/{application.id}/deposer").status_code == 200
    assert client.post_form(f"/candidatures/{application.id}/deposer").status_code == 303
    assert fresh(application).status == "submitted"


# --- 3. receipts --------------------------------------------------------------------------------

def test_the_original_receipt_survives_a_complement_which_has_its_own(app, client, applicant, staff, login_as,
                                                                        call, monkeypatch):
    original_at = paris(9, 15, 42)
    application = submitted(call, applicant, client, login_as, monkeypatch, at=original_at)
    reference, original_fingerprint = application.reference, application.fingerprint
    before = client.get(f"/candidatures/{application.id}/recepisse.pdf")
    assert before.status_code == 200
    original_text = pdf_text(before.data)
    assert "09:15:42" in original_text and original_fingerprint in flat(original_text)

    statutes = document(call, "statuts")
    ask(client, login_as, staff, application, [f"doc:{statutes.id}"])
    login_as(applicant)
    assert upload(client, application, statutes).status_code == 303
    complement_at = paris(16, 4, 5, days=1)
    monkeypatch.setattr(timeutil, "now", lambda: complement_at)
    deposit_complement(client, application)
    monkeypatch.undo()

    saved = fresh(application)
    # The original deposit: its time is still the file's deposit time, its receipt unchanged.
    assert saved.submitted_at == original_at
    original, complement = deposits(saved)
    assert (original.number, original.kind, original.fingerprint) == (1, "original", original_fingerprint)
    assert (complement.number, complement.kind) == (2, "complement")
    assert complement.fingerprint != original_fingerprint and saved.fingerprint == complement.fingerprint
    assert complement.snapshot["complement"]["original"]["fingerprint"] == original_fingerprint
    assert complement.snapshot["complement"]["items"] == [f"doc:{statutes.id}"]
    after = client.get(f"/candidatures/{application.id}/recepisse.pdf")
    assert after.headers["Content-Disposition"] == f'attachment; filename="recepisse-{reference}.pdf"'
    assert pdf_text(after.data) == original_text
    assert pdf_text(client.get(f"/candidatures/{application.id}/recepisses/{original.id}.pdf").data) == original_text

    # The complement's receipt: its own time and fingerprint, naming the original deposit.
    response = client.get(f"/candidatures/{application.id}/recepisses/{complement.id}.pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    assert f"recepisse-complement-1-{reference}.pdf" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    spaced = re.sub(r"\s+", " ", text)
    assert "Récépissé de complément" in text
    assert "16:04:05" in text and complement.fingerprint in flat(text)
    assert reference in text and original_fingerprint in flat(text) and "09:15:42" in text
    assert "ne modifie pas sa date" in spaced
    assert f"Pièce : {statutes.label}" in spaced
    new_sha = next(a.sha256 for a in saved.attachments if a.document_id == statutes.id)
    assert new_sha in flat(text) and new_sha not in flat(original_text)

    # The file lists both receipts, for the association and for staff.
    for viewer in (applicant, staff):
        login_as(viewer)
        page = html_of(client.get(f"/candidatures/{application.id}"))
        assert f"/candidatures/{application.id}/recepisses/{original.id}.pdf" in page
        assert f"/candidatures/{application.id}/recepisses/{complement.id}.pdf" in page
        assert "Récépissé de dépôt" in page and "Récépissé de complément n° 1" in page
        assert original_fingerprint in page and complement.fingerprint in page
        assert f"Déposé le {timeutil.format_datetime(original_at)}" in page
        assert client.get(f"/candidatures/{application.id}/recepisses/{complement.id}.pdf").status_code == 200

    # The complement's confirmation e-mail carries the complement's receipt and names the deposit.
    mail = factories.last_mail_to(applicant.email)
    assert "Dossier complété" in mail.subject and complement.fingerprint in mail.body
    assert timeutil.format_datetime(original_at) in mail.body and "ne change pas" in mail.body
    [part] = list(build_email(mail, app.config, app.instance_path).iter_attachments())
    assert part.get_filename() == f"recepisse-complement-1-{reference}.pdf"
    assert "Récépissé de complément" in pdf_text(part.get_content())
    assert complement.fingerprint in flat(pdf_text(part.get_content()))


def test_receipts_are_for_the_members_and_staff_only(client, applicant, other_applicant, reviewer, staff,
                                                     login_as, call):
    application = submitted(call, applicant, client, login_as)
    [deposit] = deposits(application)
    other = fa.complete_draft(call, other_applicant)
    fa.submit_now(other, other_applicant)
    [other_deposit] = deposits(other)
    fi.assign(reviewer, application)
    url = f"/candidatures/{application.id}/recepisses/{deposit.id}.pdf"
    for outsider in (other_applicant, reviewer):
        login_as(outsider)
        assert client.get(url).status_code == 404
        assert client.get(f"/candidatures/{application.id}/recepisse.pdf").status_code == 404
    login_as(applicant)
    assert client.get(f"/candidatures/{application.id}/recepisses/{other_deposit.id}.pdf").status_code == 404
    assert client.get(url).status_code == 200
    client.post_form("/deconnexion")
    assert client.get(url).status_code == 302


def test_the_migration_gives_every_deposited_file_its_original_deposit(tmp_path, monkeypatch):
    import logging.config

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from .conftest import make_app
    from .test_migrations import empty_database

    monkeypatch.setattr(logging.config, "fileConfig", lambda *args, **kwargs: None)
    app = make_app(tmp_path)
    with app.app_context():
        empty_database()
        upgrade(revision="a7c5e2d9f134")
        with db.engine.begin() as connection:
            association = insert(connection, "associations", name="Asso")
            call_id = insert(connection, "calls", slug="c", title="Appel", year=2026)
            document_id = insert(connection, "required_documents", call_id=call_id, code="statuts", label="Statuts")
            snapshot = {"format": 1, "reference": "1J1M-2026-0001", "attachments": [{"sha256": "a" * 64}]}
            deposited = insert(connection, "applications", call_id=call_id, association_id=association,
                               status="submitted", reference="1J1M-2026-0001", snapshot=snapshot,
                               fingerprint="f" * 64, submitted_at=datetime(2026, 3, 2, 10, 0, 0))
            draft = insert(connection, "applications", call_id=call_id, association_id=insert(
                connection, "associations", name="Autre"), status="draft")
            insert(connection, "attachments", application_id=deposited, document_id=document_id,
                   original_name="statuts.pdf", stored_name="s1", kind="pdf", content_type="application/pdf",
                   size=10, sha256="a" * 64)
        upgrade(revision="d5a8e3c1f7b9")
        with db.engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT application_id, number, kind, fingerprint, submitted_at, stored_files FROM deposits")).all()
        assert len(rows) == 1 and draft not in [r[0] for r in rows]
        application_id, number, kind, fingerprint, submitted_at, stored = rows[0]
        assert (application_id, number, kind, fingerprint) == (deposited, 1, "original", "f" * 64)
        assert str(submitted_at).startswith("2026-03-02 10:00:00")
        assert "s1" in str(stored)
        db.session.remove()
        empty_database()
        db.engine.dispose()


def insert(connection, table, **values):
    """Insert a row at an old revision (no models): every NOT NULL column gets a plain value."""
    import sqlalchemy as sa
    reflected = sa.Table(table, sa.MetaData(), autoload_with=connection)
    for column in reflected.columns:
        if column.name in values or column.nullable or column.primary_key or column.server_default is not None:
            continue
        kind = column.type.__class__.__name__.upper()
        values[column.name] = (0 if "INT" in kind else False if "BOOL" in kind else [] if "JSON" in kind
                               else datetime(2026, 1, 1) if "DATETIME" in kind or "TIMESTAMP" in kind
                               else datetime(2026, 1, 1).date() if "DATE" in kind else "x")
    return connection.execute(reflected.insert().values(**values)).inserted_primary_key[0]


# --- 4. requests for pieces: no deadlock ----------------------------------------------------------

def test_request_answered_counts_only_what_was_reopened(client, applicant, staff, login_as, call):
    """The trap: two pieces requested and sent, four never reopened still demanded, no button."""
    application = submitted(call, applicant, client, login_as)
    for i in range(4):  # the call asks for four more pieces after the deposit: never reopened
        db.session.add(RequiredPiece(call_id=call.id, code=f"ajout{i}", label=f"Pièce ajoutée {i}",
                                        mandatory=True, formats="pdf", position=50 + i))
    db.session.commit()
    statutes, rib = document(call, "statuts"), document(call, "rib")
    ask(client, login_as, staff, application, [f"doc:{statutes.id}", f"doc:{rib.id}"])
    login_as(applicant)
    page = html_of(client.get(f"/candidatures/{application.id}"))
    assert "Éléments demandés : Pièce : Statuts" in page or f"Pièce : {statutes.label}" in page
    assert upload(client, application, statutes).status_code == 303
    assert upload(client, application, rib).status_code == 303
    deposit_complement(client, application)
    request = db.session.scalar(db.select(PieceRequest).where(PieceRequest.application_id == application.id))
    assert request.answered_at is not None and fresh(application).reopened_sections == []


def test_a_requested_piece_is_required_even_if_optional(client, applicant, staff, login_as, call):
    application = submitted(call, applicant, client, login_as)
    optional = next(d for d in call.pieces if not d.mandatory)
    ask(client, login_as, staff, application, [f"doc:{optional.id}"])
    login_as(applicant)
    page = html_of(client.get(f"/candidatures/{application.id}/attestation"))
    assert 'id="manquants"' in page and f"Pièce jointe demandée : {optional.label}" in page
    assert f'href="/candidatures/{application.id}/deposer"' not in page
    assert upload(client, application, optional).status_code == 303
    deposit_complement(client, application)


def test_request_widened_then_answered(client, applicant, staff, login_as, call):
    application = submitted(call, applicant, client, login_as)
    statutes = document(call, "statuts")
    added = RequiredPiece(call_id=call.id, code="attestation_cer", label="Contrat d'engagement républicain",
                             mandatory=True, formats="pdf", position=60)
    db.session.add(added)
    db.session.commit()
    ask(client, login_as, staff, application, [f"doc:{statutes.id}"])
    request = db.session.scalar(db.select(PieceRequest).where(PieceRequest.application_id == application.id))
    due = request.due_at
    page = html_of(client.get(f"/candidatures/{application.id}"))
    assert "Demande de pièces en cours" in page and "Élargir la demande" in page
    response = client.post_form(f"/instruction/dossiers/{application.id}/demande-pieces/elargir", {
        "widen_items": [f"doc:{added.id}"], "widen_message": "Il manque aussi le contrat d'engagement."})
    assert response.status_code == 302
    saved = fresh(application)
    assert saved.status == "incomplete"
    assert saved.reopened_sections == [f"doc:{statutes.id}", f"doc:{added.id}"]
    request = db.session.get(PieceRequest, request.id)
    assert request.sections == [f"doc:{statutes.id}", f"doc:{added.id}"] and request.due_at == due
    [event] = fi.events_of(application, "piece_request_widened")
    assert event.actor_id == staff.id and event.details["items"] == [f"doc:{added.id}"]
    mail = factories.last_mail_to(applicant.email)
    assert "D'autres compléments sont demandés" in mail.subject
    assert "Contrat d'engagement républicain" in mail.body and "Il manque aussi le contrat" in mail.body
    assert timeutil.format_datetime(due) in mail.body
    # Asking again for what is already asked is refused, and nothing changes.
    response = client.post_form(f"/instruction/dossiers/{application.id}/demande-pieces/elargir", {
        "widen_items": [f"doc:{statutes.id}"], "widen_message": "Encore"}, follow_redirects=True)
    assert "Un des éléments cochés n'existe pas" in html_of(response) or "déjà demandés" in html_of(response)
    assert len(fi.events_of(application, "piece_request_widened")) == 1

    login_as(applicant)
    page = html_of(client.get(f"/candidatures/{application.id}"))
    assert "Autres compléments demandés" in page and "Contrat d'engagement républicain" in page
    assert upload(client, application, statutes).status_code == 303
    page = html_of(client.get(f"/candidatures/{application.id}/attestation"))
    assert "Contrat d'engagement républicain" in page and 'id="manquants"' in page
    assert upload(client, application, added).status_code == 303
    deposit_complement(client, application)
    assert deposits(application)[-1].snapshot["complement"]["items"] == [f"doc:{statutes.id}", f"doc:{added.id}"]


def test_request_past_due_then_extended_then_answered(client, applicant, staff, login_as, call, monkeypatch):
    application = submitted(call, applicant, client, login_as)
    statutes = document(call, "statuts")
    ask(client, login_as, staff, application, [f"doc:{statutes.id}"], due=paris_today() + timedelta(days=3))
    request = db.session.scalar(db.select(PieceRequest).where(PieceRequest.application_id == application.id))
    first_due = request.due_at
    later = first_due + timedelta(hours=1)
    monkeypatch.setattr(timeutil, "now", lambda: later)
    # The due date has passed: the association can no longer change nor deposit...
    login_as(applicant)
    assert upload(client, application, statutes).status_code == 303
    assert fresh(application).attachments[0].sha256 == deposits(application)[0].snapshot["attachments"][0]["sha256"]
    assert client.post_form(f"/candidatures/{application.id}/deposer").status_code == 303
    assert fresh(application).status == "incomplete"
    # ... staff see it and extend the due date.
    login_as(staff)
    page = html_of(client.get(f"/candidatures/{application.id}"))
    assert "délai dépassé" in page and "Prolonger le délai" in page and "Annuler la demande" in page
    new_day = timeutil.to_paris(later).date() + timedelta(days=5)
    too_early = client.post_form(f"/instruction/dossiers/{application.id}/demande-pieces/prolonger", {
        "extend_due_date": (timeutil.to_paris(later).date() - timedelta(days=1)).isoformat()})
    assert "La date limite de réponse doit être dans le futur." in html_of(too_early)
    response = client.post_form(f"/instruction/dossiers/{application.id}/demande-pieces/prolonger", {
        "extend_due_date": new_day.isoformat(), "extend_message": "Vous avez une semaine de plus."})
    assert response.status_code == 302
    assert db.session.get(PieceRequest, request.id).due_at == timeutil.end_of_day_paris(new_day)
    [event] = fi.events_of(application, "piece_request_extended")
    assert event.details["previous_due_at"] == first_due.isoformat()
    mail = factories.last_mail_to(applicant.email)
    assert "prolongé" in mail.subject and timeutil.format_date(new_day) in mail.body
    assert "Vous avez une semaine de plus." in mail.body
    login_as(applicant)
    assert "Délai pour compléter le dossier prolongé" in html_of(client.get(f"/candidatures/{application.id}"))
    assert upload(client, application, statutes).status_code == 303
    deposit_complement(client, application)


def test_request_past_due_then_inadmissible(client, applicant, staff, login_as, call, monkeypatch):
    application = submitted(call, applicant, client, login_as)
    ask(client, login_as, staff, application, ["projet"], due=paris_today() + timedelta(days=1))
    request = db.session.scalar(db.select(PieceRequest).where(PieceRequest.application_id == application.id))
    monkeypatch.setattr(timeutil, "now", lambda: request.due_at + timedelta(days=2))
    login_as(staff)
    response = client.post_form(f"/instruction/dossiers/{application.id}/irrecevable",
                                {"inadmissible_reason": "Pièces non fournies dans le délai.",
                                 "inadmissible_confirmed": "1"})
    assert response.status_code == 302 and fresh(application).status == "inadmissible"
    page = html_of(client.get(f"/candidatures/{application.id}"))
    assert "Demande de pièces en cours" not in page and "Sans réponse" in page


def test_request_cancelled_restores_the_deposited_file(app, client, applicant, staff, login_as, call):
    application = submitted(call, applicant, client, login_as)
    [original] = deposits(application)
    deposited_title = application.title
    statutes = document(call, "statuts")
    deposited_statutes = next(a for a in application.attachments if a.document_id == statutes.id)
    deposited_sha, deposited_name = deposited_statutes.sha256, deposited_statutes.stored_name
    ask(client, login_as, staff, application, ["projet", f"doc:{statutes.id}"])
    login_as(applicant)
    payload = dict(fa.VALID["projet"], title="Un titre changé sans être déposé")
    assert fa.post_section(client, application, "projet", payload).status_code == 303
    assert upload(client, application, statutes, b"draft").status_code == 303
    changed = fresh(application)
    assert changed.title == "Un titre changé sans être déposé"
    new_name = next(a.stored_name for a in changed.attachments if a.document_id == statutes.id)
    from aap.applications import files
    assert files.path_of(deposited_name).exists()  # a deposited piece stays on the disk

    login_as(staff)
    confirm = html_of(client.get(f"/instruction/dossiers/{application.id}/demande-pieces/annuler"))
    assert "Le dossier revient à l'état « Déposé »" in confirm and "abandonnées" in confirm
    assert fresh(application).status == "incomplete"
    response = client.post_form(f"/instruction/dossiers/{application.id}/demande-pieces/annuler",
                                {"cancel_reason": "Les statuts nous sont parvenus par courrier."})
    assert response.status_code == 302
    saved = fresh(application)
    assert saved.status == "submitted" and saved.reopened_sections == []
    assert saved.title == deposited_title and saved.fingerprint == original.fingerprint
    restored = next(a for a in saved.attachments if a.document_id == statutes.id)
    assert (restored.sha256, restored.stored_name) == (deposited_sha, deposited_name)
    assert not files.path_of(new_name).exists()
    assert sorted(a.sha256 for a in saved.attachments) == sorted(a["sha256"] for a in original.snapshot["attachments"])
    request = db.session.scalar(db.select(PieceRequest).where(PieceRequest.application_id == application.id))
    assert request.cancelled_at is not None and request.answered_at is None
    [event] = fi.events_of(application, "piece_request_cancelled")
    assert (event.from_state, event.to_state, event.actor_id) == ("incomplete", "submitted", staff.id)
    assert event.details["discarded"] is True
    mail = factories.last_mail_to(applicant.email)
    assert "annulée" in mail.subject and "Les statuts nous sont parvenus par courrier." in mail.body
    assert "ne sont pas conservées" in mail.body and "récépissé de dépôt reste valable" in mail.body
    assert len(deposits(application)) == 1
    page = html_of(client.get(f"/candidatures/{application.id}"))
    assert "Annulée le" in page and "Déclarer recevable" in page
    # The file goes on: staff may declare it admissible.
    assert client.post_form(f"/instruction/dossiers/{application.id}/recevable").status_code == 302
    assert fresh(application).status == "admissible"
    login_as(applicant)
    page = html_of(client.get(f"/candidatures/{application.id}"))
    assert "Demande de compléments annulée" in page and "parvenus par courrier" in page
    assert client.get(f"/candidatures/{application.id}/pieces/{restored.id}").data.startswith(b"%PDF-")


@pytest.mark.parametrize("action, data", [
    ("elargir", {"widen_items": ["projet"], "widen_message": "x"}),
    ("prolonger", {"extend_due_date": "2099-01-01"}),
    ("annuler", {"cancel_reason": "x"}),
])
def test_no_request_to_change_when_the_file_waits_for_none(client, applicant, staff, login_as, call, action, data):
    application = submitted(call, applicant, client, login_as)
    login_as(staff)
    response = client.post_form(f"/instruction/dossiers/{application.id}/demande-pieces/{action}", data,
                                follow_redirects=True)
    assert "il n'attend aucune réponse à une demande de pièces" in html_of(response)
    assert fresh(application).status == "submitted"
    assert not fi.events_of(application, "piece_request_" + {"elargir": "widened", "prolonger": "extended",
                                                            "annuler": "cancelled"}[action])


# --- 8. confirmation pages -----------------------------------------------------------------------

def test_deposit_confirmation_page_says_what_happens_and_changes_nothing(client, applicant, login_as, call):
    application = fa.complete_draft(call, applicant)
    login_as(applicant)
    attestation = html_of(client.get(f"/candidatures/{application.id}/attestation"))
    assert f'href="/candidatures/{application.id}/deposer"' in attestation
    assert f'action="/candidatures/{application.id}/deposer"' not in attestation
    before = counts()
    response = client.get(f"/candidatures/{application.id}/deposer")
    assert response.status_code == 200
    page = html_of(response)
    assert "Ce qui va se passer" in page
    assert "non modifiable" in page and "récépissé de dépôt" in page and "empreinte numérique (SHA-256)" in page
    assert timeutil.format_datetime(call.closes_at) in page
    assert f'action="/candidatures/{application.id}/deposer"' in page and 'name="csrf_token"' in page
    assert "Confirmer le dépôt de ma candidature" in page
    assert counts() == before and fresh(application).status == "draft"
    # The final POST needs the CSRF token.
    assert client.post(f"/candidatures/{application.id}/deposer").status_code == 400
    assert counts() == before
    assert client.post_form(f"/candidatures/{application.id}/deposer").status_code == 303
    assert fresh(application).status == "submitted"


def test_complement_confirmation_page_names_only_the_reopened_parts(client, applicant, staff, login_as, call):
    application = submitted(call, applicant, client, login_as)
    statutes = document(call, "statuts")
    ask(client, login_as, staff, application, [f"doc:{statutes.id}"], due=paris_today() + timedelta(days=4))
    login_as(applicant)
    before = counts()
    page = html_of(client.get(f"/candidatures/{application.id}/deposer"))
    assert "Déposer les compléments demandés" in page and f"Pièce : {statutes.label}" in page
    assert "4. Budget" not in page and "1. Projet" not in page
    assert "récépissé de complément" in page and "sans en changer la date" in page
    assert timeutil.format_datetime(application.submitted_at) in page
    request = db.session.scalar(db.select(PieceRequest).where(PieceRequest.application_id == application.id))
    assert timeutil.format_datetime(request.due_at) in page
    assert counts() == before and fresh(application).status == "incomplete"


def test_deposit_page_of_an_incomplete_draft_redirects_to_what_is_missing(client, applicant, login_as, call):
    application = fa.draft(call, applicant.association)
    login_as(applicant)
    before = counts()
    response = client.get(f"/candidatures/{application.id}/deposer")
    assert response.status_code == 303 and response.headers["Location"].endswith("/attestation")
    assert counts() == before


def test_withdrawal_confirmation_page_says_it_is_final_and_staff_are_told(client, applicant, staff, login_as,
                                                                          call):
    application = submitted(call, applicant, client, login_as)
    before = counts()
    page = html_of(client.get(f"/candidatures/{application.id}/retirer"))
    assert "Ce qui va se passer" in page and "définitif pour cet appel à projets" in page
    assert "La DJEPVA en est informée" in page and 'name="reason"' in page
    assert 'name="csrf_token"' in page
    assert counts() == before and fresh(application).status == "submitted"
    assert client.post(f"/candidatures/{application.id}/retirer", data={"reason": "x"}).status_code == 400
    assert fresh(application).status == "submitted"
    assert client.post_form(f"/candidatures/{application.id}/retirer",
                            {"reason": "Projet reporté à l'an prochain"}).status_code == 303
    assert fresh(application).status == "withdrawn"
    mail = factories.last_mail_to(staff.email)
    assert application.reference in mail.subject and "retiré" in mail.subject
    assert "Projet reporté à l'an prochain" in mail.body and "définitif pour cet appel" in mail.body
