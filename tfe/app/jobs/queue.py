"""The installation's Huey instance and lease store, built from Settings (never bound at import).

``jobs_backend``: ``sqlite`` (default) keeps the queue in ``<data_dir>/jobs.sqlite3``; ``redis`` uses
``redis_url`` (default redis://127.0.0.1:6379/0), so several ``tfe worker`` processes share one queue;
``memory`` is one process's queue (tests). The queue name is derived from the data dir, so two
installations on one Redis never share a queue.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.storage import SqliteStorage

from tfe.app.jobs.leases import LeaseStore, MemoryLeases, RedisLeases, SqliteLeases
from tfe.core.errors import ConfigurationError
from tfe.core.settings import Settings

__all__ = ["DEFAULT_REDIS_URL", "Queue", "make_queue", "queue_name", "redact_url"]

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Queue:
    """A Huey instance and the lease store living beside it (same SQLite file, same Redis)."""

    huey: Huey
    leases: LeaseStore
    backend: str
    name: str
    location: str  # where the queue lives, without credentials (for logs and messages)

    def check(self) -> None:
        """Raise ``ConfigurationError`` with one line when the queue's store cannot be reached."""
        if self.backend != "redis":
            return
        try:
            self.huey.storage.conn.ping()
        except Exception as exc:  # redis.ConnectionError, timeouts, authentication
            raise ConfigurationError(f"Redis injoignable ({self.location}) : {exc}") from exc


class _SqliteStorage(SqliteStorage):  # type: ignore[misc]  # huey ships no type hints
    """Huey's SQLite storage in WAL mode with ``synchronous=NORMAL``: no fsync per enqueue and dequeue
    (the default FULL costs one each, ~20 ms on slow disks); a power cut may lose the last jobs enqueued,
    which the scheduler enqueues again once their lease expires."""

    def _create_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = super()._create_connection()
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn


class _SqliteHuey(SqliteHuey):  # type: ignore[misc]
    storage_class = _SqliteStorage


def queue_name(settings: Settings) -> str:
    """``tfe<12 hex>``: the same for every process of one installation, distinct between installations
    (letters and digits only: Huey strips anything else from its Redis key names)."""
    digest = hashlib.sha256(str(settings.resolved_data_dir.resolve()).encode()).hexdigest()[:12]
    return f"tfe{digest}"


def redact_url(url: str) -> str:
    """The URL without its password (``redis://user:***@host``)."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def make_queue(settings: Settings) -> Queue:
    """The Huey instance of ``settings.jobs_backend`` (results are not stored: tasks write to the DB)."""
    name = queue_name(settings)
    if settings.jobs_backend == "memory":
        return Queue(MemoryHuey(name, results=False), MemoryLeases(), "memory", name, "memory")
    if settings.jobs_backend == "redis":
        url = settings.redis_url or DEFAULT_REDIS_URL
        try:
            huey: Huey = RedisHuey(name, results=False, url=url)
        except ValueError as exc:  # redis-py refuses a malformed URL
            raise ConfigurationError(f"invalid TFE_REDIS_URL {redact_url(url)!r}: {exc}") from exc
        return Queue(huey, RedisLeases(huey.storage.conn, name), "redis", name, redact_url(url))
    path = settings.resolved_data_dir / "jobs.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    huey = _SqliteHuey(name, results=False, filename=str(path))
    return Queue(huey, SqliteLeases(path, name), "sqlite", name, str(path))
