"""Clustering quality against gold labels: B-cubed and pairwise precision, recall and F1.

Both take two parallel sequences, the predicted cluster and the gold cluster of each item (any hashable
labels). B-cubed averages, over items, how much of the item's predicted cluster shares its gold cluster
(precision) and how much of its gold cluster it was put with (recall); pairwise counts the pairs of
items placed together. B-cubed weighs every item alike, pairwise is dominated by the big clusters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

__all__ = ["Scores", "bcubed", "pairwise"]


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float

    def as_dict(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1}


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _check(predicted: Sequence[Hashable], gold: Sequence[Hashable]) -> None:
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predicted labels for {len(gold)} gold labels")


def bcubed(predicted: Sequence[Hashable], gold: Sequence[Hashable]) -> Scores:
    """B-cubed precision, recall and F1 (1.0 each for an empty input)."""
    _check(predicted, gold)
    n = len(gold)
    if n == 0:
        return Scores(1.0, 1.0, 1.0)
    both = Counter(zip(predicted, gold, strict=True))
    pred_sizes = Counter(predicted)
    gold_sizes = Counter(gold)
    # every item of the (p, g) cell sees the same cell: sum the cell's share once per item
    precision = sum(count * count / pred_sizes[p] for (p, _g), count in both.items()) / n
    recall = sum(count * count / gold_sizes[g] for (_p, g), count in both.items()) / n
    return Scores(precision, recall, _f1(precision, recall))


def _pairs(sizes: Counter[Hashable] | Counter[tuple[Hashable, Hashable]]) -> int:
    return sum(size * (size - 1) // 2 for size in sizes.values())


def pairwise(predicted: Sequence[Hashable], gold: Sequence[Hashable]) -> Scores:
    """Pairwise precision, recall and F1 over the pairs of items; no pair on one side counts as 1.0."""
    _check(predicted, gold)
    together = _pairs(Counter(zip(predicted, gold, strict=True)))
    predicted_pairs = _pairs(Counter(predicted))
    gold_pairs = _pairs(Counter(gold))
    precision = together / predicted_pairs if predicted_pairs else 1.0
    recall = together / gold_pairs if gold_pairs else 1.0
    return Scores(precision, recall, _f1(precision, recall))
