"""Pieces « réservé à l'instruction » (issue 13, point 2): a required document holding bank or
personal data (the RIB, the list of the board) is read by the association and the staff only;
a reviewer, even assigned to the file with no conflict, never sees it listed nor downloads it
(404). The staff choose the visibility of each piece in the call editor; the default template
reserves the RIB and the list of the board; the demo's files have real pieces."""
import hashlib
import io
import logging.config
import re

import pypdf
import pytest
from flask_migrate import upgrade
from markupsafe import escape
from sqlalchemy import MetaData, Table, inspect, text

from aap import timeutil
from aap.applications import attachments, files
from aap.applications.deposits import build_snapshot, fingerprint
from aap.calls.template import RESERVED_CODES
from aap.demo.accounts import DEMO_PASSWORD
from aap.extensions import db
from aap.models import Application, Assignment, Attachment, Call, Event, RequiredPiece, User
from aap.permissions import can_download_attachment

from . import factories
from . import factories_applications as fa
from .conftest import demo_app, login, make_app

IBAN = "FR7630006000011234567890189"  # factories.complete_identity's
IBAN_PRINTED = "FR76 3000 6000 0112 3456 7890 189"
RIB_PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% Releve d'identite bancaire IBAN "
           + IBAN.encode() + b" BIC AGRIFRPP\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def piece_url(attachment):
    return f"/candidatures/{attachment.application_id}/pieces/{attachment.id}"


def document(call, code):
    return next(d for d in call.pieces if d.code == code)


def attachment_for(application, code):
    return next(a for a in application.attachments if a.document.code == code)


@pytest.fixture
def case(app, applicant, reviewer):
    """A submitted file with every piece (the RIB printing the association's IBAN), in review by
    a reviewer who confirmed having no link with the association."""
    call = factories.call()
    application = fa.complete_draft(call, applicant)
    attachments.add_attachment(application, document(call, "rib"), "RIB Crédit Agricole.pdf",
                                        io.BytesIO(RIB_PDF), applicant)
    fa.submit_now(application, applicant)
    application.status = "in_review"
    db.session.add(Assignment(application_id=application.id, reviewer_id=reviewer.id,
                              no_conflict_confirmed_at=timeutil.now(), notified_at=timeutil.now()))
    db.session.commit()
    return call, application


# ---------------------------------------------------------------- the default template

def test_default_template_reserves_the_rib_and_the_list_of_the_board(app):
    call = factories.call()
    reserved = {d.code for d in call.pieces if d.reserved}
    assert reserved == set(RESERVED_CODES) == {"rib", "dirigeants"}
    assert not document(call, "statuts").reserved and not document(call, "budget_projet").reserved
    assert document(call, "rib").visibility_label == "Réservé à l'instruction"
    assert document(call, "statuts").visibility_label == "Visible par les évaluateurs"


# ---------------------------------------------------------------- what a reviewer reads

def test_reviewer_reads_the_statuts_but_never_the_rib(case, client, reviewer, login_as):
    call, application = case
    statuts, rib = attachment_for(application, "statuts"), attachment_for(application, "rib")
    board = attachment_for(application, "dirigeants")
    login_as(reviewer)
    html = client.get(f"/evaluation/dossiers/{application.id}").get_data(as_text=True)
    assert "statuts.pdf" in html and piece_url(statuts) in html
    assert "budget_projet.pdf" in html
    for hidden in (rib, board):
        assert hidden.original_name not in html and piece_url(hidden) not in html
        assert str(escape(hidden.document.label)) not in html
    assert "RIB" not in html and IBAN not in html and IBAN_PRINTED not in html
    assert "Les pièces réservées à l'instruction (coordonnées bancaires, données personnelles) ne sont pas " \
           "communiquées aux évaluateurs." in html

    response = client.get(piece_url(statuts))
    assert response.status_code == 200 and response.data == fa.PDF + b"statuts"
    for hidden in (rib, board):
        response = client.get(piece_url(hidden))
        assert response.status_code == 404
        assert IBAN.encode() not in response.data
    downloads = db.session.scalars(db.select(Event).where(Event.action == "attachment_downloaded")).all()
    assert [e.details["attachment_id"] for e in downloads] == [statuts.id]  # the refusals served nothing


def test_staff_and_the_association_download_every_piece(case, client, applicant, staff, login_as):
    call, application = case
    rib = attachment_for(application, "rib")
    for user in (applicant, staff):
        login_as(user)
        html = client.get(f"/candidatures/{application.id}").get_data(as_text=True)
        assert "RIB Crédit Agricole.pdf" in html and piece_url(rib) in html
        rib_row = html.split(piece_url(rib))[0].rsplit("<tr>", 1)[1]
        statuts_row = html.split(piece_url(attachment_for(application, "statuts")))[0].rsplit("<tr>", 1)[1]
        assert "Réservé à l'instruction" in rib_row and "Réservé à l'instruction" not in statuts_row
        for attachment in application.attachments:
            response = client.get(piece_url(attachment))
            assert response.status_code == 200
            assert response.data == files.path_of(attachment.stored_name).read_bytes()
        assert client.get(piece_url(rib)).data == RIB_PDF
        client.post_form("/deconnexion")


def test_the_predicate_is_the_rule(case, applicant, staff, reviewer, other_applicant):
    call, application = case
    statuts, rib = attachment_for(application, "statuts"), attachment_for(application, "rib")
    assert can_download_attachment(reviewer, statuts) and not can_download_attachment(reviewer, rib)
    assert can_download_attachment(applicant, rib) and can_download_attachment(staff, rib)
    assert not can_download_attachment(other_applicant, statuts)
    # A reviewer not assigned to the file reads nothing of it.
    stranger = factories.user("reviewer", email="autre-evaluateur@example.org", region_code="11")
    assert not can_download_attachment(stranger, statuts)


def test_bank_details_are_shown_to_a_reviewer_nowhere(case, client, reviewer, login_as):
    """Neither the association's IBAN nor the RIB's content reaches the reviewer: not on their
    pages, not in a piece they may download."""
    call, application = case
    login_as(reviewer)
    pages = ["/tableau-de-bord", f"/evaluation/dossiers/{application.id}", "/evaluation/liens-d-interets"]
    pages += [piece_url(a) for a in application.attachments]
    for url in pages:
        body = client.get(url).data
        assert IBAN.encode() not in body and IBAN_PRINTED.encode() not in body and b"AGRIFRPP" not in body, url


def test_a_piece_reserved_later_is_refused_at_once(case, client, reviewer, staff, login_as):
    """The visibility is checked at each listing and download, not copied when the file is assigned."""
    call, application = case
    statuts = attachment_for(application, "statuts")
    statuts.document.reserved = True
    db.session.commit()
    login_as(reviewer)
    assert "statuts.pdf" not in client.get(f"/evaluation/dossiers/{application.id}").get_data(as_text=True)
    assert client.get(piece_url(statuts)).status_code == 404


# ---------------------------------------------------------------- the call editor

def checked_visibility(html, index):
    """The value of the checked visibility radio button of the index-th piece of the editor."""
    [value] = re.findall(rf'<input checked id="documents-{index}-visibility-\d" name="documents-{index}-visibility" '
                         r'type="radio" value="(\w+)">', html)
    return value


def editor_data(call, **changes):
    data = {}
    for i, d in enumerate(call.pieces):
        data.update({f"documents-{i}-id": str(d.id), f"documents-{i}-label": d.label,
                     f"documents-{i}-formats": d.formats.split(","),
                     f"documents-{i}-visibility": "instruction" if d.reserved else "evaluateurs"})
        if d.mandatory:
            data[f"documents-{i}-mandatory"] = "y"
    data.update(changes)
    return data


def test_call_editor_shows_and_saves_the_visibility(app, client, staff, login_as):
    call = factories.call(status="draft")
    rib = document(call, "rib")
    login_as(staff)
    html = client.get(f"/instruction/appels/{call.id}/pieces").get_data(as_text=True)
    assert "Qui lit cette pièce ?" in html
    assert html.count("Réservé à l&#39;instruction") == len(call.pieces) + 1  # each piece and the new row
    shown = {d.code: checked_visibility(html, i) for i, d in enumerate(call.pieces)}
    assert shown == {d.code: "instruction" if d.code in ("rib", "dirigeants") else "evaluateurs"
                     for d in call.pieces}
    assert checked_visibility(html, len(call.pieces)) == "evaluateurs"  # a new piece: shown unless told
    rib_index = call.pieces.index(rib)

    n = len(call.pieces)
    data = editor_data(call, **{
        "documents-0-visibility": "instruction",                              # the statuts: reserved
        f"documents-{rib_index}-visibility": "evaluateurs",                   # the RIB: shown
        f"documents-{n}-id": "", f"documents-{n}-label": "Attestation d'assurance",
        f"documents-{n}-formats": ["pdf"], f"documents-{n}-visibility": "instruction"})
    response = client.post_form(f"/instruction/appels/{call.id}/pieces", data)
    assert response.status_code == 302
    db.session.expire_all()
    saved = {d.code: d.reserved for d in db.session.get(Call, call.id).pieces}
    assert saved["statuts"] is True and saved["rib"] is False and saved["attestation_d_assurance"] is True
    assert saved["dirigeants"] is True  # unchanged
    event = db.session.scalar(db.select(Event).where(Event.action == "call_documents_updated"))
    assert {d["label"]: d["reserved"] for d in event.details["documents"]}["Attestation d'assurance"] is True

    html = client.get(f"/instruction/appels/{call.id}/pieces").get_data(as_text=True)
    assert checked_visibility(html, 0) == "instruction"
    assert checked_visibility(html, rib_index) == "evaluateurs"


def test_call_editor_refuses_an_unknown_visibility(app, client, staff, login_as):
    call = factories.call(status="draft")
    login_as(staff)
    response = client.post_form(f"/instruction/appels/{call.id}/pieces",
                                editor_data(call, **{"documents-0-visibility": "tout-le-monde"}))
    assert response.status_code == 200
    assert "Choisissez qui lit cette pièce : les évaluateurs ou l&#39;instruction seulement." in \
        response.get_data(as_text=True)
    db.session.expire_all()
    assert [d.reserved for d in db.session.get(Call, call.id).pieces] == [d.reserved for d in call.pieces]


def test_service_keeps_the_visibility_when_none_is_given(app, staff):
    from aap.calls import services
    call = factories.call(status="draft")
    items = [{"id": d.id, "label": d.label, "mandatory": d.mandatory, "formats": d.formats.split(",")}
             for d in call.pieces]
    services.set_pieces(call, items, staff)
    assert {d.code for d in call.pieces if d.reserved} == {"rib", "dirigeants"}
    with pytest.raises(services.CallError):
        services.set_pieces(call, [dict(items[0], reserved="oui")], staff)


# ---------------------------------------------------------------- the association's pieces page

def test_the_association_is_told_which_pieces_only_the_instruction_reads(app, client, applicant, login_as):
    call = factories.call()
    draft = fa.draft(call, applicant.association)
    login_as(applicant)
    html = client.get(f"/candidatures/{draft.id}/pieces").get_data(as_text=True)
    cards = {d.code: html.split(f'id="piece-{d.id}"')[1].split("</section>")[0] for d in call.pieces}
    assert "Réservé à l'instruction" in cards["rib"] and "Réservé à l'instruction" in cards["dirigeants"]
    assert "n'est pas communiquée aux évaluateurs" in cards["rib"]
    assert not any("Réservé à l'instruction" in cards[code] for code in ("statuts", "budget_projet"))
    # The call's public page says so before anyone applies.
    public = client.get(f"/appels/{call.slug}").get_data(as_text=True)
    items = {d.code: public.split(str(escape(d.label)))[1].split("</li>")[0] for d in call.pieces}
    assert "réservée à l'instruction (non communiquée aux évaluateurs)" in items["rib"]
    assert "réservée à l'instruction" not in items["statuts"]


# ---------------------------------------------------------------- the migration

@pytest.fixture
def migrating_app(tmp_path, monkeypatch):
    monkeypatch.setattr(logging.config, "fileConfig", lambda *args, **kwargs: None)
    app = make_app(tmp_path)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        yield app
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()


def test_migration_reserves_the_existing_ribs(migrating_app):
    upgrade(revision="85c8f2a1b2ff")  # before the column
    assert "reserved" not in {c["name"] for c in inspect(db.engine).get_columns("required_documents")}
    metadata = MetaData()
    calls, documents = (Table(name, metadata, autoload_with=db.engine) for name in ("calls", "required_documents"))
    now = timeutil.now()
    with db.engine.begin() as connection:
        connection.execute(calls.insert().values(
            id=1, slug="aap-ancien", title="Ancien appel", description="", year=2024, reference_prefix="1J1M",
            status="closed", opens_at=now, closes_at=now, budget_cents=0, min_amount_cents=0, max_amount_cents=0,
            years=1, reviewers_per_file=2, avoid_same_region=True, hide_other_reviews=True, advance_percent=50,
            next_number=1))
        connection.execute(documents.insert(), [
            dict(call_id=1, position=i, code=code, label=code, mandatory=True, formats="pdf")
            for i, code in enumerate(["statuts", "dirigeants", "rib", "budget_projet", "autre"])])
    upgrade()
    reserved = {d.code: d.reserved for d in db.session.scalars(db.select(RequiredPiece))}
    assert reserved == {"statuts": False, "dirigeants": True, "rib": True, "budget_projet": False, "autre": False}


# ---------------------------------------------------------------- the demo

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    yield from demo_app(tmp_path_factory)


def test_demo_files_have_their_pieces_on_disk(demo):
    submitted = db.session.scalars(db.select(Application).where(Application.status != "draft")).all()
    assert len(submitted) == 254
    for application in submitted:
        codes = {a.document.code for a in application.attachments}
        mandatory = {d.code for d in application.call.pieces if d.mandatory}
        assert mandatory <= codes <= mandatory | {"autre"}
        # The receipt's snapshot lists them: the fingerprint is that of the file with its pieces.
        assert len(application.snapshot["attachments"]) == len(application.attachments)
    for application in submitted[:40] + submitted[-24:]:
        assert fingerprint(build_snapshot(application)) == application.fingerprint
    attachments = db.session.scalars(db.select(Attachment)).all()
    assert len({a.stored_name for a in attachments}) == len(attachments) > 1500
    for attachment in attachments:
        data = files.path_of(attachment.stored_name).read_bytes()
        assert len(data) == attachment.size and hashlib.sha256(data).hexdigest() == attachment.sha256
        assert files.detect_kind(data) == attachment.kind == "pdf"
    uploads = db.session.scalar(db.select(db.func.count(Event.id)).where(Event.action == "attachment_added"))
    assert uploads == len(attachments)


def test_demo_reviewer_reads_the_statuts_not_the_rib(demo):
    reviewer = db.session.scalar(db.select(User).where(User.email == "evaluateur@demo.aap.fr"))
    assignment = db.session.scalars(db.select(Assignment).where(
        Assignment.reviewer_id == reviewer.id, Assignment.no_conflict_confirmed_at.is_not(None))).first()
    application = assignment.application
    association = application.association
    statuts, rib = attachment_for(application, "statuts"), attachment_for(application, "rib")
    client = demo.test_client()
    login(client, reviewer, password=DEMO_PASSWORD)
    html = client.get(f"/evaluation/dossiers/{application.id}").get_data(as_text=True)
    assert statuts.original_name in html and piece_url(statuts) in html
    assert rib.original_name not in html and piece_url(rib) not in html
    assert association.iban not in html
    response = client.get(piece_url(statuts))
    assert response.status_code == 200
    page = pypdf.PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert f"Statuts de l'association {association.name}" in page and association.address in page
    assert client.get(piece_url(rib)).status_code == 404
    # The staff read the RIB, with the association's bank details.
    staff = db.session.scalar(db.select(User).where(User.email == "instructeur@demo.aap.fr"))
    client.post_form("/deconnexion")
    login(client, staff, password=DEMO_PASSWORD)
    response = client.get(piece_url(rib))
    assert response.status_code == 200
    text_of_rib = pypdf.PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert " ".join(association.iban[i:i + 4] for i in range(0, len(association.iban), 4)) in text_of_rib


def test_demo_association_sees_its_rib_reserved(demo):
    member = db.session.scalar(db.select(User).where(User.email == "association@demo.aap.fr"))
    draft = db.session.scalar(db.select(Application).where(Application.association_id == member.association_id,
                                                           Application.status == "draft"))
    assert sorted(a.document.code for a in draft.attachments) == ["rib", "statuts"]
    client = demo.test_client()
    login(client, member, password=DEMO_PASSWORD)
    html = client.get(f"/candidatures/{draft.id}/pieces").get_data(as_text=True)
    rib = attachment_for(draft, "rib")
    card = html.split(f'id="piece-{rib.document_id}"')[1].split("</section>")[0]
    assert "Réservé à l'instruction" in card and rib.original_name in card
