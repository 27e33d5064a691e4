"""Back-fill passage vectors for passages indexed without one (ingested with embedding switched off)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from search.backend import SearchBackend

__all__ = ["backfill_embeddings"]

log = logging.getLogger(__name__)


def backfill_embeddings(
    backend: SearchBackend,
    embedder: Any,
    batch: int = 64,
    limit: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Embed passages that have no vector yet, ``batch`` at a time, until none is left (or ``limit``);
    returns how many passages got a vector. Safe to interrupt and re-run: each batch is committed."""
    done = 0
    while limit is None or done < limit:
        size = batch if limit is None else min(batch, limit - done)
        missing = backend.missing_embeddings(limit=size)
        if not missing:
            break
        vectors = embedder.passages([p.text for p in missing])  # as the inline PassageEmbedder does
        backend.set_embeddings([p.id for p in missing], vectors)
        backend.commit()
        done += len(missing)
        log.info("backfilled embeddings done=%d", done)
        if on_batch is not None:
            on_batch(len(missing))
    return done
