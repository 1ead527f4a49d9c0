"""Reviewer assignments, conflicts of interest, reviews and per-criterion scores."""
from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow

REVIEW_DRAFT, REVIEW_SUBMITTED = "draft", "submitted"
FAVORABLE, RESERVED, UNFAVORABLE = "favorable", "reserve", "defavorable"
RECOMMENDATION_LABELS = {FAVORABLE: "Favorable", RESERVED: "Réservé", UNFAVORABLE: "Défavorable"}


class Conflict(Model):
    """A reviewer's declared link with an association (or with one file)."""

    __tablename__ = "conflicts"
    __table_args__ = (UniqueConstraint("reviewer_id", "association_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at = mapped_column(UTCDateTime, default=utcnow)

    reviewer = relationship("User")
    association = relationship("Association")


class Assignment(Model):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("application_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at = mapped_column(UTCDateTime, default=utcnow)
    notified_at = mapped_column(UTCDateTime)
    # When the reviewer confirmed, on opening the file, having no link with the association.
    no_conflict_confirmed_at = mapped_column(UTCDateTime)
    # When staff last reminded the reviewer of this file (review.reminders.send_reminders).
    reminded_at = mapped_column(UTCDateTime)

    application = relationship("Application")
    reviewer = relationship("User", foreign_keys=[reviewer_id])


class Review(Model):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("application_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=REVIEW_DRAFT)
    recommendation: Mapped[str | None] = mapped_column(String(20))
    proposed_amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)
    submitted_at = mapped_column(UTCDateTime)

    application = relationship("Application")
    reviewer = relationship("User")
    scores = relationship("Score", back_populates="review", cascade="all, delete-orphan")


class Score(Model):
    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("review_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    value: Mapped[int | None]
    comment: Mapped[str] = mapped_column(Text, default="")

    review = relationship("Review", back_populates="scores")
    criterion = relationship("Criterion")
