"""Uploads and requests that must not hurt the service (issue 13, points 8, 10, 12, 15, 18).

- zip bombs: `applications.files.detect_kind` reads a few hundred bytes of one entry at most and
  refuses archives whose declared sizes are out of bounds (point 8);
- files are served under the extension of their detected kind; PDFs with JavaScript or launch
  actions are refused (`files.check_pdf`, point 12);
- ids too large for the database answer 404 on every route (`web.IdConverter`, point 10);
- pages and downloads are never stored by a cache (`web._security_headers`, point 15);
- a download recorded while another request writes does not fail (`database.writing`, point 18).
"""
import io
import re
import sqlite3
import tracemalloc
import zipfile
import zlib

import pytest

from aap import events
from aap.applications import attachments, files
from aap.extensions import db
from aap.models import Attachment, Event

from . import factories_applications as fa


def odt_bomb(size=64 * 1024 * 1024):
    """An ODT whose `mimetype` entry inflates to `size` bytes (a few dozen kB on the wire)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("mimetype", "w", force_zip64=True) as entry:
            entry.write(b"application/vnd.oasis.opendocument.text")
            chunk = b" " * (1024 * 1024)
            for _ in range(size // len(chunk)):
                entry.write(chunk)
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def many_entries(count):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for number in range(count):
            archive.writestr(f"word/p{number}.xml", "")
    return buffer.getvalue()


def pdf_with_js_in_an_object_stream():
    """A PDF 1.5 whose /OpenAction runs JavaScript, the action compressed in an object stream
    (so that no plain-text scan of the file can see it)."""
    parts, offsets = [b"%PDF-1.5\n"], {}

    def add(number, body):
        offsets[number] = sum(len(p) for p in parts)
        parts.append(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    add(1, b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>")
    add(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    add(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>")
    head, inner = b"4 0 ", b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
    packed = zlib.compress(head + inner)
    add(5, b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (len(head), len(packed))
        + packed + b"\nendstream")
    xref_at = sum(len(p) for p in parts)
    rows = [b"\x00" + (0).to_bytes(4, "big") + (65535).to_bytes(2, "big")]
    for number in range(1, 7):
        if number == 4:
            rows.append(b"\x02" + (5).to_bytes(4, "big") + (0).to_bytes(2, "big"))
        elif number == 6:
            rows.append(b"\x01" + xref_at.to_bytes(4, "big") + (0).to_bytes(2, "big"))
        else:
            rows.append(b"\x01" + offsets[number].to_bytes(4, "big") + (0).to_bytes(2, "big"))
    table = b"".join(rows)
    parts.append(b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(table)
                 + table + b"\nendstream\nendobj\n")
    parts.append(b"startxref\n%d\n%%%%EOF\n" % xref_at)
    return b"".join(parts)


PDF_OPEN_ACTION_JS = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"
                      b" endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
PDF_ESCAPED_JS = PDF_OPEN_ACTION_JS.replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")
PDF_LAUNCH = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /Launch /F (calc.exe) >> >> endobj\n"
              b"trailer << /Root 1 0 R >>\n%%EOF\n")
PDF_FIT_OPEN_ACTION = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction [3 0 R /FitH null] >> endobj\n"
                       b"trailer << /Root 1 0 R >>\n%%EOF\n")


# --- point 8: decompression bombs ----------------------------------------------------------------

def test_a_zip_bomb_is_refused_without_inflating_it():
    bomb = odt_bomb()
    assert len(bomb) < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(files.UnsafeFile) as refusal:
            files.detect_kind(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024, f"{peak} bytes used to look at a {len(bomb)}-byte upload"
    assert "bombe de décompression" in refusal.value.message


def test_an_archive_with_too_many_entries_is_refused():
    with pytest.raises(files.UnsafeFile) as refusal:
        files.detect_kind(many_entries(files.ZIP_MAX_ENTRIES + 1))
    assert "trop d'éléments" in refusal.value.message
    assert files.detect_kind(many_entries(50)) == "docx"


def test_a_huge_mimetype_entry_is_read_only_in_part(monkeypatch):
    # Under the declared-size bounds, the mimetype entry is still read a few hundred bytes at most.
    monkeypatch.setattr(files, "ZIP_MAX_RATIO", 10**9)
    monkeypatch.setattr(files, "ZIP_MAX_TOTAL_SIZE", 10**12)
    tracemalloc.start()
    try:
        kind = files.detect_kind(odt_bomb(32 * 1024 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kind == "odt"  # told from the entry's first bytes
    assert peak < 5 * 1024 * 1024


def test_real_office_files_are_still_recognised():
    assert files.detect_kind(fa.ODT) == "odt"
    assert files.detect_kind(fa.ODS) == "ods"
    assert files.detect_kind(fa.DOCX) == "docx"
    assert files.detect_kind(fa.XLSX) == "xlsx"


def test_the_association_reads_why_its_bomb_is_refused(client, applicant, login_as, call):
    application = fa.empty_draft(call, applicant.association, applicant)
    document = call.pieces[0]
    document.formats = "pdf,odt"
    db.session.commit()
    login_as(applicant)
    response = client.post_form(f"/candidatures/{application.id}/pieces/{document.id}/envoyer",
                                {"file": (io.BytesIO(odt_bomb()), "statuts.odt")},
                                content_type="multipart/form-data", follow_redirects=True)
    assert "bombe de décompression" in response.get_data(as_text=True)
    assert db.session.query(Attachment).count() == 0
    assert not any(files.folder().iterdir())


# --- point 12: served names, active PDFs -----------------------------------------------------------

@pytest.mark.parametrize("name, kind, served", [
    ("facturegnp.exe", "png", "facturegnp.png"),
    ("rapport.final.pdf", "pdf", "rapport.final.pdf"),
    ("photo.JPEG", "jpeg", "photo.jpg"),
    ("budget", "xlsx", "budget.xlsx"),
    ("statuts.pdf.exe", "pdf", "statuts.pdf.pdf"),
    ("", "pdf", "document.pdf"),
])
def test_served_names_take_the_extension_of_the_detected_kind(name, kind, served):
    assert files.display_name(name, kind) == served


def test_a_png_sent_as_exe_is_listed_and_served_as_png(client, applicant, login_as, call):
    application = fa.empty_draft(call, applicant.association, applicant)
    document = call.pieces[0]
    login_as(applicant)
    client.post_form(f"/candidatures/{application.id}/pieces/{document.id}/envoyer",
                     {"file": (io.BytesIO(fa.PNG), "facturegnp.exe")}, content_type="multipart/form-data")
    attachment = db.session.query(Attachment).one()
    page = client.get(f"/candidatures/{application.id}/pieces").get_data(as_text=True)
    assert "facturegnp.png" in page and "facturegnp.exe" not in page
    response = client.get(f"/candidatures/{application.id}/pieces/{attachment.id}")
    assert response.status_code == 200
    assert "facturegnp.png" in response.headers["Content-Disposition"]
    assert response.mimetype == "image/png"


def test_an_older_attachment_with_a_wrong_extension_is_served_under_its_kind(client, applicant, login_as, call):
    application = fa.complete_draft(call, applicant)
    attachment = application.attachments[0]
    attachment.original_name = "ancien.exe"  # stored before names were normalised
    db.session.commit()
    login_as(applicant)
    response = client.get(f"/candidatures/{application.id}/pieces/{attachment.id}")
    assert 'filename=ancien.pdf' in response.headers["Content-Disposition"]


@pytest.mark.parametrize("data", [PDF_OPEN_ACTION_JS, PDF_ESCAPED_JS, PDF_LAUNCH, pdf_with_js_in_an_object_stream()],
                         ids=["open-action-js", "escaped-names", "launch", "object-stream"])
def test_pdfs_with_active_content_are_refused(data):
    with pytest.raises(files.UnsafeFile) as refusal:
        files.detect_kind(data)
    assert "JavaScript" in refusal.value.message


def test_the_object_stream_pdf_hides_its_script_from_a_plain_scan():
    data = pdf_with_js_in_an_object_stream()
    assert b"JavaScript" not in data and b"/JS" not in data


@pytest.mark.parametrize("data", [fa.PDF, PDF_FIT_OPEN_ACTION], ids=["plain", "open-action-view"])
def test_ordinary_pdfs_are_accepted(data):
    assert files.detect_kind(data) == "pdf"


def test_the_association_reads_why_a_pdf_with_javascript_is_refused(client, applicant, login_as, call):
    application = fa.empty_draft(call, applicant.association, applicant)
    document = call.pieces[0]
    login_as(applicant)
    response = client.post_form(f"/candidatures/{application.id}/pieces/{document.id}/envoyer",
                                {"file": (io.BytesIO(PDF_OPEN_ACTION_JS), "statuts.pdf")},
                                content_type="multipart/form-data", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Ce PDF contient du code ou des actions automatiques" in html
    assert db.session.query(Attachment).count() == 0


# --- point 10: ids too large for the database --------------------------------------------------------

def test_ids_too_large_for_the_database_answer_404_on_every_route(app, client, staff, login_as):
    login_as(staff)
    huge = "99999999999999999999999"
    checked = 0
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        url = re.sub(r"<int:[^>]+>", huge, rule.rule)
        url = re.sub(r"<[^>]+>", "x", url)
        for method in ("GET", "POST"):
            if method not in rule.methods:
                continue
            response = client.open(url, method=method, data={"csrf_token": client.csrf_token()})
            assert response.status_code == 404, (method, url, response.status_code)
            checked += 1
    assert checked > 20


def test_the_largest_id_of_the_database_is_still_routed(app, client, applicant, login_as):
    login_as(applicant)
    assert client.get(f"/candidatures/{2**31 - 1}").status_code == 404
    assert client.get(f"/candidatures/{2**31}").status_code == 404


# --- point 15: no cache keeps personal data ------------------------------------------------------------

def test_private_downloads_and_pages_are_never_stored(client, applicant, login_as, call):
    application = fa.complete_draft(call, applicant)
    fa.submit_now(application, applicant)
    login_as(applicant)
    attachment = db.session.query(Attachment).filter_by(application_id=application.id).first()
    for url in (f"/candidatures/{application.id}", f"/candidatures/{application.id}/pieces/{attachment.id}",
                f"/candidatures/{application.id}/recepisse.pdf", "/association/banque"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    assert client.get("/static/dsfr/dsfr.min.css").headers.get("Cache-Control") != "no-store"


def test_pages_reached_without_an_account_are_not_stored_either(client):
    assert client.get("/mot-de-passe/oublie").headers["Cache-Control"] == "no-store"
    assert client.get("/connexion").headers["Cache-Control"] == "no-store"


# --- point 18: a download recorded while another request writes -------------------------------------

@pytest.mark.real_db  # another connection writes
def test_a_download_is_recorded_even_when_another_request_wrote_meanwhile(app, client, applicant, login_as, call,
                                                                           monkeypatch):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's stale read snapshot")
    application = fa.complete_draft(call, applicant)
    attachment = application.attachments[0]
    login_as(applicant)
    association_id = applicant.association_id
    url = f"/candidatures/{application.id}/pieces/{attachment.id}"
    db.session.commit()  # the view starts its own transaction, as in production
    database = db.engine.url.database
    path_of = files.path_of

    def another_request_writes(stored_name):
        # Between the view's first read and its audit record, another process commits a write.
        other = sqlite3.connect(database, timeout=5)
        other.execute("UPDATE associations SET acronym = 'AUTRE' WHERE id = ?", (association_id,))
        other.commit()
        other.close()
        return path_of(stored_name)

    monkeypatch.setattr(files, "path_of", another_request_writes)
    response = client.get(url)
    assert response.status_code == 200
    assert db.session.query(Event).filter_by(action="attachment_downloaded").count() == 1


def test_a_get_that_writes_outside_writing_fails_in_tests(app, client, applicant, login_as, call, monkeypatch):
    """The guard that finds this class of bug: in tests, a GET writing outside database.writing()
    raises, so no view can silently reintroduce it."""
    application = fa.complete_draft(call, applicant)
    attachment = application.attachments[0]
    login_as(applicant)

    def unguarded(item, user):
        events.record("attachment_downloaded", actor=user, application=item.application)
        db.session.commit()

    monkeypatch.setattr(attachments, "record_download", unguarded)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(RuntimeError, match="outside database.writing"):
        client.get(f"/candidatures/{application.id}/pieces/{attachment.id}")
