"""The watch and quality roll-up (``tfe.app.rollups_watch``) changes nothing but the speed: the watch and
quality sections computed from the items and classifications alone and from the rolled-up days, weeks,
months, quarters and years plus the live rest are the same, on SQLite and PostgreSQL, for several periods
and scopes, items shared and private; a change to a rolled-up item (a decision, a reclassification, stories
merged, an item added or deleted, a curator's review, a document moved to another organisation), by the ORM
or by a bulk statement, marks its day dirty through the database's triggers, the day is read live until
the job rolls it again, and the cells never go stale."""

from __future__ import annotations

import datetime as dt
import importlib
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

import ingest.models  # noqa: F401
import search.models  # noqa: F401
import veille.alerts.models  # noqa: F401
from ged.models import Document
from taxonomy.models import Classification, Concept, ConceptScheme
from tests.conftest import make_settings, tables
from tests.indicators.equivalence import PERIODS, SCOPES, organisations
from tfe.app import rollups, rollups_watch
from tfe.app.indicators.context import Context
from tfe.app.indicators.periods import parse_period
from tfe.app.indicators.quality import quality
from tfe.app.indicators.scopes import resolve
from tfe.app.indicators.sql import dialect_of
from tfe.app.indicators.watch import Rolled, watch
from tfe.core.models import IndicatorRollup
from tfe.core.settings import Settings
from veille.models import Item, Source, Story
from veille.rollup_models import (
    POSTGRESQL_ITEM_TRIGGERS,
    POSTGRESQL_QUALITY_TRIGGERS,
    POSTGRESQL_TRIGGERS,
    SQLITE_ITEM_TRIGGERS,
    SQLITE_QUALITY_TRIGGERS,
    SQLITE_TRIGGERS,
    QualityRollupRow,
    WatchRollupDirty,
    WatchRollupMark,
    WatchRollupRow,
)

TODAY = dt.date(2026, 12, 3)  # a Thursday: week 49, December, Q4 and 2026 still open
NOW = dt.datetime(2026, 12, 3, 15, tzinfo=dt.UTC)
LATER = dt.date(2027, 1, 6)  # everything of 2026 closed, the year too
LATER_NOW = dt.datetime(2027, 1, 6, 9, tzinfo=dt.UTC)
START = dt.datetime(2026, 6, 20, tzinfo=dt.UTC)
NAF = ["naf:10.11", "naf:10.12", "naf:11.02", "naf:62.01", "naf:01", "naf:28.99"]
COUNTRIES = ["country:DE", "country:US", "country:JP"]
# owner organisation and visibility of the items: mostly shared, some private to one organisation
OWNERS = [(None, "network")] * 6 + [(2, "org"), (3, "org"), (1, "org"), (None, "public")]


@pytest.fixture
def factory(db_settings: Settings) -> Iterator[sessionmaker[Session]]:
    with tables(db_settings) as made:
        _seed(made)
        yield made


def _seed(made: sessionmaker[Session]) -> None:
    rng = random.Random(5)
    with made.begin() as s:
        s.add_all(organisations())
        s.add_all(
            [
                ConceptScheme(id="naf", uri="u:n", label_fr="NAF", label_en="NAF"),
                ConceptScheme(id="country", uri="u:c", label_fr="Pays", label_en="Countries"),
            ]
        )
        s.flush()
        s.add_all([Concept(id=c, scheme_id=c.split(":")[0], notation=c[4:], pref_label_fr=c) for c in NAF])
        s.add_all([Concept(id=c, scheme_id="country", notation=c[8:], pref_label_fr=c) for c in COUNTRIES])
        for n in range(6):
            org, visibility = (2, "org") if n == 5 else (None, "network")
            s.add(
                Source(
                    id=n + 1,
                    url=f"https://s{n}.example/feed",
                    title=f"Source {n}",
                    org_id=org,
                    visibility=visibility,
                    health=["ok", "slow", "dead"][n % 3],
                )
            )
        s.add_all([Story(id=f"s{n:03d}", title=f"Histoire {n}") for n in range(90)])
        s.flush()
        span = int((NOW - START).total_seconds()) + 40 * 86400  # some items after NOW: the future days
        for n in range(700):
            at = START + dt.timedelta(seconds=rng.randrange(span))
            org, visibility = rng.choice(OWNERS)
            status = rng.choice(["new", "new", "accepted", "rejected", "auto_accepted"])
            decided = at + dt.timedelta(seconds=rng.randrange(1, 9 * 86400)) if status != "new" else None
            s.add(
                Item(
                    id=f"i{n}",
                    source_id=None if n % 17 == 0 else 1 + rng.randrange(6),
                    guid=f"g{n}",
                    title=f"Item {n}",
                    content_hash=f"{n:064d}",
                    fetched_at=at,
                    org_id=org,
                    visibility=visibility,
                    curator_status=status,
                    decided_at=decided,
                    story_id=None if n % 11 == 0 else f"s{rng.randrange(90):03d}",
                )
            )
        s.flush()
        for n in range(60):
            s.add(
                Document(
                    id=f"d{n}",
                    title=f"Doc {n}",
                    doc_type="doctype:note",
                    org_id=1 + n % 3 if n % 7 else None,
                    created_at=START,
                )
            )
        s.flush()
        for n in range(60):
            for concept in (rng.choice(NAF), rng.choice(COUNTRIES)):
                s.add(_classification(rng, "document", f"d{n}", concept, span))
        for n in range(700):
            concepts = [rng.choice(NAF), rng.choice(COUNTRIES)]
            if n % 5 == 0:
                concepts.append(rng.choice(NAF))  # a second sector, sometimes of the same division
            for concept in concepts:
                s.add(_classification(rng, "item", f"i{n}", concept, span))


def _classification(rng: random.Random, kind: str, target: str, concept: str, span: int) -> Classification:
    """A machine proposal, a curator's review of one (kept or refused: ``prior_score``), or a concept a
    curator added; written some day of the span (the quality counts by day written)."""
    created = START + dt.timedelta(seconds=rng.randrange(span))
    what = rng.choice(["rule", "rule", "model", "kept", "refused", "added"])
    prior = {"prior_score": rng.random()} if what in ("kept", "refused") else {}
    return Classification(
        target_kind=kind,
        target_id=target,
        concept_id=concept,
        score=0 if what == "refused" else rng.random(),
        method="curator" if what in ("kept", "refused", "added") else what,
        explanation=prior,
        created_at=created,
    )


def _watch(s: Session, now: dt.datetime) -> dict[tuple[str, str], list[dict[str, Any]]]:
    out = {}
    for scope in SCOPES:
        for period in PERIODS:
            ctx = Context(s, dialect_of(s), resolve(s, scope), parse_period(period), now)
            out[(scope, period)] = [c.as_dict() for c in watch(ctx) + quality(ctx)]
    return out


def _live(made: sessionmaker[Session], now: dt.datetime) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The cells from the items alone: the marks set aside in a transaction rolled back."""
    with made() as s:
        s.execute(delete(WatchRollupMark))
        s.execute(delete(IndicatorRollup))
        out = _watch(s, now)
        s.rollback()
    return out


def _rolled(made: sessionmaker[Session], now: dt.datetime) -> dict[tuple[str, str], list[dict[str, Any]]]:
    with made() as s:
        return _watch(s, now)


def test_rolled_up_watch_equals_live(factory: sessionmaker[Session]) -> None:
    live = _rolled(factory, NOW)
    later = _rolled(factory, LATER_NOW)
    assert any(c["value"] for c in live[("network", "2026-Q3")] if c["metric"] == "top_stories")
    assert any(c["value"] for c in live[("region:75", "2026-Q3")] if c["metric"] == "corrected")
    summary = rollups.run(factory, today=TODAY)["watch"]
    assert summary["days"] == (TODAY - dt.date(2026, 1, 1)).days and summary["rows"] > 0
    assert _rolled(factory, NOW) == live
    assert rollups.run(factory, today=TODAY)["watch"]["buckets"] == 0  # nothing new
    rollups_watch.run(factory, today=LATER)  # December, Q4 and the year closed
    assert _rolled(factory, LATER_NOW) == later
    with factory() as s:
        kinds = set(s.scalars(select(WatchRollupRow.kind).distinct()))
        assert kinds == {"source", "sector_country", "backlog", "decision", "stories", "top", "story_private"}
        assert s.scalar(select(func.count(QualityRollupRow.id)))
        s.execute(delete(WatchRollupRow))  # the rows are what is read: gone, the closed periods read nothing
        s.commit()
        cells = _watch(s, LATER_NOW)[("network", "2026-Q3")]
    items = [c for c in cells if c["metric"] == "items" and c["grain"] is None]
    assert items[0]["value"] == 0
    with factory() as s:
        s.execute(delete(QualityRollupRow))
        s.commit()
        cells = _watch(s, LATER_NOW)[("network", "2026-Q3")]
    assert not [c for c in cells if c["metric"] == "proposals"]


def test_changes_mark_days_dirty_and_never_go_stale(factory: sessionmaker[Session]) -> None:
    rollups_watch.run(factory, today=LATER)
    with factory.begin() as s:
        assert s.scalar(select(func.count()).select_from(WatchRollupDirty)) == 0
        item = s.get(Item, "i7")
        assert item is not None
        item.curator_status, item.decided_at = "accepted", item.fetched_at + dt.timedelta(hours=5)
        # a reclassification and a taxonomy merge, as bulk statements
        s.execute(
            update(Classification)
            .where(Classification.target_id.in_(["i8", "i9"]), Classification.concept_id.like("naf:%"))
            .values(concept_id="naf:62.01")
        )
        # two stories merged
        s.execute(update(Item).where(Item.story_id == "s001").values(story_id="s002"))
        s.execute(delete(Classification).where(Classification.target_id == "i10"))
        s.execute(update(Document).where(Document.id == "d4").values(org_id=3))  # the quality's owner
        s.execute(update(Item).where(Item.id == "i12").values(visibility="org", org_id=2))
        review = s.scalars(select(Classification).where(Classification.target_id == "d5")).first()
        assert review is not None
        review.method, review.score, review.explanation = "curator", 0, {"prior_score": review.score}
        s.execute(delete(Item).where(Item.id == "i10"))
        s.add(
            Item(
                id="late",
                guid="late",
                content_hash="l" * 64,
                fetched_at=dt.datetime(2026, 11, 3, 8, tzinfo=dt.UTC),
                source_id=2,
                story_id="s003",
                org_id=2,
                visibility="org",
            )
        )
    with factory() as s:
        dirty = set(s.scalars(select(WatchRollupDirty.day)))
    assert dt.date(2026, 11, 3) in dirty and len(dirty) >= 3
    expected = _live(factory, LATER_NOW)
    assert _rolled(factory, LATER_NOW) == expected  # the dirty days read live
    again = rollups_watch.run(factory, today=LATER)
    assert again["dirty_days"] == len(dirty) and again["buckets"] >= len(dirty)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(WatchRollupDirty)) == 0
    assert _rolled(factory, LATER_NOW) == expected
    rebuilt = rollups_watch.run(factory, today=LATER, rebuild=True)
    with factory() as s:
        assert rebuilt["buckets"] == s.scalar(select(func.count()).select_from(WatchRollupMark))
    assert rollups_watch.run(factory, today=LATER, since=dt.date(2026, 12, 30))["days"] == 7


def test_a_decision_rolls_its_day_again_a_story_change_its_buckets(factory: sessionmaker[Session]) -> None:
    """Dirty per kind of change: a curator's decision and a reclassification mark their days without
    ``stories``, so the weeks to years holding them stay readable and only the days are rolled again; a
    story change marks its day with ``stories``, and its week, month, quarter and year are rolled too."""
    rollups_watch.run(factory, today=LATER)
    with factory.begin() as s:
        item = s.scalars(
            select(Item).where(Item.curator_status == "new", Item.story_id.is_not(None)).order_by(Item.id)
        ).first()
        assert item is not None
        item_id, story = item.id, item.story_id
        item.curator_status, item.decided_at = "accepted", item.fetched_at + dt.timedelta(hours=2)
        s.execute(
            update(Classification)
            .where(Classification.target_id == "i20", Classification.concept_id.like("naf:%"))
            .values(concept_id="naf:62.01")
        )
    with factory() as s:
        dirty = dict(s.execute(select(WatchRollupDirty.day, WatchRollupDirty.stories)).tuples().all())
        rolled = Rolled.load(
            Context(s, dialect_of(s), resolve(s, "network"), parse_period("2026"), LATER_NOW)
        )
    assert dirty and not any(dirty.values())
    assert not rolled.days & set(dirty)  # the days read live
    assert all(("year", dt.date(d.year, 1, 1)) in rolled.buckets for d in dirty)  # their stories are not
    expected = _live(factory, LATER_NOW)
    assert _rolled(factory, LATER_NOW) == expected
    again = rollups_watch.run(factory, today=LATER)
    assert again["dirty_days"] == again["days"] == again["buckets"] == len(dirty)  # the days alone
    assert _rolled(factory, LATER_NOW) == expected
    with factory.begin() as s:  # the item moves to another story: its day's stories changed
        s.execute(
            update(Item).where(Item.id == item_id).values(story_id="s004" if story != "s004" else "s005")
        )
        fetched = s.scalar(select(Item.fetched_at).where(Item.id == item_id))
        assert fetched is not None
        dirty = dict(s.execute(select(WatchRollupDirty.day, WatchRollupDirty.stories)).tuples().all())
    assert dirty == {fetched.date(): True}
    expected = _live(factory, LATER_NOW)
    assert _rolled(factory, LATER_NOW) == expected
    moved = rollups_watch.run(factory, today=LATER)
    assert (moved["days"], moved["buckets"]) == (1, 5)  # the day, its week, month, quarter and year
    assert _rolled(factory, LATER_NOW) == expected
    with factory.begin() as s:  # a decision after the story change keeps the day's stories dirty
        s.execute(update(Item).where(Item.id == item_id).values(story_id=story))
        s.execute(update(Item).where(Item.id == item_id).values(curator_status="rejected"))
        assert s.scalar(select(WatchRollupDirty.stories).where(WatchRollupDirty.day == fetched.date()))


def test_the_migration_creates_the_models_triggers() -> None:
    migration = importlib.import_module("tfe.core.migrations.versions.0012_watch_rollups")
    stories = importlib.import_module("tfe.core.migrations.versions.0016_watch_dirty_stories")
    # 0016 replaced the items' triggers of 0012 (the first three on SQLite, the items' function on
    # PostgreSQL) and added the two-argument mark
    assert stories.SQLITE_ITEM_TRIGGERS == SQLITE_ITEM_TRIGGERS
    assert (
        migration.SQLITE_TRIGGERS[3:] + stories.SQLITE_ITEM_TRIGGERS
        == SQLITE_TRIGGERS[3:] + SQLITE_TRIGGERS[:3]
    )
    assert stories.POSTGRESQL_ITEM_TRIGGERS == POSTGRESQL_ITEM_TRIGGERS
    assert [
        migration.POSTGRESQL_TRIGGERS[0],
        *POSTGRESQL_ITEM_TRIGGERS,
        *migration.POSTGRESQL_TRIGGERS[2:],
    ] == (POSTGRESQL_TRIGGERS)
    quality_migration = importlib.import_module("tfe.core.migrations.versions.0013_quality_rollups")
    assert quality_migration.SQLITE_QUALITY_TRIGGERS == SQLITE_QUALITY_TRIGGERS
    assert quality_migration.POSTGRESQL_QUALITY_TRIGGERS == POSTGRESQL_QUALITY_TRIGGERS


@pytest.mark.postgres
def test_a_roll_gives_way_to_a_writer_on_postgresql(tmp_path: Path, pg_schema_url: str) -> None:
    """PostgreSQL only: SQLite has one writer, so there the roll's first write waits for it (busy timeout)."""
    with tables(make_settings(tmp_path, database_url=pg_schema_url)) as factory:
        _seed(factory)
        _gives_way(factory)


def _gives_way(factory: sessionmaker[Session]) -> None:
    with factory() as writer:
        writer.execute(update(Item).where(Item.id == "i1").values(visibility="public"))  # not committed
        with pytest.raises(OperationalError, match="lock"):
            rollups_watch.roll(factory, "day", dt.date(2026, 7, 1))
        writer.commit()
    assert rollups_watch.roll(factory, "day", dt.date(2026, 7, 1)) > 0
