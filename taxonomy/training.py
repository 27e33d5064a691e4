"""Training a scheme's model: examples' vectors (reused from an earlier model when the text is the same),
then ``taxonomy.learned.train``. The embedding function comes from the caller (the search layer owns e5).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from taxonomy.examples import Example, seed_examples
from taxonomy.learned import C_REG, SEED_MODEL, LearnedModel, load, text_key, train
from taxonomy.referential import Referential

__all__ = ["EmbedTexts", "example_vectors", "model_path", "train_scheme"]

EmbedTexts = Callable[[list[str]], np.ndarray]  # texts -> (n, 384) e5 "query:" vectors
MODELS_DIR = "models"


def model_path(data_dir: str | Path, scheme: str) -> Path:
    """Where the trained model of a scheme lives under an installation's data dir."""
    return Path(data_dir) / MODELS_DIR / f"{scheme}.npz"


def example_vectors(
    examples: Sequence[Example], embed: EmbedTexts, cache: Sequence[LearnedModel | None] = ()
) -> tuple[np.ndarray, int]:
    """The vector of every example (row i for example i) and how many had to be embedded: a text
    already in one of the ``cache`` models reuses its vector."""
    known: dict[str, np.ndarray] = {}
    for model in cache:
        if model is not None:
            for row, meta in enumerate(model.examples):
                if "key" in meta:
                    known.setdefault(meta["key"], model.vectors[row])
    keys = [text_key(ex.text) for ex in examples]
    missing = list(dict.fromkeys(k for k in keys if k not in known))
    if missing:
        texts = {k: ex.text for k, ex in zip(keys, examples, strict=True)}
        fresh = embed([texts[k] for k in missing])
        known.update(zip(missing, np.asarray(fresh, dtype=np.float32), strict=True))
    if not examples:
        return np.zeros((0, 384), dtype=np.float32), 0
    return np.vstack([np.asarray(known[k], dtype=np.float32) for k in keys]), len(missing)


def train_scheme(
    ref: Referential,
    scheme: str,
    decisions: Sequence[Example],
    embed: EmbedTexts,
    *,
    previous: LearnedModel | None = None,
    seeds: bool = True,
    calibrate: bool = True,
    c_reg: float = C_REG,
) -> LearnedModel:
    """A model of ``decisions`` plus the scheme's seed examples (from the current referential); vectors
    of texts the shipped seed model or ``previous`` already holds are reused."""
    started = time.perf_counter()
    levels = ("class", "subclass") if scheme == "naf" else None
    examples = list(decisions) + (seed_examples(ref, scheme, levels=levels) if seeds else [])
    cache = [previous, load(SEED_MODEL) if scheme == "naf" else None]
    vectors, embedded = example_vectors(examples, embed, cache)
    model = train(ref, scheme, examples, vectors, calibrate=calibrate, c_reg=c_reg)
    model.info.update({"embedded": embedded, "seconds": round(time.perf_counter() - started, 2)})
    return model
