"""The optimal selection: an exact integer linear programme (SciPy's milp, i.e. HiGHS).

maximise    Σ score_i · x_i                       x_i ∈ {0, 1}   (scores in thousandths of a point)
subject to  Σ amount_i · x_i ≤ envelope
            Σ_{i in r} x_i ≥ N                    for every région r that has a file not already rejected
            Σ_{i in r} amount_i · x_i ≤ cap       for every région r (optional cap = share × envelope)
            x_i = 0                               files without a score or below the minimum score
            x_i = 1 / x_i = 0                     files already decided (selected / rejected)

Pure function of plain data: no database, no Flask. When the constraints cannot all be met,
the result says, in French, which one to relax.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from ..money import format_euros
from ..referentiel import REGION_BY_CODE

OPTIMAL, INFEASIBLE, TIME_LIMIT = "optimal", "infeasible", "time_limit"
# Scores enter the objective as integers, in thousandths of a point (the optimum is exact for
# scores rounded to 0.001 — they are shown to 0.01), which lets HiGHS close the gap quickly.
SCORE_UNITS = 1000


@dataclass(frozen=True)
class Candidate:
    key: int                 # application id
    score: float | None      # 0-20 (None: not reviewed)
    amount_cents: int        # amount that would be granted
    region: str | None       # région code (None: unknown, no territorial constraint)
    fixed: bool | None = None  # True: already selected; False: already rejected; None: free


@dataclass
class Settings:
    envelope_cents: int
    min_per_region: int = 1
    region_cap_share: float | None = None  # e.g. 0.25 for at most 25 % of the envelope per région
    min_score: float | None = None

    @property
    def region_cap_cents(self):
        return region_cap_cents(self.envelope_cents, self.region_cap_share)


@dataclass
class Result:
    status: str
    selected: list = field(default_factory=list)  # keys, in the candidates' order
    objective: float = 0.0
    total_cents: int = 0
    solve_seconds: float = 0.0
    reason: str = ""                               # French: why it is infeasible
    suggestions: list = field(default_factory=list)  # French: what to relax

    @property
    def feasible(self):
        return self.status in (OPTIMAL, TIME_LIMIT)


def region_cap_cents(envelope_cents, share):
    """floor(share × envelope), computed exactly (share may be a float such as 0.3)."""
    if share is None:
        return None
    return math.floor(Fraction(str(share)) * envelope_cents)


def region_name(code):
    if code is None:
        return "sans région"
    region = REGION_BY_CODE.get(code)
    return region.name if region else code


def _la_region(code):
    return f"la région {region_name(code)}"


def eligible(candidate, min_score):
    """May the optimiser pick this (free) file? Scored, and at or above the minimum score."""
    if candidate.fixed is False or candidate.score is None:
        return False
    return min_score is None or candidate.score >= min_score - 1e-9


def required_regions(candidates):
    """Régions that must get at least N winners: those with a file not already rejected."""
    return sorted({c.region for c in candidates if c.region is not None and c.fixed is not False})


def check(candidates, settings, selected_keys):
    """Every constraint a selection must respect; returns a list of French violations ([] if fine)."""
    chosen = set(selected_keys)
    problems = []
    total = sum(c.amount_cents for c in candidates if c.key in chosen)
    if total > settings.envelope_cents:
        problems.append(f"Enveloppe dépassée : {format_euros(total)} pour {format_euros(settings.envelope_cents)}.")
    for c in candidates:
        if c.fixed is True and c.key not in chosen:
            problems.append(f"Le dossier {c.key}, déjà retenu, n'est plus retenu.")
        if c.fixed is not True and c.key in chosen and not eligible(c, settings.min_score):
            problems.append(f"Le dossier {c.key} ne peut pas être retenu.")
    for region in required_regions(candidates):
        count = sum(1 for c in candidates if c.region == region and c.key in chosen)
        if count < settings.min_per_region:
            problems.append(f"{_la_region(region).capitalize()} n'a que {count} lauréat(s).")
    cap = settings.region_cap_cents
    if cap is not None:
        for region in sorted({c.region for c in candidates if c.region is not None}):
            amount = sum(c.amount_cents for c in candidates if c.region == region and c.key in chosen)
            if amount > cap:
                problems.append(f"Plafond dépassé pour {_la_region(region)}.")
    return problems


def _solve(candidates, settings, *, use_envelope=True, use_minimums=True, use_cap=True,
           use_fixed=True, use_min_score=True, minimise_cost=False, time_limit=20.0):
    """Build and solve the programme; returns (status, x as a 0/1 numpy array or None)."""
    n = len(candidates)
    min_score = settings.min_score if use_min_score else None
    lower = np.zeros(n)
    upper = np.zeros(n)
    for i, c in enumerate(candidates):
        if use_fixed and c.fixed is True:
            lower[i] = upper[i] = 1
        elif use_fixed and c.fixed is False:
            pass
        elif c.score is not None and (min_score is None or c.score >= min_score - 1e-9):
            upper[i] = 1
    if n == 0:
        return OPTIMAL, np.zeros(0)
    amounts = np.array([float(c.amount_cents) for c in candidates])
    rows, row_lower, row_upper = [], [], []
    if use_envelope:
        rows.append(amounts)
        row_lower.append(-np.inf)
        row_upper.append(float(settings.envelope_cents))
    regions = {}
    for i, c in enumerate(candidates):
        if c.region is not None:
            regions.setdefault(c.region, []).append(i)
    if use_minimums and settings.min_per_region > 0:
        needed = required_regions(candidates) if use_fixed else sorted(regions)
        for region in needed:
            row = np.zeros(n)
            row[regions[region]] = 1
            rows.append(row)
            row_lower.append(float(settings.min_per_region))
            row_upper.append(np.inf)
    cap = settings.region_cap_cents
    if use_cap and cap is not None:
        for region, members in regions.items():
            row = np.zeros(n)
            row[members] = amounts[members]
            rows.append(row)
            row_lower.append(-np.inf)
            row_upper.append(float(cap))
    if minimise_cost:
        objective = amounts
    else:
        objective = -np.array([round((c.score or 0.0) * SCORE_UNITS) for c in candidates], dtype=float)
    constraints = []
    if rows:
        constraints.append(LinearConstraint(csr_array(np.vstack(rows)), row_lower, row_upper))
    result = milp(objective, integrality=np.ones(n), bounds=Bounds(lower, upper),
                  constraints=constraints, options={"mip_rel_gap": 0, "time_limit": time_limit})
    if result.status == 2:
        return INFEASIBLE, None
    if result.x is None:
        return INFEASIBLE if result.status != 1 else TIME_LIMIT, None
    x = np.round(result.x).astype(int)
    return (OPTIMAL if result.status == 0 else TIME_LIMIT), x


def _plural(count, singular, plural=None):
    return singular if count == 1 else (plural or singular + "s")


def _explain(candidates, settings):
    """Why is the programme infeasible? Returns (reason, suggestions) in French."""
    n_min = settings.min_per_region
    dossiers = _plural(n_min, "dossier")
    fixed_selected = [c for c in candidates if c.fixed is True]
    fixed_total = sum(c.amount_cents for c in fixed_selected)
    cap = settings.region_cap_cents
    reasons, suggestions = [], []

    # 1. What the decisions already taken imply on their own.
    if fixed_total > settings.envelope_cents:
        reasons.append(
            f"l'enveloppe est dépassée par les seuls dossiers déjà retenus "
            f"({format_euros(fixed_total)} pour une enveloppe de {format_euros(settings.envelope_cents)})")
        suggestions.append("augmentez l'enveloppe ou revenez sur des décisions « retenu » encore en brouillon")
    if cap is not None:
        for region in sorted({c.region for c in fixed_selected if c.region is not None}):
            amount = sum(c.amount_cents for c in fixed_selected if c.region == region)
            if amount > cap:
                reasons.append(
                    f"le plafond par région ({format_euros(cap)}) est dépassé en {region_name(region)} "
                    f"par les seuls dossiers déjà retenus ({format_euros(amount)})")
        if reasons and not suggestions:
            suggestions.append("relevez le plafond par région")

    # 2. Régions that cannot reach N winners whatever the budget.
    if n_min > 0:
        short = []
        for region in required_regions(candidates):
            members = [c for c in candidates if c.region == region]
            available = sum(1 for c in members if c.fixed is True
                            or (c.fixed is None and eligible(c, settings.min_score)))
            if available < n_min:
                if available == 0:
                    detail = ("n'a aucun dossier au-dessus de la note minimale" if settings.min_score is not None
                              else "n'a aucun dossier noté")
                elif available == 1:
                    detail = "n'a qu'un dossier pouvant être retenu"
                else:
                    detail = f"n'a que {available} dossiers pouvant être retenus"
                short.append(f"{_la_region(region)} {detail}")
        if short:
            reasons.append(f"impossible de retenir au moins {n_min} {dossiers} par région : " + " ; ".join(short))
            suggestions.append("baissez le nombre minimal de lauréats par région")
            if settings.min_score is not None:
                suggestions.append("baissez la note minimale")

    # 3. Otherwise, the constraints conflict together: find which family, removed alone, helps.
    if not reasons:
        if n_min > 0 and _solve(candidates, settings, use_minimums=False)[0] != INFEASIBLE:
            status, x = _solve(candidates, settings, use_envelope=False, minimise_cost=True)
            if status != INFEASIBLE and x is not None:
                cheapest = int(sum(c.amount_cents for c, xi in zip(candidates, x) if xi))
                reasons.append(
                    f"impossible de retenir au moins {n_min} {dossiers} par région avec cette enveloppe : "
                    f"la sélection la moins coûteuse qui couvre toutes les régions coûte {format_euros(cheapest)} "
                    f"pour une enveloppe de {format_euros(settings.envelope_cents)}")
            else:
                reasons.append(
                    f"impossible de retenir au moins {n_min} {dossiers} par région "
                    f"sans dépasser le plafond par région")
            suggestions.append("baissez le nombre minimal de lauréats par région")
        if cap is not None and _solve(candidates, settings, use_cap=False)[0] != INFEASIBLE:
            if not reasons:
                reasons.append(f"le plafond de {format_euros(cap)} par région ne permet pas de respecter les autres contraintes")
            suggestions.append("relevez ou supprimez le plafond par région")
        if fixed_selected and _solve(candidates, settings, use_fixed=False)[0] != INFEASIBLE:
            if not reasons:
                reasons.append("les décisions déjà prises ne laissent pas assez d'enveloppe pour respecter les autres contraintes")
            suggestions.append("revenez sur des décisions encore en brouillon (décochez « conserver les brouillons »)")
        if settings.min_score is not None and _solve(candidates, settings, use_min_score=False)[0] != INFEASIBLE:
            if not reasons:
                reasons.append("la note minimale écarte trop de dossiers pour respecter les autres contraintes")
            suggestions.append("baissez la note minimale")
        if not reasons:
            reasons.append("les contraintes ne peuvent pas être respectées ensemble")
            suggestions.append("augmentez l'enveloppe ou relâchez plusieurs contraintes")
    reason = " ; ".join(reasons)
    return reason[0].upper() + reason[1:] + ".", [s[0].upper() + s[1:] + "." for s in suggestions]


def optimise(candidates, settings, time_limit=20.0):
    """The selection of maximal total score under the settings' constraints (see the module)."""
    candidates = list(candidates)
    started = time.perf_counter()
    status, x = _solve(candidates, settings, time_limit=time_limit)
    if status == INFEASIBLE or x is None:
        reason, suggestions = _explain(candidates, settings)
        return Result(status=INFEASIBLE, solve_seconds=time.perf_counter() - started,
                      reason=reason, suggestions=suggestions)
    selected = [c.key for c, xi in zip(candidates, x) if xi]
    chosen = [c for c, xi in zip(candidates, x) if xi]
    return Result(status=status, selected=selected,
                  objective=float(sum(c.score or 0.0 for c in chosen)),
                  total_cents=int(sum(c.amount_cents for c in chosen)),
                  solve_seconds=time.perf_counter() - started)
