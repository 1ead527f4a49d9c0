"""The documents the application generates and keeps: the convention (« convention pluriannuelle
d'objectifs ») of a selected file, numbered once and stored by the fingerprint of its data
(aap/documents/services.py)."""
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow


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
