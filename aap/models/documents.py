"""The documents the application generates and keeps: the convention (« convention pluriannuelle
d'objectifs ») of a selected file, numbered once and stored by the fingerprint of its data
(aap/documents/services.py)."""
from datetime import date

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import EnumString, Model, UTCDateTime, utcnow
from .followup import ConventionState


class Convention(Model):
    __tablename__ = "conventions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), unique=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    data_fingerprint: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str | None] = mapped_column(String(64))
    generated_at = mapped_column(UTCDateTime, default=utcnow)
    # The bank details the convention was issued with ({iban, bic, account_holder}): a later
    # change of the association's account does not rewrite it; only a re-issue does.
    bank_details: Mapped[dict | None] = mapped_column(JSON)
    # The legal commitment's number in Chorus (« engagement juridique »), entered by staff when
    # the finance office gives it; printed in the article « Imputation budgétaire ».
    commitment_number: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # The day both parties had signed, the State's countersignature (aap/followup/signature.countersign); the open
    # data publishes a grant only once its convention is signed (SCDL dateConvention).
    signed_at: Mapped[date | None] = mapped_column(Date)

    # Its life after issue (aap/followup/signature.py; the moves: aap/transitions.py CONVENTION).
    state: Mapped[ConventionState] = mapped_column(EnumString(ConventionState), default=ConventionState.ISSUED,
                                                   server_default="issued")
    association_signed_at = mapped_column(UTCDateTime)   # when the association returned it signed
    countersigned_at = mapped_column(UTCDateTime)        # when staff recorded the State's signature
    state_signatory: Mapped[str] = mapped_column(String(200), default="", server_default="")
    in_force_at = mapped_column(UTCDateTime)             # notified to the association: in force
    terminated_at = mapped_column(UTCDateTime)
    termination_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    reminded_at = mapped_column(UTCDateTime)             # the last reminder to return it signed
    reminder_count: Mapped[int] = mapped_column(default=0, server_default="0")

    application = relationship("Application")
    documents = relationship("ConventionDocument", back_populates="convention", order_by="ConventionDocument.id",
                             cascade="all, delete-orphan")
    amendments = relationship("Amendment", back_populates="convention", order_by="Amendment.number",
                              cascade="all, delete-orphan")
    payments = relationship("PaymentLine", back_populates="convention",
                            order_by="(PaymentLine.year, PaymentLine.planned_on, PaymentLine.id)",
                            cascade="all, delete-orphan")
    reports = relationship("Report", back_populates="convention", order_by="Report.year",
                           cascade="all, delete-orphan")
