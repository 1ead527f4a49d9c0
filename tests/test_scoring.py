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


def test_calibration_puts_severe_and_lenient_reviewers_on_the_same_footing():
    # A is severe (10, 14), B lenient (12, 16). Call: μ = 13, σ = √5. Each reviewer: μ_r ± 2.
    calibrated = scoring.calibrate({1: ("A", 10), 2: ("A", 14), 3: ("B", 12), 4: ("B", 16)})
    low, high = 13 - math.sqrt(5), 13 + math.sqrt(5)
    assert calibrated[1] == pytest.approx(low)
    assert calibrated[2] == pytest.approx(high)
    assert calibrated[3] == pytest.approx(low)
    assert calibrated[4] == pytest.approx(high)


def test_calibration_single_review_or_constant_reviewer_gets_the_call_mean():
    # C has one review, D always gives 8: both z = 0, so x' = call mean = (10 + 14 + 18 + 8 + 8) / 5 = 11.6
    calibrated = scoring.calibrate({1: ("A", 10), 2: ("A", 14), 3: ("C", 18), 4: ("D", 8), 5: ("D", 8)})
    assert calibrated[3] == pytest.approx(11.6)
    assert calibrated[4] == pytest.approx(11.6)
    assert calibrated[5] == pytest.approx(11.6)


def test_calibration_is_clipped_to_the_scale():
    # A: 0, 0, 0, 20 (μ 5, σ √75); B: 16, 20 (μ 18, σ 2). Call: μ = 56/6, σ = √(533.33/6).
    totals = {1: ("A", 0), 2: ("A", 0), 3: ("A", 0), 4: ("A", 20), 5: ("B", 16), 6: ("B", 20)}
    mu = 56 / 6
    sigma = math.sqrt(sum((v - mu) ** 2 for v in (0, 0, 0, 20, 16, 20)) / 6)
    calibrated = scoring.calibrate(totals)
    assert mu + (15 / math.sqrt(75)) * sigma > 20          # unclipped would exceed 20
    assert calibrated[4] == 20
    assert mu - sigma < 0                                  # unclipped would be negative
    assert calibrated[5] == 0
    assert calibrated[6] == pytest.approx(mu + sigma)
    assert calibrated[1] == pytest.approx(mu - (5 / math.sqrt(75)) * sigma)


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
    # Calibrated: reviewer 7 gave 13.5 and 17, reviewer 8 gave 20 and 16: file 200 is ranked first
    # by both reviewers' own standards (17 > 13.5 for 7; 16 < 20 for 8): a tie after calibration.
    assert first.calibrated_mean == pytest.approx(second.calibrated_mean)
    assert first.calibrated_rank == second.calibrated_rank == 1


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
