"""The test session's vector memo gives back exactly what the model computes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from search.embeddings import Embedder
from tests.vector_memo import VectorMemo


def test_memo_returns_the_models_vectors_and_embeds_each_text_once(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def embed(self: Embedder, kind: str, texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        rng = np.random.default_rng(len(texts[0]) if texts else 0)
        return rng.standard_normal((len(texts), 384)).astype(np.float32)

    memo = VectorMemo(tmp_path / "v.sqlite")
    wrapped = memo.wrap(embed)
    first = wrapped(Embedder(), "passage", ["un", "deux"])
    again = wrapped(Embedder(), "passage", ["deux", "trois", "un"])
    assert calls == [["un", "deux"], ["trois"]]
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[2], first[0])
    other = VectorMemo(tmp_path / "v.sqlite")  # another worker process reads what this one wrote
    un, trois = memo.key("passage", "un"), memo.key("passage", "trois")
    assert set(other.get([un, trois])) == {un, trois}
    assert memo.hits == 2 and memo.misses == 3
    assert wrapped(Embedder(), "passage", []).shape == (0, 384)


def test_the_session_embeds_with_the_real_model() -> None:
    texts = ["Le marché des vins français en Allemagne.", "Les vins français au Japon."]
    vectors = Embedder().passages(texts)
    assert vectors.shape == (2, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert float(vectors[0] @ vectors[1]) < 0.999  # two texts, two vectors


def test_query_memo_keeps_queries_apart_from_passages(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def embed(self: Embedder, kind: str, texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.stack([np.full(384, float(len(t)), dtype=np.float32) for t in texts])

    memo = VectorMemo(tmp_path / "v.sqlite")
    passage = memo.key("passage", "vins")
    memo.put([(passage, np.zeros(384, dtype=np.float32))])  # a passage vector of the same text
    encode = memo.wrap(embed)
    first = encode(Embedder(), "query", ["vins", "vins en Allemagne"])
    again = encode(Embedder(), "query", ["vins en Allemagne", "vins"])
    assert calls == [["vins", "vins en Allemagne"]]  # the passage's vector was not taken for the query
    assert float(first[0][0]) == 4.0 and np.array_equal(again[1], first[0]) and again.shape == (2, 384)


def test_a_query_through_the_memo_is_the_models(tmp_path: Path) -> None:
    model = Embedder()
    direct = model._encode("query", ["Le marché des vins français en Allemagne."])[0]
    cached = model.query("Le marché des vins français en Allemagne.")
    assert np.allclose(direct, cached, atol=1e-6) and not cached.flags.writeable
