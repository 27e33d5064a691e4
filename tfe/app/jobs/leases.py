"""Leases: named locks that expire, shared by every worker of one installation.

Huey's own ``lock_task`` never expires on the SQLite storage (and needs Redis 7.4 for a TTL), so a worker
killed mid-task would hold its lock forever. A lease here carries an owner token and an expiry: only its
owner releases or renews it, and once expired anyone may take it. Three stores, chosen with the Huey
storage: a table in the jobs SQLite file, ``SET NX PX`` keys in Redis, a dict in memory (tests).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Protocol

__all__ = ["LeaseStore", "MemoryLeases", "RedisLeases", "SqliteLeases", "new_token"]


def new_token() -> str:
    """An owner token naming the host and process (for an operator reading the store) and unique."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class LeaseStore(Protocol):
    def acquire(self, key: str, token: str, ttl_s: float) -> bool:
        """Take ``key`` for ``ttl_s`` seconds if it is free or expired; whether it was taken."""
        ...

    def acquire_many(self, tokens: dict[str, str], ttl_s: float) -> set[str]:
        """``acquire`` for many keys at once (key → token): the keys taken (a scheduler's tick)."""
        ...

    def renew(self, key: str, token: str, ttl_s: float) -> bool:
        """Extend a lease still held by ``token``; False when it was lost (expired and taken)."""
        ...

    def release(self, key: str, token: str) -> bool:
        """Give back a lease held by ``token``; a lease now someone else's is left alone."""
        ...

    def holder(self, key: str) -> str | None:
        """The token holding ``key`` now, if any."""
        ...

    def clear(self) -> None:
        """Drop every lease of this store (tests, ``flush``)."""
        ...


class MemoryLeases:
    """Leases of one process (the ``memory`` jobs backend)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._leases: dict[str, tuple[str, float]] = {}

    def _live(self, key: str) -> tuple[str, float] | None:
        lease = self._leases.get(key)
        if lease is not None and lease[1] <= time.monotonic():
            del self._leases[key]
            return None
        return lease

    def acquire(self, key: str, token: str, ttl_s: float) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._leases[key] = (token, time.monotonic() + ttl_s)
            return True

    def acquire_many(self, tokens: dict[str, str], ttl_s: float) -> set[str]:
        with self._lock:
            taken = {key for key in tokens if self._live(key) is None}
            expires = time.monotonic() + ttl_s
            for key in taken:
                self._leases[key] = (tokens[key], expires)
            return taken

    def renew(self, key: str, token: str, ttl_s: float) -> bool:
        with self._lock:
            lease = self._live(key)
            if lease is None or lease[0] != token:
                return False
            self._leases[key] = (token, time.monotonic() + ttl_s)
            return True

    def release(self, key: str, token: str) -> bool:
        with self._lock:
            lease = self._live(key)
            if lease is None or lease[0] != token:
                return False
            del self._leases[key]
            return True

    def holder(self, key: str) -> str | None:
        with self._lock:
            lease = self._live(key)
            return lease[0] if lease else None

    def clear(self) -> None:
        with self._lock:
            self._leases.clear()


class SqliteLeases:
    """Leases in a table of the jobs SQLite file; each operation is one short immediate transaction.

    Expiry is wall-clock time (``time.time()``), the one clock several processes on a machine share.
    Connections use ``synchronous=NORMAL`` (the file is in WAL mode, set by Huey's storage); each thread
    keeps its own connection (opening one, with its pragma, cost about as much as the operation itself:
    four per poll, and one per due source in a scheduler tick before ``acquire_many``).
    """

    _DDL = (
        "CREATE TABLE IF NOT EXISTS tfe_lease ("
        "queue TEXT NOT NULL, key TEXT NOT NULL, token TEXT NOT NULL, expires_at REAL NOT NULL, "
        "PRIMARY KEY (queue, key))"
    )

    def __init__(self, filename: Path, queue: str, timeout_s: float = 10.0) -> None:
        self.filename = filename
        self.queue = queue
        self.timeout_s = timeout_s
        self._local = threading.local()
        with self._connect() as conn:
            conn.execute(self._DDL)

    def _connect(self) -> _Tx:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.filename, timeout=self.timeout_s, isolation_level=None)
            # WAL + NORMAL: a commit writes the WAL without an fsync (the default FULL costs one per lease
            # operation, ~20 ms on slow disks, four per poll); a power cut may lose the last leases, which
            # is harmless: they expire, and a lost enqueue lease only lets the source be enqueued again
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return _Tx(conn)

    def acquire(self, key: str, token: str, ttl_s: float) -> bool:
        now = time.time()
        with self._connect() as conn:
            conn.execute(
                "DELETE FROM tfe_lease WHERE queue = ? AND key = ? AND expires_at <= ?",
                (self.queue, key, now),
            )
            cur = conn.execute(
                "INSERT OR IGNORE INTO tfe_lease (queue, key, token, expires_at) VALUES (?, ?, ?, ?)",
                (self.queue, key, token, now + ttl_s),
            )
            return cur.rowcount == 1

    def acquire_many(self, tokens: dict[str, str], ttl_s: float) -> set[str]:
        """One connection and one transaction for the whole tick: expired leases dropped, the live ones
        read in one query, the free keys inserted together."""
        if not tokens:
            return set()
        now = time.time()
        with self._connect() as conn:
            conn.execute("DELETE FROM tfe_lease WHERE queue = ? AND expires_at <= ?", (self.queue, now))
            live = {
                str(k) for (k,) in conn.execute("SELECT key FROM tfe_lease WHERE queue = ?", (self.queue,))
            }
            taken = {key for key in tokens if key not in live}
            conn.executemany(
                "INSERT INTO tfe_lease (queue, key, token, expires_at) VALUES (?, ?, ?, ?)",
                [(self.queue, key, tokens[key], now + ttl_s) for key in taken],
            )
            return taken

    def renew(self, key: str, token: str, ttl_s: float) -> bool:
        now = time.time()
        with self._connect() as conn:
            cur = conn.execute(
                "UPDATE tfe_lease SET expires_at = ? "
                "WHERE queue = ? AND key = ? AND token = ? AND expires_at > ?",
                (now + ttl_s, self.queue, key, token, now),
            )
            return cur.rowcount == 1

    def release(self, key: str, token: str) -> bool:
        with self._connect() as conn:
            cur = conn.execute(
                "DELETE FROM tfe_lease WHERE queue = ? AND key = ? AND token = ?", (self.queue, key, token)
            )
            return cur.rowcount == 1

    def holder(self, key: str) -> str | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT token FROM tfe_lease WHERE queue = ? AND key = ? AND expires_at > ?",
                (self.queue, key, time.time()),
            ).fetchone()
            return str(row[0]) if row else None

    def clear(self) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM tfe_lease WHERE queue = ?", (self.queue,))


class _Tx:
    """``with``: one ``BEGIN IMMEDIATE`` transaction on the thread's connection (kept open)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
        except sqlite3.Error:
            if self.conn.in_transaction:  # never leave the kept connection inside a transaction
                self.conn.execute("ROLLBACK")
            raise


# compare-and-delete / compare-and-extend: only the owner's token may release or renew
_RELEASE_LUA = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
_RENEW_LUA = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
)


class RedisLeases:
    """Leases as Redis keys ``tfe.lease.<queue>.<key>`` set with ``NX PX`` (any Redis version)."""

    def __init__(self, conn: Any, queue: str) -> None:
        self.conn = conn
        self.prefix = f"tfe.lease.{queue}."
        self._release = conn.register_script(_RELEASE_LUA)
        self._renew = conn.register_script(_RENEW_LUA)

    @staticmethod
    def _ms(ttl_s: float) -> int:
        return max(1, int(ttl_s * 1000))

    def acquire(self, key: str, token: str, ttl_s: float) -> bool:
        return bool(self.conn.set(self.prefix + key, token, nx=True, px=self._ms(ttl_s)))

    def acquire_many(self, tokens: dict[str, str], ttl_s: float) -> set[str]:
        """One round trip: a pipeline of ``SET NX PX``."""
        keys = list(tokens)
        pipe = self.conn.pipeline(transaction=False)
        for key in keys:
            pipe.set(self.prefix + key, tokens[key], nx=True, px=self._ms(ttl_s))
        return {key for key, ok in zip(keys, pipe.execute(), strict=True) if ok}

    def renew(self, key: str, token: str, ttl_s: float) -> bool:
        return bool(self._renew(keys=[self.prefix + key], args=[token, self._ms(ttl_s)]))

    def release(self, key: str, token: str) -> bool:
        return bool(self._release(keys=[self.prefix + key], args=[token]))

    def holder(self, key: str) -> str | None:
        value = self.conn.get(self.prefix + key)
        return value.decode() if isinstance(value, bytes) else value

    def clear(self) -> None:
        keys = list(self.conn.scan_iter(match=self.prefix + "*", count=500))
        if keys:
            self.conn.delete(*keys)
