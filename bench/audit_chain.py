"""Audit chain benchmark: the cost of ``audit.record`` per event on SQLite, and of verifying the chain.

``python bench/audit_chain.py [--events N] [--threads T] [--database-url URL]`` prints one JSON document:

- ``record``: one event per transaction (as a request records it): ``record`` alone (head bump, insert,
  head update, MAC) and ``record`` + commit, p50/p95/max in milliseconds;
- ``concurrent``: ``--threads`` writers appending at once (events per second, and whether the chain
  verifies: no fork);
- ``verify``: the whole chain checked (events per second), and an export to JSON Lines (events per second).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tfe.core.db import make_engine, make_session_factory, migrate
from tfe.core.security import audit, audit_export
from tfe.core.settings import Settings


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="tfe-bench-audit-"))
    settings = Settings(data_dir=root / "data", environment="test", database_url=args.database_url)
    engine = make_engine(settings)
    migrate(engine)
    factory = make_session_factory(engine)
    actor = audit.Actor(1, 1, "api")
    alone: list[float] = []
    with_commit: list[float] = []
    for i in range(args.events):
        with factory() as session:
            started = time.perf_counter()
            audit.record(session, "search", actor, target_kind="document", detail={"q": f"vins {i}"})
            recorded = time.perf_counter()
            session.commit()
            alone.append(recorded - started)
            with_commit.append(time.perf_counter() - started)

    per_thread = max(1, args.events // args.threads)
    start = threading.Barrier(args.threads)

    def writer() -> None:
        start.wait()
        for i in range(per_thread):
            with factory() as session:
                audit.record(session, "search", actor, detail={"q": i})
                session.commit()

    threads = [threading.Thread(target=writer) for _ in range(args.threads)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    concurrent_s = time.perf_counter() - began

    with factory() as session:
        began = time.perf_counter()
        report = audit.verify(session)
        verify_s = time.perf_counter() - began
        began = time.perf_counter()
        summary = audit_export.export(session, io.StringIO(), fmt="jsonl")
        export_s = time.perf_counter() - began
    doc: dict[str, Any] = {
        "database": engine.dialect.name,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "system": platform.system()},
        "date": time.strftime("%Y-%m-%d"),
        "record": {"events": args.events, "record": _ms(alone), "record_and_commit": _ms(with_commit)},
        "concurrent": {
            "threads": args.threads,
            "events": per_thread * args.threads,
            "events_per_s": round(per_thread * args.threads / concurrent_s, 1),
        },
        "verify": {
            "events": report.events,
            "ok": report.ok,
            "events_per_s": round(report.events / verify_s, 1),
            "export_events_per_s": round(summary.events / export_s, 1),
        },
    }
    engine.dispose()
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
