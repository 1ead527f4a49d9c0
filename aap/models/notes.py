"""Private notes (« annotations privées »): staff's notes on a file or on an association, and a
reviewer's own notes on a file assigned to them. Never read by the association; a staff note never
by a reviewer; a reviewer's note by its author only (aap/permissions.py can_read_note)."""
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow

STAFF_NOTE, REVIEWER_NOTE = "staff", "reviewer"


class PrivateNote(Model):
    __tablename__ = "private_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Always the association; the file too for a note on a file (None: a note on the association).
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"),
                                                       index=True)
    scope: Mapped[str] = mapped_column(String(10), default=STAFF_NOTE)  # STAFF_NOTE or REVIEWER_NOTE
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    # The current text's time and writer (the author, or the staff member who last edited it).
    updated_at = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    application = relationship("Application")
    association = relationship("Association")
    author = relationship("User", foreign_keys=[author_id])
    updated_by = relationship("User", foreign_keys=[updated_by_id])
    versions = relationship("PrivateNoteVersion", back_populates="note", cascade="all, delete-orphan",
                            order_by="PrivateNoteVersion.id.desc()", passive_deletes=True)

    @property
    def edited(self):
        return bool(self.versions)


class PrivateNoteVersion(Model):
    """An earlier text of a note, kept when it was edited: the text, when and by whom it was written."""

    __tablename__ = "private_note_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("private_notes.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    written_at = mapped_column(UTCDateTime)
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replaced_at = mapped_column(UTCDateTime, default=utcnow)

    note = relationship("PrivateNote", back_populates="versions")
    written_by = relationship("User")
