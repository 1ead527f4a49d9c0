"""Builders for the application tests: files of each kind, complete drafts, valid form posts."""
import io
import re
import zipfile
from datetime import timedelta

from aap import events, timeutil
from aap.extensions import db
from aap.models import Application, PieceRequest, User

from . import factories

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def zipped(entries, mimetype=None):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if mimetype is not None:
            archive.writestr("mimetype", mimetype)
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX = zipped({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})
XLSX = zipped({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"})
ODT = zipped({"content.xml": "<office:document-content/>"}, "application/vnd.oasis.opendocument.text")
ODS = zipped({"content.xml": "<office:document-content/>"}, "application/vnd.oasis.opendocument.spreadsheet")


def member(association, email="collegue@example.org"):
    """A second member of the same association."""
    account = User(email=email, role="applicant", first_name="Karim", last_name="Collègue",
                   association_id=association.id, email_confirmed_at=timeutil.now())
    account.set_password(factories.PASSWORD)
    db.session.add(account)
    db.session.commit()
    return account


def draft(call, association, **fields):
    """A draft application with every field filled (not its attachments)."""
    return factories.application(call, association, status="draft", **fields)


def empty_draft(call, association, user=None):
    application = Application(call=call, association=association, status="draft", departements=[],
                              cofunding=[], requested_per_year=[], reopened_sections=[],
                              created_by_id=user.id if user else None)
    db.session.add(application)
    db.session.commit()
    return application


def attach_all(application, user, mandatory_only=True):
    """Attach a small PDF to every (mandatory) document slot, through the service."""
    from aap.applications import attachments
    for document in application.call.pieces:
        if document.mandatory or not mandatory_only:
            attachments.add_attachment(application, document, f"{document.code}.pdf",
                                    io.BytesIO(PDF + document.code.encode()), user)
    return application


def complete_draft(call, applicant, **fields):
    """A draft that can be submitted: fields, identity and mandatory attachments."""
    factories.complete_identity(applicant.association)
    application = draft(call, applicant.association, **fields)
    attach_all(application, applicant)
    return application


def make_incomplete(application, sections, staff, due_in_days=7, due_at=None):
    """What the instruction service does: status incomplete, reopened parts, a PieceRequest."""
    due_at = due_at or timeutil.now() + timedelta(days=due_in_days)
    request = PieceRequest(application_id=application.id, requested_by_id=staff.id,
                           message="Merci de compléter le budget.", sections=list(sections), due_at=due_at)
    db.session.add(request)
    application.reopened_sections = list(sections)
    events.change_state(application, "incomplete", staff, reason="Pièces manquantes", action="piece_request")
    db.session.commit()
    return request


def csrf(client):
    return client.csrf_token()


VALID = {
    "projet": {
        "title": "Mentorat pour les jeunes des quartiers", "summary": "Un programme d'un an.",
        "objectives": "Accompagner 300 jeunes vers l'emploi.", "mentoring_forms": "Individuel",
        "mentoring_duration_months": "9", "mentor_recruitment": "Entreprises partenaires",
        "mentor_training": "Deux jours", "mentor_follow_up": "Point mensuel", "partners": "Missions locales",
    },
    "jeunes": {
        "young_count": "300", "mentor_count": "280", "share_qpv": "40", "share_zrr": "10", "share_ase": "5",
        "share_disability": "5", "share_dropout": "20", "age_min": "16", "age_max": "25",
    },
    "territoires": {"scope": "regional", "departements": ["69", "42"]},
    # The budget of an annual call (year 1), balanced: 300 000 € of charges, as many products.
    "budget": {"budget_1_64": "300 000", "budget_1_74_aap": "100 000,50", "budget_1_74_region": "50000",
               "budget_1_75": "149 999,50"},
    "attestation": {"attest": "y", "attestation_name": "Claire Martin"},
}


def section_url(application, section):
    return f"/candidatures/{application.id}/{section}"


def post_section(client, application, section, data, version=None, action="enregistrer"):
    db.session.refresh(application)
    payload = dict(data)
    payload.setdefault("version", str(application.version if version is None else version))
    payload.setdefault("action", action)
    return client.post_form(section_url(application, section), payload)


def autosave(client, application, section, data, version=None):
    db.session.refresh(application)
    payload = dict(data)
    payload.setdefault("version", str(application.version if version is None else version))
    return client.post(section_url(application, section) + "/brouillon", data=payload,
                       headers={"X-CSRFToken": client.csrf_token(), "Accept": "application/json"})


def hidden_version(html):
    match = re.search(r'name="version"[^>]*value="(\d+)"', html) or re.search(r'value="(\d+)"[^>]*name="version"', html)
    assert match, "no version field"
    return int(match.group(1))


def submit_now(application, user):
    """submission.submit() as called by a view (templates need a request context)."""
    from flask import current_app

    from aap.applications import submission

    with current_app.test_request_context():
        return submission.submit(application, user)
