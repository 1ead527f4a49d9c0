"""Weighted scores, calibration, ranks and the budget summary, on hand-computed examples."""
import math

import pytest

from aap.selection import budget, scoring
from aap.selection.ranking import recommendation_text
from aap.selection.scoring import CriterionSpec, ReviewData

CRITERIA = [CriterionSpec(1, 2.0, 5), CriterionSpec(2, 1.0, 10), CriterionSpec(3, 1.0, 5)]


def test_weighted_total_on_twenty():
    # (2 × 4/5 + 1 × 5/10 + 1 × 3/5) / 4 × 20 = 2.7 / 4 × 20 = 13.5
    assert scoring.weighted_total({1: 4, 2: 5, 3: 3}, CRITERIA) == pytest.approx(13.5)
    assert scoring.weighted_total({1: 5, 2: 10, 3: 5}, CRITERIA) == pytest.approx(20)
    assert scoring.weighted_total({1: 0, 2: 0, 3: 0}, CRITERIA) == pytest.approx(0)


def test_weighted_total_leaves_out_missing_criteria():
    # (2 × 0.8 + 1 × 0.6) / 3 × 20 = 14.666…
    assert scoring.weighted_total({1: 4, 3: 3}, CRITERIA) == pytest.approx(44 / 3)
    assert scoring.weighted_total({}, CRITERIA) is None


def test_weights_may_be_decimals():
    from decimal import Decimal
    criteria = [CriterionSpec(1, Decimal("1.5"), 5), CriterionSpec(2, Decimal("0.5"), 5)]
    # (1.5 × 1 + 0.5 × 0.2) / 2 × 20 = 16
    assert scoring.weighted_total({1: 5, 2: 1}, criteria) == pytest.approx(16)


def _calibrated(mu, sigma, x, reviewer_totals):
    """x' by hand: the reviewer's mean and deviation shrunk towards the call's (K = 2)."""
    n = len(reviewer_totals)
    mean = sum(reviewer_totals) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in reviewer_totals) / n)
    own_mu = mu + n / (n + 2) * (mean - mu)
    own_sigma = sigma + (n - 1) / (n - 1 + 2) * (sd - sigma)
    return mu + (x - own_mu) / own_sigma * sigma


def test_calibration_puts_severe_and_lenient_reviewers_on_the_same_footing():
    # With many reviews each, A (10 or 14) and B (14 or 18) are corrected almost fully: A's best and
    # B's best, 4 points apart raw, end half a point apart; the order of each one's files is kept.
    totals = {i: ("A", 10 + 4 * (i % 2)) for i in range(20)} | {i: ("B", 14 + 4 * (i % 2)) for i in range(20, 40)}
    calibrated = scoring.calibrate(totals)
    assert calibrated[1] - calibrated[21] == pytest.approx(-0.4948, abs=1e-4)   # 14 (A) vs 18 (B)
    assert calibrated[0] == pytest.approx(11.0315, abs=1e-4) and calibrated[1] == pytest.approx(16.4737, abs=1e-4)
    # With three reviews each, A: 8, 10, 12 and B: 12, 14, 16 (μ = 12, σ = √(20/3)): partly corrected,
    # A's best now above B's worst.
    calibrated = scoring.calibrate({1: ("A", 8), 2: ("A", 10), 3: ("A", 12), 4: ("B", 12), 5: ("B", 14), 6: ("B", 16)})
    sigma = math.sqrt(20 / 3)
    assert calibrated[3] == pytest.approx(_calibrated(12, sigma, 12, [8, 10, 12])) == pytest.approx(13.4702, abs=1e-4)
    assert calibrated[4] == pytest.approx(_calibrated(12, sigma, 12, [12, 14, 16])) == pytest.approx(10.5298, abs=1e-4)
    assert calibrated[1] < calibrated[4] < calibrated[2] < calibrated[5] < calibrated[3] < calibrated[6]


def test_calibration_of_reviewers_with_one_review_each_keeps_their_scores_apart():
    # The demo's top-up call under review: most reviewers have sent one review. Their own mean is
    # their file's score, so they are corrected only a little: x' = μ + 2/3 × (x − μ), μ = 10.5.
    # (The former z-scores gave every one of them the call's mean: 10.5, 10.5, 10.5, 10.5.)
    calibrated = scoring.calibrate({1: ("A", 6), 2: ("B", 9), 3: ("C", 12), 4: ("D", 15)})
    assert calibrated == pytest.approx({1: 7.5, 2: 9.5, 3: 11.5, 4: 13.5})
    # Two files, two single-review reviewers each: the files keep their raw order and distance (× 2/3).
    files = scoring.score_files([CriterionSpec(1, 1.0, 20)], [
        ReviewData(1, application_id=1, reviewer_id=1, scores={1: 16}),
        ReviewData(2, application_id=1, reviewer_id=2, scores={1: 14}),
        ReviewData(3, application_id=2, reviewer_id=3, scores={1: 8}),
        ReviewData(4, application_id=2, reviewer_id=4, scores={1: 6})])
    assert files[1].calibrated_mean == pytest.approx(15 - 4 / 3)
    assert files[2].calibrated_mean == pytest.approx(7 + 4 / 3)
    # A reviewer who always gives 8 (twice): pulled three quarters of the way… of 8 − μ (μ = 11.6).
    calibrated = scoring.calibrate({1: ("A", 10), 2: ("A", 14), 3: ("C", 18), 4: ("D", 8), 5: ("D", 8)})
    assert calibrated[4] == calibrated[5] == pytest.approx(11.6 + 0.75 * (8 - 11.6))
    assert calibrated[3] == pytest.approx(11.6 + 2 / 3 * (18 - 11.6))


def test_calibration_is_clipped_to_the_scale():
    # A: 0, 0, 0, 20; B: 16, 20. Call: μ = 56/6, σ = √(533.33/6).
    totals = {1: ("A", 0), 2: ("A", 0), 3: ("A", 0), 4: ("A", 20), 5: ("B", 16), 6: ("B", 20)}
    mu = 56 / 6
    sigma = math.sqrt(sum((v - mu) ** 2 for v in (0, 0, 0, 20, 16, 20)) / 6)
    calibrated = scoring.calibrate(totals)
    assert _calibrated(mu, sigma, 20, [0, 0, 0, 20]) > 20          # unclipped would exceed 20
    assert calibrated[4] == 20
    assert calibrated[1] == pytest.approx(_calibrated(mu, sigma, 0, [0, 0, 0, 20])) == pytest.approx(2.5578, abs=1e-4)
    assert calibrated[6] == pytest.approx(_calibrated(mu, sigma, 20, [16, 20])) == pytest.approx(17.9223, abs=1e-4)
    # Every review the same: nothing to correct.
    assert scoring.calibrate({1: ("A", 12), 2: ("B", 12)}) == {1: 12, 2: 12}


def test_competition_ranks_share_ties():
    assert scoring.competition_ranks({"a": 15, "b": 12, "c": 15, "d": None, "e": 10}) == {
        "a": 1, "c": 1, "b": 3, "e": 4, "d": None}


def test_score_files_means_spread_recommendations_and_ranks():
    reviews = [
        ReviewData(1, application_id=100, reviewer_id=7, scores={1: 4, 2: 5, 3: 3}, recommendation="favorable",
                   proposed_amount_cents=50_000_00),
        ReviewData(2, application_id=100, reviewer_id=8, scores={1: 5, 2: 10, 3: 5}, recommendation="reserve",
                   proposed_amount_cents=60_000_00),
        ReviewData(3, application_id=200, reviewer_id=7, scores={1: 5, 2: 6, 3: 4}, recommendation="favorable"),
        ReviewData(4, application_id=200, reviewer_id=8, scores={1: 4, 2: 8, 3: 4}, recommendation="favorable"),
    ]
    files = scoring.score_files(CRITERIA, reviews, [100, 200, 300])
    first, second, empty = files[100], files[200], files[300]
    assert first.totals == pytest.approx([13.5, 20])
    assert first.mean == pytest.approx(16.75)
    assert first.spread == pytest.approx(6.5)
    assert first.criterion_means == pytest.approx({1: 4.5, 2: 7.5, 3: 4})
    assert first.recommendations == {"favorable": 1, "reserve": 1}
    assert first.proposed_mean_cents == 55_000_00
    # 200: (2×1 + 0.6 + 0.8)/4×20 = 17 and (2×0.8 + 0.8 + 0.8)/4×20 = 16
    assert second.totals == pytest.approx([17, 16])
    assert second.mean == pytest.approx(16.5)
    assert (first.rank, second.rank, empty.rank) == (1, 2, None)
    assert empty.review_count == 0 and empty.mean is None and empty.spread is None
    # Calibrated: reviewer 7 gave 13.5 and 17, reviewer 8 gave 20 and 16; both scored both files, so
    # the correction moves them alike and file 100 stays (barely) first.
    assert first.calibrated_mean == pytest.approx(16.7063, abs=1e-4)
    assert second.calibrated_mean == pytest.approx(16.5156, abs=1e-4)
    assert (first.calibrated_rank, second.calibrated_rank) == (1, 2)


def test_recommendation_text():
    assert recommendation_text({"favorable": 2, "reserve": 1}) == "2 favorables / 1 réservé"
    assert recommendation_text({"defavorable": 1}) == "1 défavorable"
    assert recommendation_text({}) == ""


def test_budget_summary_regions_coverage_and_shares():
    winners = [
        budget.Winner(amount_cents=100_000_00, region_code="84", departements=("69", "42"), young_count=300,
                      share_qpv=40, share_zrr=10),
        budget.Winner(amount_cents=50_000_00, region_code="84", departements=("38",), young_count=100,
                      share_qpv=0, share_zrr=50),
        budget.Winner(amount_cents=50_000_00, region_code="94", departements=("2A", "75"), young_count=100,
                      share_qpv=None, share_zrr=None),
    ]
    summary = budget.summarise(1_000_000_00, winners)
    assert summary.granted_cents == 200_000_00
    assert summary.remaining_cents == 800_000_00
    assert [(line.code, line.winners, line.amount_cents, line.young_count) for line in summary.regions] == [
        ("84", 2, 150_000_00, 400), ("94", 1, 50_000_00, 100)]
    assert summary.departements_covered == ["2A", "38", "42", "69", "75"]
    assert summary.regions_covered == ["84", "94", "11"]  # in the order of the régions (by name)
    # QPV: (300 × 40 % + 100 × 0 %) / 500 = 24 % ; ZRR: (30 + 50) / 500 = 16 %
    assert summary.qpv_percent == pytest.approx(24)
    assert summary.zrr_percent == pytest.approx(16)
    assert summary.cost_per_young_cents == 400_00
    assert len(summary.regions_uncovered) == 18 - 3


def test_budget_summary_empty():
    summary = budget.summarise(500_00, [])
    assert summary.granted_cents == 0 and summary.remaining_cents == 500_00
    assert summary.cost_per_young_cents is None and summary.qpv_percent is None
