"""The pieces an association uploads into its file: checks, storage, replacement, deletion and
the record of every download.
"""
import hashlib

from flask import current_app

from .. import events, timeutil
from ..database import writing
from ..extensions import db
from ..models import Attachment
from . import files
from .deadlines import piece_editable
from .deposits import deposited_stored_names
from .errors import AttachmentError, NotEditable


def read_limited(stream, limit):
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise AttachmentError(f"Le fichier dépasse la taille autorisée ({size_label(limit)} par fichier).")
    return data


def size_label(n):
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} Mo".replace(".0 ", " ").replace(".", ",")
    if n >= 1024:
        return f"{n // 1024} ko"
    return f"{n} octets"


def checked_upload(stream, allowed):
    """(bytes, kind) of an uploaded piece, checked as every piece is: the size limit of the
    configuration, not empty, its content (not its extension) one of the `allowed` kinds
    (files.KINDS), a PDF without active content. Raises AttachmentError with the French reason.
    Used for a file's pieces and for a yearly report's (aap/followup/reports.py)."""
    data = read_limited(stream, current_app.config["MAX_FILE_SIZE"])
    if not data:
        raise AttachmentError("Le fichier est vide.")
    try:
        kind = files.detect_kind(data)
    except files.UnsafeFile as refusal:
        raise AttachmentError(refusal.message) from None
    allowed_text = ", ".join(files.KINDS[k][1] for k in allowed if k in files.KINDS)
    if kind is None:
        raise AttachmentError(f"Ce fichier n'est pas d'un format accepté (le contenu est vérifié, pas seulement "
                              f"l'extension). Formats acceptés : {allowed_text}.")
    if kind not in allowed:
        raise AttachmentError(f"Le format {files.KINDS[kind][1]} n'est pas accepté pour cette pièce. "
                              f"Formats acceptés : {allowed_text}.")
    return data, kind


def add_attachment(application, document, filename, stream, user, reused_from=None):
    """Store an uploaded file in a document slot (replacing the previous one). `reused_from`: the
    date (ISO) of the association's kept piece this file is a copy of (aap/applications/reuse.py)."""
    config = current_app.config
    if document.call_id != application.call_id:
        raise AttachmentError("Cette pièce n'est pas demandée par l'appel.")
    if not piece_editable(application, document.id):
        raise NotEditable("Cette pièce ne peut plus être modifiée.")
    allowed = [k.strip() for k in (document.formats or "").split(",") if k.strip()]
    data, kind = checked_upload(stream, allowed)
    previous = [a for a in application.attachments if a.document_id == document.id]
    used = sum(a.size for a in application.attachments if a not in previous)
    if used + len(data) > config["MAX_APPLICATION_FILES_SIZE"]:
        raise AttachmentError(f"L'ensemble des pièces du dossier dépasserait la taille autorisée "
                              f"({size_label(config['MAX_APPLICATION_FILES_SIZE'])}).")
    stored = files.new_stored_name()
    files.write(stored, data)
    try:
        attachment = Attachment(application=application, document_id=document.id,
                                original_name=files.display_name(filename, kind), stored_name=stored,
                                kind=kind, content_type=files.KINDS[kind][0], size=len(data),
                                sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=user.id,
                                uploaded_at=timeutil.now())
        old_names = [a.stored_name for a in previous]
        for old in previous:
            application.attachments.remove(old)
        db.session.add(attachment)
        events.record("attachment_replaced" if previous else "attachment_added", actor=user,
                      application=application, document=document.label, name=attachment.original_name,
                      sha256=attachment.sha256, **({"reused_from": reused_from} if reused_from else {}))
        application.updated_at = timeutil.now()
        application.updated_by_id = user.id
        db.session.commit()
    except Exception:
        db.session.rollback()
        files.remove(stored)
        raise
    deposited = deposited_stored_names(application)
    for name in old_names:
        if name not in deposited:
            files.remove(name)
    return attachment


def delete_attachment(attachment, user):
    application = attachment.application
    if attachment.document_id is None or not piece_editable(application, attachment.document_id):
        raise NotEditable("Cette pièce ne peut plus être modifiée.")
    stored = attachment.stored_name
    events.record("attachment_deleted", actor=user, application=application,
                  document=attachment.document.label if attachment.document else "",
                  name=attachment.original_name)
    application.attachments.remove(attachment)
    db.session.commit()
    if stored not in deposited_stored_names(application):
        files.remove(stored)


def record_download(attachment, user):
    """Every download of a piece is recorded (who, when, which file), the members' own too."""
    with writing():
        events.record("attachment_downloaded", actor=user, application=attachment.application,
                      attachment_id=attachment.id, name=attachment.original_name)
        db.session.commit()
