"""Attachments: kinds checked by content, sizes, safe storage, replace/delete, download."""
import hashlib
import io
import re
from pathlib import Path

import pytest

from aap.applications.files import detect_kind, display_name
from aap.extensions import db
from aap.models import Attachment, Event

from . import factories
from . import factories_applications as fa


def slot(call, code="statuts"):
    return next(d for d in call.pieces if d.code == code)


def upload(client, application, document, data, name):
    return client.post(f"/candidatures/{application.id}/pieces/{document.id}/envoyer",
                       data={"csrf_token": client.csrf_token(), "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def attachments():
    db.session.expire_all()
    return db.session.scalars(db.select(Attachment).order_by(Attachment.id)).all()


def stored_files(app):
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("data,kind", [
    (fa.PDF, "pdf"), (fa.PNG, "png"), (fa.JPEG, "jpeg"), (fa.DOCX, "docx"), (fa.XLSX, "xlsx"),
    (fa.ODT, "odt"), (fa.ODS, "ods"), (fa.EXE, None), (b"PK\x03\x04 not a zip", None),
    (fa.zipped({"readme.txt": "hello"}), None), (b"<html><script>", None), (b"", None),
])
def test_kind_is_detected_from_the_content(data, kind):
    assert detect_kind(data) == kind


def test_display_names_keep_accents_and_drop_paths():
    assert display_name("Statuts signés.pdf", "pdf") == "Statuts signés.pdf"
    assert display_name("../../etc/passwd.pdf", "pdf") == "passwd.pdf"
    assert display_name("C:\\Users\\moi\\RIB.pdf", "pdf") == "RIB.pdf"
    assert display_name("..", "pdf") == "document.pdf"
    assert display_name("a\x00b<>.pdf", "pdf") == "ab.pdf"


def test_upload_pdf_records_hash_and_stores_under_a_random_name(app, client, applicant, login_as, call, application):
    login_as(applicant)
    document = slot(call)
    response = upload(client, application, document, fa.PDF, "Statuts signés.pdf")
    assert response.status_code == 303
    [attachment] = attachments()
    assert attachment.document_id == document.id and attachment.kind == "pdf"
    assert attachment.original_name == "Statuts signés.pdf"
    assert attachment.sha256 == hashlib.sha256(fa.PDF).hexdigest() and attachment.size == len(fa.PDF)
    assert re.fullmatch(r"[0-9a-f]{32}", attachment.stored_name)
    assert (Path(app.config["UPLOAD_FOLDER"]) / attachment.stored_name).read_bytes() == fa.PDF
    assert Path(app.config["UPLOAD_FOLDER"]).is_relative_to(app.instance_path)
    html = client.get(f"/candidatures/{application.id}/pieces").get_data(as_text=True)
    assert "Statuts signés.pdf" in html and attachment.sha256 in html


@pytest.mark.parametrize("data,name", [(fa.DOCX, "budget.docx"), (fa.XLSX, "budget.xlsx"), (fa.ODS, "budget.ods"),
                                       (fa.PNG, "scan.png"), (fa.JPEG, "scan.jpg")])
def test_other_accepted_formats(client, applicant, login_as, call, application, data, name):
    login_as(applicant)
    assert upload(client, application, slot(call, "budget_projet"), data, name).status_code == 303
    assert len(attachments()) == 1


def test_executable_renamed_pdf_is_refused(app, client, applicant, login_as, call, application):
    login_as(applicant)
    response = upload(client, application, slot(call), fa.EXE, "statuts.pdf")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "pas d&#39;un format accepté" in html and 'id="resume-erreurs"' in html
    assert attachments() == [] and stored_files(app) == []


def test_format_not_allowed_for_the_slot_is_refused(client, applicant, login_as, call, application):
    document = slot(call)
    document.formats = "pdf"
    db.session.commit()
    login_as(applicant)
    response = upload(client, application, document, fa.PNG, "statuts.png")
    assert response.status_code == 400 and "Le format PNG n&#39;est pas accepté" in response.get_data(as_text=True)
    assert attachments() == []


def test_oversized_file_is_refused(app, client, applicant, login_as, call, application):
    app.config["MAX_FILE_SIZE"] = 1000
    login_as(applicant)
    response = upload(client, application, slot(call), fa.PDF + b"0" * 2000, "gros.pdf")
    assert response.status_code == 400 and "dépasse la taille autorisée" in response.get_data(as_text=True)
    assert attachments() == [] and stored_files(app) == []


def test_total_size_per_application_is_limited(app, client, applicant, login_as, call, application):
    app.config["MAX_APPLICATION_FILES_SIZE"] = 1500
    login_as(applicant)
    big = fa.PDF + b"0" * 900
    assert upload(client, application, slot(call, "statuts"), big, "a.pdf").status_code == 303
    response = upload(client, application, slot(call, "comptes"), big, "b.pdf")
    assert response.status_code == 400 and "ensemble des pièces" in response.get_data(as_text=True)
    # Replacing the same slot with a file of the same size is fine (the old one is not counted).
    assert upload(client, application, slot(call, "statuts"), big + b"1", "a2.pdf").status_code == 303
    assert len(attachments()) == 1


def test_path_in_the_file_name_is_stored_safely(app, client, applicant, login_as, call, application, tmp_path):
    login_as(applicant)
    response = upload(client, application, slot(call), fa.PDF, "../../etc/passwd.pdf")
    assert response.status_code == 303
    [attachment] = attachments()
    assert attachment.original_name == "passwd.pdf"
    assert stored_files(app) == [attachment.stored_name]
    assert not (tmp_path / "etc").exists() and not (Path(app.instance_path) / "etc").exists()
    download = client.get(f"/candidatures/{application.id}/pieces/{attachment.id}")
    assert 'filename=passwd.pdf' in download.headers["Content-Disposition"]


def test_empty_or_missing_file(client, applicant, login_as, call, application):
    login_as(applicant)
    assert upload(client, application, slot(call), b"", "vide.pdf").status_code == 400
    response = client.post(f"/candidatures/{application.id}/pieces/{slot(call).id}/envoyer",
                           data={"csrf_token": client.csrf_token()}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Choisissez un fichier" in response.get_data(as_text=True)
    assert attachments() == []


def test_replace_and_delete(app, client, applicant, login_as, call, application):
    login_as(applicant)
    document = slot(call)
    upload(client, application, document, fa.PDF, "v1.pdf")
    [first] = attachments()
    upload(client, application, document, fa.PDF + b"v2", "v2.pdf")
    [second] = attachments()
    assert second.original_name == "v2.pdf" and stored_files(app) == [second.stored_name]
    actions = db.session.scalars(db.select(Event.action).where(Event.application_id == application.id)).all()
    assert "attachment_added" in actions and "attachment_replaced" in actions
    response = client.post_form(f"/candidatures/{application.id}/pieces/{second.id}/supprimer")
    assert response.status_code == 303
    assert attachments() == [] and stored_files(app) == []
    assert first.stored_name not in stored_files(app)


def test_document_of_another_call_is_404(client, applicant, login_as, application):
    other = factories.call(slug="autre")
    login_as(applicant)
    assert upload(client, application, other.pieces[0], fa.PDF, "x.pdf").status_code == 404


def test_attachments_frozen_after_submission(app, client, applicant, login_as, call):
    application = factories.application(call, applicant.association, status="submitted")
    login_as(applicant)
    response = upload(client, application, slot(call), fa.PDF, "tard.pdf")
    assert response.status_code == 303 and attachments() == []
    html = client.get(f"/candidatures/{application.id}/pieces").get_data(as_text=True)
    assert 'type="file"' not in html


def test_incomplete_file_reopens_only_the_requested_document(client, applicant, staff, login_as, call):
    application = factories.application(call, applicant.association, status="submitted")
    statuts, rib = slot(call, "statuts"), slot(call, "rib")
    fa.make_incomplete(application, [f"doc:{rib.id}"], staff)
    login_as(applicant)
    assert upload(client, application, rib, fa.PDF, "rib.pdf").status_code == 303
    assert upload(client, application, statuts, fa.PDF, "statuts.pdf").status_code == 303
    assert [a.document_id for a in attachments()] == [rib.id]


def test_download_by_member_and_staff(client, applicant, staff, login_as, call, application):
    login_as(applicant)
    upload(client, application, slot(call), fa.PDF, "Statuts signés.pdf")
    [attachment] = attachments()
    response = client.get(f"/candidatures/{application.id}/pieces/{attachment.id}")
    assert response.status_code == 200 and response.data == fa.PDF
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''Statuts%20sign%C3%A9s.pdf" in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "application/pdf"
    downloads = db.select(Event).where(Event.action == "attachment_downloaded").order_by(Event.id)
    [own] = db.session.scalars(downloads).all()  # every download is logged, the members' own too
    assert own.actor_id == applicant.id

    client.post_form("/deconnexion")
    login_as(staff)
    assert client.get(f"/candidatures/{application.id}/pieces/{attachment.id}").status_code == 200
    [_, event] = db.session.scalars(downloads).all()
    assert event.actor_id == staff.id and event.details["attachment_id"] == attachment.id


def test_attachment_of_another_application_is_404(client, applicant, other_applicant, login_as, call, application):
    mine = application
    theirs = fa.empty_draft(call, other_applicant.association, other_applicant)
    fa.attach_all(theirs, other_applicant)
    foreign = attachments()[0]
    login_as(applicant)
    assert client.get(f"/candidatures/{mine.id}/pieces/{foreign.id}").status_code == 404
    assert client.post_form(f"/candidatures/{mine.id}/pieces/{foreign.id}/supprimer").status_code == 404
    assert len(attachments()) == len([d for d in call.pieces if d.mandatory])
