"""Private notes (« annotations privées »): staff's notes on a file or on an association, and a
reviewer's own notes on a file assigned to them. Who reads which note is one rule,
aap/permissions.can_read_note; the reads below apply it in their query.

Every note and every edit is in the journal (events « private_note_added » / « private_note_edited »,
without the text: the journal says who wrote when, the note keeps what). Those events are not in
the association's allow-list (aap/applications/history.py). An edit keeps the replaced text with
its date and writer (PrivateNoteVersion).
"""
from sqlalchemy.orm import selectinload

from .. import events, timeutil
from ..extensions import db
from ..models import PrivateNote, PrivateNoteVersion
from ..models.notes import REVIEWER_NOTE, STAFF_NOTE
from ..permissions import can_edit_note, can_keep_reviewer_notes, can_write_staff_notes

NOTE_MAX_LENGTH = 5000


class NoteError(ValueError):
    """A refused note (French message)."""


def _text(body):
    body = (body or "").strip()
    if not body:
        raise NoteError("Écrivez le texte de la note.")
    if len(body) > NOTE_MAX_LENGTH:
        raise NoteError(f"La note ne doit pas dépasser {NOTE_MAX_LENGTH} caractères.")
    return body


def add_note(actor, body, application=None, association_id=None):
    """A note by `actor` on a file (`application`) or on an association (`association_id`): a
    staff note for staff, the reviewer's own note for a reviewer of the file. Committed."""
    body = _text(body)
    if actor.is_staff:
        scope = STAFF_NOTE
    elif application is not None and can_keep_reviewer_notes(actor, application):
        scope = REVIEWER_NOTE
    else:
        raise NoteError("Vous ne pouvez pas annoter ce dossier.")
    if application is not None:
        association_id = application.association_id
    if association_id is None:
        raise NoteError("Une note porte sur un dossier ou sur une association.")
    now = timeutil.now()
    note = PrivateNote(association_id=association_id, application_id=getattr(application, "id", None),
                       scope=scope, author_id=actor.id, body=body, created_at=now, updated_at=now,
                       updated_by_id=actor.id)
    db.session.add(note)
    db.session.flush()
    events.record("private_note_added", actor=actor, application=application, association_id=association_id,
                  note_id=note.id, scope=scope)
    db.session.commit()
    return note


def edit_note(note, actor, body):
    """Replace the note's text; the former text is kept with its date and writer. Committed."""
    if not can_edit_note(actor, note):
        raise NoteError("Vous ne pouvez pas modifier cette note.")
    body = _text(body)
    if body == note.body:
        return note
    note.versions.append(PrivateNoteVersion(body=note.body, written_at=note.updated_at,
                                            written_by_id=note.updated_by_id, replaced_at=timeutil.now()))
    note.body, note.updated_at, note.updated_by_id = body, timeutil.now(), actor.id
    events.record("private_note_edited", actor=actor, application=note.application,
                  association_id=note.association_id, note_id=note.id, scope=note.scope)
    db.session.commit()
    return note


def _notes(*conditions):
    return db.session.scalars(
        db.select(PrivateNote)
        .options(selectinload(PrivateNote.author), selectinload(PrivateNote.updated_by),
                 selectinload(PrivateNote.versions).selectinload(PrivateNoteVersion.written_by))
        .where(*conditions)
        .order_by(PrivateNote.created_at.desc(), PrivateNote.id.desc())).all()


def notes_on_file(application, user):
    """The notes of the file that `user` reads: staff, the staff notes; a reviewer of the file, their own."""
    if can_write_staff_notes(user):
        return _notes(PrivateNote.application_id == application.id, PrivateNote.scope == STAFF_NOTE)
    if can_keep_reviewer_notes(user, application):
        return _notes(PrivateNote.application_id == application.id, PrivateNote.scope == REVIEWER_NOTE,
                      PrivateNote.author_id == user.id)
    return []


def notes_on_association(association_id):
    """Staff's notes on the association itself (not on one of its files)."""
    return _notes(PrivateNote.association_id == association_id, PrivateNote.application_id.is_(None),
                  PrivateNote.scope == STAFF_NOTE)


def staff_note_counts(association_id):
    """{application id: number of staff notes} of the association's files (one query)."""
    rows = db.session.execute(
        db.select(PrivateNote.application_id, db.func.count())
        .where(PrivateNote.association_id == association_id, PrivateNote.application_id.is_not(None),
               PrivateNote.scope == STAFF_NOTE)
        .group_by(PrivateNote.application_id)).all()
    return dict(rows)
