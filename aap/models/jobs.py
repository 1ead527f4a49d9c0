"""Jobs: long work queued by a web request and done by a worker process (aap/jobs.py, aap/worker.py)."""
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow

JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED = "queued", "running", "done", "failed"
JOB_STATUS_LABELS = {JOB_QUEUED: "En attente", JOB_RUNNING: "En cours", JOB_DONE: "Terminé", JOB_FAILED: "Échec"}


class Job(Model):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_after", "status", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # the handler that runs it (aap.jobs.handler)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=JOB_QUEUED)
    run_after = mapped_column(UTCDateTime, nullable=False, default=utcnow)  # not claimed before (retry delay)
    attempts: Mapped[int] = mapped_column(default=0)  # claims so far, the one under way included
    max_attempts: Mapped[int] = mapped_column(default=3)
    # The worker holding the job ("host:pid") and until when: a lease that worker renews while it
    # runs the job. Once expired (the worker died), another worker takes the job again.
    worker: Mapped[str | None] = mapped_column(String(100))
    lease_until = mapped_column(UTCDateTime)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")  # the last attempt's error
    stored_name: Mapped[str | None] = mapped_column(String(64))  # the result file, under DOCUMENTS_FOLDER/jobs
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    started_at = mapped_column(UTCDateTime)
    finished_at = mapped_column(UTCDateTime)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    call = relationship("Call")

    @property
    def status_label(self):
        if self.status == JOB_QUEUED and self.attempts:
            return "En attente d'un nouvel essai"
        return JOB_STATUS_LABELS[self.status]

    @property
    def percent(self):
        return int(self.done * 100 / self.total) if self.total else (100 if self.status == JOB_DONE else 0)
