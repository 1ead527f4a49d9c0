"""Background document jobs (bulk generation of conventions), with their progress."""
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow

JOB_PENDING, JOB_RUNNING, JOB_DONE, JOB_FAILED = "pending", "running", "done", "failed"
JOB_STATUS_LABELS = {JOB_PENDING: "En attente", JOB_RUNNING: "En cours", JOB_DONE: "Terminé",
                     JOB_FAILED: "Échec"}


class DocumentJob(Model):
    __tablename__ = "document_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30), default="conventions")
    status: Mapped[str] = mapped_column(String(20), default=JOB_PENDING)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    stored_name: Mapped[str | None] = mapped_column(String(64))  # the ZIP, under DOCUMENTS_FOLDER/jobs
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    started_at = mapped_column(UTCDateTime)
    finished_at = mapped_column(UTCDateTime)
    # Bumped at every step: a pending/running job without news for a while was interrupted.
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    call = relationship("Call")

    @property
    def status_label(self):
        return JOB_STATUS_LABELS[self.status]

    @property
    def percent(self):
        return int(self.done * 100 / self.total) if self.total else (100 if self.status == JOB_DONE else 0)
