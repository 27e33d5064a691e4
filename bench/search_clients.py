"""Concurrent clients against a running server: ``GET /api/search`` throughput and latency, as JSON.

Run from ``bench/search_latency.py --clients N (--server URL --token T | --serve DATA_DIR)``, or directly:
``.venv/bin/python bench/search_clients.py --clients 8 --serve /path/to/data-dir [--workers 2]``.

N client threads, each with its own ``httpx.Client`` (keep-alive), send searches with a bearer token for a
fixed duration (after a warm-up that is not counted) over a fixed mix of queries, filters, modes and pages.
The report: requests per second, p50/p95/p99 latency, errors by status, the server's worker count and, with
``--serve``, the CPU time the server's processes spent per request (``server_cpu_ms``: a figure other work on
the machine changes far less than the rate).

``--serve DATA_DIR`` starts ``tfe serve --no-worker [--workers W]`` on that installation (a demo or bench
data dir, never a production one), creates a one-day ``read`` token for a non-admin account
(``tfe token create``) so the access scope is inside every query, and raises that account's role budget
in the exfiltration guard the way an administrator does (``guard_policy.set_budget``, audited
``guard.budget_changed``: the same change as ``PUT /api/admin/guard-budgets``). The previous budget is
put back (audited again) when the run ends. The guard still counts every request; nothing is bypassed.
``--server URL`` measures a server you run yourself: raise the budget of the token's role first with
``PUT /api/admin/guard-budgets``, otherwise the guard answers 429 and then suspends the token (both show
in ``errors``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BENCH_BUDGET = {"per_minute": 1_000_000, "per_hour": 5_000_000, "per_day": 10_000_000}
"""The budget the bench account's role gets during a ``--serve`` run (``MAX_BUDGET`` is 10 million)."""
TOKEN_ARGS = ("--scopes", "read", "--expires-days", "1", "--json")  # tfe token create: read only, one day

DEMO_QUERIES: list[dict[str, Any]] = [
    {"q": "vins Allemagne"},
    {"q": "vins Allemagne", "sector": "11", "country": "DE"},
    {"q": "vins Allemagne", "country": "Europe", "type": "sector_analysis"},
    {"q": "devis salon ProWein"},
    {"q": "salon"},
    {"q": "cosmétiques Japon"},
    {"q": "énergie solaire Maroc", "mode": "bm25"},
    {"q": "exportation fromages", "limit": "20"},
    {"q": "réglementation douanière", "country": "US"},
    {"q": "marché agroalimentaire", "offset": "10"},
    {"q": "aéronautique", "mode": "bm25", "sort": "date"},
    {"q": "prospection clients Espagne"},
    {"q": "certification normes", "type": "sector_analysis"},
    {"q": "logistique transport maritime", "mode": "vector"},
    {"q": "financement export PME"},
    {"q": "fiche pays Chine", "group": "stories"},
]
"""Demo-corpus queries: plain, with facet filters, other modes, a second page, date sort, grouped."""


def synthetic_queries(n: int = 64, seed: int = 11) -> list[dict[str, Any]]:
    """Queries over the vocabulary of ``bench/search_latency.py``'s synthetic passages, a third filtered."""
    from bench.search_latency import COUNTRIES, ENDINGS, STEMS  # the same words the passages use

    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        words = [rng.choice(STEMS) + rng.choice(ENDINGS) for _ in range(rng.randint(1, 4))]
        query: dict[str, Any] = {"q": " ".join(words)}
        if i % 3 == 1:
            query["country"] = rng.choice(COUNTRIES)
        if i % 5 == 2:
            query["mode"] = "bm25"
        out.append(query)
    return out


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


def run_clients(
    base_url: str,
    token: str,
    *,
    clients: int,
    duration_s: float,
    warmup_s: float = 3.0,
    queries: list[dict[str, Any]] | None = None,
    server_pid: int | None = None,
) -> dict[str, Any]:
    """``clients`` threads searching as fast as they get answers for ``warmup_s`` + ``duration_s``
    seconds; only the requests started after the warm-up are counted. With ``server_pid`` (a server of
    our own) the report adds the CPU time its processes spent per counted request (``server_cpu_ms``),
    which other work on the machine barely changes, unlike the rate."""
    mix = queries or DEMO_QUERIES
    headers = {"Authorization": f"Bearer {token}"}
    start_at = time.monotonic() + 0.5
    counted_from = start_at + warmup_s
    stop_at = counted_from + duration_s
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: list[Counter[str]] = [Counter() for _ in range(clients)]

    def client(index: int) -> None:
        order = list(range(len(mix)))
        random.Random(index).shuffle(order)
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
            i = 0
            while time.monotonic() < start_at:
                time.sleep(0.001)
            while (began := time.monotonic()) < stop_at:
                params = mix[order[i % len(order)]]
                i += 1
                try:
                    status = str(http.get("/api/search", params=params).status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                if began >= counted_from:
                    latencies[index].append((time.monotonic() - began) * 1000)
                    statuses[index][status] += 1

    load_before = os.getloadavg()[0]
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    while time.monotonic() < counted_from:
        time.sleep(0.001)
    cpu_from = tree_cpu_s(server_pid) if server_pid else None
    for thread in threads:
        thread.join()
    cpu_s = tree_cpu_s(server_pid) - cpu_from if server_pid and cpu_from is not None else None
    lat = [x for per in latencies for x in per]
    status_total: Counter[str] = sum(statuses, Counter())
    errors = {code: n for code, n in sorted(status_total.items()) if code != "200"}
    return {
        "clients": clients,
        "duration_s": duration_s,
        "requests": len(lat),
        "requests_per_s": round(len(lat) / duration_s, 1),
        "ok": status_total.get("200", 0),
        "errors": errors,
        "p50_ms": round(statistics.median(lat), 1) if lat else None,
        "p95_ms": round(_percentile(lat, 95), 1) if lat else None,
        "p99_ms": round(_percentile(lat, 99), 1) if lat else None,
        "server_cpu_ms": round(1000 * cpu_s / len(lat), 2) if cpu_s is not None and lat else None,
        "queries_in_mix": len(mix),
        "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # before, after: others' CPU
    }


# -- a server of our own (--serve) ------------------------------------------------------------------------


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its descendants so far (Linux ``/proc``)."""
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="ascii").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # a process that ended meanwhile
        pid_of = int(stat.parent.name)
        parent[pid_of] = int(fields[1])
        ticks[pid_of] = int(fields[11]) + int(fields[12])  # utime, stime
    tree, frontier = {pid}, [pid]
    while frontier:
        current = frontier.pop()
        children = [p for p, pp in parent.items() if pp == current and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(ticks.get(p, 0) for p in tree) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "TFE_DATA_DIR": str(data_dir), "OMP_NUM_THREADS": "1"}
    env.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
    env.pop("TFE_DATABASE_URL", None)
    return env


def bench_account(data_dir: Path, email: str | None) -> str:
    """The account the bench searches as: ``email``, else the first active non-admin user outside the
    national agency (whose scope is the whole network), so the organisation's scope filters every query."""
    if email:
        return email
    from sqlalchemy import select

    from tfe.core.models import Organisation, User
    from tfe.core.security.identity import NATIONAL_AGENCY_SLUG

    with _runtime(data_dir) as rt, rt.session() as session:
        found = session.scalar(
            select(User.email)
            .join(Organisation, Organisation.id == User.org_id)
            .where(User.active.is_(True), User.role != "admin", Organisation.slug != NATIONAL_AGENCY_SLUG)
            .order_by(User.id)
        )
    if found is None:
        raise SystemExit(f"no non-admin account in {data_dir}: pass --as EMAIL")
    return str(found)


@contextmanager
def _runtime(data_dir: Path) -> Iterator[Any]:
    from tfe.app.runtime import Runtime
    from tfe.core.settings import Settings

    rt = Runtime(Settings(data_dir=data_dir))
    try:
        yield rt
    finally:
        rt.close()


def create_token(data_dir: Path, email: str) -> str:
    """A one-day read token for ``email``, made by ``tfe token create`` (audited ``token.create``)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfe",
            "token",
            "create",
            email,
            "--name",
            "bench search_clients",
            *TOKEN_ARGS,
        ],
        env=_env(data_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    return str(json.loads(out.stdout)["token"])


@contextmanager
def bench_budget(data_dir: Path, email: str) -> Iterator[str]:
    """Raise the guard budget of ``email``'s role as the national administrator does (audited), and put
    the previous one back afterwards. Yields the role."""
    from sqlalchemy import select

    from tfe.core.models import User
    from tfe.core.security.guard_policy import Budget, list_budgets, set_budget

    with _runtime(data_dir) as rt:
        with rt.session() as session:
            admin = session.scalar(select(User).where(User.email == rt.settings.admin_email))
            user = session.scalar(select(User).where(User.email == email))
            if admin is None or user is None:
                raise SystemExit(f"{rt.settings.admin_email} or {email} missing in {data_dir}")
            role = user.role
            previous = {b.role: b for b in list_budgets(session)}[role]
            set_budget(session, admin, Budget(role=role, **BENCH_BUDGET), channel="cli")
        try:
            yield role
        finally:
            with rt.session() as session:
                admin = session.scalar(select(User).where(User.email == rt.settings.admin_email))
                set_budget(session, admin, previous, channel="cli")


@contextmanager
def served(data_dir: Path, workers: int, port: int | None = None) -> Iterator[tuple[str, int]]:
    """``tfe serve --no-worker --workers W`` on ``data_dir``; yields its URL and process id once
    ``/healthz`` answers."""
    port = port or _free_port()
    cmd = [sys.executable, "-m", "tfe", "serve", "--no-worker", "--port", str(port)]
    if workers != 1:
        cmd += ["--workers", str(workers)]
    log = open(data_dir / "bench-serve.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(cmd, env=_env(data_dir), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"tfe serve exited ({proc.returncode}): see {log.name}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise SystemExit(f"tfe serve did not answer within 120 s: see {log.name}")
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_arguments(parser)
    args = parser.parse_args(argv)
    print(json.dumps(run_from_args(args), indent=2))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the concurrent-clients mode (also added to ``bench/search_latency.py``)."""
    parser.add_argument(
        "--clients", type=int, nargs="+", default=None, help="concurrent clients (several: one run each)"
    )
    target = parser.add_argument_group("target (one of)")
    target.add_argument("--server", help="URL of a running server (with --token)")
    target.add_argument("--serve", type=Path, metavar="DATA_DIR", help="start tfe serve on this data dir")
    parser.add_argument("--token", help="bearer token for --server (read scope)")
    parser.add_argument("--workers", type=int, default=1, help="with --serve: tfe serve --workers")
    parser.add_argument(
        "--as", dest="email", help="with --serve: the account searched as (default: first adviser)"
    )
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--queries", choices=("demo", "synthetic"), default="demo", help="the query mix")


def run_from_args(args: argparse.Namespace) -> dict[str, Any]:
    clients = args.clients or [8]
    mix = DEMO_QUERIES if args.queries == "demo" else synthetic_queries()
    if (args.server is None) == (args.serve is None):
        raise SystemExit("give --server URL --token T, or --serve DATA_DIR")
    out: dict[str, Any] = {
        "benchmark": "search_clients",
        "machine": f"{os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d"),
        "queries": args.queries,
    }
    if args.server:
        if not args.token:
            raise SystemExit("--server needs --token")
        runs = [
            run_clients(
                args.server,
                args.token,
                clients=n,
                duration_s=args.duration,
                warmup_s=args.warmup,
                queries=mix,
            )
            for n in clients
        ]
        return {**out, "server": args.server, "server_workers": None, "runs": runs}
    data_dir = args.serve.expanduser().resolve()
    email = bench_account(data_dir, args.email)
    token = create_token(data_dir, email)
    with bench_budget(data_dir, email) as role, served(data_dir, args.workers) as (url, pid):
        runs = [
            run_clients(
                url,
                token,
                clients=n,
                duration_s=args.duration,
                warmup_s=args.warmup,
                queries=mix,
                server_pid=pid,
            )
            for n in clients
        ]
    return {
        **out,
        "data_dir": str(data_dir),
        "account_role": role,
        "server_workers": args.workers,
        "runs": runs,
    }


if __name__ == "__main__":
    main()
