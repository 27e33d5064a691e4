"""B-cubed and pairwise scores on clusterings small enough to check by hand."""

from __future__ import annotations

import pytest

from veille.story_metrics import bcubed, pairwise


def test_perfect_clustering_scores_one() -> None:
    gold = ["a", "a", "b", "c", "c", "c"]
    predicted = [1, 1, 2, 3, 3, 3]  # other label names, same partition
    assert bcubed(predicted, gold).f1 == pytest.approx(1.0)
    assert pairwise(predicted, gold).f1 == pytest.approx(1.0)


def test_all_singletons() -> None:
    gold = ["a", "a", "b", "b"]
    predicted = ["1", "2", "3", "4"]
    b = bcubed(predicted, gold)
    assert b.precision == pytest.approx(1.0) and b.recall == pytest.approx(0.5)
    assert b.f1 == pytest.approx(2 / 3)
    p = pairwise(predicted, gold)
    assert p.precision == pytest.approx(1.0)  # no predicted pair: nothing wrong was claimed
    assert p.recall == pytest.approx(0.0) and p.f1 == pytest.approx(0.0)


def test_one_big_cluster() -> None:
    gold = ["a", "a", "b", "b"]
    predicted = ["x"] * 4
    b = bcubed(predicted, gold)
    assert b.precision == pytest.approx(0.5) and b.recall == pytest.approx(1.0)
    p = pairwise(predicted, gold)
    assert p.precision == pytest.approx(2 / 6) and p.recall == pytest.approx(1.0)
    assert p.f1 == pytest.approx(0.5)


def test_hand_computed_mixed_case() -> None:
    # gold {0,1,2} {3,4}; predicted {0,1} {2,3,4}
    gold = ["g1", "g1", "g1", "g2", "g2"]
    predicted = ["p1", "p1", "p2", "p2", "p2"]
    b = bcubed(predicted, gold)
    # precision per item: 1, 1, 1/3, 2/3, 2/3 ; recall: 2/3, 2/3, 1/3, 1, 1
    assert b.precision == pytest.approx((1 + 1 + 1 / 3 + 2 / 3 + 2 / 3) / 5)
    assert b.recall == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5)
    p = pairwise(predicted, gold)
    # predicted pairs: (0,1) (2,3) (2,4) (3,4); correct: (0,1) (3,4); gold pairs: 3 + 1
    assert p.precision == pytest.approx(0.5) and p.recall == pytest.approx(0.5)


def test_empty_and_mismatched() -> None:
    assert bcubed([], []).f1 == 1.0
    with pytest.raises(ValueError, match="2 predicted labels for 1 gold"):
        bcubed(["a", "b"], ["a"])
    with pytest.raises(ValueError):
        pairwise(["a"], [])
