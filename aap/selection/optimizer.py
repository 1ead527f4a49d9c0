"""The selection of a call's winners: a pure function of plain data (no database, no Flask).

Entry point (also called many times by aap.selection.robustness on re-sampled scores):

    select(candidates: list[Candidate], settings: Settings) -> Result
        candidates: one per scored file — key, score (/20, None: not scored), amount_cents (granted,
                    else requested), amount_per_year (tuple of cents, one per year of the call;
                    () = the amount split evenly), region (code), fixed (True/False: already
                    decided; None: free).
        settings:   envelope_cents, envelope_per_year (one envelope per year; () = one envelope),
                    first_year, min_score (/20), min_per_region and min_per_overseas (the
                    territorial guarantees), region_cap_share, objective (MERIT or SUM).
        Result:     status, selected (keys), reasons {key: French reason, retained or not},
                    kinds {key: REASON_*}, total_cents, total_per_year, solve_seconds, and when
                    infeasible, reason and suggestions (French).

Two objectives:
- MERIT (the default): files are retained in the order of their score (ties: by key) while the
  constraints allow. The result is the lexicographic maximum of (x_1, x_2, ...) in that order:
  a file is passed over only when taking it would make the constraints impossible to meet with
  the files still to come — it does not fit in what is left of a year's envelope, its région's
  cap is reached, or what is left must be kept for a territorial guarantee. Exact: each step
  keeps a witness (a selection completing the decisions so far that meets every constraint);
  a file in the witness, or that fits beside it, is retained at once; otherwise whether the
  guarantees can still be met is decided by a lower bound, a greedy completion, and at last by
  an integer programme (HiGHS via SciPy's milp) on the files of the régions still to cover.
- SUM (« Maximiser la somme des notes »): the selection of maximal total score, one integer
  linear programme:
      maximise    Σ score_i · x_i                         x_i ∈ {0, 1}  (scores in thousandths)
      subject to  Σ amount_i · x_i ≤ envelope             and, per year y, Σ amount_iy · x_i ≤ envelope_y
                  Σ_{i in r} x_i ≥ g_r                    for every région r (the guarantee, below)
                  Σ_{i in r} amount_i · x_i ≤ cap         for every région r (optional cap = share × envelope)
                  x_i = 0                                 files not scored, or under the minimum score
                  x_i = 1 / x_i = 0                       files already decided (selected / rejected)

The territorial guarantee of a région r with a file not already rejected: g_r = N (min_per_overseas
for an overseas région, when set, else min_per_region), or all its files that may be retained if it
has fewer (a file under the minimum score is never retained to meet a guarantee).
When the constraints cannot all be met, the result says, in French, which one to relax.
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
MERIT, SUM = "merit", "sum"
OBJECTIVE_LABELS = {MERIT: "Ordre de mérite", SUM: "Maximiser la somme des notes"}
# Scores enter the sum objective as integers, in thousandths of a point (the optimum is exact for
# scores rounded to 0.001 — they are shown to 0.01), which lets HiGHS close the gap quickly.
SCORE_UNITS = 1000

# Why a file is retained or left out (Result.kinds; the French sentence is in Result.reasons).
REASON_MERIT = "merit"                    # retained in merit order
REASON_GUARANTEE_KEPT = "guarantee_kept"  # retained for its région's guarantee, after a better file left out
REASON_SUM_KEPT = "sum_kept"              # retained by the sum-of-scores objective
REASON_FIXED_IN = "fixed_selected"        # already decided: retained
REASON_FIXED_OUT = "fixed_rejected"       # already decided: not retained
REASON_UNSCORED = "unscored"
REASON_MIN_SCORE = "min_score"
REASON_ENVELOPE = "envelope"              # does not fit in what is left of a year's envelope
REASON_CAP = "cap"                        # its région's cap is reached
REASON_GUARANTEE = "guarantee"            # what is left must be kept for a territorial guarantee
REASON_SUM = "sum"                        # left out by the sum-of-scores objective
RETAINED_KINDS = (REASON_MERIT, REASON_GUARANTEE_KEPT, REASON_SUM_KEPT, REASON_FIXED_IN)

# « de la Guyane », « du Grand Est »: the région's name after « de ».
_OF_REGION = {"Guadeloupe": "de la Guadeloupe", "Martinique": "de la Martinique", "Guyane": "de la Guyane",
              "La Réunion": "de La Réunion", "Mayotte": "de Mayotte", "Île-de-France": "de l'Île-de-France",
              "Centre-Val de Loire": "du Centre-Val de Loire",
              "Bourgogne-Franche-Comté": "de la Bourgogne-Franche-Comté", "Normandie": "de la Normandie",
              "Hauts-de-France": "des Hauts-de-France", "Grand Est": "du Grand Est",
              "Pays de la Loire": "des Pays de la Loire", "Bretagne": "de la Bretagne",
              "Nouvelle-Aquitaine": "de la Nouvelle-Aquitaine", "Occitanie": "de l'Occitanie",
              "Auvergne-Rhône-Alpes": "de l'Auvergne-Rhône-Alpes",
              "Provence-Alpes-Côte d'Azur": "de Provence-Alpes-Côte d'Azur", "Corse": "de la Corse"}


@dataclass(frozen=True)
class Candidate:
    key: int                 # application id
    score: float | None      # 0-20 (None: not reviewed)
    amount_cents: int        # amount that would be granted (the decision's, else the amount requested)
    region: str | None       # région code (None: unknown, no territorial constraint)
    fixed: bool | None = None  # True: already selected; False: already rejected; None: free
    amount_per_year: tuple = ()  # cents per year of the call (() or a split not summing up: split evenly)


@dataclass
class Settings:
    envelope_cents: int
    min_per_region: int = 1
    region_cap_share: float | None = None  # e.g. 0.25 for at most 25 % of the envelope per région
    min_score: float | None = None
    envelope_per_year: tuple = ()          # cents per year (() : one envelope, envelope_cents)
    first_year: int | None = None          # the year of envelope_per_year[0] (for the reasons)
    min_per_overseas: int | None = None    # the guarantee of an overseas région (None: min_per_region)
    objective: str = MERIT

    @property
    def region_cap_cents(self):
        return region_cap_cents(self.envelope_cents, self.region_cap_share)

    @property
    def envelopes(self):
        return tuple(self.envelope_per_year) or (self.envelope_cents,)

    def guarantee(self, region_code):
        region = REGION_BY_CODE.get(region_code or "")
        if region is not None and region.is_overseas and self.min_per_overseas is not None:
            return self.min_per_overseas
        return self.min_per_region

    def envelope_name(self, index):
        """« l'enveloppe 2026 » (« l'enveloppe » when the year is unknown)."""
        return "l'enveloppe" if self.first_year is None else f"l'enveloppe {self.first_year + index}"


@dataclass
class Result:
    status: str
    selected: list = field(default_factory=list)  # keys, in the candidates' order
    objective: float = 0.0                         # sum of the selected files' scores
    total_cents: int = 0
    total_per_year: list = field(default_factory=list)
    solve_seconds: float = 0.0
    reason: str = ""                               # French: why it is infeasible
    suggestions: list = field(default_factory=list)  # French: what to relax
    reasons: dict = field(default_factory=dict)    # key -> French: why retained or left out
    kinds: dict = field(default_factory=dict)      # key -> REASON_*

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


def of_region(code):
    """« de la Guyane »."""
    name = region_name(code)
    return _OF_REGION.get(name, f"de la région {name}")


def _la_region(code):
    return f"la région {region_name(code)}"


def amounts_per_year(candidate, years):
    """The candidate's amount in each of `years` years: its split when it sums up, else even."""
    if years <= 1:
        return (candidate.amount_cents,)
    split = tuple(int(v or 0) for v in candidate.amount_per_year or ())
    if len(split) == years and sum(split) == candidate.amount_cents:
        return split
    base, remainder = divmod(candidate.amount_cents, years)
    return tuple(base + (1 if i < remainder else 0) for i in range(years))


def _above(candidate, min_score):
    return candidate.score is not None and (min_score is None or candidate.score >= min_score - 1e-9)


def eligible(candidate, min_score):
    """May the optimiser pick this (free) file? Scored, and at or above the minimum score."""
    return candidate.fixed is not False and _above(candidate, min_score)


def guarantees(candidates, settings, use_fixed=True, min_score="settings"):
    """{région: the number of winners it must get} (the territorial guarantee, see the module)."""
    min_score = settings.min_score if min_score == "settings" else min_score
    available = {}
    for c in candidates:
        if c.region is None or (use_fixed and c.fixed is False):
            continue
        possible = (use_fixed and c.fixed is True) or _above(c, min_score)
        available[c.region] = available.get(c.region, 0) + (1 if possible else 0)
    needed = {region: min(settings.guarantee(region), count) for region, count in available.items()}
    return {region: n for region, n in sorted(needed.items()) if n > 0}


def required_regions(candidates, settings=None):
    """Régions with a guarantee (with settings), or with a file not already rejected."""
    if settings is not None:
        return list(guarantees(candidates, settings))
    return sorted({c.region for c in candidates if c.region is not None and c.fixed is not False})


def check(candidates, settings, selected_keys):
    """Every constraint a selection must respect; returns a list of French violations ([] if fine)."""
    chosen = set(selected_keys)
    problems = []
    total = sum(c.amount_cents for c in candidates if c.key in chosen)
    if total > settings.envelope_cents:
        problems.append(f"Enveloppe dépassée : {format_euros(total)} pour {format_euros(settings.envelope_cents)}.")
    envelopes = settings.envelopes
    if len(envelopes) > 1:
        for index, envelope in enumerate(envelopes):
            spent = sum(amounts_per_year(c, len(envelopes))[index] for c in candidates if c.key in chosen)
            if spent > envelope:
                problems.append(f"{settings.envelope_name(index).capitalize()} est dépassée : "
                                f"{format_euros(spent)} pour {format_euros(envelope)}.")
    for c in candidates:
        if c.fixed is True and c.key not in chosen:
            problems.append(f"Le dossier {c.key}, déjà retenu, n'est plus retenu.")
        if c.fixed is not True and c.key in chosen and not eligible(c, settings.min_score):
            problems.append(f"Le dossier {c.key} ne peut pas être retenu.")
    for region, needed in guarantees(candidates, settings).items():
        count = sum(1 for c in candidates if c.region == region and c.key in chosen)
        if count < needed:
            problems.append(f"{_la_region(region).capitalize()} n'a que {count} lauréat(s).")
    cap = settings.region_cap_cents
    if cap is not None:
        for region in sorted({c.region for c in candidates if c.region is not None}):
            amount = sum(c.amount_cents for c in candidates if c.region == region and c.key in chosen)
            if amount > cap:
                problems.append(f"Plafond dépassé pour {_la_region(region)}.")
    return problems


def _programme(candidates, settings, *, use_envelope=True, use_minimums=True, use_cap=True, use_fixed=True,
               use_min_score=True):
    """Bounds and constraint rows of the programme: (lower, upper, rows, row_lower, row_upper)."""
    n = len(candidates)
    min_score = settings.min_score if use_min_score else None
    lower, upper = np.zeros(n), np.zeros(n)
    for i, c in enumerate(candidates):
        if use_fixed and c.fixed is True:
            lower[i] = upper[i] = 1
        elif use_fixed and c.fixed is False:
            pass
        elif _above(c, min_score):
            upper[i] = 1
    amounts = np.array([float(c.amount_cents) for c in candidates])
    rows, row_lower, row_upper = [], [], []

    def add(row, low, high):
        rows.append(row)
        row_lower.append(low)
        row_upper.append(high)

    if use_envelope:
        add(amounts, -np.inf, float(settings.envelope_cents))
        envelopes = settings.envelopes
        if len(envelopes) > 1:
            per_year = np.array([amounts_per_year(c, len(envelopes)) for c in candidates], dtype=float)
            for index, envelope in enumerate(envelopes):
                add(per_year[:, index], -np.inf, float(envelope))
    regions = {}
    for i, c in enumerate(candidates):
        if c.region is not None:
            regions.setdefault(c.region, []).append(i)
    if use_minimums:
        for region, needed in guarantees(candidates, settings, use_fixed, min_score).items():
            row = np.zeros(n)
            row[regions[region]] = 1
            add(row, float(needed), np.inf)
    cap = settings.region_cap_cents
    if use_cap and cap is not None:
        for members in regions.values():
            row = np.zeros(n)
            row[members] = amounts[members]
            add(row, -np.inf, float(cap))
    return lower, upper, rows, row_lower, row_upper


def _run_milp(objective, lower, upper, rows, row_lower, row_upper, time_limit):
    """Solve; returns (status, x as a 0/1 numpy array or None)."""
    constraints = []
    if rows:
        constraints.append(LinearConstraint(csr_array(np.vstack(rows)), row_lower, row_upper))
    result = milp(objective, integrality=np.ones(len(objective)), bounds=Bounds(lower, upper),
                  constraints=constraints, options={"mip_rel_gap": 0, "time_limit": time_limit})
    if result.status == 2:
        return INFEASIBLE, None
    if result.x is None:
        return INFEASIBLE if result.status != 1 else TIME_LIMIT, None
    return (OPTIMAL if result.status == 0 else TIME_LIMIT), np.round(result.x).astype(int)


def _solve(candidates, settings, *, minimise_cost=False, time_limit=20.0, **uses):
    """Build and solve the sum-of-scores programme (or the cheapest selection)."""
    if not candidates:
        return OPTIMAL, np.zeros(0)
    lower, upper, rows, row_lower, row_upper = _programme(candidates, settings, **uses)
    if minimise_cost:
        objective = np.array([float(c.amount_cents) for c in candidates])
    else:
        objective = -np.array([round((c.score or 0.0) * SCORE_UNITS) for c in candidates], dtype=float)
    return _run_milp(objective, lower, upper, rows, row_lower, row_upper, time_limit)


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
    envelopes = settings.envelopes
    if len(envelopes) > 1 and not reasons:
        for index, envelope in enumerate(envelopes):
            spent = sum(amounts_per_year(c, len(envelopes))[index] for c in fixed_selected)
            if spent > envelope:
                reasons.append(f"{settings.envelope_name(index)} est dépassée par les seuls dossiers déjà retenus "
                               f"({format_euros(spent)} pour {format_euros(envelope)})")
        if reasons:
            suggestions.append("augmentez l'enveloppe de l'année ou revenez sur des décisions « retenu » "
                               "encore en brouillon")
    if cap is not None:
        for region in sorted({c.region for c in fixed_selected if c.region is not None}):
            amount = sum(c.amount_cents for c in fixed_selected if c.region == region)
            if amount > cap:
                reasons.append(
                    f"le plafond par région ({format_euros(cap)}) est dépassé en {region_name(region)} "
                    f"par les seuls dossiers déjà retenus ({format_euros(amount)})")
        if reasons and not suggestions:
            suggestions.append("relevez le plafond par région")

    # 2. Otherwise, the constraints conflict together: find which family, removed alone, helps.
    if not reasons:
        if guarantees(candidates, settings) and _solve(candidates, settings, use_minimums=False)[0] != INFEASIBLE:
            status, x = _solve(candidates, settings, use_envelope=False, minimise_cost=True)
            if status != INFEASIBLE and x is not None:
                chosen = [c for c, xi in zip(candidates, x) if xi]
                cheapest = int(sum(c.amount_cents for c in chosen))
                if cheapest > settings.envelope_cents or len(envelopes) == 1:
                    reasons.append(
                        f"impossible de retenir au moins {n_min} {dossiers} par région avec cette enveloppe : "
                        f"la sélection la moins coûteuse qui couvre toutes les régions coûte {format_euros(cheapest)} "
                        f"pour une enveloppe de {format_euros(settings.envelope_cents)}")
                else:
                    reasons.append(
                        f"impossible de retenir au moins {n_min} {dossiers} par région avec les enveloppes "
                        f"annuelles ({', '.join(format_euros(e) for e in envelopes)})")
            else:
                reasons.append(
                    f"impossible de retenir au moins {n_min} {dossiers} par région "
                    f"sans dépasser le plafond par région")
            suggestions.append("baissez le nombre minimal de lauréats par région")
        if cap is not None and _solve(candidates, settings, use_cap=False)[0] != INFEASIBLE:
            if not reasons:
                reasons.append(f"le plafond de {format_euros(cap)} par région ne permet pas de respecter "
                               "les autres contraintes")
            suggestions.append("relevez ou supprimez le plafond par région")
        if fixed_selected and _solve(candidates, settings, use_fixed=False)[0] != INFEASIBLE:
            if not reasons:
                reasons.append("les décisions déjà prises ne laissent pas assez d'enveloppe pour respecter "
                               "les autres contraintes")
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


def _score_text(score):
    return f"{score:.2f}".replace(".", ",")


def _min_score_text(min_score):
    return f"{min_score:g}".replace(".", ",")


class _Budget:
    """What the files retained so far use: per year, in total, per région (for the ≤ constraints)."""

    def __init__(self, settings, per_year):
        self.settings = settings
        self.envelopes = settings.envelopes
        self.cap = settings.region_cap_cents
        self.per_year = per_year                 # index -> amounts per year
        self.used = [0] * len(self.envelopes)
        self.total = 0
        self.region_amount = {}
        self.region_count = {}

    def add(self, i, c):
        for y, amount in enumerate(self.per_year[i]):
            self.used[y] += amount
        self.total += c.amount_cents
        if c.region is not None:
            self.region_amount[c.region] = self.region_amount.get(c.region, 0) + c.amount_cents
            self.region_count[c.region] = self.region_count.get(c.region, 0) + 1

    def violation(self, extra, candidates):
        """None if the retained files plus `extra` (indices) fit every ≤ constraint, else
        (kind, French reason) of the first one broken (the retained files alone are checked
        once, with no extra)."""
        used = list(self.used)
        total = self.total
        regions = {}
        for i in extra:
            for y, amount in enumerate(self.per_year[i]):
                used[y] += amount
            total += candidates[i].amount_cents
            region = candidates[i].region
            if region is not None:
                regions[region] = regions.get(region, 0) + candidates[i].amount_cents
        for y, envelope in enumerate(self.envelopes):
            if used[y] > envelope:
                return REASON_ENVELOPE, (f"ne tient pas dans {self.settings.envelope_name(y)} : "
                                         f"il manque {format_euros(used[y] - envelope)}")
        if total > self.settings.envelope_cents:
            return REASON_ENVELOPE, (f"ne tient pas dans l'enveloppe totale : "
                                     f"il manque {format_euros(total - self.settings.envelope_cents)}")
        if self.cap is not None:
            if not extra:
                regions = dict.fromkeys(self.region_amount, 0)
            for region, amount in regions.items():
                already = self.region_amount.get(region, 0)
                if already + amount > self.cap:
                    return REASON_CAP, (f"plafond {of_region(region)} atteint : {format_euros(already)} déjà "
                                        f"retenus pour un plafond de {format_euros(self.cap)}")
        return None


def _completion(candidates, budget, needs, pools, undecided, extra, time_limit):
    """Files among the undecided ones that, with the retained files and `extra`, meet every
    guarantee and every ≤ constraint: a list of indices, or None when there are none (exact).
    `needs`: {région: winners still needed}; `pools`: {région: indices by increasing amount}."""
    if budget.violation(extra, candidates) is not None:
        return None
    if not needs:
        return []
    years = len(budget.envelopes)
    per_region = {}
    for region, need in needs.items():
        pool = [i for i in pools.get(region, ()) if i in undecided]
        if len(pool) < need:
            return None
        per_region[region] = pool
    # A lower bound: the `need` cheapest files of each région, year by year (régions are disjoint).
    extra_years = [sum(budget.per_year[i][y] for i in extra) for y in range(years)]
    for y, envelope in enumerate(budget.envelopes):
        bound = budget.used[y] + extra_years[y] + sum(
            sum(sorted(budget.per_year[i][y] for i in pool)[:needs[region]]) for region, pool in per_region.items())
        if bound > envelope:
            return None
    # A greedy completion: the cheapest files of each région.
    greedy = [i for region, pool in per_region.items() for i in pool[:needs[region]]]
    if budget.violation(list(extra) + greedy, candidates) is None:
        return greedy
    # The exact answer: a small programme on the files of the régions still to cover.
    variables = [i for pool in per_region.values() for i in pool]
    n = len(variables)
    rows, row_lower, row_upper = [], [], []
    extra_total = sum(candidates[i].amount_cents for i in extra)
    for y, envelope in enumerate(budget.envelopes):
        rows.append(np.array([float(budget.per_year[i][y]) for i in variables]))
        row_lower.append(-np.inf)
        row_upper.append(float(envelope - budget.used[y] - extra_years[y]))
    rows.append(np.array([float(candidates[i].amount_cents) for i in variables]))
    row_lower.append(-np.inf)
    row_upper.append(float(budget.settings.envelope_cents - budget.total - extra_total))
    for region, need in needs.items():
        rows.append(np.array([1.0 if candidates[i].region == region else 0.0 for i in variables]))
        row_lower.append(float(need))
        row_upper.append(np.inf)
        if budget.cap is not None:
            extra_region = sum(candidates[i].amount_cents for i in extra if candidates[i].region == region)
            rows.append(np.array([float(candidates[i].amount_cents) if candidates[i].region == region else 0.0
                                  for i in variables]))
            row_lower.append(-np.inf)
            row_upper.append(float(budget.cap - budget.region_amount.get(region, 0) - extra_region))
    objective = np.array([float(candidates[i].amount_cents) for i in variables])
    status, x = _run_milp(objective, np.zeros(n), np.ones(n), rows, row_lower, row_upper, time_limit)
    if x is None:
        return None
    return [i for i, xi in zip(variables, x) if xi]


def _needs(guarantee, budget, extra_region=None):
    needs = {}
    for region, needed in guarantee.items():
        have = budget.region_count.get(region, 0) + (1 if region == extra_region else 0)
        if have < needed:
            needs[region] = needed - have
    return needs


def _of_guarantee(regions):
    """« de la garantie territoriale de la Guyane », « des garanties territoriales de A et de B »."""
    regions = sorted(set(regions), key=region_name)
    if len(regions) == 1:
        return f"de la garantie territoriale {of_region(regions[0])}"
    return "des garanties territoriales " + ", ".join(of_region(r) for r in regions[:-1]) \
        + " et " + of_region(regions[-1])


def _prepare(candidates, settings, result):
    """Reasons of the files the objective does not choose; returns (fixed-in indices, free indices)."""
    fixed_in, free = [], []
    for i, c in enumerate(candidates):
        if c.fixed is True:
            fixed_in.append(i)
            result.kinds[c.key], result.reasons[c.key] = REASON_FIXED_IN, "déjà retenu (décision prise)"
        elif c.fixed is False:
            result.kinds[c.key], result.reasons[c.key] = REASON_FIXED_OUT, "non retenu (décision prise)"
        elif c.score is None:
            result.kinds[c.key], result.reasons[c.key] = REASON_UNSCORED, "pas encore noté"
        elif not _above(c, settings.min_score):
            result.kinds[c.key] = REASON_MIN_SCORE
            result.reasons[c.key] = (f"note inférieure au minimum de {_min_score_text(settings.min_score)}/20 "
                                     f"({_score_text(c.score)}/20)")
        else:
            free.append(i)
    return fixed_in, free


def _merit(candidates, settings, result, time_limit):
    """The lexicographic maximum in merit order (see the module). Fills result; False if infeasible."""
    years = len(settings.envelopes)
    per_year = [amounts_per_year(c, years) for c in candidates]
    budget = _Budget(settings, per_year)
    fixed_in, free = _prepare(candidates, settings, result)
    for i in fixed_in:
        budget.add(i, candidates[i])
    guarantee = guarantees(candidates, settings)
    order = sorted(free, key=lambda i: (-candidates[i].score, i))
    undecided = set(order)
    pools = {}
    for i in sorted(order, key=lambda i: (candidates[i].amount_cents, i)):
        if candidates[i].region is not None:
            pools.setdefault(candidates[i].region, []).append(i)
    if budget.violation([], candidates) is not None:
        return False
    witness = _completion(candidates, budget, _needs(guarantee, budget), pools, undecided, [], time_limit)
    if witness is None:
        return False
    witness = set(witness)
    chosen = set(fixed_in)
    passed_over = False
    for i in order:
        c = candidates[i]
        undecided.discard(i)
        reserved = c.region in guarantee and budget.region_count.get(c.region, 0) < guarantee[c.region]
        take = False
        if i in witness:
            take = True
            witness.discard(i)
        else:
            broken = budget.violation([i], candidates)
            if broken is not None:
                result.kinds[c.key], result.reasons[c.key] = broken
            elif budget.violation([i, *witness], candidates) is None:
                take = True
            else:
                completion = _completion(candidates, budget, _needs(guarantee, budget, c.region), pools,
                                         undecided, [i], time_limit)
                if completion is not None:
                    take = True
                    witness = set(completion)
                else:
                    regions = [candidates[j].region for j in witness] or list(_needs(guarantee, budget))
                    result.kinds[c.key] = REASON_GUARANTEE
                    result.reasons[c.key] = f"écarté au profit {_of_guarantee(regions)}"
        if take:
            budget.add(i, c)
            chosen.add(i)
            if passed_over and reserved:
                result.kinds[c.key] = REASON_GUARANTEE_KEPT
                result.reasons[c.key] = f"retenu au titre {_of_guarantee([c.region])}"
            else:
                result.kinds[c.key], result.reasons[c.key] = REASON_MERIT, "retenu dans l'ordre de mérite"
        else:
            passed_over = True
    result.selected = [c.key for i, c in enumerate(candidates) if i in chosen]
    return True


def _sum(candidates, settings, result, time_limit):
    """The selection of maximal total score (see the module). Fills result; False if infeasible."""
    status, x = _solve(candidates, settings, time_limit=time_limit)
    if status == INFEASIBLE or x is None:
        return False
    result.status = status
    years = len(settings.envelopes)
    per_year = [amounts_per_year(c, years) for c in candidates]
    budget = _Budget(settings, per_year)
    _, free = _prepare(candidates, settings, result)
    for i, c in enumerate(candidates):
        if x[i]:
            budget.add(i, c)
    for i in free:
        c = candidates[i]
        if x[i]:
            result.kinds[c.key], result.reasons[c.key] = REASON_SUM_KEPT, "retenu (somme des notes maximale)"
            continue
        broken = budget.violation([i], candidates)
        if broken is not None:
            result.kinds[c.key], result.reasons[c.key] = broken
        else:
            result.kinds[c.key] = REASON_SUM
            result.reasons[c.key] = "écarté : la somme des notes est plus élevée avec d'autres dossiers"
    result.selected = [c.key for c, xi in zip(candidates, x) if xi]
    return True


def select(candidates, settings, time_limit=20.0):
    """The selection under the settings' objective and constraints (see the module)."""
    candidates = list(candidates)
    started = time.perf_counter()
    result = Result(status=OPTIMAL)
    run = _sum if settings.objective == SUM else _merit
    if not run(candidates, settings, result, time_limit):
        reason, suggestions = _explain(candidates, settings)
        return Result(status=INFEASIBLE, solve_seconds=time.perf_counter() - started,
                      reason=reason, suggestions=suggestions)
    chosen = set(result.selected)
    years = len(settings.envelopes)
    result.objective = float(sum(c.score or 0.0 for c in candidates if c.key in chosen))
    result.total_cents = int(sum(c.amount_cents for c in candidates if c.key in chosen))
    result.total_per_year = [sum(amounts_per_year(c, years)[y] for c in candidates if c.key in chosen)
                             for y in range(years)]
    result.solve_seconds = time.perf_counter() - started
    return result


def optimise(candidates, settings, time_limit=20.0):
    """The selection of maximal total score (the SUM objective, whatever settings.objective says)."""
    from dataclasses import replace
    return select(candidates, replace(settings, objective=SUM), time_limit)
