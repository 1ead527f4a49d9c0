"""Calls for projects, their criteria and required documents."""
from sqlalchemy import JSON, BigInteger, ForeignKey, Numeric, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import EnumString, LabelledEnum, Model, UTCDateTime, utcnow


class CallStatus(LabelledEnum):
    """The stored state of a call, changed by staff only (publish, close: aap/transitions.py)."""

    DRAFT = "draft", "Brouillon", "new"
    PUBLISHED = "published", "Publié", "success"
    CLOSED = "closed", "Clos", "info"


class CallPhase(LabelledEnum):
    """Where a call stands, as every page shows it: its stored status, then its dates (not yet
    open, open, deadline passed), then the facts of its files (reviews under way, decisions
    published). Computed by aap.calls.services.phase, never stored."""

    DRAFT = "draft", "Brouillon", "new"
    UPCOMING = "upcoming", "À venir", "info"
    OPEN = "open", "Ouvert", "success"
    CLOSED = "closed", "Clos", "info"
    UNDER_REVIEW = "under_review", "En évaluation", "warning"
    DECIDED = "decided", "Décidé", "success"


# The former module constants, kept as aliases of the enum's members.
CALL_DRAFT, CALL_PUBLISHED, CALL_CLOSED = CallStatus.DRAFT, CallStatus.PUBLISHED, CallStatus.CLOSED
CALL_STATUS_LABELS = {status: status.label for status in CallStatus}
# Who reads the files sent for a required document (RequiredPiece.reserved).
VISIBILITY_LABELS = {False: "Visible par les évaluateurs", True: "Réservé à l'instruction"}


class Call(Model):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown, sanitised when shown
    year: Mapped[int]
    reference_prefix: Mapped[str] = mapped_column(String(20), default="1J1M")
    status: Mapped[CallStatus] = mapped_column(EnumString(CallStatus), default=CallStatus.DRAFT)
    opens_at = mapped_column(UTCDateTime, nullable=False)
    closes_at = mapped_column(UTCDateTime, nullable=False)
    review_deadline = mapped_column(UTCDateTime)
    budget_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    min_amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    max_amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # 1 for an annual convention, 3 for a multi-year one (CPO).
    years: Mapped[int] = mapped_column(default=1)
    # The envelope of each year of the call (cents; sums to budget_cents): see `envelopes`.
    budget_per_year: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # Files under this score (/20) are never proposed for selection (aap.selection.optimizer).
    min_score = mapped_column(Numeric(5, 2), nullable=False, default=10, server_default="10")
    # « Tirage au sort dans la zone grise »: staff may draw the places left among the files whose
    # retention is uncertain (aap/selection/grey_zone.py).
    grey_zone_draw: Mapped[bool] = mapped_column(default=False, server_default=false())
    reviewers_per_file: Mapped[int] = mapped_column(default=2)
    avoid_same_region: Mapped[bool] = mapped_column(default=True)
    hide_other_reviews: Mapped[bool] = mapped_column(default=True)
    advance_percent: Mapped[int] = mapped_column(default=50)
    next_number: Mapped[int] = mapped_column(default=1)
    # The aid scheme's identifier in the grantor's registry, if it has one (SCDL dispositifAide;
    # the call's title otherwise: aap/documents/opendata.py).
    aid_scheme_id: Mapped[str] = mapped_column(String(120), default="", server_default="")
    # The service in charge, as the receipt, the decision letters and the help page give it
    # (CRPA R112-5; defaults for the 2025 call and their fall-back: aap/calls/contact.py).
    service_name: Mapped[str] = mapped_column(String(255), default="", server_default="")
    service_address: Mapped[str] = mapped_column(String(500), default="", server_default="")
    service_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    service_phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # The call's help page for applicants (« Questions fréquentes »): Markdown written by staff,
    # sanitised when shown; empty: the default of aap/calls/help.py.
    # The follow-up after the decision (aap/followup/): remind winners who have not returned their
    # convention after this many days; reports due this many months after each year's end;
    # remind this many days before a report's due date (and once after it).
    convention_reminder_days: Mapped[int] = mapped_column(default=15, server_default="15")
    report_due_months: Mapped[int] = mapped_column(default=6, server_default="6")
    report_reminder_days: Mapped[int] = mapped_column(default=30, server_default="30")
    faq: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The legal and budgetary texts of the call's conventions (visas, imputation budgétaire,
    # signatory, State-aid basis, signature mode): {key: value}, an empty key meaning the
    # default (aap/documents/convention_texts.py).
    convention_texts: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    published_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow)

    criteria = relationship("Criterion", back_populates="call", order_by="Criterion.position",
                            cascade="all, delete-orphan")
    pieces = relationship("RequiredPiece", back_populates="call",
                          order_by="RequiredPiece.position", cascade="all, delete-orphan")

    @property
    def is_multi_year(self):
        return self.years > 1

    @property
    def envelopes(self):
        """The envelope of each year, in cents: as set when it sums to the budget, else the budget
        split evenly (the last cents on the first years)."""
        years = max(self.years or 1, 1)
        split = [int(v or 0) for v in self.budget_per_year or []]
        total = self.budget_cents or 0
        if len(split) == years and sum(split) == total:
            return split
        base, remainder = divmod(total, years)
        return [base + (1 if i < remainder else 0) for i in range(years)]

    @property
    def year_list(self):
        return [self.year + i for i in range(max(self.years or 1, 1))]

    @property
    def status_label(self):
        return CallStatus(self.status).label


class Criterion(Model):
    __tablename__ = "criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    weight = mapped_column(Numeric(6, 2), nullable=False, default=1)
    scale_max: Mapped[int] = mapped_column(default=5)
    # What each score means, written by staff and shown to reviewers beside each score:
    # {"0": "Absent", "3": "Solide", "5": "Exemplaire"} (levels of the scale as strings; any may be missing).
    descriptors: Mapped[dict] = mapped_column(JSON, default=dict)

    call = relationship("Call", back_populates="criteria")


class RequiredPiece(Model):
    __tablename__ = "required_documents"
    __table_args__ = (UniqueConstraint("call_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    mandatory: Mapped[bool] = mapped_column(default=True)
    # Comma-separated list of accepted kinds: pdf,jpeg,png,odt,docx,ods,xlsx
    formats: Mapped[str] = mapped_column(String(100), default="pdf,jpeg,png,odt,docx,ods,xlsx")
    # « Réservé à l'instruction »: the files sent for this piece (a RIB, personal data) are read by
    # the association and the staff only, never listed for nor served to a reviewer
    # (aap.permissions.can_download_attachment).
    reserved: Mapped[bool] = mapped_column(default=False, server_default=false())

    call = relationship("Call", back_populates="pieces")

    @property
    def visibility_label(self):
        return VISIBILITY_LABELS[self.reserved]


class CallMailTemplate(Model):
    """The wording of one kind of decision mail for one call, as staff edited it (plain text with
    {placeholders}: aap.calls.mail_templates). A kind without a row uses the default wording."""

    __tablename__ = "call_mail_templates"
    __table_args__ = (UniqueConstraint("call_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # selected, waitlisted, rejected, inadmissible
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    updated_at = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
