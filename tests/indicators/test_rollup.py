"""The roll-ups (``tfe.app.rollups``) change nothing but the speed: every dashboard computed
from the audit trail alone and from the rolled-up weeks and months plus the live rest is the same, on
SQLite and PostgreSQL, for several periods and scopes; the job is incremental, idempotent, and forgets
erased accounts."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import ged.models  # noqa: F401  (tables)
import ingest.models  # noqa: F401
import search.models  # noqa: F401
import taxonomy.models  # noqa: F401
import veille.alerts.models  # noqa: F401
from tests.conftest import tables
from tests.indicators.equivalence import PERIODS, SCOPES, organisations
from tfe.app import rollups as rollup
from tfe.app.indicators.periods import parse_period
from tfe.app.indicators.scopes import resolve
from tfe.app.indicators.service import compute
from tfe.core.models import ROLES, AuditEvent, IndicatorRollup, IndicatorUserBucket, User
from tfe.core.settings import Settings

TODAY = dt.date(2026, 12, 3)  # a Thursday: week 49 and December still open
NOW = dt.datetime(2026, 12, 3, 15, tzinfo=dt.UTC)
START = dt.datetime(2026, 6, 20, tzinfo=dt.UTC)
ACTIONS = [
    "search",
    "search",
    "document.read",
    "document.download",
    "document.upload",
    "document.version.add",
    "subscription.unsubscribe",
    "auth.login",
    "auth.login_failed",
]


@pytest.fixture
def factory(db_settings: Settings) -> Iterator[sessionmaker[Session]]:
    with tables(db_settings) as made:
        _seed(made)
        yield made


def _seed(made: sessionmaker[Session]) -> None:
    rng = random.Random(11)
    with made.begin() as s:
        s.add_all(organisations())
        s.flush()
        s.add_all(
            [
                User(
                    id=n + 1,
                    email=f"u{n}@x.fr",
                    org_id=1 + n % 3,
                    role=ROLES[n % 4],
                    created_at=START + dt.timedelta(days=rng.randrange(150)),
                )
                for n in range(30)
            ]
        )
        s.flush()
        for _ in range(2500):
            user = rng.randrange(31)  # 0: an event without a person (the system)
            action = rng.choice(ACTIONS)
            at = START + dt.timedelta(seconds=rng.randrange(int((NOW - START).total_seconds())))
            s.add(
                AuditEvent(
                    at=at,
                    actor_user_id=user or None,
                    actor_org_id=(1 + (user - 1) % 3) if user else None,
                    action=action,
                    detail={"total": rng.choice([0, 2])} if action == "search" else {},
                    hash="x" * 64,
                )
            )


def _all(made: sessionmaker[Session]) -> dict[tuple[str, str], object]:
    out = {}
    with made() as s:
        for scope in SCOPES:
            for period in PERIODS:
                result = compute(s, resolve(s, scope), parse_period(period), now=NOW).as_dict()
                out[(scope, period)] = result["sections"]
    return out


def test_rolled_up_answers_equal_live_ones(factory: sessionmaker[Session]) -> None:
    live = _all(factory)
    assert any(c["value"] for c in live[("network", "2026-Q4")]["use"] if c["metric"] == "searches")
    summary = rollup.run(factory, today=TODAY)
    # weeks from W25 (June 15) to W48, months June to November
    assert summary["weeks"] == 24 and summary["months"] == 6 and summary["rows"] > 0
    rolled = _all(factory)
    for key, sections in live.items():
        assert rolled[key] == sections, key
    with factory() as s:  # the roll-ups were read: emptied, the closed part of the period reads nothing
        s.query(IndicatorUserBucket).delete()
        s.commit()
        cells = compute(s, resolve(s, "network"), parse_period("2026-11"), now=NOW).as_dict()["sections"]
    searches = [c for c in cells["use"] if c["metric"] == "searches" and not c["dims"] and c["grain"] is None]
    assert searches[0]["value"] == 0


def test_incremental_idempotent_and_forgetting(factory: sessionmaker[Session]) -> None:
    first = rollup.run(factory, today=dt.date(2026, 11, 20))
    assert first["buckets"] > 0
    assert rollup.run(factory, today=dt.date(2026, 11, 20))["buckets"] == 0  # nothing new
    later = rollup.run(factory, today=TODAY)  # weeks 47 and 48, and November
    assert (later["weeks"], later["months"]) == (2, 1)
    with factory() as s:
        rows = s.scalar(select(func.count(IndicatorUserBucket.id)))
        marks = s.scalar(select(func.count()).select_from(IndicatorRollup))
    again = rollup.run(factory, today=TODAY, rebuild=True)
    assert again["buckets"] == marks and again["rows"] == rows
    since = rollup.run(factory, today=TODAY, since=dt.date(2026, 11, 25))
    assert (since["weeks"], since["months"]) == (1, 1)  # week 48 and November again
    with factory.begin() as s:
        forgotten = rollup.forget_users(s, [2, 5])["indicator_rollup_rows"]
    assert forgotten > 0
    with factory() as s:
        mine = select(func.count(IndicatorUserBucket.id)).where(IndicatorUserBucket.user_id.in_([2, 5]))
        assert s.scalar(mine) == 0
        assert s.scalar(select(func.count(IndicatorUserBucket.id))) == rows - forgotten
