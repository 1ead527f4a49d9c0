"""Selection decisions, their versions and the mails that announce them."""
from sqlalchemy import JSON, BigInteger, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import LabelledEnum, Model, UTCDateTime, utcnow

OUTCOME_SELECTED, OUTCOME_WAITLISTED, OUTCOME_REJECTED = "selected", "waitlisted", "rejected"
OUTCOME_LABELS = {OUTCOME_SELECTED: "Retenu", OUTCOME_WAITLISTED: "Liste d'attente",
                  OUTCOME_REJECTED: "Non retenu"}


# Why a published decision was replaced by a new version (Decision.change; None: the original).
CHANGE_PROMOTED, CHANGE_AMENDED, CHANGE_CLOSED = "promoted", "amended", "waitlist_closed"
CHANGE_LABELS = {CHANGE_PROMOTED: "Retenu après la liste d'attente", CHANGE_AMENDED: "Décision modifiée",
                 CHANGE_CLOSED: "Liste d'attente close"}


class DecisionState(LabelledEnum):
    """A decision is a draft (staff may change or remove it) until published; a published
    decision may then be replaced by a new version (a file promoted from the waiting list, the
    waiting list closed, a winner's grant amended): it is then « amended », its earlier versions
    kept in DecisionVersion. Stored as Decision.published_at (None: a draft) and
    Decision.version (above 1: amended); transitions in aap/transitions.py."""

    DRAFT = "draft", "Brouillon", "new"
    PUBLISHED = "published", "Publiée", "success"
    AMENDED = "amended", "Modifiée", "info"


class Decision(Model):
    """The committee's decision on one file, in its current version: a draft until published.
    A published decision replaced later (promotion, closing of the waiting list, amendment) keeps
    this row as its current version (`application.decision`); each earlier version is a
    DecisionVersion row, written by `supersede` (events.change_state to AMENDED)."""

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
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    change: Mapped[str | None] = mapped_column(String(20))  # CHANGE_LABELS (None: the original)
    # The project's budget as granted ({year rank: {line code: cents}}, aap/applications/budget.py),
    # adjusted by the association or staff when the grant is below the request
    # (aap/applications/adjustment.py); the deposited budget stays as deposited. None: not adjusted.
    adjusted_budget: Mapped[dict | None] = mapped_column(JSON)
    adjusted_at = mapped_column(UTCDateTime)

    application = relationship("Application", back_populates="decision")
    versions = relationship("DecisionVersion", back_populates="decision", order_by="DecisionVersion.version",
                            cascade="all, delete-orphan", passive_deletes=True)

    @property
    def state(self):
        if self.published_at is None:
            return DecisionState.DRAFT
        return DecisionState.AMENDED if (self.version or 1) > 1 else DecisionState.PUBLISHED

    @property
    def change_label(self):
        return CHANGE_LABELS.get(self.change, "")

    def supersede(self, actor=None, at=None):
        """Keep the current version in the history (a DecisionVersion) and number the next one;
        the caller then writes the new version's outcome, amounts and reason on this row."""
        at = at or utcnow()
        self.versions.append(DecisionVersion(
            version=self.version or 1, change=self.change, outcome=self.outcome, amount_cents=self.amount_cents,
            amount_per_year=list(self.amount_per_year or []), reason=self.reason or "",
            decided_by_id=self.decided_by_id, decided_at=self.decided_at, published_at=self.published_at,
            published_by_id=self.published_by_id, superseded_at=at,
            superseded_by_id=getattr(actor, "id", None)))
        self.version = (self.version or 1) + 1

    @property
    def outcome_label(self):
        return OUTCOME_LABELS[self.outcome]


class DecisionMail(Model):
    """The mail of a published decision: a draft that staff read, edit (subject and body, plain
    text) or hold back, until they send it (selection.mails.send_mails). Sending queues one outbox
    message per member of the association: the outbox (aap/mail.py) stays the only sender.
    `held` and `sent_at` are flags of the draft, not states of a state machine: a held mail is
    simply left out of the next sending, and a sent mail is never changed again."""

    __tablename__ = "decision_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    held: Mapped[bool] = mapped_column(default=False)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    edited_at = mapped_column(UTCDateTime)
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recipients: Mapped[list] = mapped_column(JSON, default=list)  # the addresses it was sent to

    application = relationship("Application")

    @property
    def outcome_label(self):
        return OUTCOME_LABELS[self.outcome]


class DecisionVersion(Model):
    """An earlier version of a published decision, as it stood until `superseded_at`."""

    __tablename__ = "decision_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    change: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    amount_per_year: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at = mapped_column(UTCDateTime)
    published_at = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    superseded_at = mapped_column(UTCDateTime, nullable=False)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    decision = relationship("Decision", back_populates="versions")
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    superseded_by = relationship("User", foreign_keys=[superseded_by_id])

    @property
    def outcome_label(self):
        return OUTCOME_LABELS[self.outcome]

    @property
    def change_label(self):
        return CHANGE_LABELS.get(self.change, "")


class RobustnessRun(Model):
    """« Calculer la robustesse » on a call (aap/selection/grey_zone.py): each scored file's
    probability of being retained when its reviews are re-sampled, for the proposal settings it
    was computed with, with its seed (re-run it: the same probabilities). `digest` fingerprints the
    inputs (scores, decisions, amounts, envelopes, settings): when they change, the run is stale."""

    __tablename__ = "robustness_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    computed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    computed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    seed: Mapped[int] = mapped_column(BigInteger)
    n_resamples: Mapped[int]
    toggle_calibration: Mapped[bool]
    settings: Mapped[dict] = mapped_column(JSON, default=dict)          # the ProposalSettings, as a dict
    digest: Mapped[str] = mapped_column(String(64))
    probabilities: Mapped[dict] = mapped_column(JSON, default=dict)     # {"application id": 0..1}
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    infeasible: Mapped[int] = mapped_column(default=0)                   # re-samplings without a selection

    computed_by = relationship("User")
