"""The documents the application generates and keeps: the convention (« convention pluriannuelle
d'objectifs ») of a selected file, numbered once and stored by the fingerprint of its data
(aap/documents/services.py)."""
from datetime import date

from sqlalchemy import JSON, Date, ForeignKey, String
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
    # The legal commitment's number in Chorus (« engagement juridique »), entered by staff when
    # the finance office gives it; printed in the article « Imputation budgétaire ».
    commitment_number: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # The day both parties had signed, recorded by staff (aap/documents/signature.py); the open
    # data publishes a grant only once its convention is signed (SCDL dateConvention).
    signed_at: Mapped[date | None] = mapped_column(Date)

    application = relationship("Application")
