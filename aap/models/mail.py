"""The mail outbox: e-mails are queued in the transaction that causes them."""
from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model, UTCDateTime, utcnow


class OutboxMessage(Model):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "sent_at", "next_attempt_at"),
        Index("ix_outbox_to_kind_created_at", "to", "kind", "created_at"),  # limits per recipient
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    # What the message is (its template, or a group of templates limited together): the limits
    # of aap/mail.py count the messages of a kind sent to one address (config MAIL_LIMITS).
    kind: Mapped[str] = mapped_column(String(40), default="", server_default="")
    body: Mapped[str] = mapped_column(Text)
    # [{"filename": ..., "content_type": ..., "path": <relative to instance/>}]
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at = mapped_column(UTCDateTime, default=utcnow)
    sent_at = mapped_column(UTCDateTime)
    failed: Mapped[bool] = mapped_column(default=False)
    last_error: Mapped[str] = mapped_column(Text, default="")
