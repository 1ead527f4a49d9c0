"""« Proposer une sélection »: run the selection on a call, explain it file by file, and compare
it with the current decisions. The page, the Excel sheet and `propose --json` read the same Proposal."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..models.selection import OUTCOME_REJECTED, OUTCOME_SELECTED
from . import budget, optimizer, ranking, robustness


@dataclass
class ProposalSettings:
    calibrated: bool = False
    min_per_region: int = 1
    min_per_overseas: int | None = None  # the guarantee of each overseas région (None: min_per_region)
    cap_percent: float | None = None     # at most this share of the envelope per région
    min_score: float | None = None       # None: the call's minimum score
    objective: str = optimizer.MERIT
    keep_drafts: bool = True             # draft decisions stay as decided
    keep_published: bool = True          # published decisions stay as decided (False: a what-if, CLI only)


@dataclass
class Line:
    """One scored file of the proposal, in merit order: retained or not, and why (French)."""
    row: object
    rank: int                  # merit order among the scored files (1: best)
    score: float | None
    selected: bool
    kind: str
    reason: str
    probability: float | None = None  # of being retained under re-sampled reviews (robustness)
    inversion: bool = False           # left out although a file ranked after it is retained

    @property
    def grey(self):
        """In the grey zone: its probability of being retained is neither near 0 nor near 1."""
        return robustness.in_grey_zone(self.probability)


@dataclass
class Proposal:
    call: object
    settings: ProposalSettings
    result: optimizer.Result
    rows: dict                                    # application id -> ranking.Row
    min_score: float = 0.0                        # the minimum score applied
    lines: list = field(default_factory=list)     # [Line] of the scored files, in merit order
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

    @property
    def objective_label(self):
        return optimizer.OBJECTIVE_LABELS[self.settings.objective]

    @property
    def inversions(self):
        return [line for line in self.lines if line.inversion]

    def as_json(self):
        """The proposal as `propose --json` prints it (plain data)."""
        after = self.after
        return {
            "call": self.call.slug,
            "objective": self.settings.objective,
            "calibrated": self.settings.calibrated,
            "feasible": self.feasible,
            "infeasible_reason": None if self.feasible else self.result.reason,
            "envelope_cents": self.call.budget_cents,
            "min_score": self.min_score,
            "selected_count": len(self.result.selected),
            "granted_cents": self.result.total_cents,
            "years": [{"year": year, "envelope_cents": envelope,
                       "granted_cents": self.result.total_per_year[i] if self.feasible else None}
                      for i, (year, envelope) in enumerate(zip(self.call.year_list, self.call.envelopes))],
            "regions": None if after is None else {
                "by_head_office": {"covered": len(after.regions_by_seat), "total": after.region_total},
                "by_action_territories": {"covered": len(after.regions_covered), "total": after.region_total},
                "winners_by_head_office": {line.name: line.winners for line in after.regions},
            },
            # keyword form: the JSON key `selected` is not an application status
            "files": [dict(reference=line.row.reference, score=None if line.score is None else round(line.score, 2),
                           rank=line.rank, amount_cents=line.row.granted_cents,
                           amount_per_year_cents=list(line.row.granted_per_year), region=line.row.region_name,
                           selected=line.selected, reason=line.reason, probability=line.probability,
                           grey_zone=line.grey)
                      for line in self.lines],
        }


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
                                amount_per_year=tuple(row.granted_per_year), region=row.region_code,
                                fixed=fixed_outcome(row, settings.keep_drafts, settings.keep_published))
            for row in rows]


def effective_min_score(call, settings):
    return float(call.min_score if settings.min_score is None else settings.min_score)


def optimiser_settings(call, settings):
    return optimizer.Settings(
        envelope_cents=call.budget_cents, envelope_per_year=tuple(call.envelopes), first_year=call.year,
        min_per_region=settings.min_per_region, min_per_overseas=settings.min_per_overseas,
        region_cap_share=None if settings.cap_percent is None else settings.cap_percent / 100,
        min_score=effective_min_score(call, settings), objective=settings.objective)


def _lines(rows, result, settings):
    """The scored files in merit order, each with its reason; marks the inversions."""
    chosen = set(result.selected)
    scored = sorted((row for row in rows if row.score(settings.calibrated) is not None),
                    key=lambda row: (-row.score(settings.calibrated), row.id))
    lines = [Line(row=row, rank=rank, score=row.score(settings.calibrated), selected=row.id in chosen,
                  kind=result.kinds.get(row.id, ""), reason=result.reasons.get(row.id, ""))
             for rank, row in enumerate(scored, start=1)]
    retained_after = False
    for line in reversed(lines):
        line.inversion = not line.selected and retained_after
        retained_after = retained_after or line.selected
    return lines


def propose(call, settings, data=None, probabilities=None):
    """Compute the selection of a call under the settings, explain it, and compare it with today.
    `probabilities`: {application id: probability of being retained} of a robustness run for these
    settings (aap/selection/grey_zone.py), shown on each line."""
    started = time.perf_counter()
    data = data or ranking.load(call)
    result = optimizer.select(candidates(data.rows, settings), optimiser_settings(call, settings))
    by_id = {row.id: row for row in data.rows}
    proposal = Proposal(call=call, settings=settings, result=result, rows=by_id,
                        min_score=effective_min_score(call, settings))
    current = {row.id for row in data.winners()}
    proposal.before = data.budget()
    if result.feasible:
        proposal.lines = _lines(data.rows, result, settings)
        if probabilities:
            for line in proposal.lines:
                line.probability = probabilities.get(line.row.id)
        chosen = set(result.selected)
        for row in data.rows:
            if row.id in chosen and row.id not in current:
                proposal.entering.append(row)
            elif row.id in current and row.id not in chosen:
                proposal.leaving.append(row)
            elif row.id in chosen:
                proposal.kept.append(row)

        def key(row):
            return -(row.score(settings.calibrated) or 0), row.reference

        proposal.entering.sort(key=key)
        proposal.leaving.sort(key=key)
        proposal.kept.sort(key=key)
        proposal.after = budget.summarise(call.budget_cents, [by_id[k].as_winner() for k in result.selected],
                                          envelopes=call.envelopes, first_year=call.year,
                                          candidate_regions=data.candidate_regions)
    proposal.seconds = time.perf_counter() - started
    return proposal
