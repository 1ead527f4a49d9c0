"""Read-only queries of the staff page of an association: its files across calls and years."""
from dataclasses import dataclass

from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..instruction.notes import staff_note_counts
from ..models import Application, Call
from ..models.selection import OUTCOME_SELECTED


@dataclass
class FileLine:
    application: object
    call: object
    decision: object          # the published decision, or None
    notes: int                # staff notes on the file
    returning_winner: bool    # the association had won an earlier call when it sent this file

    @property
    def granted_cents(self):
        if self.decision is not None and self.decision.outcome == OUTCOME_SELECTED:
            return self.decision.amount_cents
        return None


def files_across_calls(association_id):
    """Every file the association sent (drafts excepted), the latest call first, with its published
    decision and its number of staff notes: two queries."""
    applications = db.session.scalars(
        db.select(Application).join(Application.call).outerjoin(Application.decision)
        .options(contains_eager(Application.call), contains_eager(Application.decision))
        .where(Application.association_id == association_id, Application.submitted_at.is_not(None))
        .order_by(Call.opens_at, Application.id)).all()
    notes = staff_note_counts(association_id)
    lines, won = [], False
    for application in applications:  # oldest first: « returning » means a win in an earlier call
        decision = application.decision if application.decision is not None and \
            application.decision.published_at is not None else None
        lines.append(FileLine(application, application.call, decision, notes.get(application.id, 0), won))
        won = won or (decision is not None and decision.outcome == OUTCOME_SELECTED)
    return list(reversed(lines))


def winning_calls(lines):
    """The calls the association won, from files_across_calls' lines."""
    return [line.call for line in lines if line.granted_cents is not None]
