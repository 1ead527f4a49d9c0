"""The record of every state change and sensitive action (who, when, from, to, why)."""
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow


class Event(Model):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_application_at", "application_id", "at"),
        # The audit journal filters by action or by call, newest first.
        Index("ix_events_action_id", "action", "id"),
        Index("ix_events_call_id", "call_id", "id"),
        Index("ix_events_actor_id", "actor_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    association_id: Mapped[int | None] = mapped_column(ForeignKey("associations.id"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor = relationship("User")
