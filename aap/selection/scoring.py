"""Scores of reviews and files, reviewer calibration and ranks. Pure functions on plain data.

Floats throughout (scores are grades, not money). A review's weighted total is on a 0-20 scale:

    total = Σ(weight × score / scale_max) / Σ weight × 20

Calibration puts every reviewer on the same footing: a review's total is standardised against
its reviewer's mean and standard deviation, then mapped back with the call-wide mean μ and
(population) standard deviation σ of all review totals, x' = μ + (x − m_r) / s_r × σ, clipped to
[0, 20]. A reviewer's own mean and deviation say little when they scored few files (with one
review, the mean IS the file's score; with two, the standardised scores are always ±1), so both
are shrunk towards the call's, as if the reviewer had also scored PRIOR_REVIEWS files at the
call's level (a credibility weight, Bühlmann):

    m_r = μ + n/(n + K) × (mean_r − μ)        s_r = σ + (n−1)/(n−1 + K) × (sd_r − σ)

A reviewer with a single review is thus corrected only a little (x' = μ + K/(1+K) × (x − μ)), a
reviewer with 25 reviews almost fully; the order of one reviewer's files never changes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from statistics import fmean, pstdev

SCALE = 20.0
# K above: how many reviews at the call's level a reviewer's own mean and deviation are weighed against.
PRIOR_REVIEWS = 2


@dataclass(frozen=True)
class CriterionSpec:
    id: int
    weight: float
    scale_max: int
    label: str = ""


@dataclass
class ReviewData:
    """One submitted review: its scores by criterion id, recommendation and proposed amount."""
    id: int
    application_id: int
    reviewer_id: int
    scores: dict = field(default_factory=dict)  # criterion_id -> value (int or None)
    recommendation: str | None = None
    proposed_amount_cents: int | None = None


@dataclass
class FileScores:
    application_id: int
    review_count: int = 0
    totals: list = field(default_factory=list)            # one 0-20 total per review (None skipped)
    calibrated_totals: list = field(default_factory=list)
    mean: float | None = None
    calibrated_mean: float | None = None
    criterion_means: dict = field(default_factory=dict)   # criterion_id -> mean raw score (or None)
    spread: float | None = None
    recommendations: dict = field(default_factory=dict)   # recommendation -> count
    proposed_mean_cents: int | None = None
    rank: int | None = None
    calibrated_rank: int | None = None


def weighted_total(scores, criteria):
    """0-20 weighted total of one review. Criteria without a score are left out of both sums.

    Returns None when no criterion is scored (or all weights are zero).
    """
    numerator = 0.0
    weights = 0.0
    for criterion in criteria:
        value = scores.get(criterion.id)
        if value is None or criterion.scale_max <= 0:
            continue
        weight = float(criterion.weight)
        numerator += weight * float(value) / criterion.scale_max
        weights += weight
    if weights <= 0:
        return None
    return numerator / weights * SCALE


def spread(values):
    """max − min of a list of totals (None for an empty list)."""
    values = [v for v in values if v is not None]
    return (max(values) - min(values)) if values else None


def mean_or_none(values):
    values = [v for v in values if v is not None]
    return fmean(values) if values else None


def calibrate(review_totals):
    """Calibrated totals of reviews.

    review_totals: {review_id: (reviewer_id, total)} for ALL the submitted reviews of a call
    (totals on 0-20; None totals are ignored). Returns {review_id: calibrated total}.
    """
    items = {rid: (reviewer, total) for rid, (reviewer, total) in review_totals.items() if total is not None}
    if not items:
        return {}
    all_totals = [total for _, total in items.values()]
    mu = fmean(all_totals)
    sigma = pstdev(all_totals) if len(all_totals) > 1 else 0.0
    if sigma <= 1e-12:  # every review gave the same total: nothing to correct
        return {rid: total for rid, (_, total) in items.items()}
    by_reviewer = {}
    for reviewer, total in items.values():
        by_reviewer.setdefault(reviewer, []).append(total)
    stats = {}
    for reviewer, totals in by_reviewer.items():
        n = len(totals)
        own_mu = mu + n / (n + PRIOR_REVIEWS) * (fmean(totals) - mu)
        own_sigma = sigma + (n - 1) / (n - 1 + PRIOR_REVIEWS) * ((pstdev(totals) if n > 1 else sigma) - sigma)
        stats[reviewer] = (own_mu, own_sigma)
    calibrated = {}
    for rid, (reviewer, total) in items.items():
        own_mu, own_sigma = stats[reviewer]
        calibrated[rid] = min(SCALE, max(0.0, mu + (total - own_mu) / own_sigma * sigma))
    return calibrated


def competition_ranks(values):
    """Ranks of {key: score} by decreasing score, ties sharing a rank (1, 2, 2, 4).

    Keys whose score is None get rank None. Scores are compared rounded to 1e-9.
    """
    scored = sorted(((round(v, 9), k) for k, v in values.items() if v is not None),
                    key=lambda item: -item[0])
    ranks = {k: None for k, v in values.items() if v is None}
    previous = None
    rank = 0
    for position, (value, key) in enumerate(scored, start=1):
        if value != previous:
            rank = position
            previous = value
        ranks[key] = rank
    return ranks


def score_files(criteria, reviews, application_ids=None):
    """Scores of every file from the submitted reviews of a call.

    criteria: [CriterionSpec]; reviews: [ReviewData] (all submitted reviews of the call, used
    for calibration); application_ids: the files to return (default: those with reviews).
    Returns {application_id: FileScores} with ranks computed among the returned files.
    """
    totals = {r.id: weighted_total(r.scores, criteria) for r in reviews}
    calibrated = calibrate({r.id: (r.reviewer_id, totals[r.id]) for r in reviews})
    ids = list(application_ids) if application_ids is not None else sorted({r.application_id for r in reviews})
    files = {app_id: FileScores(application_id=app_id) for app_id in ids}
    per_criterion = {app_id: {c.id: [] for c in criteria} for app_id in ids}
    proposed = {app_id: [] for app_id in ids}
    for review in reviews:
        file = files.get(review.application_id)
        if file is None:
            continue
        file.review_count += 1
        if totals[review.id] is not None:
            file.totals.append(totals[review.id])
            file.calibrated_totals.append(calibrated[review.id])
        for criterion in criteria:
            value = review.scores.get(criterion.id)
            if value is not None:
                per_criterion[review.application_id][criterion.id].append(float(value))
        if review.recommendation:
            file.recommendations[review.recommendation] = file.recommendations.get(review.recommendation, 0) + 1
        if review.proposed_amount_cents is not None:
            proposed[review.application_id].append(review.proposed_amount_cents)
    for app_id, file in files.items():
        file.mean = mean_or_none(file.totals)
        file.calibrated_mean = mean_or_none(file.calibrated_totals)
        file.spread = spread(file.totals)
        file.criterion_means = {cid: mean_or_none(values) for cid, values in per_criterion[app_id].items()}
        amounts = proposed[app_id]
        # The mean of the amounts proposed, to the euro (a mean's cents tell nothing).
        file.proposed_mean_cents = round(sum(amounts) / len(amounts) / 100) * 100 if amounts else None
    raw_ranks = competition_ranks({k: f.mean for k, f in files.items()})
    cal_ranks = competition_ranks({k: f.calibrated_mean for k, f in files.items()})
    for app_id, file in files.items():
        file.rank = raw_ranks[app_id]
        file.calibrated_rank = cal_ranks[app_id]
    return files
