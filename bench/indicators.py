"""Indicators benchmark: one dashboard's indicators over a quarter of simulated activity.

``python bench/indicators.py [--events N] [--documents N] [--items N] [--users N] [--database-url URL]``
prints one JSON document. A fresh database (SQLite in a temporary folder unless ``--database-url``) is
filled by bulk inserts: ``--users`` users in 60 organisations (13 regions, every kind and role), ``--events``
audit events spread over 2026-Q4 (searches with and without results, reads, downloads, uploads, logins),
``--documents`` documents with a sector and a country, ``--items`` watch items in stories with a sector and
a country, some decided by curators. Then ``tfe.app.indicators.service.compute`` runs for the network, one
region and one organisation over 2026-Q4 (each twice: cold, then warm), and the seconds are reported.
"""

from __future__ import annotations

import argparse
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

import ged.models  # noqa: F401  (tables)
import ingest.models  # noqa: F401
import search.models  # noqa: F401
import veille.alerts.models  # noqa: F401
from ged.models import Document
from taxonomy.models import Classification, Concept, ConceptScheme
from tfe.app.indicators.periods import parse_period
from tfe.app.indicators.scopes import resolve
from tfe.app.indicators.service import compute
from tfe.core.db import Base, make_engine, make_session_factory
from tfe.core.models import ORG_KINDS, ROLES, AuditEvent, Organisation, User
from tfe.core.regions import regions
from tfe.core.settings import Settings
from veille.models import Item, Source, Story

START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
SPAN_S = 92 * 86400
ACTIONS = ["search"] * 5 + ["document.read"] * 3 + ["document.download", "document.upload", "auth.login"]
SECTORS = ["01", "10", "11", "20", "21", "26", "28", "29", "30", "62"]
COUNTRIES = ["DE", "US", "JP", "CN", "IT", "ES", "GB", "MA", "BR", "IN"]
CHUNK = 20_000


def _at(rng: random.Random) -> dt.datetime:
    return START + dt.timedelta(seconds=rng.randrange(SPAN_S))


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
        for _ in range(args.events):
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
        _bulk(s, AuditEvent.__table__, events)
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
        _bulk(s, Item.__table__, items)
        _bulk(s, Classification.__table__, classes)
    return {"seed_s": round(time.perf_counter() - t0, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=1_800)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), environment="test", database_url=args.database_url or None)
        engine = make_engine(settings)
        Base.metadata.create_all(engine)
        factory = make_session_factory(engine)
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
            **seed(factory, args),
        }
        period = parse_period("2026-Q4")
        timings: dict[str, dict[str, float | int]] = {}
        for scope in ("network", "region:75", "org:org-3"):
            runs = []
            for _ in range(2):
                with factory() as s:
                    t0 = time.perf_counter()
                    result = compute(s, resolve(s, scope), period, now=dt.datetime(2027, 1, 2, tzinfo=dt.UTC))
                    runs.append(time.perf_counter() - t0)
            cells = sum(len(c) for c in result.sections.values())
            timings[scope] = {"cold_s": round(runs[0], 2), "warm_s": round(runs[1], 2), "cells": cells}
        report["compute"] = timings
        engine.dispose()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
