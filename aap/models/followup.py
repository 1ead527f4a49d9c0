"""After the decision (the follow-up of a winner's file): the documents of a convention's
signature, its amendments (« avenants »), its payment lines, its yearly reports with their pieces
and any amount to recover, and the plan's reference figures shown on the steering page.

The convention itself (number, state, dates) is `models.documents.Convention`. Which state may
follow which, through which service and by whom: aap/transitions.py (CONVENTION, AMENDMENT,
PAYMENT, REPORT, RECOVERY).
"""
from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..numbers import plain
from .base import EnumString, LabelledEnum, Model, UTCDateTime, utcnow


class ConventionState(LabelledEnum):
    """A convention's (and an amendment's) life: issued to the winner, signed and returned by the
    association, countersigned by the State, in force once notified; later amended or terminated."""

    ISSUED = "issued", "Émise, en attente de signature", "info"
    ASSOCIATION_SIGNED = "association_signed", "Signée par l'association", "info"
    COUNTERSIGNED = "countersigned", "Contresignée par l'État", "info"
    IN_FORCE = "in_force", "En vigueur", "success"
    AMENDED = "amended", "En vigueur, modifiée par avenant", "success"
    TERMINATED = "terminated", "Résiliée", "error"


# What a convention document is (ConventionDocument.kind).
DOCUMENT_ASSOCIATION_SIGNED = "association_signed"
DOCUMENT_COUNTERSIGNED = "countersigned"
DOCUMENT_KINDS = {
    DOCUMENT_ASSOCIATION_SIGNED: "Signée par l'association",
    DOCUMENT_COUNTERSIGNED: "Contresignée par l'État",
}


class ConventionDocument(Model):
    """A PDF of a convention (or of one of its amendments) sent back signed: by the association,
    or countersigned by staff. Never changed nor deleted: a new upload supersedes the previous one
    (`superseded_at`), which stays in the history. `signature` holds the check of its digital
    signatures (aap/followup/pades.py), or {"kind": "scanned"} when it carries none."""

    __tablename__ = "convention_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("conventions.id", ondelete="CASCADE"), index=True)
    amendment_id: Mapped[int | None] = mapped_column(ForeignKey("amendments.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)  # random, under the upload folder
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[dict] = mapped_column(JSON, default=dict)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at = mapped_column(UTCDateTime, default=utcnow)
    superseded_at = mapped_column(UTCDateTime)

    convention = relationship("Convention", back_populates="documents")
    amendment = relationship("Amendment", back_populates="documents")
    uploaded_by = relationship("User")

    @property
    def kind_label(self):
        return DOCUMENT_KINDS.get(self.kind, self.kind)


class Amendment(Model):
    """An « avenant » to a convention: a change of amount, of duration or of the payment schedule,
    generated as a PDF from its data like the convention and signed the same way (its state is a
    ConventionState: issued → association_signed → countersigned → in_force)."""

    __tablename__ = "amendments"
    __table_args__ = (UniqueConstraint("convention_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("conventions.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]  # 1, 2... within its convention
    state: Mapped[ConventionState] = mapped_column(EnumString(ConventionState), default=ConventionState.ISSUED)
    reason: Mapped[str] = mapped_column(Text, default="")
    # What changes: {"amount_cents", "amount_per_year": [...], "years": [...], "schedule": [...]}
    # (only the keys that change), and what they were before.
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    previous: Mapped[dict] = mapped_column(JSON, default=dict)
    data_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    association_signed_at = mapped_column(UTCDateTime)
    countersigned_on = mapped_column(Date)
    state_signatory: Mapped[str] = mapped_column(String(200), default="")
    in_force_at = mapped_column(UTCDateTime)

    convention = relationship("Convention", back_populates="amendments")
    documents = relationship("ConventionDocument", back_populates="amendment",
                             order_by="ConventionDocument.id")

    @property
    def application(self):
        return self.convention.application


class PaymentState(LabelledEnum):
    PLANNED = "planned", "Prévu", "new"
    REQUESTED = "requested", "Mis en paiement", "info"
    PAID = "paid", "Payé", "success"
    SUSPENDED = "suspended", "Suspendu", "warning"
    CANCELLED = "cancelled", "Annulé", "new"  # replaced by an amendment's schedule


PAYMENT_ADVANCE = "advance"
PAYMENT_BALANCE = "balance"
PAYMENT_KINDS = {PAYMENT_ADVANCE: "Avance", PAYMENT_BALANCE: "Solde"}


class PaymentLine(Model):
    """One payment of a convention's schedule (the advance or the balance of a year): planned →
    put to payment (« mise en paiement », with the Chorus reference when known) → paid, or
    suspended with a reason. A year's balance waits for the previous year's report."""

    __tablename__ = "payment_lines"
    __table_args__ = (
        UniqueConstraint("convention_id", "year", "kind", "generation"),
        Index("ix_payment_lines_state_planned_on", "state", "planned_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("conventions.id", ondelete="CASCADE"), index=True)
    year: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10))  # PAYMENT_KINDS
    # 0 for the convention's schedule, the amendment's number for a schedule an amendment set.
    generation: Mapped[int] = mapped_column(default=0, server_default="0")
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    planned_on = mapped_column(Date, nullable=False)
    state: Mapped[PaymentState] = mapped_column(EnumString(PaymentState), default=PaymentState.PLANNED)
    requested_on = mapped_column(Date)
    chorus_reference: Mapped[str] = mapped_column(String(40), default="")
    paid_on = mapped_column(Date)
    suspended_reason: Mapped[str] = mapped_column(Text, default="")
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    convention = relationship("Convention", back_populates="payments")

    @property
    def application(self):
        return self.convention.application

    @property
    def kind_label(self):
        return PAYMENT_KINDS.get(self.kind, self.kind)


class ReportState(LabelledEnum):
    DRAFT = "draft", "Brouillon", "new"
    SUBMITTED = "submitted", "Déposé", "info"
    INCOMPLETE = "incomplete", "Compléments demandés", "warning"
    ACCEPTED = "accepted", "Accepté", "success"


class Report(Model):
    """A convention's yearly report: the activity (young people accompanied and their breakdown,
    mentors, pairs, départements, a qualitative account), the compte rendu financier (content of
    Cerfa 15059: charges and products achieved against the granted budget, by nature, gaps over
    15 % explained) and its pieces. Filed before `due_on` (six months after the year's end by
    default, per call), then accepted by staff or sent back for complements."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("convention_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("conventions.id", ondelete="CASCADE"), index=True)
    year: Mapped[int]
    due_on = mapped_column(Date, nullable=False)
    state: Mapped[ReportState] = mapped_column(EnumString(ReportState), default=ReportState.DRAFT)
    version: Mapped[int] = mapped_column(default=1)  # drafts' conflict detection, as applications

    # Activity: counts of young people (the application's breakdown, in numbers).
    young_count: Mapped[int | None]
    young_qpv: Mapped[int | None]
    young_frr: Mapped[int | None]
    young_ase: Mapped[int | None]
    young_disability: Mapped[int | None]
    young_dropout: Mapped[int | None]
    # Young people by age band: {"under_16": n, "16_17": n, "18_25": n, "over_25": n}.
    ages: Mapped[dict] = mapped_column(JSON, default=dict)
    mentor_count: Mapped[int | None]
    pair_count: Mapped[int | None]
    average_duration_months = mapped_column(Numeric(5, 1, asdecimal=False))
    departements: Mapped[list] = mapped_column(JSON, default=list)
    account: Mapped[str] = mapped_column(Text, default="")  # the qualitative account

    # Financial (Cerfa 15059): {"charges": {nature: cents}, "products": {nature: cents},
    # "explanations": {nature: text}, "comment": text}; the granted budget is the decision's.
    financial: Mapped[dict] = mapped_column(JSON, default=dict)

    submitted_at = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    snapshot: Mapped[dict | None] = mapped_column(JSON)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    reviewed_at = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reminded_before_at = mapped_column(UTCDateTime)
    reminded_after_at = mapped_column(UTCDateTime)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    convention = relationship("Convention", back_populates="reports")
    pieces = relationship("ReportPiece", back_populates="report", order_by="ReportPiece.id",
                          cascade="all, delete-orphan")
    recovery = relationship("Recovery", back_populates="report", uselist=False, cascade="all, delete-orphan")

    @property
    def application(self):
        return self.convention.application

    @property
    def duration(self):
        return plain(self.average_duration_months)


REPORT_PIECES = {
    "accounts": "Comptes annuels approuvés",
    "activity_report": "Rapport d'activité",
    "auditor_report": "Rapport du commissaire aux comptes",
}


class ReportPiece(Model):
    """A piece of a yearly report (REPORT_PIECES), checked as an application's pieces are."""

    __tablename__ = "report_pieces"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at = mapped_column(UTCDateTime, default=utcnow)

    report = relationship("Report", back_populates="pieces")

    @property
    def label(self):
        return REPORT_PIECES.get(self.code, self.code)

    @property
    def download_name(self):
        from ..applications.files import download_name
        return download_name(self.original_name, self.kind)


class RecoveryState(LabelledEnum):
    TO_ISSUE = "to_issue", "À émettre", "warning"
    ISSUED = "issued", "Titre de perception émis", "info"
    RECOVERED = "recovered", "Recouvré", "success"
    WAIVED = "waived", "Abandonné (remise)", "new"


class Recovery(Model):
    """An amount to recover (« reversement ») when a year's grant was not fully used, recorded by
    staff on the year's report, and the state of its recovery."""

    __tablename__ = "recoveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), unique=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[RecoveryState] = mapped_column(EnumString(RecoveryState), default=RecoveryState.TO_ISSUE)
    title_reference: Mapped[str] = mapped_column(String(60), default="")  # the « titre de perception »
    issued_on = mapped_column(Date)
    recovered_on = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    report = relationship("Report", back_populates="recovery")

    @property
    def application(self):
        return self.report.convention.application


class PlanFigure(Model):
    """A reference figure of the plan « 1 jeune 1 mentor » (young people accompanied in a year,
    e.g. 40,000 in 2021), editable by admins, shown beside the figures the service computes."""

    __tablename__ = "plan_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    young_people: Mapped[int]
    label: Mapped[str] = mapped_column(String(255), default="")  # the source, e.g. « Bilan du plan 2021 »
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
