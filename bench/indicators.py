"""Indicators benchmark: the dashboards over a year of simulated activity, with and without roll-ups.

``python bench/indicators.py [--size small|medium|full] [--events N] [--documents N] [--items N]
[--users N] [--database-url URL]`` prints one JSON document. ``--size full`` is the issue's volume
(2,000,000 audit events, 100,000 documents, 1,000,000 items, 1,800 users); ``small`` runs in seconds.
A fresh database (SQLite in a temporary folder unless ``--database-url``, whose tables are dropped first)
is filled by bulk inserts: users in 60 organisations (13 regions, every kind and role), audit events
spread over 2026 (searches with and without results, reads, downloads, uploads, logins), documents with a
sector and a country, watch items in stories with a sector and a country, some decided by curators. Then,
the roll-ups are built (``tfe.app.rollups.run``, timed), then for the network, one region and one
organisation over 2026-Q4 and 2026 every section is computed with the roll-ups (``--runs`` times) and
from the audit trail and the items alone (once, the buckets' marks set aside; ``--no-live`` skips it),
one more closed week is rolled up (the incremental job), one old item is decided (its day dirty) and the
watch roll-up run again, then one old item joins another story (its day's stories changed) and again.
Seconds per section and per dashboard; progress on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, func, select

import ged.models  # noqa: F401  (tables)
import ingest.models  # noqa: F401
import search.models  # noqa: F401
import veille.alerts.models  # noqa: F401
from ged.models import Document
from taxonomy.models import Classification, Concept, ConceptScheme
from tfe.app.indicators import adoption, content, quality, use, watch
from tfe.app.indicators.context import Context
from tfe.app.indicators.periods import parse_period
from tfe.app.indicators.scopes import resolve
from tfe.app.indicators.sql import dialect_of
from tfe.app.rollups import run as run_rollups
from tfe.app.rollups_watch import run as run_watch_rollups
from tfe.core.db import Base, make_engine, make_session_factory
from tfe.core.models import (
    ORG_KINDS,
    ROLES,
    AuditEvent,
    IndicatorRollup,
    IndicatorUserBucket,
    Organisation,
    User,
)
from tfe.core.regions import regions
from tfe.core.settings import Settings
from veille.models import Item, Source, Story
from veille.rollup_models import WatchRollupMark, WatchRollupRow

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SPAN_S = 365 * 86400
NOW = dt.datetime(2027, 1, 2, tzinfo=dt.UTC)
SIZES = {  # events, documents, items, users
    "small": (20_000, 2_000, 10_000, 1_800),
    "medium": (200_000, 10_000, 100_000, 1_800),
    "full": (2_000_000, 100_000, 1_000_000, 1_800),
}
ACTIONS = ["search"] * 5 + ["document.read"] * 3 + ["document.download", "document.upload", "auth.login"]
SECTORS = ["01", "10", "11", "20", "21", "26", "28", "29", "30", "62"]
COUNTRIES = ["DE", "US", "JP", "CN", "IT", "ES", "GB", "MA", "BR", "IN"]
CHUNK = 20_000
SECTIONS = {  # what tfe.app.indicators.service.compute runs, in its order
    "adoption": adoption.adoption,
    "use": use.use,
    "content": content.content,
    "watch": watch.watch,
    "quality": quality.quality,
}


def _at(rng: random.Random) -> dt.datetime:
    return START + dt.timedelta(seconds=rng.randrange(SPAN_S))


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _bulk(session, table, rows) -> None:  # type: ignore[no-untyped-def]
    for i in range(0, len(rows), CHUNK):
        session.execute(table.insert(), rows[i : i + CHUNK])


def seed(factory, args) -> dict[str, float]:  # type: ignore[no-untyped-def]
    rng = random.Random(13)
    codes = sorted(regions())[5:]  # the 13 metropolitan regions
    t0 = time.perf_counter()
    with factory.begin() as s:
        s.add_all([ConceptScheme(id=i, uri=f"u:{i}", label_fr=i, label_en=i) for i in ("naf", "country")])
        s.flush()
        s.add_all([Concept(id=f"naf:{c}", scheme_id="naf", notation=c, pref_label_fr=c) for c in SECTORS])
        s.add_all(
            [Concept(id=f"country:{c}", scheme_id="country", notation=c, pref_label_fr=c) for c in COUNTRIES]
        )
        orgs = [
            {
                "id": n + 1,
                "slug": f"org-{n}",
                "name": f"Org {n}",
                "kind": ORG_KINDS[n % len(ORG_KINDS)],
                "region": codes[n % len(codes)],
                "created_at": START,
            }
            for n in range(60)
        ]
        _bulk(s, Organisation.__table__, orgs)
        users = [
            {
                "id": n + 1,
                "email": f"u{n}@x.fr",
                "name": "",
                "org_id": 1 + n % 60,
                "role": ROLES[n % 4],
                "active": True,
                "auth_source": "local",
                "created_at": START - dt.timedelta(days=rng.randrange(400)),
            }
            for n in range(args.users)
        ]
        _bulk(s, User.__table__, users)
        events = []
        for n in range(args.events):
            user = 1 + rng.randrange(args.users)
            action = rng.choice(ACTIONS)
            events.append(
                {
                    "at": _at(rng),
                    "actor_user_id": user,
                    "actor_org_id": 1 + (user - 1) % 60,
                    "action": action,
                    "detail": {"total": rng.choice([0, 3, 12])} if action == "search" else {},
                    "prev_hash": "",
                    "hash": "x" * 64,
                    "mac": "",
                }
            )
            if len(events) == CHUNK or n == args.events - 1:
                s.execute(AuditEvent.__table__.insert(), events)
                events = []
        _say(f"events {time.perf_counter() - t0:.0f} s")
        docs, classes = [], []
        for n in range(args.documents):
            docs.append(
                {
                    "id": f"d{n}",
                    "title": f"Document {n}",
                    "doc_type": "doctype:note",
                    "org_id": 1 + n % 60,
                    "visibility": "network",
                    "status": rng.choice(["draft", "validated", "validated", "archived"]),
                    "fields": {},
                    "proposed_fields": {},
                    "created_at": _at(rng) - dt.timedelta(days=200),
                    "updated_at": START,
                    "valid_until": _at(rng) + dt.timedelta(days=rng.randrange(200)),
                }
            )
            for concept in (f"naf:{rng.choice(SECTORS)}", f"country:{rng.choice(COUNTRIES)}"):
                classes.append(
                    {
                        "target_kind": "document",
                        "target_id": f"d{n}",
                        "concept_id": concept,
                        "score": rng.random(),
                        "method": "rule",
                        "explanation": {},
                        "created_at": _at(rng),
                    }
                )
        _bulk(s, Document.__table__, docs)
        _say(f"documents {time.perf_counter() - t0:.0f} s")
        _bulk(
            s,
            Source.__table__,
            [
                {
                    "id": n + 1,
                    "kind": "feed",
                    "url": f"https://s{n}.example/feed",
                    "title": f"Source {n}",
                    "visibility": "network",
                    "health": rng.choice(["ok", "ok", "slow", "failing", "dead"]),
                    "sector_hints": [],
                    "country_hints": [],
                    "tags": [],
                    "config": {},
                    "full_text": False,
                    "paused": False,
                    "interval_s": 3600,
                    "min_interval_s": 900,
                    "max_interval_s": 86400,
                    "failures": 0,
                    "created_at": START,
                    "updated_at": START,
                }
                for n in range(200)
            ],
        )
        stories = [
            {
                "id": f"s{n}",
                "title": f"Story {n}",
                "first_seen_at": START,
                "last_seen_at": START,
                "item_count": 0,
                "source_count": 0,
            }
            for n in range(args.items // 4)
        ]
        _bulk(s, Story.__table__, stories)
        items = []
        for n in range(args.items):
            at = _at(rng)
            decided = rng.random() < 0.5
            items.append(
                {
                    "id": f"i{n}",
                    "source_id": 1 + n % 200,
                    "guid": f"g{n}",
                    "title": f"Item {n}",
                    "summary": "",
                    "text": "",
                    "content_origin": "summary",
                    "fetched_at": at,
                    "content_hash": f"{n:064d}",
                    "visibility": "network",
                    "curator_status": rng.choice(["accepted", "rejected"]) if decided else "new",
                    "decided_at": at + dt.timedelta(hours=rng.randrange(1, 96)) if decided else None,
                    "story_id": f"s{rng.randrange(len(stories))}",
                    "meta": {},
                }
            )
            for concept in (f"naf:{rng.choice(SECTORS)}", f"country:{rng.choice(COUNTRIES)}"):
                classes.append(
                    {
                        "target_kind": "item",
                        "target_id": f"i{n}",
                        "concept_id": concept,
                        "score": rng.random(),
                        "method": "rule",
                        "explanation": {},
                        "created_at": at,
                    }
                )
            if len(items) == CHUNK:
                _bulk(s, Item.__table__, items)
                items = []
        _bulk(s, Item.__table__, items)
        _bulk(s, Classification.__table__, classes)
        _say(f"items {time.perf_counter() - t0:.0f} s")
    return {"seed_s": round(time.perf_counter() - t0, 1)}


def _dashboard(factory, scope: str, period: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Seconds per section and in all (what ``compute`` runs, section by section), and the cells."""
    out: dict[str, float] = {}
    cells = 0
    with factory() as s:
        t0 = time.perf_counter()
        ctx = Context(s, dialect_of(s), resolve(s, scope), parse_period(period), NOW)
        for name, section in SECTIONS.items():
            t1 = time.perf_counter()
            cells += len(section(ctx))
            out[name] = round(time.perf_counter() - t1, 2)
        out["total"] = round(time.perf_counter() - t0, 2)
    out["cells"] = cells
    _say(f"{scope} {period} {out}")
    return out


@contextlib.contextmanager
def _without_rollups(factory):  # type: ignore[no-untyped-def]
    """The dashboards read the audit trail alone while the buckets' marks are away."""
    with factory.begin() as s:
        marks = [(m.grain, m.bucket, m.rows) for m in s.scalars(select(IndicatorRollup))]
        watch = [(m.grain, m.bucket, m.rows) for m in s.scalars(select(WatchRollupMark))]
        s.execute(delete(IndicatorRollup))
        s.execute(delete(WatchRollupMark))
    try:
        yield
    finally:
        with factory.begin() as s:
            s.add_all([IndicatorRollup(grain=g, bucket=b, rows=n) for g, b, n in marks])
            s.add_all([WatchRollupMark(grain=g, bucket=b, rows=n) for g, b, n in watch])


def _seeded(factory) -> bool:  # type: ignore[no-untyped-def]
    """Whether the kept database holds a seeded, rolled-up volume (its tables exist, its roll-up marks)."""
    try:
        with factory() as s:
            return bool(s.scalar(select(func.count()).select_from(WatchRollupMark)))
    except Exception:  # no tables yet
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--events", type=int)
    parser.add_argument("--documents", type=int)
    parser.add_argument("--items", type=int)
    parser.add_argument("--users", type=int)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-live", action="store_true", help="skip the dashboards without roll-ups")
    parser.add_argument("--runs", type=int, default=2, help="runs of each dashboard with roll-ups")
    parser.add_argument(
        "--keep",
        type=Path,
        help="SQLite in this folder, kept: a folder already seeded and rolled up is reused as it is",
    )
    parser.add_argument(
        "--pages-only", action="store_true", help="with --keep: the dashboards only, nothing written"
    )
    args = parser.parse_args()
    for name, value in zip(("events", "documents", "items", "users"), SIZES[args.size], strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    with contextlib.ExitStack() as stack:
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            tmp = str(args.keep)
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
        settings = Settings(data_dir=Path(tmp), environment="test", database_url=args.database_url or None)
        engine = make_engine(settings)
        factory = make_session_factory(engine)
        reused = args.keep is not None and _seeded(factory)
        if not reused:
            Base.metadata.drop_all(engine)
            Base.metadata.create_all(engine)
        report: dict[str, object] = {
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "database": engine.dialect.name,
            },
            "volume": {
                "events": args.events,
                "documents": args.documents,
                "items": args.items,
                "users": args.users,
            },
        }
        if reused:
            report["reused"] = tmp
        else:
            report.update(seed(factory, args))
            report["rollup_full"] = run_rollups(factory, today=NOW.date())
            _say(f"roll-ups {report['rollup_full']}")
        with factory() as s:
            report["rollup_rows"] = s.scalar(select(func.count(IndicatorUserBucket.id)))
            report["watch_rollup_rows"] = s.scalar(select(func.count(WatchRollupRow.id)))
        pages: dict[str, dict[str, object]] = {}
        for scope in ("network", "region:75", "org:org-3"):
            for period in ("2026-Q4", "2026"):
                page: dict[str, object] = {
                    "rolled": [_dashboard(factory, scope, period) for _ in range(args.runs)]
                }
                if not args.no_live:
                    with _without_rollups(factory):
                        page["live"] = _dashboard(factory, scope, period)
                pages[f"{scope} {period}"] = page
        report["pages"] = pages
        if args.pages_only:
            engine.dispose()
            print(json.dumps(report, indent=2))
            return
        last = dt.date(2026, 12, 21)  # the last closed week: rolled up again, as the job does once a week
        with factory.begin() as s:
            s.execute(
                delete(IndicatorRollup).where(IndicatorRollup.grain == "week", IndicatorRollup.bucket == last)
            )
        report["rollup_one_week"] = run_rollups(factory, today=NOW.date())
        with factory.begin() as s:  # a curator decides an old item: its day is dirty, rolled again
            old = s.scalar(select(Item).where(Item.curator_status == "new").order_by(Item.id).limit(1))
            old.curator_status, old.decided_at = "accepted", NOW
        t0 = time.perf_counter()
        report["rollup_watch_dirty_day"] = run_watch_rollups(factory, today=NOW.date())
        report["rollup_watch_dirty_day"]["seconds"] = round(time.perf_counter() - t0, 2)
        with factory.begin() as s:  # an old item joins another story: its day's stories changed
            old = s.scalar(select(Item).where(Item.curator_status == "new").order_by(Item.id).limit(1))
            old.story_id = "s0" if old.story_id != "s0" else "s1"
        t0 = time.perf_counter()
        report["rollup_watch_story_change"] = run_watch_rollups(factory, today=NOW.date())
        report["rollup_watch_story_change"]["seconds"] = round(time.perf_counter() - t0, 2)
        engine.dispose()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
