"""The queue built from Settings, the leases on each store, and one real job run through the queue."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from huey import MemoryHuey, RedisHuey, SqliteHuey

from tests.conftest import make_settings
from tests.jobs.conftest import add_source, polls
from tests.veille.feedserver import Route, feed_server, rss
from tfe.app.jobs import Jobs, drain, make_queue, queue_name
from tfe.app.jobs.leases import LeaseStore, MemoryLeases, RedisLeases, SqliteLeases, new_token
from tfe.app.jobs.tasks import redact
from tfe.app.runtime import Runtime
from tfe.core.errors import ConfigurationError


def test_queue_name_is_per_installation(tmp_path: Path) -> None:
    one = make_settings(tmp_path / "a")
    assert queue_name(one) == queue_name(make_settings(tmp_path / "a"))
    assert queue_name(one) != queue_name(make_settings(tmp_path / "b"))
    assert queue_name(one).startswith("tfe") and queue_name(one).isalnum()


def test_backend_follows_settings(tmp_path: Path) -> None:
    sqlite = make_queue(make_settings(tmp_path))
    assert isinstance(sqlite.huey, SqliteHuey)
    assert Path(sqlite.location) == tmp_path / "data" / "jobs.sqlite3"
    assert (tmp_path / "data" / "jobs.sqlite3").is_file()
    assert isinstance(make_queue(make_settings(tmp_path, jobs_backend="memory")).huey, MemoryHuey)
    queue = make_queue(
        make_settings(tmp_path, jobs_backend="redis", redis_url="redis://u:s3cret@127.0.0.1:6379/0")
    )
    assert isinstance(queue.huey, RedisHuey)
    assert "s3cret" not in queue.location and queue.name in queue.huey.storage.queue_key


def test_unreachable_redis_is_one_clear_error(tmp_path: Path) -> None:
    queue = make_queue(make_settings(tmp_path, jobs_backend="redis", redis_url="redis://:pw@127.0.0.1:1/0"))
    with pytest.raises(ConfigurationError, match="Redis injoignable") as err:
        queue.check()
    assert "pw" not in err.value.message


@pytest.fixture(params=["memory", "sqlite", "redis"])
def leases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LeaseStore]:
    store: LeaseStore
    if request.param == "memory":
        store = MemoryLeases()
    elif request.param == "sqlite":
        store = SqliteLeases(tmp_path / "jobs.sqlite3", "q")
    else:
        store = RedisLeases(redis.Redis.from_url("redis://127.0.0.1:6379/0"), f"test-{new_token()}")
    yield store
    store.clear()


def test_lease_is_exclusive_until_released_or_expired(leases: LeaseStore) -> None:
    a, b = new_token(), new_token()
    assert leases.acquire("k", a, 0.4)
    assert not leases.acquire("k", b, 0.4)
    assert leases.holder("k") == a
    assert not leases.release("k", b)  # not b's to give back
    assert not leases.renew("k", b, 5)
    assert leases.renew("k", a, 0.4)
    assert leases.release("k", a) and leases.holder("k") is None
    assert leases.acquire("k", b, 0.3)
    time.sleep(0.4)  # b's lease lapses: anyone may take it, b may no longer renew or release it
    assert leases.holder("k") is None
    assert leases.acquire("k", a, 5)
    assert not leases.renew("k", b, 5) and not leases.release("k", b)
    assert leases.holder("k") == a
    assert leases.acquire("other", b, 5)  # keys are independent


def test_redact_hides_credentials_and_query_strings() -> None:
    text = "GET https://bob:hunter2@feeds.example.org/rss?token=abc failed; see http://x.org/a"
    masked = redact(text)
    assert "hunter2" not in masked and "abc" not in masked
    assert "feeds.example.org/rss" in masked and "http://x.org/a" in masked


def test_a_queued_poll_runs_through_the_real_queue(runtimes: Callable[[], Runtime]) -> None:
    rt = runtimes()
    with feed_server() as server:
        server.routes["/feed.xml"] = Route(rss("Vide", []))
        source_id = add_source(rt, f"{server.url}/feed.xml")
        jobs = Jobs(rt)
        jobs.poll_source(source_id)  # enqueued, not run
        assert jobs.huey.pending_count() == 1 and polls(rt, source_id) == 0
        report = drain(jobs)  # the scheduler's tick enqueues the due source too, behind the explicit job
        assert (report.enqueued, report.executed) == (1, 2) and jobs.huey.pending_count() == 0
        # the explicit job polled; the scheduled one found the source no longer due and gave up
        assert polls(rt, source_id, "ok") == 1 and server.count("/feed.xml") == 1
        assert jobs.leases.holder(f"enqueue-{source_id}") is None


def test_enqueue_due_enqueues_once_per_lease(runtimes: Callable[[], Runtime]) -> None:
    rt = runtimes()
    with feed_server() as server:
        server.routes["/feed.xml"] = Route(rss("Vide", []))
        due = add_source(rt, f"{server.url}/feed.xml")
        add_source(rt, f"{server.url}/later.xml", due=False)
        jobs = Jobs(rt, enqueue_lease_s=0.5)
        other = Jobs(rt, enqueue_lease_s=0.5)  # another worker's scheduler on the same queue
        assert jobs.enqueue_due() == [due]
        assert other.enqueue_due() == [] and jobs.enqueue_due() == []
        assert jobs.huey.pending_count() == 1
        time.sleep(0.6)  # the job was lost (never run): once the lease lapses, the source is enqueued again
        assert other.enqueue_due() == [due]
        assert jobs.huey.pending_count() == 2
        # the stale job gives up (a newer one holds the lease); the newer one polls and gives the lease back
        assert drain(jobs).executed == 2
        assert server.count("/feed.xml") == 1 and polls(rt, due, "ok") == 1
        assert jobs.leases.holder(f"enqueue-{due}") is None
        assert jobs.enqueue_due() == []  # polled: no longer due


def test_acquire_many_takes_the_free_and_expired_keys_only(leases: LeaseStore) -> None:
    a, b = new_token(), new_token()
    assert leases.acquire("held", a, 30)
    assert leases.acquire("lapsing", a, 0.2)
    time.sleep(0.3)
    tokens = {"held": b, "lapsing": b, "free-1": b, "free-2": new_token()}
    taken = leases.acquire_many(tokens, 30)
    assert taken == {"lapsing", "free-1", "free-2"}
    assert leases.holder("held") == a  # a live lease is never taken over
    assert leases.holder("lapsing") == b and leases.holder("free-2") == tokens["free-2"]
    assert leases.acquire_many({"held": b, "free-1": a}, 30) == set()
    assert leases.acquire_many({}, 30) == set()
    assert leases.release("free-1", b)
