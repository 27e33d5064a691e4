"""Hybrid ranking, identical for every backend: which candidates each side contributes, and how they fuse.

A backend runs the two scoped retrievals itself (BM25 over its text index, cosine over its vectors, both
with the access scope and facets inside the query) and hands the lists here:

- BM25 contributes every scoped match (totals and facets count them all); the first ``rank_depth`` are
  ranked;
- the vector side contributes its top ``vector_k`` (at least ``VECTOR_CANDIDATES``) among the passages
  above the relevance floor: ``VECTOR_FLOOR`` cosine, or ``VECTOR_FLOOR_UNMATCHED`` when no word of the
  query occurs in any passage the query may see (``lexical`` false: the BM25 side, any term, scope and
  filters inside, finds nothing), so a query that resembles nothing, such as « zzzqqxx », gets no
  neighbours, hence no results and no facets; in hybrid mode only the few (``VECTOR_EXTRA``) within
  ``VECTOR_MARGIN`` cosine of the best one join the result set, which gives semantic recall without
  flooding totals and facets;
- the hybrid result set is then ranked by one of three fusions (``FUSIONS``; the default ``FUSION``,
  chosen on PIAF, docs/benchmarks.md "Ranking quality decisions, 2026-12-02" and "Proximity and a weight
  per query, 2026-12-04"):
  ``rrf``: ranked twice, by BM25 and by cosine (the backend's ``by_vector``), the two rankings fused by
  reciprocal rank fusion (``K`` = 10); ``convex``: a convex combination of the min-max normalised scores
  of the two lists (BM25 over its ranked matches, cosine over every vector candidate above the floor),
  ``alpha`` x cosine + (1 - ``alpha``) x BM25, a passage absent from a list scoring 0 there (``ALPHA``);
  ``adaptive``: the same with ``alpha`` moved per query by what the lists show (``adaptive_alpha``: less
  weight on the cosine when BM25's best passage stands out, more when the best cosine is high).
  ``using(method, alpha)`` sets them for the code it wraps (the evaluation's ``--fusion``/``--alpha``);
  all three need only the lists a backend already hands over.

Candidates are integers (the embedded backend's table rows; another backend numbers its passages first).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal, TypeVar, cast

import numpy as np

# k = 10 rather than the paper's 60: on PIAF (dev) nDCG@10 0.834 against 0.824 (k = 30: 0.827); a small k
# lets the top of each list weigh more, and both lists here are short and precise at the top.
K = 10
# The relevance floor, calibrated on PIAF (dev; multilingual-e5-small cosines, docs/benchmarks.md):
# relevant paragraphs have cosine 0.76 to 0.95 (median 0.859, 1st percentile 0.786), and the relevant
# ones the vector side ranks in its top 10 are at 0.80 or more in 99.9 % of cases; but random letter
# strings (250) reach 0.78 to 0.85 (median 0.806) with their nearest paragraph, so no single floor
# separates them. They share no word with the corpus, though, and at 0.85 none passes (0 of 250 on
# PIAF, on search.testdata and on the web tests' corpus), while 60 % of the relevant paragraphs would.
VECTOR_FLOOR = 0.80  # every vector candidate: trims the weak tail (vector nDCG@10 unchanged on PIAF)
VECTOR_FLOOR_UNMATCHED = 0.85  # when no query word occurs in a passage the query may see
# More like this (empty text, the parent's mean vector as the query, ``similar``): passage-to-passage
# cosines run higher than query-to-passage ones. On the story-labelled headlines (dev; 489 French headlines
# with a same-story mate) same-story pairs have cosine 0.855 at the 1st percentile and none below 0.80, so
# the lexical floor keeps every good neighbour; the unmatched floor (0.85) would drop 0.7 % of them, and it
# is meant for query words that occur nowhere, which a parent has not (docs/decisions.md).
SIMILAR_FLOOR = VECTOR_FLOOR
VECTOR_CANDIDATES = 100  # passages the vector side contributes (at least; grows with offset + limit)
VECTOR_MARGIN = 0.03  # hybrid: vector-only candidates within this cosine of the best one join the results
VECTOR_EXTRA = 5  # ... and at most this many of them
RANK_DEPTH = 1000  # passages of each list that are fused and grouped (all matches still count for facets)
T = TypeVar("T", bound=Hashable)
Fusion = Literal["rrf", "convex", "adaptive"]
FUSIONS: tuple[Fusion, ...] = ("rrf", "convex", "adaptive")
# PIAF (dev) hybrid nDCG@10: rrf (k = 10) 0.845; convex alpha 0.3 0.853, 0.4 0.859, 0.5 0.858, 0.6 0.845;
# with the proximity pairs (search.tantivy_index): convex 0.4 0.8618, adaptive 0.8647 (docs/benchmarks.md)
FUSION: Fusion = "adaptive"
ALPHA = 0.4  # convex: the weight of the (normalised) cosine; BM25 weighs 1 - ALPHA
# adaptive: the weight moves per query from ALPHA with what the two lists say of themselves: down when
# BM25's best passage stands out from its tenth (``BM25_DROP``: 1 - tenth / best, its PIAF median near
# 0.6), up when the best cosine is high (``COSINE_TOP``, the median of the best cosine on PIAF)
BM25_DROP, DROP_WEIGHT = 0.6, 0.75
COSINE_TOP, COSINE_WEIGHT = 0.86, 4.0
ALPHA_RANGE = (0.05, 0.95)
_SETTINGS: ContextVar[tuple[Fusion, float] | None] = ContextVar("fusion_settings", default=None)


def settings() -> tuple[Fusion, float]:
    """The fusion method and alpha in force (``using``'s, else the defaults)."""
    return _SETTINGS.get() or (FUSION, ALPHA)


@contextmanager
def using(method: str, alpha: float = ALPHA) -> Iterator[None]:
    """Rank hybrid queries run inside the block with ``method`` (rrf, convex or adaptive) and ``alpha``."""
    if method not in FUSIONS:
        raise ValueError(f"unknown fusion {method!r}; use one of {', '.join(FUSIONS)}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha}")
    token = _SETTINGS.set((cast("Fusion", method), float(alpha)))
    try:
        yield
    finally:
        _SETTINGS.reset(token)


def reciprocal_rank_fusion(rankings: Sequence[Sequence[T]], k: int = K) -> list[tuple[T, float]]:
    """Fuse ranked lists (best first): score(x) = sum over lists of 1 / (k + rank), rank from 1.

    RRF needs no score calibration between BM25 and cosine, which is why we use it by default.
    Ties keep the order of first appearance, so the result is deterministic.
    """
    scores: dict[T, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def min_max(scores: np.ndarray) -> np.ndarray:
    """Scores mapped onto [0, 1] (best 1, worst 0); all equal: all 1."""
    scores = np.asarray(scores, dtype=np.float64)
    if len(scores) == 0:
        return scores
    low, high = float(scores.min()), float(scores.max())
    if high - low <= 0.0:
        return np.ones_like(scores)
    return (scores - low) / (high - low)


def convex_combination(
    first: tuple[Sequence[T], np.ndarray], second: tuple[Sequence[T], np.ndarray], alpha: float
) -> list[tuple[T, float]]:
    """Fuse two lists of normalised scores (``min_max``): (1 - alpha) x first + alpha x second, 0 where
    absent. Ties keep the order of first appearance (first list, then second): deterministic."""
    scores: dict[T, float] = {}
    for (items, norm), weight in ((first, 1.0 - alpha), (second, alpha)):
        for item, value in zip(items, np.asarray(norm, dtype=np.float64).tolist(), strict=True):
            scores[item] = scores.get(item, 0.0) + weight * value
    return sorted(scores.items(), key=lambda kv: -kv[1])


def adaptive_alpha(alpha: float, bm25_scores: np.ndarray, vec_scores: np.ndarray) -> float:
    """``alpha`` for one query of the ``adaptive`` fusion, from its BM25 scores and cosines (best first):
    lower when BM25's best stands out, higher when the best cosine is high; ``alpha`` itself when a list
    says nothing (fewer than two BM25 scores, no vector candidate)."""
    if len(bm25_scores) < 2 or float(bm25_scores[0]) <= 0.0 or len(vec_scores) == 0:
        return alpha
    drop = 1.0 - float(bm25_scores[min(9, len(bm25_scores) - 1)]) / float(bm25_scores[0])
    moved = alpha - DROP_WEIGHT * (drop - BM25_DROP) + COSINE_WEIGHT * (float(vec_scores[0]) - COSINE_TOP)
    return float(np.clip(moved, *ALPHA_RANGE))


def vector_k(offset: int, limit: int) -> int:
    """How many nearest passages the vector side retrieves for one page."""
    return max(VECTOR_CANDIDATES, 5 * (offset + limit))


def rank_depth(offset: int, limit: int) -> int:
    """How many passages of each list are ranked and grouped for one page."""
    return max(RANK_DEPTH, 10 * (offset + limit))


def above_floor(rows: np.ndarray, scores: np.ndarray, lexical: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The vector candidates (best first) whose cosine reaches the relevance floor (see ``fuse``)."""
    keep = scores >= (VECTOR_FLOOR if lexical else VECTOR_FLOOR_UNMATCHED)
    return rows[keep], scores[keep]


def floor_depends_on_words(scores: np.ndarray) -> bool:
    """Whether ``above_floor`` keeps other candidates with ``lexical`` true than false: only when some
    cosine lies between the two floors (otherwise whether a query word occurs need not be asked)."""
    return bool(((scores >= VECTOR_FLOOR) & (scores < VECTOR_FLOOR_UNMATCHED)).any())


def close_vector_candidates(rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The vector candidates that join a hybrid result set: near the best cosine, a few at most."""
    if len(rows) == 0:
        return rows
    return rows[scores >= scores[0] - VECTOR_MARGIN][:VECTOR_EXTRA]


def similar(vector: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """More like this: the vector candidates (best first) at or above ``SIMILAR_FLOOR``."""
    rows, scores = vector
    keep = scores >= SIMILAR_FLOOR
    return rows[keep], scores[keep]


@dataclass
class Fused:
    """The result set (``matched``: totals, facets) and its ranking (``ranked``: (row, score), best first)."""

    ranked: list[tuple[int, float]]
    matched: np.ndarray


def fuse(
    mode: str,
    bm25: tuple[np.ndarray, np.ndarray],
    vector: tuple[np.ndarray, np.ndarray],
    by_vector: Callable[[np.ndarray, int], list[int]],
    depth: int,
    lexical: bool | None = None,
) -> Fused:
    """Rank one query in ``mode`` from the BM25 (rows, scores) and vector (rows, scores) lists, best first.

    ``by_vector(rows, depth)`` orders rows by cosine to the query (leaving out rows without a vector).
    ``lexical``: whether some query word occurs in a passage the query may see (scope and filters); by
    default whether the BM25 list is not empty (hybrid runs BM25; vector mode must say).
    """
    bm25_rows, bm25_scores = bm25
    vec_rows, vec_scores = above_floor(*vector, lexical=len(bm25_rows) > 0 if lexical is None else lexical)
    if mode == "bm25":
        ranked = list(zip(bm25_rows[:depth].tolist(), bm25_scores[:depth].tolist(), strict=True))
        return Fused(ranked, bm25_rows)
    if mode == "vector":
        return Fused(list(zip(vec_rows.tolist(), vec_scores.tolist(), strict=True)), vec_rows)
    # every BM25 match plus the few vector candidates close to the best one; both lists rank that set
    matched = np.union1d(bm25_rows, close_vector_candidates(vec_rows, vec_scores))
    method, alpha = settings()
    if method == "adaptive":
        alpha = adaptive_alpha(alpha, bm25_scores, vector[1])
    if method in ("convex", "adaptive"):
        # cosines normalised over every vector candidate above the floor, then those in the result set
        # (normalising the cosines of the whole result set instead: 0.858 at best, alpha 0.6, on PIAF)
        in_set = np.isin(vec_rows, matched)
        vec_list, vec_norm = vec_rows[in_set], min_max(vec_scores)[in_set]
        ranked = convex_combination(
            (bm25_rows[:depth].tolist(), min_max(bm25_scores[:depth])),
            (vec_list.tolist(), vec_norm),
            alpha,
        )
        return Fused(ranked[:depth], matched)
    ranked_by_vector = by_vector(matched, depth)
    return Fused(reciprocal_rank_fusion([bm25_rows[:depth].tolist(), ranked_by_vector]), matched)
