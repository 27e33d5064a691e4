"""What a server does while idle, until the job layer comes: vectors for passages indexed without one.

Passages beyond the inline embedding cap (and everything ingested with ``--defer-embeddings``) are
searchable by BM25 at once; ``BackfillWorker`` gives them their vectors in small batches, each under the
runtime's ingest lock, so an upload waits for at most one batch.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from ingest.backfill import backfill_embeddings

if TYPE_CHECKING:
    from tfe.app.runtime import Runtime

__all__ = ["BackfillWorker", "backfill_batch"]

log = logging.getLogger(__name__)


def backfill_batch(rt: Runtime, batch: int = 16) -> int:
    """Embed at most ``batch`` passages that have no vector yet; how many got one (0: none left)."""
    with rt.ingest_lock:
        return backfill_embeddings(rt.backend, rt.embedder, batch=batch, limit=batch)


class BackfillWorker:
    """A daemon thread that back-fills vectors, then sleeps ``idle_s`` seconds whenever none is missing."""

    def __init__(self, rt: Runtime, *, batch: int = 16, idle_s: float = 30.0) -> None:
        self.rt = rt
        self.batch = batch
        self.idle_s = idle_s
        self.done = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tfe-backfill", daemon=True)

    def start(self) -> BackfillWorker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                done = backfill_batch(self.rt, self.batch)
            except Exception:  # a failing batch must not stop the server; it is retried after a pause
                log.exception("backfill batch failed")
                done = 0
            self.done += done
            if not done:
                self._stop.wait(self.idle_s)
