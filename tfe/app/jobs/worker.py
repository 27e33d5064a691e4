"""A job worker: Huey consumer threads plus a scheduler thread that enqueues the due sources and digests.

The body of ``tfe worker`` (until SIGTERM/SIGINT) and of the worker embedded in ``tfe serve``/``tfe demo``.
Huey's periodic tasks fire once a minute at best, so the scheduler is our own thread ticking every
``poll_tick_s`` seconds (``Jobs.enqueue_due``); Huey's own scheduler thread still runs, to move retries
whose delay has passed back into the queue. Signals are left to the process's owner (the ``tfe worker``
command, uvicorn): the consumer here installs no handler, so it runs in any thread.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from huey.consumer import Consumer

from tfe.app.jobs.tasks import Jobs

__all__ = ["DrainReport", "JobWorker", "drain"]

log = logging.getLogger(__name__)


class _Consumer(Consumer):  # type: ignore[misc]  # huey ships no type hints
    def _set_signal_handlers(self) -> None:  # the owner of the process handles signals
        pass


class JobWorker:
    """``threads`` consumers and a scheduler ticking every ``tick_s`` seconds; ``start``/``stop``."""

    def __init__(
        self,
        jobs: Jobs,
        *,
        threads: int,
        tick_s: float,
        shutdown_timeout_s: float = 30.0,
        max_delay_s: float = 1.0,
    ) -> None:
        self.jobs = jobs
        self.threads = threads
        self.tick_s = tick_s
        self.ticks = 0
        self._consumer = _Consumer(
            jobs.huey,
            workers=threads,
            worker_type="thread",
            periodic=False,
            max_delay=max_delay_s,
            check_worker_health=False,
            shutdown_timeout=shutdown_timeout_s,
        )
        self._stop = threading.Event()
        self._scheduler = threading.Thread(target=self._schedule, name="tfe-jobs-scheduler", daemon=True)

    @property
    def running(self) -> bool:
        return self._scheduler.is_alive() and not self._stop.is_set()

    def start(self) -> JobWorker:
        self._consumer.start()
        self._scheduler.start()
        return self

    def stop(self) -> None:
        """Stop enqueueing, let the polls in progress finish (at most ``shutdown_timeout_s``), return."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._scheduler.is_alive():
            self._scheduler.join()
        self._consumer.stop(graceful=True)

    def tick(self) -> list[int]:
        """One scheduler pass; an error (database or queue unreachable) is logged and retried next tick."""
        self.ticks += 1
        try:
            enqueued = self.jobs.enqueue_due()
        except Exception:
            log.exception("scheduler tick failed; next try in %ss", self.tick_s)
            return []
        try:
            self.jobs.enqueue_digests()
        except Exception:
            log.exception("digest scheduling failed; next try in %ss", self.tick_s)
        try:
            self.jobs.enqueue_housekeeping()  # at most once an hour (its lease)
        except Exception:
            log.exception("housekeeping scheduling failed; next try in %ss", self.tick_s)
        return enqueued

    def _schedule(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.tick_s)


@dataclass
class DrainReport:
    enqueued: int  # polls this call put in the queue
    executed: int  # jobs run (the queue may hold others' jobs too)


def drain(jobs: Jobs, threads: int = 1) -> DrainReport:
    """``tfe worker --once``: one scheduler tick, then run queued jobs on ``threads`` threads until the
    queue is empty (retries waiting for their delay stay scheduled for the next worker)."""
    enqueued = jobs.enqueue_due()
    counts = [0] * threads

    def run(slot: int) -> None:
        while (task := jobs.huey.dequeue()) is not None:
            try:
                jobs.huey.execute(task)
            except Exception:  # huey.execute logs task errors itself; keep draining
                log.exception("job %s failed", task.id)
            counts[slot] += 1

    workers = [threading.Thread(target=run, args=(i,), name=f"tfe-drain-{i}") for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return DrainReport(enqueued=len(enqueued), executed=sum(counts))
