"""Selection decisions and conventions."""
from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import LabelledEnum, Model, UTCDateTime, utcnow

OUTCOME_SELECTED, OUTCOME_WAITLISTED, OUTCOME_REJECTED = "selected", "waitlisted", "rejected"
OUTCOME_LABELS = {OUTCOME_SELECTED: "Retenu", OUTCOME_WAITLISTED: "Liste d'attente",
                  OUTCOME_REJECTED: "Non retenu"}


class DecisionState(LabelledEnum):
    """A decision is a draft (staff may change or remove it) until published, then final.
    Stored as Decision.published_at (None: a draft); transitions in aap/transitions.py."""

    DRAFT = "draft", "Brouillon", "new"
    PUBLISHED = "published", "Publiée", "success"


class Decision(Model):
    """The committee's decision on one file: a draft until published."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), unique=True)
    outcome: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    amount_per_year: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at = mapped_column(UTCDateTime, default=utcnow)
    published_at = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    application = relationship("Application", back_populates="decision")

    @property
    def state(self):
        return DecisionState.DRAFT if self.published_at is None else DecisionState.PUBLISHED

    @property
    def outcome_label(self):
        return OUTCOME_LABELS[self.outcome]


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

    application = relationship("Application")
