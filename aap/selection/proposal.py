"""« Proposer une sélection »: run the optimiser on a call and compare with the current decisions."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..models.selection import OUTCOME_REJECTED, OUTCOME_SELECTED
from . import budget, optimizer, ranking


@dataclass
class ProposalSettings:
    calibrated: bool = False
    min_per_region: int = 1
    cap_percent: float | None = None   # at most this share of the envelope per région
    min_score: float | None = None
    keep_drafts: bool = True           # draft decisions stay as decided
    keep_published: bool = True        # published decisions stay as decided (False: a what-if, CLI only)


@dataclass
class Proposal:
    call: object
    settings: ProposalSettings
    result: optimizer.Result
    rows: dict                                    # application id -> ranking.Row
    entering: list = field(default_factory=list)  # rows selected by the proposal, not retained today
    leaving: list = field(default_factory=list)   # rows retained today, not by the proposal
    kept: list = field(default_factory=list)      # rows retained today and by the proposal
    before: budget.Summary | None = None
    after: budget.Summary | None = None
    seconds: float = 0.0                          # whole computation (load + solve)

    @property
    def feasible(self):
        return self.result.feasible

    @property
    def selected_rows(self):
        return [self.rows[key] for key in self.result.selected]


def fixed_outcome(row, keep_drafts, keep_published=True):
    """True (stays selected), False (stays out) or None (the optimiser decides)."""
    if row.locked:
        if not keep_published:
            return None
        return row.current_outcome == OUTCOME_SELECTED
    if row.decision is not None and keep_drafts:
        if row.decision.outcome == OUTCOME_SELECTED:
            return True
        if row.decision.outcome == OUTCOME_REJECTED:
            return False
    return None


def candidates(rows, settings):
    return [optimizer.Candidate(key=row.id, score=row.score(settings.calibrated), amount_cents=row.granted_cents,
                                region=row.region_code, fixed=fixed_outcome(row, settings.keep_drafts,
                                                                     settings.keep_published))
            for row in rows]


def optimiser_settings(call, settings):
    return optimizer.Settings(
        envelope_cents=call.budget_cents, min_per_region=settings.min_per_region,
        region_cap_share=None if settings.cap_percent is None else settings.cap_percent / 100,
        min_score=settings.min_score)


def propose(call, settings, data=None):
    """Compute the optimal selection of a call under the settings and its difference with today."""
    started = time.perf_counter()
    data = data or ranking.load(call)
    result = optimizer.optimise(candidates(data.rows, settings), optimiser_settings(call, settings))
    by_id = {row.id: row for row in data.rows}
    proposal = Proposal(call=call, settings=settings, result=result, rows=by_id)
    current = {row.id for row in data.winners()}
    proposal.before = data.budget()
    if result.feasible:
        chosen = set(result.selected)
        for row in data.rows:
            if row.id in chosen and row.id not in current:
                proposal.entering.append(row)
            elif row.id in current and row.id not in chosen:
                proposal.leaving.append(row)
            elif row.id in chosen:
                proposal.kept.append(row)
        key = (lambda r: (-(r.score(settings.calibrated) or 0), r.reference))
        proposal.entering.sort(key=key)
        proposal.leaving.sort(key=key)
        proposal.kept.sort(key=key)
        proposal.after = budget.summarise(call.budget_cents, [by_id[k].as_winner() for k in result.selected])
    proposal.seconds = time.perf_counter() - started
    return proposal
