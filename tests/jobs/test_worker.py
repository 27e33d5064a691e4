"""Workers poll due sources, and two workers never poll one source at the same time (SQLite and Redis)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from search.types import SearchQuery
from tests.jobs.conftest import add_source, polls, wait_for
from tests.veille.feedserver import Route, feed_server, rss
from tfe.app.jobs import Jobs, JobWorker
from tfe.app.runtime import Runtime
from tfe.core.security.scope import AccessScope


def test_worker_polls_a_due_source_within_seconds(runtimes: Callable[[], Runtime]) -> None:
    rt = runtimes()
    with feed_server() as server:
        server.routes["/due.xml"] = Route(rss("Vide", []), etag='"v1"')
        server.routes["/later.xml"] = Route(rss("Vide", []))
        due = add_source(rt, f"{server.url}/due.xml")
        later = add_source(rt, f"{server.url}/later.xml", due=False)
        worker = JobWorker(Jobs(rt), threads=2, tick_s=1).start()
        started = time.monotonic()
        try:
            assert wait_for(lambda: polls(rt, due, "ok") == 1, timeout_s=30)
            elapsed = time.monotonic() - started
            time.sleep(1.2)  # another tick: the polled source is no longer due
        finally:
            worker.stop()
        assert elapsed < 3
        assert worker.ticks >= 2
        assert server.count("/due.xml") == 1 and server.count("/later.xml") == 0
        assert polls(rt, later) == 0
        assert worker.jobs.leases.holder(f"enqueue-{due}") is None
        assert worker.jobs.leases.holder(f"poll-{due}") is None


def test_two_workers_never_poll_one_source_at_once(runtimes: Callable[[], Runtime]) -> None:
    """Two workers (each its own runtime, as two processes) on one queue; the same source's poll is
    enqueued twice while the server answers slowly: one worker polls, the other gives up."""
    first, second = runtimes(), runtimes()
    with feed_server() as server:
        server.routes["/slow.xml"] = Route(rss("Lent", []), delay_s=2.5)
        source_id = add_source(first, f"{server.url}/slow.xml", due=False)  # no scheduler enqueues it
        jobs_a, jobs_b = Jobs(first), Jobs(second)
        workers = [
            JobWorker(jobs_a, threads=2, tick_s=30).start(),
            JobWorker(jobs_b, threads=2, tick_s=30).start(),
        ]
        try:
            jobs_a.poll_source(source_id)
            jobs_b.poll_source(source_id)
            assert wait_for(lambda: jobs_a.huey.pending_count() == 0, timeout_s=30)
            assert wait_for(lambda: polls(first, source_id) == 1, timeout_s=30)
            time.sleep(0.3)
        finally:
            for worker in workers:
                worker.stop()
        assert server.max_active["/slow.xml"] == 1
        assert server.count("/slow.xml") == 1 and polls(first, source_id, "ok") == 1


def test_schedulers_of_two_workers_enqueue_each_due_source_once(runtimes: Callable[[], Runtime]) -> None:
    first, second = runtimes(), runtimes()
    paths = [f"/feed-{i}.xml" for i in range(3)]
    with feed_server() as server:
        for path in paths:
            server.routes[path] = Route(rss("Vide", []), delay_s=0.3)
        ids = [add_source(first, f"{server.url}{path}") for path in paths]
        workers = [JobWorker(Jobs(rt), threads=2, tick_s=1).start() for rt in (first, second)]
        try:
            assert wait_for(lambda: all(polls(first, i, "ok") == 1 for i in ids), timeout_s=30)
            time.sleep(2.2)  # two more ticks of each scheduler
        finally:
            for worker in workers:
                worker.stop()
        assert all(worker.ticks >= 3 for worker in workers)
        assert [server.count(path) for path in paths] == [1, 1, 1]
        assert all(server.max_active[path] == 1 for path in paths)


@pytest.mark.slow
def test_polled_items_are_searchable_at_once_and_get_vectors_from_the_backfill_job(
    runtimes: Callable[[], Runtime],
) -> None:
    """Polls index without vectors (BM25 right after the poll); the back-fill job the poll enqueued
    gives every passage its vector, then gives its lease back."""
    rt = runtimes()
    scope = AccessScope(user_id=1, org_id=1, roles=frozenset({"reader"}))
    entries = [
        ("g1", "Turbines au Vietnam", "Appel d'offres zorbatique pour des turbines à Hanoï."),
        ("g2", "Vins en Chine", "Les exportations de vin vers Shanghai progressent, note quintofral."),
    ]
    with feed_server() as server:
        server.routes["/news.xml"] = Route(rss("Actualités", entries), etag='"v1"')
        source = add_source(rt, f"{server.url}/news.xml")
        jobs = Jobs(rt, backfill_batch=1)
        jobs.poll_source.call_local(source)  # the job's body, here: no vectors inline, one job enqueued
        for word in ("zorbatique", "quintofral"):
            hits = rt.backend.search(SearchQuery(text=word, scope=scope, mode="bm25", limit=1))
            assert hits.total == 1
        missing = len(rt.backend.missing_embeddings(limit=100))
        assert missing >= 2
        assert jobs.leases.holder("backfill") is not None  # queued, not yet run
        assert not jobs.enqueue_backfill()  # one back-fill job at a time
        worker = JobWorker(jobs, threads=1, tick_s=60).start()
        try:
            assert wait_for(lambda: not rt.backend.missing_embeddings(limit=1), timeout_s=120)
            assert wait_for(lambda: jobs.leases.holder("backfill") is None, timeout_s=30)
        finally:
            worker.stop()
    assert jobs.backfilled == missing
    assert polls(rt, source, "ok") == 1
