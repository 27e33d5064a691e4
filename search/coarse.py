"""The first pass of exact vector search on mid-sized tables: a half-precision copy of the matrix.

Exact search at 100,000 passages is one float32 product over the whole matrix (150 MB read per query, about
15 ms on the 2-core development machine: memory bound). ``CoarseIndex`` keeps a float16 copy of the rows
(``faiss.IndexScalarQuantizer`` with ``QT_fp16``: half the bytes, scanned with SIMD) and scans it with the
filter mask as a ``faiss.IDSelectorBitmap``; the candidates it returns are then scored exactly from the
float32 matrix (``VectorTable._best``), so the scores handed to fusion are the true cosines.

Nothing is approximate: rounding a vector to float16 moves each component by at most 2^-11 of itself, so a
coarse score differs from the exact one by at most ``slack(q)`` = |q| (max row norm x ``SLACK`` + 1e-5)
(Cauchy-Schwarz, plus the float32 summation error of both products and float16's subnormal range). If ``s_k``
is the k-th best coarse score, every row of the exact top k has a coarse score of at least ``s_k - 2 slack``
(docs/decisions.md); the scan fetches ``2 k + 32`` rows, and when the last of those is still above that
line (too many near-ties for the fetch) the caller falls back to the full float32 product. A mask that
allows most rows (``BROAD_SHARE``) is first scanned without the selector, which costs about 3 ms per 100k
rows, fetching as many more rows as the mask drops: the same proof is then made over every row fetched.
"""

from __future__ import annotations

import faiss
import numpy as np

SLACK = 6e-4  # >= 2^-11 (float16 rounding) + 2 x 384 x 2^-24 (float32 sums of the two products)
MAX_ABS = 60_000.0  # float16 overflows at 65,504: tables with larger components are not copied


BROAD_SHARE = 0.25  # masks allowing this share of the rows or more are scanned unfiltered first


class CoarseIndex:
    """A float16 copy of a table's matrix, scanned under a row mask for candidates of the exact top k."""

    def __init__(self, matrix: np.ndarray) -> None:
        self.rows = len(matrix)
        self.index = faiss.IndexScalarQuantizer(
            matrix.shape[1], faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        for start in range(0, len(matrix), 50_000):  # in chunks: no second float32 copy of the matrix
            self.index.add(np.ascontiguousarray(matrix[start : start + 50_000], dtype=np.float32))
        norms = np.linalg.norm(matrix, axis=1) if len(matrix) else np.zeros(1)
        self.max_norm = float(norms.max()) if len(norms) else 0.0

    @staticmethod
    def usable(matrix: np.ndarray) -> bool:
        """Whether every component fits float16 (finite, below ``MAX_ABS``)."""
        if len(matrix) == 0:
            return False
        big = float(np.max(np.abs(matrix)))
        return bool(np.isfinite(big)) and big < MAX_ABS

    def slack(self, q: np.ndarray) -> float:
        """The largest difference between a coarse and an exact score for query ``q``."""
        return float(np.linalg.norm(q)) * (self.max_norm * SLACK + 1e-5)

    def candidates(self, q: np.ndarray, allowed: np.ndarray, k: int, n_allowed: int) -> np.ndarray | None:
        """Rows (ascending) among which the exact top ``k`` of the ``allowed`` rows lies, or ``None`` when
        the fetch could not prove it (the caller then scores every allowed row)."""
        fetch = min(n_allowed, 2 * k + 32)
        share = n_allowed / max(1, len(allowed))
        if share >= BROAD_SHARE:  # most rows allowed: scanning without the selector is faster
            found = self._unselected(q, allowed, k, n_allowed, min(self.rows, int(fetch / share * 1.5) + 1))
            if found is not None:
                return found
        bits = np.packbits(allowed, bitorder="little")
        selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))  # ``bits`` outlives the search
        params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        scores, ids = self.index.search(
            np.ascontiguousarray(q, dtype=np.float32).reshape(1, -1), fetch, params=params
        )
        scores, ids = scores[0], ids[0]
        found = ids >= 0
        scores, ids = scores[found], ids[found]
        if len(ids) < min(k, n_allowed):
            return None
        line = scores[min(k, len(ids)) - 1] - 2.0 * self.slack(q)
        if len(ids) < n_allowed and scores[-1] >= line:
            return None  # rows beyond the fetch may belong to the top k
        return np.sort(ids[scores >= line]).astype(np.int64)

    def _unselected(
        self, q: np.ndarray, allowed: np.ndarray, k: int, n_allowed: int, fetch: int
    ) -> np.ndarray | None:
        """``candidates`` from a scan of every row (the faiss selector costs about 3 ms per 100k rows),
        the mask applied to what it returns; ``None`` when that cannot prove the top ``k``."""
        scores, ids = self.index.search(np.ascontiguousarray(q, dtype=np.float32).reshape(1, -1), fetch)
        scores, ids = scores[0], ids[0]
        real = ids >= 0
        scores, ids = scores[real], ids[real]
        keep = allowed[ids]
        kept_scores, kept_ids = scores[keep], ids[keep]
        if len(kept_ids) < min(k, n_allowed):
            return None
        line = kept_scores[min(k, len(kept_ids)) - 1] - 2.0 * self.slack(q)
        if len(ids) < self.rows and scores[-1] >= line:
            return None  # rows beyond the fetch may belong to the top k
        return np.sort(kept_ids[kept_scores >= line]).astype(np.int64)
