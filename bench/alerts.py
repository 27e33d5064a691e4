"""Alert benchmark: matching 10,000 subscriptions × 1,000 new items, and an instant alert's delivery delay.

``python bench/alerts.py [--subscriptions N] [--items N] [--skip-delay]`` prints one JSON document:

- ``matching``: the candidate index of ``--items`` new items (random sectors, countries, organisations and
  visibilities, French headlines) is built and ``--subscriptions`` subscriptions (a random mix: facets
  only, text only, text and facets; 500 users in 40 organisations with every role) are matched through
  ``veille.alerts.matching.CandidateBatch``, the digest run's own path: build and match times, grouped
  queries, matches, peak Python memory (tracemalloc) and the process's peak RSS;
- ``delay``: a real installation (SQLite), a real SMTP server on loopback (aiosmtpd), an instant
  subscription, a job worker ticking every second (``TFE_POLL_TICK_S`` is 30 s in production, the worst
  case adds it); an item is accepted by a curator and the clock stops when the e-mail arrives.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import resource
import socket
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import datetime as dt

from search.types import Passage
from tfe.core.security.scope import AccessScope
from veille.alerts.matching import Candidate, CandidateBatch, MatchRequest

SECTORS = [
    f"naf:{d:02d}" for d in (1, 10, 11, 13, 20, 21, 25, 26, 28, 29, 30, 31, 32, 35, 41, 46, 49, 62, 64, 71)
]
COUNTRIES = ["country:" + c for c in ("DE", "IT", "ES", "VN", "JP", "MA", "DZ", "TN", "US", "CN", "IN", "BR")]
WORDS = [  # the fallback vocabulary when the stories dev set is not there
    *("vins", "export", "marché", "salon", "appel", "offres", "santé", "hôpital", "énergie", "solaire"),
    *("dessalement", "agroalimentaire", "cosmétiques", "automobile", "batterie", "hydrogène", "textile"),
    *("meubles", "logiciel", "cybersécurité", "banque", "financement", "logistique", "ferroviaire"),
]
ROLES = ("reader", "reader", "reader", "contributor", "curator", "admin")


HEADLINES = Path(__file__).resolve().parents[2] / "shared" / "data" / "eval" / "stories" / "headlines.jsonl"
_WORD = re.compile(r"\w{5,}")


def _headlines() -> list[str]:
    """French headlines of the stories dev set (real text, real word frequencies); synthetic without it."""
    if HEADLINES.is_file():
        rows = (json.loads(line) for line in HEADLINES.read_text(encoding="utf-8").splitlines() if line)
        found = [r["title"] for r in rows if r.get("language") == "fr" and r.get("title")]
        if len(found) > 500:
            return found
    rng = random.Random(1)
    return [" ".join(rng.sample(WORDS, 8)).capitalize() for _ in range(3000)]


def _candidates(n: int, rng: random.Random, orgs: int, headlines: list[str]) -> list[Candidate]:
    now = dt.datetime.now(dt.UTC)
    out = []
    for i in range(n):
        title = rng.choice(headlines)
        text = f"{title}. {rng.choice(headlines)}. {rng.choice(headlines)}."
        vis = rng.choices(["network", "public", "organisation"], [0.7, 0.1, 0.2])[0]
        sector = rng.choice(SECTORS)
        meta: dict[str, Any] = {
            "kind": "item",
            "doc_type": "doctype:news",
            "sectors": [sector, "naf:" + sector[4]],
            "sector_facet": [sector],
            "countries": rng.sample(COUNTRIES, rng.choice([1, 1, 2])),
            "regions": [],
            "org_id": rng.randrange(orgs) + 1 if vis == "organisation" else None,
            "owner_user_id": None,
            "visibility": vis,
            "language": "fr",
            "date": now.isoformat(),
            "curator_status": "accepted",
        }
        pid = hashlib.sha1(str(i).encode()).hexdigest()[:32]
        passage = Passage(f"{pid}:0", pid, title, text, 0, meta)
        out.append(Candidate(pid, "item", now - dt.timedelta(seconds=n - i), pid, (passage,)))
    return out


def _requests(n: int, rng: random.Random, users: int, orgs: int, headlines: list[str]) -> list[MatchRequest]:
    people = [
        AccessScope(user_id=u + 1, org_id=rng.randrange(orgs) + 1, roles=frozenset({rng.choice(ROLES)}))
        for u in range(users)
    ]
    out = []
    for i in range(n):
        kind = rng.choices(["facets", "text", "both"], [0.4, 0.3, 0.3])[0]
        words = list(dict.fromkeys(_WORD.findall(rng.choice(headlines))))
        size = min(len(words), rng.choice([1, 1, 2, 3]))
        text = " ".join(rng.sample(words, size)) if kind != "facets" and size else ""
        filters: dict[str, list[str]] = {}
        if kind != "text":
            if rng.random() < 0.8:
                filters["sector"] = rng.sample(SECTORS, rng.choice([1, 1, 2]))
            if rng.random() < 0.7 or not filters:
                filters["country"] = rng.sample(COUNTRIES, rng.choice([1, 1, 2]))
        out.append(MatchRequest(i + 1, text, filters, rng.choice(people)))
    return out


def bench_matching(subscriptions: int, items: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    headlines = _headlines()
    candidates = _candidates(items, rng, 40, headlines)
    requests = _requests(subscriptions, rng, 500, 40, headlines)
    tracemalloc.start()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, CandidateBatch(candidates, Path(tmp)) as batch:
        t1 = time.perf_counter()
        matched = batch.match(requests)
        t2 = time.perf_counter()
        queries = batch.queries
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    counts = [len(v) for v in matched.values()]
    return {
        "subscriptions": subscriptions,
        "items": items,
        "build_s": round(t1 - t0, 2),
        "match_s": round(t2 - t1, 2),
        "total_s": round(t2 - t0, 2),
        "grouped_queries": queries,
        "matches": sum(counts),
        "subscriptions_with_matches": sum(1 for c in counts if c),
        "python_peak_mib": round(peak / 2**20, 1),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "target_s": 60,
    }


def bench_delay(tick_s: int = 1) -> dict[str, Any]:
    """Accept an item, time its instant alert to the loopback SMTP server (see the module docstring)."""
    from aiosmtpd.controller import Controller

    from tests.conftest import make_settings
    from tests.veille.test_digests import _seed, add_item, subscribe
    from tfe.app.install import init_installation
    from tfe.app.jobs import Jobs, JobWorker
    from tfe.app.runtime import Runtime

    arrived: list[float] = []
    got = threading.Event()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            arrived.append(time.perf_counter())
            got.set()
            return "250 OK"

    with socket.socket() as probe:  # a free loopback port (aiosmtpd's start cannot take port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    tmp = Path(tempfile.mkdtemp(prefix="tfe-bench-alerts-"))
    settings = make_settings(
        tmp, smtp_url=f"smtp://127.0.0.1:{port}", poll_tick_s=tick_s, jobs_backend="memory"
    )
    rt = Runtime(settings)
    try:
        init_installation(rt)
        world = _seed(rt)
        subscribe(world, "reader", "Vins × Allemagne", sector=("11",), country=("DE",), channels=("email",))
        jobs = Jobs(rt)
        worker = JobWorker(jobs, threads=1, tick_s=tick_s).start()
        try:
            time.sleep(tick_s * 2)  # the worker is warm (first run loads the referential)
            t0 = time.perf_counter()
            add_item(world, "lemonde", "Les vins français séduisent l'Allemagne")
            t_accepted = time.perf_counter()
            ok = got.wait(120)
        finally:
            worker.stop()
        return {
            "tick_s": tick_s,
            "ingest_and_accept_s": round(t_accepted - t0, 2),
            "accept_to_email_s": round(arrived[0] - t_accepted, 2) if ok else None,
            "worst_case_production_s": round(arrived[0] - t_accepted + 30 - tick_s, 2) if ok else None,
            "emails": len(arrived),
            "target_s": 60,
        }
    finally:
        rt.close()
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=1_000)
    parser.add_argument("--skip-delay", action="store_true")
    args = parser.parse_args()
    out: dict[str, Any] = {
        "machine": f"{platform.machine()} {os.cpu_count()} CPU, Python {platform.python_version()}",
        "date": dt.date.today().isoformat(),
        "matching": bench_matching(args.subscriptions, args.items),
    }
    if not args.skip_delay:
        out["delay"] = bench_delay()
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
