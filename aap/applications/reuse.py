"""Reuse, as associations expect: a new application started from an earlier one, and the pieces
that do not change from one call to the next kept in the association's space.

- start_from(): « Reprendre ma candidature 2025 ». A new draft takes every content column of the
  earlier application (copied_columns(): the whole model but its keys, state, bookkeeping, dates
  and actors, so that a field added to the model later is copied too); nothing is submitted and
  each section with fields carries a notice until the association saves it once
  (Application.sections_to_review; the deposit waits for it, see review_items()).
- kept_pieces(): the association's documents (« Mes documents »): for each code of
  REUSABLE_DOCUMENTS, the latest version among the pieces sent in its applications and the
  files sent directly on that page (AssociationDocument), dated by the first time that very
  content (same SHA-256) was sent. reuse_piece() attaches a copy of it to a new application (a new
  stored file, the same fingerprint) through attachments.add_attachment, with its checks.

Who reads them: the association's members and staff (aap.permissions.can_read_association_document),
never a reviewer.
"""
import copy
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from .. import events, timeutil
from ..calls.services import is_open as call_is_open
from ..database import lock, writing
from ..extensions import db
from ..models import Application, AssociationDocument, Attachment, RequiredPiece
from ..models.applications import DRAFT
from . import attachments, completeness, deadlines, files
from . import sections as S
from .errors import ApplicationError, AttachmentError, NotEditable

# The pieces that do not change from one call to the next, by RequiredPiece.code (the codes of
# the default documents of a call, aap/calls/template.py), in the order of « Mes documents ».
REUSABLE_DOCUMENTS = {
    "statuts": "Statuts signés de l'association",
    "dirigeants": "Liste des membres du conseil d'administration et du bureau",
    "rib": "Relevé d'identité bancaire (RIB) au nom de l'association",
}
# A kept piece sent longer ago than this is offered with a warning (statutes or a board may have changed).
PIECE_MAX_AGE = timedelta(days=365)
# Any kind the pieces accept (the default formats of a required document).
DOCUMENT_KINDS = tuple(files.KINDS)

# Columns of an application that are not its content: never copied (besides the primary and
# foreign keys, and the dates and times: every column ending in « _at »). A bookkeeping column
# added to the model belongs here.
NOT_COPIED = frozenset({"reference", "status", "version", "reopened_sections", "snapshot", "fingerprint",
                        "sections_to_review"})


def copied_columns():
    """The attributes of Application that a reused application takes from its source."""
    names = []
    for attribute in Application.__mapper__.column_attrs:
        column = attribute.columns[0]
        if column.primary_key or column.foreign_keys or attribute.key in NOT_COPIED or attribute.key.endswith("_at"):
            continue
        names.append(attribute.key)
    return names


def review_codes():
    """The sections the association reviews after a reuse: every section with fields."""
    return [section.code for section in S.SECTIONS if section.fields]


def source_label(source):
    return f"candidature {source.call.year}"


# ---------------------------------------------------------------------------------------------
# Starting from an earlier application

def _source_order(application):
    """Newest call first; a deposited file before a draft that never left."""
    return (application.call.year, application.submitted_at is not None, application.created_at)


def pick_source(applications, call):
    """The application to offer to start from for `call`, among the association's `applications`
    (already loaded, with their calls), or None."""
    candidates = [a for a in applications if a.call_id != call.id]
    return max(candidates, key=_source_order) if candidates else None


def source_for(association_id, call):
    """pick_source() read from the database (one query)."""
    if association_id is None:
        return None
    from sqlalchemy.orm import contains_eager
    applications = db.session.scalars(
        db.select(Application).join(Application.call).options(contains_eager(Application.call))
        .where(Application.association_id == association_id, Application.call_id != call.id)).all()
    return pick_source(applications, call)


def start_from(call, source, user):
    """A new draft for `call`, every content field copied from `source` (an application of the
    user's association to another call): (application, created). An existing application of the
    association to `call` is returned as it is, never overwritten."""
    if user.association_id is None or source.association_id != user.association_id:
        raise ApplicationError("Cette candidature n'est pas celle de votre association.")
    if source.call_id == call.id:
        raise ApplicationError("Choisissez une candidature à un appel précédent.")
    existing = db.session.scalar(db.select(Application).where(
        Application.call_id == call.id, Application.association_id == user.association_id))
    if existing is not None:
        return existing, False
    if not call_is_open(call):
        raise ApplicationError("Cet appel à projets n'est pas ouvert aux candidatures.")
    now = timeutil.now()
    application = Application(call=call, association_id=user.association_id, status=DRAFT,
                              created_by_id=user.id, updated_by_id=user.id, created_at=now, updated_at=now,
                              reopened_sections=[], reused_from_id=source.id, sections_to_review=review_codes())
    for name in copied_columns():
        setattr(application, name, copy.deepcopy(getattr(source, name)))
    db.session.add(application)
    db.session.flush()
    events.record("application_reused", actor=user, application=application, source_id=source.id,
                  source_reference=source.reference, source_year=source.call.year)
    db.session.commit()
    return application, True


def mark_reviewed(application, section_code):
    """The association saved this section once: its « vérifiez cette partie » notice goes."""
    if section_code not in (application.sections_to_review or []):
        return
    application = lock(application)
    remaining = [code for code in (application.sections_to_review or []) if code != section_code]
    application.sections_to_review = remaining
    db.session.commit()


def review_items(application):
    """What the deposit waits for: each section taken from an earlier application and not saved since."""
    pending = application.sections_to_review or []
    if not pending:
        return []
    label = source_label(application.reused_from) if application.reused_from else "candidature précédente"
    return [completeness.MissingItem(f"{S.BY_CODE[code].title} : partie reprise de votre {label}, à vérifier "
                                 "puis enregistrer", code)
            for code in S.SECTION_CODES if code in pending]


# ---------------------------------------------------------------------------------------------
# The association's documents

@dataclass
class KeptPiece:
    code: str
    label: str            # the kind of piece (« Statuts signés de l'association »)
    name: str             # the file's name
    kind: str
    size: int
    sha256: str
    sent_at: datetime     # the first time this content (this SHA-256) was sent by the association
    last_sent_at: datetime
    source: object        # the Attachment or AssociationDocument to read it from

    @property
    def from_application(self):
        return isinstance(self.source, Attachment)

    def is_old(self, now=None):
        return (now or timeutil.now()) - self.sent_at > PIECE_MAX_AGE


def kept_pieces(association_id):
    """{code: KeptPiece} of the association's documents (two queries)."""
    copies = []
    rows = db.session.execute(
        db.select(Attachment, RequiredPiece.code)
        .join(RequiredPiece, RequiredPiece.id == Attachment.document_id)
        .join(Application, Application.id == Attachment.application_id)
        .where(Application.association_id == association_id,
               RequiredPiece.code.in_(tuple(REUSABLE_DOCUMENTS)))).all()
    copies += [(code, attachment) for attachment, code in rows]
    copies += [(document.code, document) for document in db.session.scalars(
        db.select(AssociationDocument).where(AssociationDocument.association_id == association_id,
                                             AssociationDocument.code.in_(tuple(REUSABLE_DOCUMENTS))))]
    groups = {}
    for code, item in copies:
        groups.setdefault((code, item.sha256), []).append(item)
    kept = {}
    for (code, sha256), items in groups.items():
        latest = max(items, key=lambda i: (i.uploaded_at, i.id))
        piece = KeptPiece(code=code, label=REUSABLE_DOCUMENTS[code], name=latest.original_name, kind=latest.kind,
                          size=latest.size, sha256=sha256, sent_at=min(i.uploaded_at for i in items),
                          last_sent_at=latest.uploaded_at, source=latest)
        if code not in kept or piece.last_sent_at > kept[code].last_sent_at:
            kept[code] = piece
    return {code: kept[code] for code in REUSABLE_DOCUMENTS if code in kept}


def add_document(association, code, filename, stream, user):
    """A piece sent directly on « Mes documents » (checked as the pieces of an application)."""
    if code not in REUSABLE_DOCUMENTS:
        raise AttachmentError("Choisissez le type de pièce.")
    data = attachments.read_limited(stream, current_app.config["MAX_FILE_SIZE"])
    if not data:
        raise AttachmentError("Le fichier est vide.")
    try:
        kind = files.detect_kind(data)
    except files.UnsafeFile as refusal:
        raise AttachmentError(refusal.message) from None
    if kind not in DOCUMENT_KINDS:
        raise AttachmentError(
            "Ce fichier n'est pas d'un format accepté (le contenu est vérifié, pas seulement l'extension). "
            "Formats acceptés : " + ", ".join(files.KINDS[k][1] for k in DOCUMENT_KINDS) + ".")
    stored = files.new_stored_name()
    files.write(stored, data)
    try:
        document = AssociationDocument(
            association_id=association.id, code=code, original_name=files.display_name(filename, kind),
            stored_name=stored, kind=kind, content_type=files.KINDS[kind][0], size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=user.id, uploaded_at=timeutil.now())
        db.session.add(document)
        events.record("association_document_added", actor=user, association_id=association.id,
                      document=REUSABLE_DOCUMENTS[code], name=document.original_name, sha256=document.sha256)
        db.session.commit()
    except Exception:
        db.session.rollback()
        files.remove(stored)
        raise
    return document


def offers(application, kept=None):
    """{document id: KeptPiece} the pieces page offers to reuse: a kept piece for each editable
    document of the call with a reusable code, when it is not already the file's piece."""
    kept = kept_pieces(application.association_id) if kept is None else kept
    if not kept:
        return {}
    current = {a.document_id: a.sha256 for a in application.attachments}
    return {document.id: kept[document.code] for document in application.call.pieces
            if document.code in kept and current.get(document.id) != kept[document.code].sha256
            and deadlines.piece_editable(application, document.id)}


def reuse_piece(application, document, user, expected_sha256=None):
    """Attach a copy of the kept piece for this document's code to the application: a new stored
    file with the same content, hence the same SHA-256."""
    if document.call_id != application.call_id:
        raise AttachmentError("Cette pièce n'est pas demandée par l'appel.")
    if not deadlines.piece_editable(application, document.id):
        raise NotEditable("Cette pièce ne peut plus être modifiée.")
    piece = kept_pieces(application.association_id).get(document.code)
    if piece is None:
        raise AttachmentError("Aucune pièce de ce type n'est conservée dans les documents de "
                                       "l'association : envoyez le fichier.")
    if expected_sha256 and expected_sha256 != piece.sha256:
        raise AttachmentError("Les documents de l'association ont changé entre-temps : vérifiez la "
                                       "pièce proposée, puis reprenez-la.")
    try:
        data = files.path_of(piece.source.stored_name).read_bytes()
    except (OSError, ValueError):
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != piece.sha256:
        raise AttachmentError("Le fichier conservé est introuvable ou altéré : envoyez-le à nouveau.")
    return attachments.add_attachment(application, document, piece.name, io.BytesIO(data), user,
                                   reused_from=piece.sent_at.isoformat())


def record_document_download(document, user):
    """Every download of a kept piece is recorded (who, when, which file), as for the pieces of a file."""
    with writing():
        events.record("association_document_downloaded", actor=user, association_id=document.association_id,
                      name=document.original_name, sha256=document.sha256)
        db.session.commit()
