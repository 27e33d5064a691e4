"""Semantic similarity between a document and the NAF classes (the classifier's "similarity" method).

The class vectors are multilingual-e5-small ``passage:`` embeddings of each class's French and English
labels and the start of its Eurostat note, computed once by ``scripts/build_sector_vectors.py`` and
shipped in ``taxonomy/data``. The caller supplies the document's ``query:`` embedding (the model lives in
the search layer, above this one), so this module only does the arithmetic.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"

# e5 cosines are compressed (unrelated texts ≈ 0.75, near-paraphrases ≈ 0.90): map that band to 0..1.
SIM_FLOOR = 0.75
SIM_SPAN = 0.15


class SectorSimilarity:
    """Cosine of a query vector with every NAF class, rescaled to 0..1."""

    def __init__(self, ids: list[str], vectors: np.ndarray) -> None:
        self.ids = ids
        self.vectors = vectors.astype(np.float32)

    @classmethod
    @lru_cache(maxsize=1)
    def load(cls) -> SectorSimilarity:
        ids = json.loads((DATA / "naf_class_vectors.json").read_text(encoding="utf-8"))
        return cls(ids, np.load(DATA / "naf_class_vectors.npy"))

    def scores(self, query_vector: np.ndarray) -> dict[str, float]:
        """Class id → rescaled similarity (0..1)."""
        cosines = self.vectors @ np.asarray(query_vector, dtype=np.float32).reshape(-1)
        scaled = np.clip((cosines - SIM_FLOOR) / SIM_SPAN, 0.0, 1.0)
        return dict(zip(self.ids, scaled.tolist(), strict=True))
