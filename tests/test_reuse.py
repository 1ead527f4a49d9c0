"""Reuse, as associations expect (issue 14, part 3): a new application started from an earlier
one, the pieces kept from one call to the next (« Mes documents »), files sent with messages,
and the printable summary of a file."""
import hashlib
import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import JSON

from aap import timeutil
from aap.applications import files, reuse
from aap.extensions import db
from aap.models import Application, AssociationDocument, Attachment, Event, Message, MessageAttachment

from . import factories
from . import factories_applications as fa
from . import factories_instruction as fi

ACTIVE_PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"
              b" endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def zip_bomb(size=64 * 1024 * 1024):
    """A DOCX-looking archive whose entry inflates to `size` bytes (a few dozen kB sent)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as entry:
            chunk = b" " * (1024 * 1024)
            for _ in range(size // len(chunk)):
                entry.write(chunk)
    return buffer.getvalue()


@pytest.fixture
def old_call(app):
    """The 2025 call, closed and decided."""
    return factories.call(slug="aap-2025", year=2025, status="closed", opens_in_days=-500, closes_in_days=-400)


@pytest.fixture
def call(app):
    """The open 2026 call."""
    return factories.call(slug="aap-2026", year=2026)


def html(response):
    return unescape(response.get_data(as_text=True))


def fill_every_content_column(application):
    """Give every copied column a value (also those added to the model after this test was written)."""
    for name in reuse.copied_columns():
        if not fa_empty(getattr(application, name)):
            continue
        column = Application.__table__.columns[name]
        if isinstance(column.type, JSON):
            # (the budget: Cerfa 12156's lines by year, balanced; see aap/applications/budget.py)
            value = {"1": {"64": 300_000_00, "70": 200_000_00, "74_aap": 100_000_00}} if name == "budget" \
                else ["repris"]
        else:
            kind = column.type.python_type
            value = {int: 7, str: "texte repris", float: 12.5, Decimal: Decimal("12.5"), bool: True,
                     date: date(2025, 3, 1)}[kind]
        setattr(application, name, value)
    db.session.commit()


def fa_empty(value):
    return value is None or value == "" or value == [] or value == {}


def deposited(call, association, **fields):
    """A file of an earlier call, deposited, decided (selected), with its reference and fingerprint."""
    application = factories.application(call, association, status="selected", **fields)
    fill_every_content_column(application)
    return application


def store_piece(application, code, data, uploaded_at):
    """A piece sent in an application (written as the upload service does), at a given date."""
    document = next(d for d in application.call.pieces if d.code == code)
    stored = files.new_stored_name()
    files.write(stored, data)
    attachment = Attachment(application_id=application.id, document_id=document.id, original_name=f"{code}.pdf",
                            stored_name=stored, kind="pdf", content_type="application/pdf", size=len(data),
                            sha256=hashlib.sha256(data).hexdigest(), uploaded_at=uploaded_at)
    db.session.add(attachment)
    db.session.commit()
    return attachment


def new_application(call, association):
    return db.session.scalar(db.select(Application).where(Application.call_id == call.id,
                                                          Application.association_id == association.id))


def switch(client, login_as, user):
    """Log out whoever is logged in, then log in as `user`."""
    client.post_form("/deconnexion")
    return login_as(user)


def start_from(client, call, source):
    return client.post_form(f"/candidatures/nouvelle/{call.id}/reprendre", {"source": str(source.id)})


# --- starting from an earlier application ----------------------------------------------------------

def test_a_new_application_takes_every_field_of_the_earlier_one_and_none_of_its_state(
        client, login_as, applicant, old_call, call):
    source = deposited(old_call, applicant.association, reference="1J1M-2025-0042", title="Mentorat 2025",
                       partners="Missions locales de Lyon", departements=["69", "01"])
    switch(client, login_as, applicant)

    dashboard = html(client.get("/tableau-de-bord"))
    assert "Reprendre ma candidature 2025" in dashboard and "1J1M-2025-0042" in dashboard
    assert "Reprendre ma candidature 2025" in html(client.get(f"/appels/{call.slug}"))

    response = start_from(client, call, source)
    assert response.status_code == 303
    application = new_application(call, applicant.association)
    assert response.headers["Location"].endswith(f"/candidatures/{application.id}/projet")

    # Every content column, the budget's JSON included, is the source's (and a copy, not the same list).
    copied = reuse.copied_columns()
    assert {"title", "summary", "partners", "young_count", "share_qpv", "scope", "departements",
            "total_cost_cents", "requested_cents", "cofunding", "attestation_name"} <= set(copied)
    for name in copied:
        assert getattr(application, name) == getattr(source, name), name
        assert not fa_empty(getattr(application, name)), name
    assert application.departements is not source.departements
    # What is not copied: the keys, the state and its bookkeeping, dates and actors.
    assert set(Application.__table__.columns.keys()) - set(copied) == {
        "id", "call_id", "association_id", "reference", "status", "version", "reopened_sections",
        "reused_from_id", "sections_to_review", "submitted_at", "snapshot", "fingerprint",
        "created_by_id", "created_at", "updated_at", "updated_by_id"}
    assert application.status == "draft"
    assert (application.reference, application.snapshot, application.fingerprint, application.submitted_at) == \
        (None, None, None, None)
    assert application.decision is None and application.reopened_sections == []
    assert application.reused_from_id == source.id and application.created_by_id == applicant.id
    assert application.sections_to_review == ["projet", "jeunes", "territoires", "budget", "attestation"]
    # The source is untouched.
    db.session.refresh(source)
    assert source.status == "selected" and source.reference == "1J1M-2025-0042"

    # The history says it, to the association too.
    [event] = db.session.scalars(db.select(Event).where(Event.application_id == application.id)).all()
    assert event.action == "application_reused" and event.details["source_id"] == source.id
    page = html(client.get(f"/candidatures/{application.id}"))
    assert "Brouillon repris de votre candidature 2025" in page
    assert "Référence 1J1M-2025-0042 ; chaque partie est à vérifier avant le dépôt" in page
    assert "Mentorat 2025" in page and "Missions locales de Lyon" in page

    # Asking again returns the same draft; nothing is overwritten.
    assert start_from(client, call, source).headers["Location"].endswith(f"/candidatures/{application.id}")
    assert db.session.scalar(db.select(db.func.count()).select_from(Application)
                             .where(Application.call_id == call.id)) == 1


def test_each_section_says_it_was_taken_over_until_it_is_saved_once(client, login_as, applicant, old_call, call):
    factories.complete_identity(applicant.association)
    source = deposited(old_call, applicant.association, scope="regional", departements=["69", "42"])
    switch(client, login_as, applicant)
    start_from(client, call, source)
    application = new_application(call, applicant.association)
    notice = "Repris de votre candidature 2025 : vérifiez cette partie"

    for code in ("projet", "jeunes", "territoires", "budget", "attestation"):
        assert notice in html(client.get(f"/candidatures/{application.id}/{code}")), code
    assert notice not in html(client.get(f"/candidatures/{application.id}/pieces"))
    # The deposit waits for each section to be reviewed.
    overview = html(client.get(f"/candidatures/{application.id}"))
    assert "Le projet : partie reprise de votre candidature 2025, à vérifier puis enregistrer" in overview

    # Saved once (with changes): the notice goes, from this section only.
    response = fa.post_section(client, application, "projet", fa.VALID["projet"])
    assert response.status_code == 303
    assert notice not in html(client.get(f"/candidatures/{application.id}/projet"))
    assert notice in html(client.get(f"/candidatures/{application.id}/jeunes"))
    # Saved once without any change (reviewed, nothing to update): the notice goes too.
    response = fa.post_section(client, application, "territoires", {"scope": "regional", "departements": ["69", "42"]})
    assert response.status_code == 303
    db.session.refresh(application)
    assert application.sections_to_review == ["jeunes", "budget", "attestation"]
    assert notice not in html(client.get(f"/candidatures/{application.id}/territoires"))
    overview = html(client.get(f"/candidatures/{application.id}"))
    assert "Le projet : partie reprise" not in overview
    assert "Les jeunes accompagnés : partie reprise de votre candidature 2025" in overview
    # An autosave is not a review.
    fa.autosave(client, application, "jeunes", {"young_count": "310"})
    db.session.refresh(application)
    assert "jeunes" in application.sections_to_review


def test_another_association_cannot_start_from_a_file_that_is_not_its_own(
        client, login_as, applicant, other_applicant, old_call, call):
    source = deposited(old_call, applicant.association, title="Projet confidentiel de A")
    switch(client, login_as, other_applicant)
    # Nothing offered: B has no earlier application.
    assert "Reprendre ma candidature" not in html(client.get("/tableau-de-bord"))
    response = start_from(client, call, source)
    assert response.status_code == 303 and response.headers["Location"].endswith("/tableau-de-bord")
    assert new_application(call, other_applicant.association) is None
    assert "Projet confidentiel de A" not in html(client.get("/tableau-de-bord"))


def test_reviewers_and_staff_cannot_start_an_application(client, login_as, applicant, reviewer, staff, old_call, call):
    source = deposited(old_call, applicant.association)
    for user in (reviewer, staff):
        switch(client, login_as, user)
        assert start_from(client, call, source).status_code == 403
    assert new_application(call, applicant.association) is None


# --- the association's documents ----------------------------------------------------------------

@pytest.fixture
def kept(applicant, old_call):
    """A's 2025 file with its statuts (sent 14 months ago) and its RIB (sent 3 months ago)."""
    source = deposited(old_call, applicant.association)
    now = timeutil.now()
    statuts = store_piece(source, "statuts", fa.PDF + b"statuts 2025", now - timedelta(days=430))
    rib = store_piece(source, "rib", fa.PDF + b"rib 2025", now - timedelta(days=90))
    return source, statuts, rib


def test_my_documents_keep_the_latest_version_of_each_piece_with_its_date(client, login_as, applicant, kept):
    source, statuts, rib = kept
    switch(client, login_as, applicant)
    page = html(client.get("/association/documents"))
    assert "Mes documents" in page
    assert statuts.sha256 in page and rib.sha256 in page
    assert timeutil.format_date(statuts.uploaded_at) in page and timeutil.format_date(rib.uploaded_at) in page
    assert page.count("Cette pièce a plus d'un an") == 1  # the statuts, not the RIB
    assert "Aucune pièce conservée" in page  # the list of the board: none yet

    # A new list of the board sent directly on the page: kept, dated today.
    response = client.post_form("/association/documents/envoyer",
                                {"code": "dirigeants", "file": (io.BytesIO(fa.PDF + b"bureau 2026"), "bureau.pdf")},
                                content_type="multipart/form-data")
    assert response.status_code == 303
    kept_now = reuse.kept_pieces(applicant.association_id)
    assert list(kept_now) == ["statuts", "dirigeants", "rib"]
    assert kept_now["dirigeants"].sha256 == hashlib.sha256(fa.PDF + b"bureau 2026").hexdigest()
    page = html(client.get("/association/documents"))
    assert "bureau.pdf" in page and "(sur cette page)" in page and "Aucune pièce conservée" not in page

    # A newer statuts replaces the older one as the version offered.
    client.post_form("/association/documents/envoyer",
                     {"code": "statuts", "file": (io.BytesIO(fa.PDF + b"statuts 2026"), "statuts-2026.pdf")},
                     content_type="multipart/form-data")
    assert reuse.kept_pieces(applicant.association_id)["statuts"].name == "statuts-2026.pdf"
    assert "Cette pièce a plus d'un an" not in html(client.get("/association/documents"))


@pytest.mark.parametrize("data, name, message", [
    (fa.EXE, "statuts.pdf", "n'est pas d'un format accepté"),
    (zip_bomb(), "statuts.docx", "bombe de décompression"),
    (ACTIVE_PDF, "statuts.pdf", "Ce PDF contient du code ou des actions automatiques"),
    (b"", "vide.pdf", "Le fichier est vide"),
])
def test_a_piece_sent_on_my_documents_is_checked_as_the_pieces_of_a_file(client, login_as, applicant,
                                                                          data, name, message):
    switch(client, login_as, applicant)
    response = client.post_form("/association/documents/envoyer",
                                {"code": "statuts", "file": (io.BytesIO(data), name)},
                                content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in html(response)
    assert db.session.scalar(db.select(db.func.count()).select_from(AssociationDocument)) == 0


def test_a_piece_over_the_size_limit_is_refused(client, login_as, applicant, app):
    app.config["MAX_FILE_SIZE"] = 1024
    switch(client, login_as, applicant)
    response = client.post_form("/association/documents/envoyer",
                                {"code": "rib", "file": (io.BytesIO(fa.PDF + b"x" * 2000), "rib.pdf")},
                                content_type="multipart/form-data")
    assert response.status_code == 400 and "dépasse la taille autorisée (1 ko par fichier)" in html(response)


def test_a_kept_piece_is_reused_as_a_copy_with_the_same_fingerprint(client, login_as, applicant, kept, call):
    source, statuts, rib = kept
    application = fa.draft(call, applicant.association)
    switch(client, login_as, applicant)
    page = html(client.get(f"/candidatures/{application.id}/pieces"))
    # Offered on the pieces it fits (statuts and RIB), with its date, fingerprint and, when old, a warning.
    assert page.count("Dans vos documents :") == 2
    assert statuts.sha256 in page and rib.sha256 in page
    assert page.count("envoyée il y a plus d'un an") == 1
    assert f"le {timeutil.format_date(statuts.uploaded_at)}) : vérifiez qu'elle est toujours à jour" in page

    statuts_slot = next(d for d in call.pieces if d.code == "statuts")
    response = client.post_form(f"/candidatures/{application.id}/pieces/{statuts_slot.id}/reprendre",
                                {"sha256": statuts.sha256})
    assert response.status_code == 303
    db.session.refresh(application)
    [copy] = application.attachments
    assert copy.document_id == statuts_slot.id and copy.sha256 == statuts.sha256
    assert copy.stored_name != statuts.stored_name
    assert files.path_of(copy.stored_name).read_bytes() == files.path_of(statuts.stored_name).read_bytes()
    page = html(client.get(f"/candidatures/{application.id}/pieces"))
    assert page.count("Dans vos documents :") == 1  # the RIB only: the statuts is the file's piece now
    assert statuts.sha256 in page
    # The copy keeps its age: first sent 14 months ago, still flagged.
    assert f"Pièce de vos documents, envoyée pour la première fois le {timeutil.format_date(statuts.uploaded_at)}" \
        in page
    assert "Cette pièce a plus d'un an : vérifiez qu'elle est toujours à jour." in page
    # Its date stays the date the association first sent it.
    assert reuse.kept_pieces(applicant.association_id)["statuts"].sent_at == statuts.uploaded_at
    history = html(client.get(f"/candidatures/{application.id}"))
    assert "Pièce jointe reprise de vos documents" in history
    assert f"pièce conservée, envoyée le {timeutil.format_date(statuts.uploaded_at)}" in history

    # A stale page (the kept piece changed in between) is refused, nothing attached.
    rib_slot = next(d for d in call.pieces if d.code == "rib")
    response = client.post_form(f"/candidatures/{application.id}/pieces/{rib_slot.id}/reprendre", {"sha256": "0" * 64})
    assert response.status_code == 400 and "ont changé entre-temps" in html(response)
    db.session.refresh(application)
    assert len(application.attachments) == 1
    # A piece that is not kept from one call to the next is never offered nor reused.
    budget_slot = next(d for d in call.pieces if d.code == "budget_projet")
    response = client.post_form(f"/candidatures/{application.id}/pieces/{budget_slot.id}/reprendre", {})
    assert response.status_code == 400 and "Aucune pièce de ce type" in html(response)


def test_another_association_cannot_reuse_nor_read_the_documents(client, login_as, applicant, other_applicant,
                                                                   kept, call):
    source, statuts, rib = kept
    document = reuse.add_document(applicant.association, "dirigeants", "bureau.pdf", io.BytesIO(fa.PDF + b"A"),
                                  applicant)
    own = fa.draft(call, applicant.association)
    theirs = fa.draft(call, other_applicant.association)
    statuts_slot = next(d for d in call.pieces if d.code == "statuts")
    switch(client, login_as, other_applicant)
    assert client.get(f"/association/documents/{document.id}").status_code == 404
    assert client.get(f"/candidatures/{source.id}/pieces/{rib.id}").status_code == 404
    page = html(client.get("/association/documents"))
    assert statuts.sha256 not in page and "bureau.pdf" not in page
    assert client.post_form(f"/candidatures/{own.id}/pieces/{statuts_slot.id}/reprendre").status_code == 404
    # On its own file, B is offered nothing of A's, and cannot take it.
    assert "Dans vos documents" not in html(client.get(f"/candidatures/{theirs.id}/pieces"))
    response = client.post_form(f"/candidatures/{theirs.id}/pieces/{statuts_slot.id}/reprendre",
                                {"sha256": statuts.sha256})
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(Attachment)
                             .where(Attachment.application_id.in_([own.id, theirs.id]))) == 0


def test_reviewers_never_read_the_documents_staff_do(client, login_as, applicant, reviewer, staff, kept):
    document = reuse.add_document(applicant.association, "rib", "rib.pdf", io.BytesIO(fa.PDF + b"RIB"), applicant)
    switch(client, login_as, reviewer)
    assert client.get(f"/association/documents/{document.id}").status_code == 404
    assert client.get("/association/documents").status_code == 403
    switch(client, login_as, staff)
    response = client.get(f"/association/documents/{document.id}")
    assert response.status_code == 200 and response.data == fa.PDF + b"RIB"
    assert "attachment" in response.headers["Content-Disposition"]
    page = html(client.get(f"/instruction/associations/{applicant.association_id}"))
    assert "Documents conservés de l'association" in page and document.sha256 in page


# --- files sent with messages -------------------------------------------------------------------

def post_message(client, application, body, *uploads):
    data = {"message_body": body}
    if uploads:
        data["message_files"] = [(io.BytesIO(content), name) for name, content in uploads]
    return client.post_form(f"/dossiers/{application.id}/messages", data, content_type="multipart/form-data")


def test_a_message_carries_files_read_by_the_association_and_staff_only(
        client, login_as, applicant, other_applicant, reviewer, staff, own_file):
    switch(client, login_as, applicant)
    response = post_message(client, own_file, "Voici nos statuts mis à jour.",
                            ("statuts.pdf", fa.PDF + b"statuts"), ("photo.png", fa.PNG))
    assert response.status_code == 302
    [message] = db.session.scalars(db.select(Message)).all()
    assert [a.original_name for a in message.attachments] == ["statuts.pdf", "photo.png"]
    first = message.attachments[0]
    assert first.sha256 == hashlib.sha256(fa.PDF + b"statuts").hexdigest()
    assert first.stored_name != "statuts.pdf" and files.path_of(first.stored_name).is_file()
    [event] = fi.events_of(own_file, "message")
    assert event.details["attachments"] == ["statuts.pdf", "photo.png"]
    url = f"/dossiers/{own_file.id}/messages/pieces/{first.id}"
    page = html(client.get(f"/candidatures/{own_file.id}"))
    assert url in page and "Pièces jointes : statuts.pdf, photo.png" in page
    assert client.get(url).data == fa.PDF + b"statuts"

    switch(client, login_as, staff)
    page = html(client.get(f"/candidatures/{own_file.id}"))
    assert url in page and "Pièces jointes : statuts.pdf, photo.png" in page  # the staff journal too
    response = client.get(url)
    assert response.status_code == 200 and response.data == fa.PDF + b"statuts"
    assert "attachment" in response.headers["Content-Disposition"]

    fi.assign(reviewer, own_file)  # assigned, no conflict: reads the file, never the messages
    switch(client, login_as, reviewer)
    assert client.get(url).status_code == 404
    switch(client, login_as, other_applicant)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("name, content, message", [
    ("programme.exe", fa.EXE, "n'est pas d'un format accepté"),
    ("rapport.docx", zip_bomb(), "bombe de décompression"),
    ("lettre.pdf", ACTIVE_PDF, "Ce PDF contient du code ou des actions automatiques"),
    ("vide.pdf", b"", "est vide"),
])
def test_a_file_sent_with_a_message_is_checked_as_a_piece(client, login_as, applicant, own_file, name, content,
                                                           message):
    switch(client, login_as, applicant)
    response = post_message(client, own_file, "Ci-joint.", (name, content))
    assert response.status_code == 200
    page = html(response)
    assert f"« {name} »" in page and message in page
    assert db.session.scalar(db.select(db.func.count()).select_from(Message)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(MessageAttachment)) == 0


def test_a_message_takes_five_files_at_most_each_within_the_size_limit(client, login_as, applicant, own_file, app):
    switch(client, login_as, applicant)
    response = post_message(client, own_file, "Beaucoup de pièces.", *[(f"p{i}.pdf", fa.PDF) for i in range(6)])
    assert response.status_code == 200 and "Joignez au plus 5 fichiers à un message" in html(response)
    app.config["MAX_FILE_SIZE"] = 1024
    response = post_message(client, own_file, "Trop gros.", ("gros.pdf", fa.PDF + b"x" * 2000))
    assert response.status_code == 200 and "« gros.pdf » dépasse la taille autorisée" in html(response)
    assert db.session.scalar(db.select(db.func.count()).select_from(Message)) == 0


# --- the printable summary ----------------------------------------------------------------------

def test_the_printable_summary_shows_the_whole_file_to_its_association_and_staff(
        client, login_as, applicant, other_applicant, reviewer, staff, own_file):
    own_file.fingerprint = "a1" * 32
    rib = store_piece(own_file, "rib", fa.PDF + b"rib", timeutil.now())
    statuts = store_piece(own_file, "statuts", fa.PDF + b"statuts", timeutil.now())
    db.session.commit()
    url = f"/candidatures/{own_file.id}/imprimer"
    for user in (applicant, staff):
        switch(client, login_as, user)
        assert url in html(client.get(f"/candidatures/{own_file.id}"))  # the « Imprimer » button
        page = html(client.get(url))
        for text in ("1. Le projet", "2. Les jeunes accompagnés", "3. Les territoires", "4. Le budget",
                     "5. Les pièces jointes", "6. Attestation sur l'honneur et dépôt",
                     own_file.title, "Missions locales", "Réussir Ensemble", "73282932000074",
                     own_file.reference, "a1" * 32, rib.sha256, statuts.sha256, "rib.pdf", "data-print"):
            assert text in page, (user.role, text)
        assert page.count('class="aap-print-section"') == 7  # the identity and deposit, then each section
    css = client.get("/static/app/app.css").get_data(as_text=True)
    assert "@media print" in css and ".aap-print-section + .aap-print-section { break-before: page; }" in css

    fi.assign(reviewer, own_file)
    for user in (reviewer, other_applicant):
        switch(client, login_as, user)
        assert client.get(url).status_code == 404
