"""All models, one module per domain."""
from .applications import Application, Attachment, Deposit, Message, MessageAttachment, PieceRequest  # noqa: F401
from .associations import Association, AssociationDocument, BankChangeRequest  # noqa: F401
from .calls import Call, CallMailTemplate, Criterion, RequiredPiece  # noqa: F401
from .documents import Convention  # noqa: F401
from .events import Event  # noqa: F401
from .followup import (  # noqa: F401
    Amendment,
    ConventionDocument,
    PaymentLine,
    PlanFigure,
    Recovery,
    Report,
    ReportPiece,
)
from .jobs import Job  # noqa: F401
from .mail import OutboxMessage  # noqa: F401
from .notes import PrivateNote, PrivateNoteVersion  # noqa: F401
from .review import Assignment, Conflict, Review, Score  # noqa: F401
from .selection import Decision, DecisionMail, DecisionVersion, RobustnessRun  # noqa: F401
from .users import LoginAttempt, User  # noqa: F401
