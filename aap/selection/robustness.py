"""How robust is each decision: a file's probability of being retained when its reviews are
re-sampled. A pure module (numpy, no database, no Flask).

Panel scores are noisy (Graves et al., BMJ 2011; the SNSF draws its grey zone by lot, Heyard et
al. 2022). For each of `n_resamples` re-samplings, every file's reviews are drawn with
replacement (n reviews out of its n: a bootstrap over its reviewers), its score is the mean of
the drawn reviews' weighted totals (raw, or calibrated; with `toggle_calibration`, each
re-sampling uses one or the other with even odds), and the selection is run again with
aap.selection.optimizer.select on those scores, every other input unchanged. A file's
probability is the share of re-samplings that retain it. Files already decided (fixed) keep their
outcome; files without a review keep no score.

Speed: the re-sampled scores are drawn at once with numpy; one selection in merit order takes a
few milliseconds for 1,000 files, so 300 re-samplings take a few seconds (scripts/bench.py).

The draw (`draw`): among the grey-zone files, a random order from a published seed; the files
are retained in that order while they fit in what is left of every year's envelope. Anyone can
re-run it from the seed and the recorded inputs (`flask --app aap selection-draw-verify --call SLUG`,
aap/selection/grey_zone.py).
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import numpy as np

from . import optimizer

DEFAULT_RESAMPLES = 300
# The grey zone: retained in more than 10 % and fewer than 90 % of the re-samplings.
GREY_LOW = 0.1
GREY_HIGH = 0.9


@dataclass(frozen=True)
class FileReviews:
    """The weighted totals (/20) of one file's submitted reviews, raw and calibrated (same order)."""
    key: int
    totals: tuple = ()
    calibrated_totals: tuple = ()


@dataclass
class Robustness:
    probabilities: dict = field(default_factory=dict)  # key -> share of re-samplings retaining it
    n_resamples: int = DEFAULT_RESAMPLES
    seed: int = 0
    seconds: float = 0.0
    infeasible: int = 0                                 # re-samplings without a feasible selection

    def grey_zone(self):
        """Keys of the files in the grey zone, by decreasing probability."""
        return sorted((k for k, p in self.probabilities.items() if in_grey_zone(p)),
                      key=lambda k: (-self.probabilities[k], k))


def in_grey_zone(probability):
    return probability is not None and GREY_LOW < probability < GREY_HIGH


def resampled_scores(files, n_resamples, rng, calibrated=False, toggle_calibration=False):
    """(n_resamples × len(files)) array of re-sampled mean scores (NaN: a file without review).

    One bootstrap per file and re-sampling: n indices drawn with replacement among its n reviews;
    the same indices serve the raw and the calibrated totals."""
    count = len(files)
    sizes = np.array([len(f.totals) for f in files], dtype=np.int64)
    width = int(sizes.max()) if count else 0
    raw = np.zeros((count, max(width, 1)))
    cal = np.zeros((count, max(width, 1)))
    for i, f in enumerate(files):
        raw[i, :sizes[i]] = f.totals
        cal[i, :sizes[i]] = f.calibrated_totals if len(f.calibrated_totals) == sizes[i] else f.totals
    if count == 0 or width == 0:
        return np.full((n_resamples, count), np.nan)
    picks = rng.integers(0, np.maximum(sizes, 1)[None, :, None], size=(n_resamples, count, width))
    used = np.arange(width)[None, None, :] < sizes[None, :, None]
    rows = np.arange(count)[None, :, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        raw_means = np.where(used, raw[rows, picks], 0.0).sum(axis=2) / sizes
        cal_means = np.where(used, cal[rows, picks], 0.0).sum(axis=2) / sizes
    if toggle_calibration:
        use_calibrated = rng.random(n_resamples) < 0.5
    else:
        use_calibrated = np.full(n_resamples, bool(calibrated))
    return np.where(use_calibrated[:, None], cal_means, raw_means)


def reviews_of(rows):
    """{application id: FileReviews} of a call's ranking rows (aap.selection.ranking)."""
    return {row.id: FileReviews(row.id, tuple(row.scores.totals), tuple(row.scores.calibrated_totals))
            for row in rows}


def of_proposal(call, data, settings, n_resamples=DEFAULT_RESAMPLES, seed=0, toggle_calibration=False):
    """The Robustness of a proposal: `data` is the call's ranking (aap.selection.ranking.load),
    `settings` the ProposalSettings; the candidates and the selection's settings are the
    proposal's own (aap.selection.proposal)."""
    from . import proposal

    return retention(proposal.candidates(data.rows, settings), reviews_of(data.rows),
                     proposal.optimiser_settings(call, settings), n_resamples, seed, settings.calibrated,
                     toggle_calibration)


def retention(candidates, reviews, settings, n_resamples=DEFAULT_RESAMPLES, seed=0, calibrated=False,
              toggle_calibration=False):
    """Each candidate's probability of being retained (see the module).

    candidates: [optimizer.Candidate] as for optimizer.select; reviews: {key: FileReviews};
    settings: optimizer.Settings. Deterministic for a given seed."""
    started = time.perf_counter()
    candidates = list(candidates)
    rng = np.random.default_rng(seed)
    files = [reviews.get(c.key) or FileReviews(key=c.key) for c in candidates]
    scores = resampled_scores(files, n_resamples, rng, calibrated, toggle_calibration)
    counts = dict.fromkeys((c.key for c in candidates), 0)
    infeasible = 0
    for row in scores:
        drawn = [c if c.fixed is not None or s != s else  # s != s: NaN, a file without review
                 optimizer.Candidate(c.key, s, c.amount_cents, c.region, c.fixed, c.amount_per_year)
                 for c, s in zip(candidates, row.tolist())]
        result = optimizer.select(drawn, settings)
        if not result.feasible:
            infeasible += 1
            continue
        for key in result.selected:
            counts[key] += 1
    runs = max(n_resamples, 1)
    return Robustness(probabilities={k: n / runs for k, n in counts.items()}, n_resamples=n_resamples, seed=seed,
                      seconds=time.perf_counter() - started, infeasible=infeasible)


@dataclass
class Draw:
    seed: int
    order: list            # the grey-zone keys in the drawn order
    retained: list         # those retained, in the drawn order
    left_cents: list       # what is left of each year's envelope after the draw


def draw(grey, envelopes_left, seed):
    """The draw among the grey zone for the places left.

    grey: [(key, (cents per year…))] the grey-zone files and their amounts per year;
    envelopes_left: what is left of each year's envelope once the files sure to be retained are
    counted; seed: an integer, published. The keys are sorted, shuffled with random.Random(seed)
    (the same in every Python version), then retained in that order while they fit in every
    year's envelope left. Re-running it with the same arguments gives the same result."""
    amounts = {key: tuple(per_year) for key, per_year in grey}
    order = sorted(amounts)
    random.Random(seed).shuffle(order)
    left = list(envelopes_left)
    retained = []
    for key in order:
        per_year = amounts[key]
        if all(amount <= room for amount, room in zip(per_year, left)):
            left = [room - amount for room, amount in zip(left, per_year)]
            retained.append(key)
    return Draw(seed=seed, order=order, retained=retained, left_cents=left)
