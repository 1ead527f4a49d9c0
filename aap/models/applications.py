"""Applications (dossiers), attachments, requests for missing pieces, messages."""
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow

DRAFT = "draft"
SUBMITTED = "submitted"
INCOMPLETE = "incomplete"
ADMISSIBLE = "admissible"
INADMISSIBLE = "inadmissible"
IN_REVIEW = "in_review"
REVIEWED = "reviewed"
SELECTED = "selected"
WAITLISTED = "waitlisted"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"

STATUS_LABELS = {
    DRAFT: "Brouillon",
    SUBMITTED: "Déposé",
    INCOMPLETE: "À compléter",
    ADMISSIBLE: "Recevable",
    INADMISSIBLE: "Irrecevable",
    IN_REVIEW: "En évaluation",
    REVIEWED: "Évalué",
    SELECTED: "Retenu",
    WAITLISTED: "Liste d'attente",
    REJECTED: "Non retenu",
    WITHDRAWN: "Retiré",
}
# DSFR badge colours per state.
STATUS_BADGES = {
    DRAFT: "new", SUBMITTED: "info", INCOMPLETE: "warning", ADMISSIBLE: "info",
    INADMISSIBLE: "error", IN_REVIEW: "info", REVIEWED: "info", SELECTED: "success",
    WAITLISTED: "warning", REJECTED: "error", WITHDRAWN: "new",
}
# States in which the association may edit (all of it in draft, the requested parts when incomplete).
EDITABLE_STATES = {DRAFT, INCOMPLETE}

SCOPES = {"national": "National", "regional": "Régional", "local": "Local"}


class Application(Model):
    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("call_id", "association_id"),
        Index("ix_applications_call_status", "call_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    reference: Mapped[str | None] = mapped_column(String(30), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    # Optimistic locking: every save bumps it; a save based on an older one is a conflict.
    version: Mapped[int] = mapped_column(default=1)

    # 1. Project
    title: Mapped[str] = mapped_column(String(255), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[str] = mapped_column(Text, default="")
    mentoring_forms: Mapped[str] = mapped_column(Text, default="")
    mentoring_duration_months: Mapped[int | None]
    mentor_recruitment: Mapped[str] = mapped_column(Text, default="")
    mentor_training: Mapped[str] = mapped_column(Text, default="")
    mentor_follow_up: Mapped[str] = mapped_column(Text, default="")
    partners: Mapped[str] = mapped_column(Text, default="")
    # 2. Young people reached
    young_count: Mapped[int | None]
    mentor_count: Mapped[int | None]
    share_qpv: Mapped[int | None]
    share_zrr: Mapped[int | None]
    share_ase: Mapped[int | None]
    share_disability: Mapped[int | None]
    share_dropout: Mapped[int | None]
    age_min: Mapped[int | None]
    age_max: Mapped[int | None]
    # 3. Territories
    scope: Mapped[str | None] = mapped_column(String(20))
    departements: Mapped[list] = mapped_column(JSON, default=list)
    # 4. Budget (cents)
    total_cost_cents: Mapped[int | None] = mapped_column(BigInteger)
    requested_cents: Mapped[int | None] = mapped_column(BigInteger)
    requested_per_year: Mapped[list] = mapped_column(JSON, default=list)
    cofunding: Mapped[list] = mapped_column(JSON, default=list)  # [{funder, amount_cents, status}]
    # 6. Attestation
    attestation_name: Mapped[str | None] = mapped_column(String(200))

    # Incomplete: which sections and documents are reopened, until when.
    reopened_sections: Mapped[list] = mapped_column(JSON, default=list)

    submitted_at = mapped_column(UTCDateTime)
    snapshot: Mapped[dict | None] = mapped_column(JSON)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    call = relationship("Call")
    association = relationship("Association")
    attachments = relationship("Attachment", back_populates="application",
                               cascade="all, delete-orphan", order_by="Attachment.id")
    decision = relationship("Decision", uselist=False, back_populates="application")

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    @property
    def status_badge(self):
        return STATUS_BADGES[self.status]

    @property
    def region_code(self):
        return self.association.region_code if self.association else None


class Attachment(Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("required_documents.id"))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)  # random, under instance/uploads
    kind: Mapped[str] = mapped_column(String(10))  # detected from content: pdf, png, ...
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at = mapped_column(UTCDateTime, default=utcnow)

    application = relationship("Application", back_populates="attachments")
    document = relationship("RequiredDocument")

    @property
    def download_name(self):
        """Served under the extension of its detected kind, whatever the name it was sent with."""
        from ..applications.files import download_name
        return download_name(self.original_name, self.kind)


class PieceRequest(Model):
    """Staff ask an association to complete its file before a due date."""

    __tablename__ = "piece_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(Text, default="")
    sections: Mapped[list] = mapped_column(JSON, default=list)  # section codes and "doc:<id>"
    due_at = mapped_column(UTCDateTime, nullable=False)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    answered_at = mapped_column(UTCDateTime)

    application = relationship("Application")


class Message(Model):
    """A message in the thread of a file, between staff and the association."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User")
