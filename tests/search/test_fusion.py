"""The hybrid candidate rule and fusion every backend shares (``search.fusion``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from search import fusion


def _rows(*values: int) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _scores(*values: float) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def test_sizes_grow_with_the_page() -> None:
    assert fusion.K == 10  # the PIAF-tuned constant
    assert (fusion.FUSION, fusion.ALPHA) == ("adaptive", 0.4)  # chosen on PIAF (docs/benchmarks.md)
    assert fusion.vector_k(0, 10) == fusion.VECTOR_CANDIDATES == 100
    assert fusion.vector_k(40, 20) == 300
    assert fusion.rank_depth(0, 10) == fusion.RANK_DEPTH == 1000
    assert fusion.rank_depth(150, 50) == 2000


def test_only_close_vector_candidates_join() -> None:
    rows = _rows(7, 3, 9, 4, 5, 6, 8)
    scores = _scores(0.90, 0.89, 0.885, 0.88, 0.875, 0.874, 0.5)  # six within the margin
    assert fusion.close_vector_candidates(rows, scores).tolist() == [7, 3, 9, 4, 5]  # at most five
    assert fusion.close_vector_candidates(rows[:3], _scores(0.9, 0.86, 0.8)).tolist() == [7]
    assert fusion.close_vector_candidates(_rows(), _scores()).tolist() == []


def _by_vector(order: list[int]) -> Callable[[np.ndarray, int], list[int]]:
    """A backend's cosine ranking: ``order`` is the cosine order of every row."""

    def rank(rows: np.ndarray, depth: int) -> list[int]:
        wanted = set(rows.tolist())
        return [r for r in order if r in wanted][:depth]

    return rank


def test_single_modes_keep_their_lists() -> None:
    bm25 = (_rows(1, 2, 3), _scores(3.0, 2.0, 1.0))
    vector = (_rows(9, 1), _scores(0.9, 0.85))
    out = fusion.fuse("bm25", bm25, vector, _by_vector([]), depth=2)
    assert out.ranked == [(1, 3.0), (2, 2.0)] and out.matched.tolist() == [1, 2, 3]
    out = fusion.fuse("vector", bm25, vector, _by_vector([]), depth=2)
    assert [r for r, _ in out.ranked] == [9, 1] and out.matched.tolist() == [9, 1]


def test_hybrid_fuses_bm25_with_the_cosine_order_of_the_result_set() -> None:
    bm25 = (_rows(1, 2, 3), _scores(3.0, 2.0, 1.0))
    vector = (_rows(9, 3, 8), _scores(0.90, 0.89, 0.60))  # 9 and 3 are close to the best, 8 is not
    with fusion.using("rrf"):
        out = fusion.fuse("hybrid", bm25, vector, _by_vector([9, 3, 2, 8, 1]), depth=1000)
    assert out.matched.tolist() == [1, 2, 3, 9]
    expected = fusion.reciprocal_rank_fusion([[1, 2, 3], [9, 3, 2, 1]])
    assert out.ranked == expected
    k = fusion.K
    assert dict(out.ranked)[3] == pytest.approx(1 / (k + 3) + 1 / (k + 2))
    assert [r for r, _ in out.ranked] == [1, 2, 3, 9]  # 9 joined as a close vector candidate, ranked last


def test_hybrid_without_vectors_is_bm25_order() -> None:
    bm25 = (_rows(4, 5), _scores(2.0, 1.0))
    out = fusion.fuse("hybrid", bm25, (_rows(), _scores()), _by_vector([]), depth=10)
    assert [r for r, _ in out.ranked] == [4, 5] and out.matched.tolist() == [4, 5]


def test_min_max_maps_scores_onto_zero_one() -> None:
    assert fusion.min_max(_scores(4.0, 2.0, 3.0)).tolist() == pytest.approx([1.0, 0.0, 0.5])
    assert fusion.min_max(_scores(0.7, 0.7)).tolist() == [1.0, 1.0]  # all equal: all best
    assert fusion.min_max(_scores()).tolist() == []


def test_convex_combination_weighs_normalised_scores() -> None:
    bm25 = ([1, 2, 3], fusion.min_max(_scores(10.0, 6.0, 2.0)))  # 1, 0.5, 0
    vec = ([3, 9], fusion.min_max(_scores(0.9, 0.8)))  # 1, 0
    out = dict(fusion.convex_combination(bm25, vec, alpha=0.5))
    assert out == pytest.approx({1: 0.5, 2: 0.25, 3: 0.5, 9: 0.0})
    ranked = [r for r, _ in fusion.convex_combination(bm25, vec, alpha=0.5)]
    assert ranked == [1, 3, 2, 9]  # 1 and 3 tie: first appearance first
    assert [r for r, _ in fusion.convex_combination(bm25, vec, alpha=0.0)][:3] == [1, 2, 3]  # BM25 only
    assert next(r for r, _ in fusion.convex_combination(bm25, vec, alpha=1.0)) == 3  # cosine only


def test_hybrid_uses_the_fusion_in_force() -> None:
    bm25 = (_rows(1, 2, 3), _scores(3.0, 2.0, 1.0))
    vector = (_rows(3, 9, 8, 7), _scores(0.90, 0.89, 0.84, 0.5))  # 3, 9 close to the best; 7 under the floor
    by_vector = _by_vector([3, 9, 2, 8, 1])
    with fusion.using("convex", 0.8):
        assert fusion.settings() == ("convex", 0.8)
        out = fusion.fuse("hybrid", bm25, vector, by_vector, depth=1000)
    assert fusion.settings() == (fusion.FUSION, fusion.ALPHA)  # restored after the block
    assert out.matched.tolist() == [1, 2, 3, 9]
    scores = dict(out.ranked)
    assert set(scores) == {1, 2, 3, 9}  # 8 and 7 are not in the result set, so not ranked
    # 3: 0.2 x 0 (BM25 min) + 0.8 x 1 (best cosine); 1: 0.2 x 1; 9: 0.8 x its cosine normalised over
    # every candidate above the floor (0.84 .. 0.90), 8 included though it is not in the result set
    assert scores[3] == pytest.approx(0.8)
    assert scores[1] == pytest.approx(0.2)
    assert scores[9] == pytest.approx(0.8 * (0.89 - 0.84) / 0.06, rel=1e-4)
    assert [r for r, _ in out.ranked][:2] == [3, 9]
    with fusion.using("rrf"):
        rrf = fusion.fuse("hybrid", bm25, vector, by_vector, depth=1000)
    assert rrf.ranked == fusion.reciprocal_rank_fusion([[1, 2, 3], [3, 9, 2, 1]])


def test_the_adaptive_weight_follows_the_lists() -> None:
    median = _scores(*[10.0 - 0.6 * 10.0 * i / 9 for i in range(10)])  # the tenth at 0.4 x the best
    assert fusion.adaptive_alpha(0.4, median, _scores(fusion.COSINE_TOP)) == pytest.approx(0.4)
    steep = _scores(10.0, 2.0, 1.0)  # BM25's best stands out: less weight on the cosine
    assert fusion.adaptive_alpha(0.4, steep, _scores(fusion.COSINE_TOP)) < 0.4
    assert fusion.adaptive_alpha(0.4, median, _scores(0.92)) > 0.4  # a high best cosine: more
    assert fusion.adaptive_alpha(0.9, median, _scores(0.99)) == fusion.ALPHA_RANGE[1]  # bounded
    assert fusion.adaptive_alpha(0.4, _scores(3.0), _scores(0.99)) == 0.4  # one BM25 score says nothing
    assert fusion.adaptive_alpha(0.4, median, _scores()) == 0.4  # nor no vector candidate


def test_adaptive_fusion_is_the_convex_one_at_the_query_s_weight() -> None:
    bm25 = (_rows(1, 2, 3), _scores(3.0, 2.9, 1.0))
    vector = (_rows(3, 9, 8), _scores(0.95, 0.93, 0.84))
    alpha = fusion.adaptive_alpha(0.4, bm25[1], vector[1])
    assert alpha != 0.4
    with fusion.using("adaptive", 0.4):
        adaptive = fusion.fuse("hybrid", bm25, vector, _by_vector([]), depth=1000)
    with fusion.using("convex", alpha):
        convex = fusion.fuse("hybrid", bm25, vector, _by_vector([]), depth=1000)
    assert adaptive.ranked == convex.ranked and adaptive.matched.tolist() == convex.matched.tolist()


@pytest.mark.parametrize(("method", "alpha"), [("linear", 0.5), ("convex", 1.5), ("convex", -0.1)])
def test_using_refuses_unknown_settings(method: str, alpha: float) -> None:
    with pytest.raises(ValueError), fusion.using(method, alpha):
        pass
    assert fusion.settings() == (fusion.FUSION, fusion.ALPHA)
