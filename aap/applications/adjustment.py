"""Adjusting the project's budget to the grant: a step between the decision and the convention.

When a winner is granted less than it asked for (per year), its deposited budget no longer
balances with the grant: before its convention is issued, the association (or staff for it)
adjusts the budget — charges and products by nature, year by year, the State's grant line fixed
at the amount granted that year, each year balanced (aap/applications/budget.py). The adjusted
budget is kept on the decision (Decision.adjusted_budget); the deposited one stays frozen. It is
the convention's annex II (documents.data.convention_data): the convention cannot be issued
while the budget is still to adjust (documents.services.ensure_convention).

A later change of the amount (an amendment) makes an adjusted budget stale: it is to adjust again.
"""
from dataclasses import dataclass

from sqlalchemy import select

from .. import events, timeutil
from ..database import lock
from ..extensions import db
from ..models import Convention
from ..models.applications import SELECTED
from ..models.selection import OUTCOME_SELECTED
from . import budget as B
from .errors import ApplicationError

NOT_NEEDED, TO_ADJUST, ADJUSTED = "not_needed", "to_adjust", "adjusted"


@dataclass(frozen=True)
class Adjustment:
    """Where a winner's budget stands against its grant."""
    status: str            # NOT_NEEDED, TO_ADJUST or ADJUSTED
    amounts: list          # the grant of each year, in cents
    requested: list        # the grant line of each year of the deposited budget, in cents

    @property
    def required(self):
        return self.status == TO_ADJUST


def granted_amounts(application):
    from ..documents.data import amounts_per_year
    return amounts_per_year(application.decision, max(int(application.call.years or 1), 1))


def is_granted(application):
    """A winner: a published « selected » decision on a file still « Retenu »."""
    decision = application.decision
    return (application.status == SELECTED and decision is not None and decision.outcome == OUTCOME_SELECTED
            and decision.published_at is not None)


def adjustment(application):
    """The step's state for a winner (None for any other file)."""
    if not is_granted(application):
        return None
    years = max(int(application.call.years or 1), 1)
    amounts = granted_amounts(application)
    deposited = B.clean(application.budget or {}, years)
    requested = [int(cells.get(B.GRANT) or 0) for cells in deposited.values()]
    adjusted = application.decision.adjusted_budget
    if adjusted is not None and B.fits_grant(B.clean(adjusted, years), amounts, years):
        status = ADJUSTED
    elif B.fits_grant(deposited, amounts, years):
        status = NOT_NEEDED
    else:
        status = TO_ADJUST
    return Adjustment(status, amounts, requested)


def issued_convention(application):
    """The convention that binds the budget: a signed one. Until it is signed the convention is
    rendered again from the current decision and budget (an amended amount asks for a new
    adjustment first); once signed, only an amendment (avenant) changes it."""
    return db.session.scalar(select(Convention).where(Convention.application_id == application.id,
                                                      Convention.signed_at.is_not(None)))


def starting_budget(application):
    """What the form shows first: the adjusted budget (when there is one), else the deposited one,
    the grant line of each year set to the amount granted."""
    years = max(int(application.call.years or 1), 1)
    source = application.decision.adjusted_budget or application.budget or {}
    return B.with_grant(source, granted_amounts(application), years)


def refusal(application):
    """Why the budget cannot be adjusted now (French), or None."""
    state = adjustment(application)
    if state is None:
        return "Ce dossier n'a pas de subvention accordée : il n'y a pas de budget à ajuster."
    convention = issued_convention(application)
    if convention is not None:
        return (f"La convention n° {convention.number} est signée : son budget ne peut plus être modifié "
                "que par avenant.")
    if state.status == NOT_NEEDED:
        return "Le budget déposé correspond déjà à la subvention accordée : il n'y a rien à ajuster."
    return None


def save_adjusted_budget(application, value, actor):
    """Record the budget as granted (the grant line of each year forced to the amount granted).
    Raises ApplicationError (with the budget's problems in .missing) when it is refused or does
    not balance; records the event. The caller commits."""
    application = lock(application)
    message = refusal(application)
    if message:
        raise ApplicationError(message)
    call = application.call
    years = max(int(call.years or 1), 1)
    amounts = granted_amounts(application)
    value = B.with_grant(value, amounts, years)
    found = B.adjustment_problems(value, amounts, years, call.year)
    if found:
        raise ApplicationError("Le budget ajusté n'est pas équilibré : corrigez les montants signalés.", found)
    decision = application.decision
    _, before = B.totals(decision.adjusted_budget or application.budget or {}, years)
    _, after = B.totals(value, years)
    decision.adjusted_budget = value
    decision.adjusted_at = timeutil.now()
    events.record("budget_adjusted", actor=actor, application=application,
                  amount_cents=sum(amounts), charges_cents=after.charges, previous_charges_cents=before.charges)
    return decision
