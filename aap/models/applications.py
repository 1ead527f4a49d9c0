"""Applications (dossiers), attachments, requests for missing pieces, messages."""
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Numeric, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..numbers import plain
from .base import EnumString, LabelledEnum, Model, UTCDateTime, utcnow


class Percent(TypeDecorator):
    """A percentage with up to two decimals: NUMERIC(5, 2) in the database, in Python an int when
    whole (40) and a float otherwise (25.5), whatever the database returns — so that snapshots,
    fingerprints and pages show « 40 » as before decimals were accepted."""

    impl = Numeric(5, 2, asdecimal=False)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else float(plain(value))

    def process_result_value(self, value, dialect):
        return plain(value)


class Status(LabelledEnum):
    """The states of an application: stored value, French label, DSFR badge. Which state may
    follow which, through which service and by whom: aap/transitions.py."""

    DRAFT = "draft", "Brouillon", "new"
    SUBMITTED = "submitted", "Déposé", "info"
    INCOMPLETE = "incomplete", "À compléter", "warning"
    ADMISSIBLE = "admissible", "Recevable", "info"
    INADMISSIBLE = "inadmissible", "Irrecevable", "error"
    IN_REVIEW = "in_review", "En évaluation", "info"
    REVIEWED = "reviewed", "Évalué", "info"
    SELECTED = "selected", "Retenu", "success"
    WAITLISTED = "waitlisted", "Liste d'attente", "warning"
    REJECTED = "rejected", "Non retenu", "error"
    WITHDRAWN = "withdrawn", "Retiré", "new"


# The former module constants, kept as aliases of the enum's members.
DRAFT, SUBMITTED, INCOMPLETE = Status.DRAFT, Status.SUBMITTED, Status.INCOMPLETE
ADMISSIBLE, INADMISSIBLE = Status.ADMISSIBLE, Status.INADMISSIBLE
IN_REVIEW, REVIEWED = Status.IN_REVIEW, Status.REVIEWED
SELECTED, WAITLISTED, REJECTED = Status.SELECTED, Status.WAITLISTED, Status.REJECTED
WITHDRAWN = Status.WITHDRAWN
STATUS_LABELS = {status: status.label for status in Status}
# States in which the association may edit (all of it in draft, the requested parts when incomplete).
EDITABLE_STATES = frozenset({Status.DRAFT, Status.INCOMPLETE})
# The decision is published: the file's outcome.
DECIDED_STATES = frozenset({Status.SELECTED, Status.WAITLISTED, Status.REJECTED})

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
    status: Mapped[Status] = mapped_column(EnumString(Status), default=Status.DRAFT)
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
    # Percentages with up to two decimals (« 25,5 ») — see Percent.
    share_qpv: Mapped[float | None] = mapped_column(Percent)
    share_zrr: Mapped[float | None] = mapped_column(Percent)
    share_ase: Mapped[float | None] = mapped_column(Percent)
    share_disability: Mapped[float | None] = mapped_column(Percent)
    share_dropout: Mapped[float | None] = mapped_column(Percent)
    age_min: Mapped[int | None]
    age_max: Mapped[int | None]
    # 3. Territories
    scope: Mapped[str | None] = mapped_column(String(20))
    departements: Mapped[list] = mapped_column(JSON, default=list)
    # 4. Budget: the table of Cerfa 12156's « budget du projet », {year rank: {line code: cents}}
    # (aap/applications/budget.py), with the association's remarks on it.
    budget: Mapped[dict] = mapped_column(JSON, default=dict)
    budget_comment: Mapped[str] = mapped_column(Text, default="")
    # Derived from the budget at each save (budget.derived) and read everywhere else (ranking,
    # selection, conventions, exports): the amount requested (the grant line of every year), its
    # split per year, the total cost (the charges) and the other resources [{funder, amount_cents}]
    # (files deposited before the budget by nature: [{funder, amount_cents, status}] as typed).
    total_cost_cents: Mapped[int | None] = mapped_column(BigInteger)
    requested_cents: Mapped[int | None] = mapped_column(BigInteger)
    requested_per_year: Mapped[list] = mapped_column(JSON, default=list)
    cofunding: Mapped[list] = mapped_column(JSON, default=list)
    # 6. Attestation
    attestation_name: Mapped[str | None] = mapped_column(String(200))

    # Incomplete: which sections and documents are reopened, until when.
    reopened_sections: Mapped[list] = mapped_column(JSON, default=list)
    # Started from an earlier application of the association (« Reprendre ma candidature 2025 »,
    # aap/applications/reuse.py): that application, and the section codes still to review (each
    # leaves the list when the association saves it once).
    reused_from_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id", ondelete="SET NULL"))
    sections_to_review: Mapped[list | None] = mapped_column(JSON, default=list)

    # The ORIGINAL deposit's time (the proof of an on-time deposit: a complement never changes it);
    # snapshot and fingerprint are those of the content in force (the latest deposit). Every deposit,
    # with its own time, snapshot and fingerprint, is a Deposit row (application.deposits).
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
    deposits = relationship("Deposit", back_populates="application", cascade="all, delete-orphan",
                            order_by="Deposit.number")
    reused_from = relationship("Application", remote_side="Application.id", foreign_keys=[reused_from_id])

    @validates("status")
    def _as_status(self, _key, value):
        """A state set as its stored value (« submitted ») is kept as the enum's member, as when
        read back: pages read its label and badge (templates/macros/badges.html)."""
        return None if value is None else Status(value)

    @property
    def status_label(self):
        return Status(self.status).label

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
    document = relationship("RequiredPiece")

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
    # Staff may cancel a request: the file goes back to the state it was in (from_status).
    cancelled_at = mapped_column(UTCDateTime)
    from_status: Mapped[str] = mapped_column(String(20), default=SUBMITTED)
    # A request for complements to a yearly report (aap/followup/reports.py) rather than to the file.
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)

    application = relationship("Application")


DEPOSIT_ORIGINAL = "original"
DEPOSIT_COMPLEMENT = "complement"
DEPOSIT_KINDS = {DEPOSIT_ORIGINAL: "Récépissé de dépôt", DEPOSIT_COMPLEMENT: "Récépissé de complément"}


class Deposit(Model):
    """One deposit of a file, frozen for ever: the original deposit (number 1, the association's
    proof of an on-time deposit) or a complement answering a request for pieces (2, 3...). Each has
    its own time, snapshot, fingerprint and receipt; a deposit row is never changed."""

    __tablename__ = "deposits"
    __table_args__ = (UniqueConstraint("application_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    submitted_at = mapped_column(UTCDateTime, nullable=False)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    piece_request_id: Mapped[int | None] = mapped_column(ForeignKey("piece_requests.id"))
    snapshot: Mapped[dict] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The attachment rows deposited, with their stored file names: what a cancelled request restores.
    stored_files: Mapped[list] = mapped_column(JSON, default=list)

    application = relationship("Application", back_populates="deposits")
    piece_request = relationship("PieceRequest")
    submitted_by = relationship("User")

    @property
    def is_original(self):
        return self.kind == DEPOSIT_ORIGINAL

    @property
    def label(self):
        return DEPOSIT_KINDS[self.kind]

    @property
    def filename(self):
        reference = self.snapshot.get("reference") or self.application.reference
        if self.is_original:
            return f"recepisse-{reference}.pdf"
        return f"recepisse-complement-{self.number - 1}-{reference}.pdf"


class Message(Model):
    """A message in the thread of a file, between staff and the association."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User")
    attachments = relationship("MessageAttachment", back_populates="message", cascade="all, delete-orphan",
                               order_by="MessageAttachment.id")


class MessageAttachment(Model):
    """A file sent with a message (checked as the pieces are); read by the association's members
    and staff only, never by a reviewer (aap.instruction.services.can_use_messages)."""

    __tablename__ = "message_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)  # random, under instance/uploads
    kind: Mapped[str] = mapped_column(String(10))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at = mapped_column(UTCDateTime, default=utcnow)

    message = relationship("Message", back_populates="attachments")

    @property
    def download_name(self):
        from ..applications.files import download_name
        return download_name(self.original_name, self.kind)
