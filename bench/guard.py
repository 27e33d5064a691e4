"""Exfiltration guard benchmark: the cost of ``enforce`` per request (target: p95 under 1 ms).

``python bench/guard.py [--requests N] [--users N] [--redis URL]`` prints one JSON document. A real
installation (SQLite, ``tfe init``), ``--users`` readers with a token each; requests are built as the app
builds them (a Starlette ``Request`` with the matched route in its scope) and ``tfe.app.web.guard.enforce``
is timed alone, after authentication loaded the token (as ``deps`` does), for a mix of document reads,
downloads and search pages over 500 documents. Budgets are raised so that nothing is refused: the common
path is measured. ``memory`` is the embedded store; ``redis`` (when ``--redis`` is given) the shared one,
where each request is one round trip (``SharedLimiter.batch``); the run's Redis keys are removed after it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from limits.storage import RedisStorage
from starlette.requests import Request

from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.app.web.guard import enforce, guard_of
from tfe.core.models import ApiToken, User
from tfe.core.security import identity
from tfe.core.security.guard_policy import Budget
from tfe.core.security.models import GuardBudget
from tfe.core.security.ratelimit import namespace_for, storage_for
from tfe.core.settings import Settings


class _Route:
    def __init__(self, path: str) -> None:
        self.path = path


def _request(app: Any, path: str, template: str, params: dict[str, str], n: int) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "headers": [],
        "query_string": b"",
        "client": (f"192.0.2.{n % 200 + 1}", 50000),
        "app": app,
        "route": _Route(template),
        "path_params": params,
    }
    return Request(scope)


def run(ratelimit_url: str, requests: int, users: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp), environment="test", ratelimit_url=ratelimit_url, secret_key="b"
        )
        rt = Runtime(settings)
        init_installation(rt)
        with rt.session() as s:
            org = identity.get_or_create_org(s, "bench", "Bench", "regional_chamber")
            ids = []
            for n in range(users):
                made = identity.create_user(
                    s, email=f"u{n}-{time.time_ns()}@bench.fr", org=org, role="reader"
                )
                ids.append((made.id, identity.create_token(s, made, name="bench")[0].id))
            big = Budget("reader", 10_000_000, 10_000_000, 10_000_000)
            s.add(
                GuardBudget(
                    role="reader", per_minute=big.per_minute, per_hour=big.per_hour, per_day=big.per_day
                )
            )
        app = create_app(rt)
        guard_of(app)
        routes = [
            ("/api/documents/{doc_id}", "doc_id"),
            ("/api/documents/{doc_id}/content", "doc_id"),
            ("/api/search", None),
            ("/documents/{doc_id}", "doc_id"),
        ]
        timings: list[float] = []
        with rt.session() as s:
            loaded = [(s.get(User, u), s.get(ApiToken, t)) for u, t in ids]  # as authentication does
            for n in range(requests + 200):
                user, token = loaded[n % users]
                assert user is not None and token is not None
                template, param = routes[n % len(routes)]
                params = {param: f"doc{(n * 7919) % 500}"} if param else {}
                path = template.replace("{doc_id}", params.get("doc_id", ""))
                request = _request(app, path, template, params, n)
                started = time.perf_counter()
                enforce(request, s, user, token_id=token.id, session_id=None)
                if n >= 200:  # the first requests warm the caches (budgets, networks recorded once a day)
                    timings.append((time.perf_counter() - started) * 1000)
        rt.close()
        _remove_keys(settings)
    timings.sort()
    return {
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 4),
        "p95_ms": round(timings[int(0.95 * len(timings)) - 1], 4),
        "p99_ms": round(timings[int(0.99 * len(timings)) - 1], 4),
        "max_ms": round(timings[-1], 3),
    }


def _remove_keys(settings: Settings) -> None:
    """The run's keys out of a Redis store (they would expire only after a day)."""
    storage = storage_for(settings)
    if isinstance(storage, RedisStorage):
        client: Any = storage.get_connection()  # a redis.Redis
        keys = list(client.scan_iter(match=storage.prefixed_key(f"LIMITER/{namespace_for(settings)}:*")))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument(
        "--redis", default=None, help="also measure with this Redis (redis://127.0.0.1:6379/0)"
    )
    args = parser.parse_args()
    result: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "memory": run("memory://", args.requests, args.users),
    }
    if args.redis:
        result["redis"] = run(args.redis, args.requests, args.users)
    result["target_p95_ms"] = 1.0
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
