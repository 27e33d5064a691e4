"""The SQLite jobs file commits without an fsync per operation: WAL with ``synchronous=NORMAL`` on Huey's
connections and on the lease store's (the polling benchmark found FULL's fsyncs capping the worker)."""

from __future__ import annotations

from pathlib import Path

from huey import SqliteHuey

from tests.conftest import make_settings
from tfe.app.jobs import make_queue
from tfe.app.jobs.leases import SqliteLeases, new_token

NORMAL = 1


def test_huey_storage_is_wal_with_normal_sync(tmp_path: Path) -> None:
    queue = make_queue(make_settings(tmp_path))
    assert isinstance(queue.huey, SqliteHuey)
    conn = queue.huey.storage.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == NORMAL
    queue.huey.storage.enqueue(b"job", 0)
    assert queue.huey.storage.queue_size() == 1


def test_lease_connections_use_normal_sync(tmp_path: Path) -> None:
    queue = make_queue(make_settings(tmp_path))
    leases = queue.leases
    assert isinstance(leases, SqliteLeases)
    with leases._connect() as conn:
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == NORMAL
    token = new_token()
    assert leases.acquire("poll-1", token, 60)
    assert leases.holder("poll-1") == token
    assert leases.release("poll-1", token)
