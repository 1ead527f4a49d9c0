"""Calls side by side (staff): per call, the files sent, the winners, the amounts granted, the
territorial coverage in both meanings (aap/selection/budget.py) and the young people promised.
Three queries whatever the number of calls."""
from dataclasses import dataclass

from ..extensions import db
from ..models import Application, Association, Call, Decision
from ..models.calls import CALL_DRAFT
from ..models.selection import OUTCOME_SELECTED
from ..referentiel import DEPARTEMENT_BY_CODE
from ..selection import budget


@dataclass
class CallColumn:
    call: object
    applications: int
    requested_cents: int
    summary: object  # budget.Summary of the published winners

    @property
    def selection_rate(self):
        return round(100 * self.summary.winners / self.applications) if self.applications else None


def compare_calls():
    """One CallColumn per call that is not a draft, the oldest first."""
    calls = db.session.scalars(db.select(Call).where(Call.status != CALL_DRAFT)
                               .order_by(Call.opens_at, Call.id)).all()
    sent = dict((call_id, (count, requested)) for call_id, count, requested in db.session.execute(
        db.select(Application.call_id, db.func.count(), db.func.coalesce(db.func.sum(Application.requested_cents), 0))
        .where(Application.submitted_at.is_not(None)).group_by(Application.call_id)))
    winners = {}
    for call_id, amount, region, departements, young, qpv, zrr in db.session.execute(
            db.select(Application.call_id, Decision.amount_cents, Association.region_code, Application.departements,
                      Application.young_count, Application.share_qpv, Application.share_zrr)
            .join(Decision, Decision.application_id == Application.id)
            .join(Association, Association.id == Application.association_id)
            .where(Decision.published_at.is_not(None), Decision.outcome == OUTCOME_SELECTED)):
        winners.setdefault(call_id, []).append(budget.Winner(
            amount_cents=amount or 0, region_code=region,
            departements=tuple(d for d in departements or () if d in DEPARTEMENT_BY_CODE),
            young_count=young or 0, share_qpv=qpv, share_zrr=zrr))
    return [CallColumn(call, *sent.get(call.id, (0, 0)),
                       budget.summarise(call.budget_cents or 0, winners.get(call.id, ()), envelopes=call.envelopes,
                                        first_year=call.year))
            for call in calls]
