"""The cache of recent query embeddings (``Embedder.query``): same vectors as the model, bounded, LRU."""

from __future__ import annotations

import numpy as np
import pytest

from search.embeddings import Embedder


@pytest.fixture(scope="module")
def model() -> Embedder:
    embedder = Embedder(query_cache=2)
    embedder.warm_up()
    return embedder


def test_cached_vector_is_the_models_and_read_only(model: Embedder) -> None:
    uncached = Embedder(query_cache=0)
    uncached._model = model._model  # the same loaded weights, without a cache
    first = model.query("vins Allemagne")
    again = model.query("  vins   Allemagne ")  # the same text once whitespace is folded
    assert again is first
    assert np.allclose(first, uncached.query("vins Allemagne"), atol=1e-6)
    assert uncached.query("vins Allemagne") is not uncached.query("vins Allemagne")
    assert not first.flags.writeable
    with pytest.raises(ValueError):
        first[0] = 1.0


def test_least_recently_used_query_leaves_first(model: Embedder) -> None:
    a = model.query("salon ProWein")
    b = model.query("cosmétiques Japon")
    assert model.query("salon ProWein") is a  # a is now the most recent
    model.query("énergie solaire Maroc")  # evicts b, the least recent
    assert model.query("salon ProWein") is a
    assert model.query("cosmétiques Japon") is not b
    assert len(model._query_cache) == 2
