"""Polling benchmark: N synthetic feeds on 50 loopback hosts polled by the real job worker (JSON).

Run by hand: ``.venv/bin/python bench/poll.py [--feeds 10000] [--minutes 5] [--threads 8] [--new-share 0.05]
[--period 300] [--jobs sqlite|redis] [--driver huey|rounds] [--index-passages 0] [--json]``.
Never part of the test suite.

A fresh installation (``init_installation``, SQLite, ``fetch_allow_private``) gets one source per feed of
``bench/feedfarm.py`` (an asyncio server in a child process, so its CPU is not the worker's), pre-seeded
as a previous poll would have left it: the feed's validators and its old entries stored. Every source's
interval is pinned to ``--cycle`` seconds (60), so polled sources are due again at once and the whole
set cycles. The driver is the real worker path: ``tfe.app.jobs.JobWorker`` (Huey consumer threads and the
scheduler thread ticking every ``poll_tick_s``) on the ``--jobs`` queue; ``--driver rounds`` runs
``Poller.poll_due``-style rounds on ``--threads`` threads instead. Measured in this process: sources polled
per hour, CPU time (process time, all threads) per 304 answer and per new item by least squares over 10 s
windows (CPU ≈ a·304s + b·new items + c·other polls + d·seconds), peak RSS, and for every new item the
delay from the start of the poll that fetched it (``SourcePoll.started_at``) to the moment a BM25 query for
its unique word finds it and to its ``story_id`` being set.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.pop("TFE_DATABASE_URL", None)
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import feedfarm  # noqa: E402
import numpy as np  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from search.types import SearchQuery  # noqa: E402
from tfe.app.install import init_installation  # noqa: E402
from tfe.app.jobs import Jobs, JobWorker  # noqa: E402
from tfe.app.runtime import Runtime  # noqa: E402
from tfe.core.db import utcnow  # noqa: E402
from tfe.core.security.scope import AccessScope  # noqa: E402
from tfe.core.settings import load_settings  # noqa: E402
from veille.models import Item, Source, SourcePoll  # noqa: E402

WINDOW_S = 10.0


def _epoch(when: dt.datetime) -> float:
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()


@dataclass
class Counts:
    """What the polls did so far (the wrapper's counters), read by the sampler."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    polls: int = 0
    not_modified: int = 0
    new_items: int = 0
    failed: int = 0
    ok_without_new: int = 0
    deferred: int = 0
    thread_cpu: dict[str, list[float]] = field(default_factory=lambda: {"304": [], "200": [], "new": []})
    new_cpu_items: int = 0


class MeasuredPoller:
    """The runtime's poller, counting each poll's outcome and the CPU time of the thread that ran it."""

    def __init__(self, rt: Runtime, counts: Counts, until: list[float]) -> None:
        self.inner = rt.poller
        self.counts = counts
        self.until = until  # polls ending after until[0] are not counted (the run's window is over)

    def due_sources(self, now: dt.datetime | None = None, limit: int | None = None) -> list[int]:
        return self.inner.due_sources(now, limit)

    def poll(self, source_id: int, now: dt.datetime | None = None) -> Any:
        cpu = time.thread_time()
        outcome = self.inner.poll(source_id, now)
        spent = time.thread_time() - cpu
        if time.time() > self.until[0]:
            return outcome
        c = self.counts
        with c.lock:
            c.polls += 1
            c.new_items += outcome.new
            if outcome.status == "not_modified":
                c.not_modified += 1
                c.thread_cpu["304"].append(spent)
            elif outcome.status == "failed":
                c.failed += 1
            elif outcome.status == "deferred":
                c.deferred += 1
            elif outcome.new:
                c.thread_cpu["new"].append(spent)
                c.new_cpu_items += outcome.new
            else:
                c.ok_without_new += 1
                c.thread_cpu["200"].append(spent)
        return outcome


class TimedJobs(Jobs):
    """``Jobs`` timing each scheduler tick (``enqueue_due``)."""

    ticks: list[tuple[float, int]]

    def enqueue_due(self, now: dt.datetime | None = None) -> list[int]:
        started = time.perf_counter()
        out = super().enqueue_due(now)
        self.ticks.append((time.perf_counter() - started, len(out)))
        return out


class Watcher(threading.Thread):
    """Finds the items stored since the start and notes when BM25 finds each and when it has a story."""

    def __init__(self, rt: Runtime, since: dt.datetime, scope: AccessScope) -> None:
        super().__init__(name="bench-watcher", daemon=True)
        self.rt, self.since, self.scope = rt, since, scope
        self.stop = threading.Event()
        self.items: dict[str, dict[str, Any]] = {}

    def run(self) -> None:
        while not self.stop.wait(0.25):
            self.step()

    def step(self) -> None:
        with self.rt.session() as session:
            rows = session.execute(
                select(Item.id, Item.source_id, Item.guid, Item.fetched_at, Item.story_id).where(
                    Item.fetched_at >= self.since
                )
            ).all()
        now = time.time()
        for row in rows:
            entry = self.items.setdefault(
                row.id,
                {"source_id": row.source_id, "guid": row.guid, "fetched_at": _epoch(row.fetched_at)},
            )
            if row.story_id and "story_at" not in entry:
                entry["story_at"] = now
        for entry in self.items.values():
            if "searchable_at" in entry:
                continue
            _, i, v = entry["guid"].split("-")
            word = feedfarm.unique_word(int(i), int(v[1:]))
            found = self.rt.backend.search(SearchQuery(text=word, scope=self.scope, mode="bm25", limit=1))
            if found.total:
                entry["searchable_at"] = time.time()


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "max": None, "n": 0}
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return {
        "p50": round(statistics.median(values), 2),
        "p95": round(p95, 2),
        "max": round(values[-1], 2),
        "n": len(values),
    }


def _register(rt: Runtime, port: int, args: argparse.Namespace, t0: float) -> None:
    """One source per feed, as a previous poll left it (validators, old entries stored), all due now."""
    now = utcnow()
    sources, items = [], []
    for i in range(args.feeds):
        p = feedfarm.profile(i, args.seed, args.new_share, args.period)
        etag, last_modified = feedfarm.validators(p, t0, 0)
        sources.append(
            {
                "id": i + 1,
                "kind": "feed",
                "url": f"http://{feedfarm.host_of(i, args.hosts)}:{port}/f/{i}",
                "title": f"Flux {i}",
                "org_id": None,
                "visibility": "network",
                "language": "fr",
                "sector_hints": [],
                "country_hints": [],
                "tags": [],
                "config": {},
                "full_text": False,
                "paused": False,
                "etag": etag,
                "last_modified": last_modified,
                "interval_s": args.cycle,
                "min_interval_s": args.cycle,
                "max_interval_s": args.cycle,
                "next_poll_at": now,
                "failures": 0,
                "health": "ok",
                "created_at": now,
                "updated_at": now,
            }
        )
        old = now - dt.timedelta(days=30)
        for k in range(feedfarm.OLD_ENTRIES):
            items.append(
                {
                    "id": uuid.uuid4().hex,
                    "source_id": i + 1,
                    "url": None,
                    "guid": feedfarm.old_guid(i, k),
                    "title": f"Ancienne dépêche {i}-{k}",
                    "summary": "",
                    "text": "",
                    "content_origin": "summary",
                    "published_at": old,
                    "fetched_at": old,
                    "language": "fr",
                    "content_hash": uuid.uuid4().hex,
                    "org_id": None,
                    "visibility": "network",
                    "curator_status": "accepted",
                    "meta": {},
                }
            )
    with rt.session() as session:
        session.execute(insert(Source), sources)
        session.execute(insert(Item), items)


def _regression(samples: list[dict[str, float]]) -> dict[str, float | None]:
    """CPU ms per 304, per new item, per other poll and per second of background, by least squares."""
    rows = [s for s in samples if s["seconds"] > 0]
    if len(rows) < 5:
        return {"per_304": None, "per_new_item": None, "per_other_poll": None, "background_per_s": None}
    a = np.array([[s["n304"], s["new"], s["other"], s["seconds"]] for s in rows], dtype=float)
    b = np.array([s["cpu"] * 1000 for s in rows], dtype=float)
    coef, *_ = np.linalg.lstsq(a, b, rcond=None)
    names = ["per_304", "per_new_item", "per_other_poll", "background_per_s"]
    return {n: round(float(c), 2) for n, c in zip(names, coef, strict=True)}


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _fetch_starts(rt: Runtime) -> dict[int, list[float]]:
    """Start times of the polls that stored new items, per source."""
    with rt.session() as session:
        rows = session.execute(
            select(SourcePoll.source_id, SourcePoll.started_at).where(SourcePoll.new_items > 0)
        ).all()
    out: dict[int, list[float]] = {}
    for row in rows:
        out.setdefault(row.source_id, []).append(_epoch(row.started_at))
    return {k: sorted(v) for k, v in out.items()}


def run(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="tfe-poll-bench-"))
    farm: subprocess.Popen[str] | None = None
    rt: Runtime | None = None
    try:
        settings = load_settings(
            data_dir=root / "data",
            admin_password="bench-password-123",
            fetch_allow_private=True,
            worker_threads=args.threads,
            poll_tick_s=args.tick,
            jobs_backend=args.jobs,
            feed_timeout_s=10.0,
        )
        rt = Runtime(settings)
        init_installation(rt)
        t0 = time.time()
        farm = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "feedfarm.py"),
                "--feeds",
                str(args.feeds),
                "--hosts",
                str(args.hosts),
                "--seed",
                str(args.seed),
                "--new-share",
                str(args.new_share),
                "--period",
                str(args.period),
                "--t0",
                str(t0),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert farm.stdout is not None
        port = int(farm.stdout.readline().split()[1])
        _register(rt, port, args, t0)
        if args.index_passages:
            from search_latency import make_passages

            _log(
                args, f"indexing {args.index_passages} synthetic passages (an installation's existing index)"
            )
            for start in range(0, args.index_passages, 10_000):
                rt.backend.write(make_passages(min(10_000, args.index_passages - start), seed=start))
            rt.backend.commit()
        _log(args, f"{args.feeds} sources registered; warming up the pipeline")
        rt.pipeline("item", True).warm_up()
        rt.embedder.query("échauffement")
        scope = AccessScope(user_id=1, org_id=1, roles=frozenset({"reader"}))
        rt.backend.search(SearchQuery(text="échauffement", scope=scope, mode="bm25", limit=1))

        counts = Counts()
        until = [float("inf")]
        poller = MeasuredPoller(rt, counts, until)
        watcher = Watcher(rt, utcnow(), scope)
        samples: list[dict[str, float]] = []
        started = time.time()
        cpu0 = time.process_time()
        deadline = started + args.minutes * 60
        until[0] = deadline
        watcher.start()
        driver: Any
        if args.driver == "huey":
            jobs = TimedJobs(rt, poller=poller)
            jobs.ticks = []
            jobs.flush()
            driver = JobWorker(jobs, threads=args.threads, tick_s=settings.poll_tick_s).start()
        else:
            jobs = None
            driver = threading.Thread(target=_rounds, args=(poller, args.threads, deadline), daemon=True)
            driver.start()
        last = {"cpu": cpu0, "t": started, "n304": 0, "new": 0, "polls": 0}
        per_minute: list[int] = []
        minute_mark, minute_polls = started + 60, 0
        while time.time() < deadline:
            time.sleep(min(WINDOW_S, max(0.0, deadline - time.time())))
            now, cpu = time.time(), time.process_time()
            with counts.lock:
                polls, n304, new = counts.polls, counts.not_modified, counts.new_items
            samples.append(
                {
                    "seconds": now - last["t"],
                    "cpu": cpu - last["cpu"],
                    "n304": n304 - last["n304"],
                    "new": new - last["new"],
                    "other": (polls - last["polls"]) - (n304 - last["n304"]),
                }
            )
            last = {"cpu": cpu, "t": now, "n304": n304, "new": new, "polls": polls}
            if now >= minute_mark:
                per_minute.append(polls - minute_polls)
                minute_mark, minute_polls = minute_mark + 60, polls
            _log(
                args,
                f"{now - started:6.0f} s: {polls} polls ({n304} × 304, {new} new items), "
                f"cpu {cpu - cpu0:.0f} s, rss {_rss_mb():.0f} MB",
            )
        duration = time.time() - started
        cpu_total = time.process_time() - cpu0
        _log(args, "stopping the worker (polls in progress finish)")
        if args.driver == "huey":
            driver.stop()
        else:
            driver.join(timeout=60)
        time.sleep(1.0)  # let the watcher see the last items' stories and index
        watcher.stop.set()
        watcher.join()
        watcher.step()
        starts = _fetch_starts(rt)
        to_search, to_story, fetched_to_search = [], [], []
        for entry in watcher.items.values():
            begun = [s for s in starts.get(entry["source_id"], []) if s <= entry["fetched_at"] + 0.001]
            if not begun:
                continue
            origin = begun[-1]
            if "searchable_at" in entry:
                to_search.append(entry["searchable_at"] - origin)
                fetched_to_search.append(entry["searchable_at"] - entry["fetched_at"])
            if "story_at" in entry:
                to_story.append(entry["story_at"] - origin)
        reg = _regression(samples)
        with rt.session() as session:
            health = Counter(session.scalars(select(Source.health)))
            errors = Counter(
                (e or "")[:80]
                for e in session.scalars(select(SourcePoll.error).where(SourcePoll.status == "failed"))
            )
        data_dir = settings.resolved_data_dir
        wal_bytes = {f.name: f.stat().st_size for f in sorted(data_dir.glob("*-wal")) if f.is_file()}
        thread_ms = {
            k: round(1000 * statistics.mean(v), 2) if v else None for k, v in counts.thread_cpu.items()
        }
        if counts.thread_cpu["new"] and counts.new_cpu_items:
            thread_ms["new_per_item"] = round(1000 * sum(counts.thread_cpu["new"]) / counts.new_cpu_items, 2)
        ticks = jobs.ticks if jobs is not None else []
        return {
            "machine": _machine(),
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "driver": (
                f"Huey JobWorker ({args.threads} consumer threads + scheduler every {args.tick} s, "
                f"{args.jobs} queue)"
                if args.driver == "huey"
                else f"Poller.poll_due-style rounds on {args.threads} threads"
            ),
            "database": "sqlite",
            "feeds": args.feeds,
            "hosts": args.hosts,
            "threads": args.threads,
            "new_share": args.new_share,
            "index_passages_before": args.index_passages,
            "duration_s": round(duration, 1),
            "polled": counts.polls,
            "sources_per_hour": round(counts.polls / duration * 3600),
            "polls_per_minute": per_minute,
            "not_modified": counts.not_modified,
            "ok_without_new": counts.ok_without_new,
            "new_items": counts.new_items,
            "failed": counts.failed,
            "deferred": counts.deferred,
            "cpu_s": round(cpu_total, 1),
            "cpu_utilisation": round(cpu_total / duration, 2),
            "cpu_ms_per_poll": round(1000 * cpu_total / counts.polls, 2) if counts.polls else None,
            "cpu_ms_per_304": reg["per_304"],
            "cpu_ms_per_new_item": reg["per_new_item"],
            "cpu_regression_ms": reg,
            "poll_thread_cpu_ms": thread_ms,
            "scheduler_ticks": {
                "count": len(ticks),
                "mean_s": round(statistics.mean(t for t, _ in ticks), 2) if ticks else None,
                "max_s": round(max(t for t, _ in ticks), 2) if ticks else None,
                "enqueued": sum(n for _, n in ticks),
            },
            "peak_rss_mb": round(_rss_mb()),
            "items_seen": len(watcher.items),
            "fetch_to_searchable_s": _percentiles(to_search),
            "stored_to_searchable_s": _percentiles(fetched_to_search),
            "fetch_to_story_s": _percentiles(to_story),
            "source_health": dict(health),
            "failure_reasons": dict(errors.most_common(5)),
            "wal_bytes_at_end": wal_bytes,
        }
    finally:
        if farm is not None:
            farm.terminate()
            farm.wait(timeout=10)
        if rt is not None:
            rt.close()
        shutil.rmtree(root, ignore_errors=True)


def _rounds(poller: MeasuredPoller, threads: int, deadline: float) -> None:
    """``Poller.poll_due`` rounds (due sources polled on ``threads`` threads) until the deadline."""

    def one(source_id: int) -> None:
        if time.time() < deadline:
            poller.poll(source_id)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        while time.time() < deadline:
            ids = poller.due_sources()
            if not ids:
                time.sleep(0.5)
                continue
            list(pool.map(one, ids))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _log(args: argparse.Namespace, message: str) -> None:
    if not args.json:
        print(message, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--new-share", type=float, default=0.05, help="share of feeds publishing during the run"
    )
    parser.add_argument("--period", type=float, default=300.0, help="mean seconds between a feed's entries")
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--cycle", type=int, default=60, help="pinned polling interval of every source (s)")
    parser.add_argument(
        "--tick", type=int, default=30, help="scheduler tick (poll_tick_s, default as in production)"
    )
    parser.add_argument("--jobs", choices=["sqlite", "redis", "memory"], default="sqlite")
    parser.add_argument("--driver", choices=["huey", "rounds"], default="huey")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--index-passages", type=int, default=0, help="passages already in the search index before the run"
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON document")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(run(args), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
