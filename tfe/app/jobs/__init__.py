"""Durable jobs with Huey: the queue built from Settings, the polling task, the worker and its scheduler.

``Jobs(rt)`` builds the installation's queue (SQLite under the data dir, Redis, or memory) and registers
the tasks on it; ``JobWorker(jobs, threads=..., tick_s=...)`` runs them; ``start_worker(rt)`` is the
worker embedded in ``tfe serve``. Nothing is bound at import: each call builds its own instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tfe.app.jobs.queue import Queue, make_queue, queue_name
from tfe.app.jobs.tasks import Jobs, PollerLike
from tfe.app.jobs.worker import DrainReport, JobWorker, drain

if TYPE_CHECKING:
    from tfe.app.runtime import Runtime

__all__ = [
    "DrainReport",
    "JobWorker",
    "Jobs",
    "PollerLike",
    "Queue",
    "drain",
    "make_queue",
    "queue_name",
    "start_worker",
]


def start_worker(rt: Runtime, threads: int | None = None) -> JobWorker:
    """A started worker for this process (``tfe serve``): ``worker_threads`` consumers and the scheduler."""
    jobs = Jobs(rt)
    jobs.queue.check()
    worker = JobWorker(jobs, threads=threads or rt.settings.worker_threads, tick_s=rt.settings.poll_tick_s)
    return worker.start()
