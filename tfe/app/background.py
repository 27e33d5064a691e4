"""Back-filling vectors for passages indexed without one, in small batches: the server's idle thread.

Passages beyond the inline embedding cap, everything ingested with ``--defer-embeddings`` and every polled
watch item are searchable by BM25 at once; ``backfill_batch`` gives them their vectors. The passages are
picked and their vectors applied under the runtime's ingest lock (short), the embedding itself runs outside
it (the e5 model is safe to share between threads) and so does the commit (shared with the
pipelines', ``ingest.pipeline.GroupCommit``), so an upload or a poll never waits for a batch's
embeddings. ``BackfillWorker`` (``tfe serve``) loops on it; the job worker's ``backfill`` job
(``tfe.app.jobs``) runs it after polls that stored items.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from ingest.pipeline import group_commit

if TYPE_CHECKING:
    from tfe.app.runtime import Runtime

__all__ = ["BackfillWorker", "backfill_batch"]

log = logging.getLogger(__name__)


def backfill_batch(rt: Runtime, batch: int = 16) -> int:
    """Embed at most ``batch`` passages that have no vector yet; how many got one (0: none left).

    Two back-fillers at once may embed the same passages (same vectors, harmless); a passage removed while
    its vector was computed is skipped by the backend."""
    with rt.ingest_lock:
        missing = rt.backend.missing_embeddings(limit=batch)
    if not missing:
        return 0
    vectors = rt.embedder.passages([p.text for p in missing])  # as the inline PassageEmbedder does
    commits = group_commit(rt.backend)
    with rt.ingest_lock:
        rt.backend.set_embeddings([p.id for p in missing], vectors)
        ticket = commits.wrote()
    commits.commit(ticket)  # shared with the pipelines' commits, outside the ingest lock
    log.info("backfilled embeddings batch=%d", len(missing))
    return len(missing)


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
