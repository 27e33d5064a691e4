"""The watch indicators' roll-up kept current: each closed day, week, month, quarter and year of the items.

Per closed day (``grain = "day"``) and items' ``(org_id, visibility)``: the items per source, per sector
division × country, still undecided (by day fetched), and the decisions with their waits (by day decided).
Per closed week, month, quarter and year: the distinct stories of the items shared with the network, their
``KEPT`` first stories by items, and each story of the items not shared with its items and the story's
shared items; with these, the distinct stories and the top stories of any scope are exact
(``tfe.app.indicators.watch``). The rows are in ``watch_rollup_rows``, each bucket's mark in
``watch_rollup_marks`` (written in the bucket's transaction).

Items change after they are rolled up (curators' decisions and corrections, reclassifications, taxonomy
merges, stories merged): the triggers on ``items`` and ``classifications`` (``veille.rollup_models``)
mark the rolled-up days they touch in ``watch_rollup_dirty``, whatever path the write took, with whether
the day's stories changed (an item fetched that day added, deleted, or given another day, story, owner or
visibility: ``stories``). A dirty day is read live until ``run`` rolls it again, and so is every bucket
holding a day whose stories changed; a curator's decision or a reclassification rolls its day again, not
its week's, month's, quarter's and year's stories (tens of seconds at a million items). ``run`` then
deletes the dirty mark it saw, unless it changed meanwhile. ``run`` rolls every closed bucket not rolled
yet (``since``: every bucket from the one holding that day, again; ``rebuild``: all, again). Items are
not personal data: the erasure has nothing to forget here.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    String,
    case,
    cast,
    delete,
    distinct,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, aliased, sessionmaker

from ged.models import Document
from taxonomy.classifications import CURATOR, PRIOR
from taxonomy.models import Classification, Concept
from tfe.core.db import utcnow
from veille.models import Item
from veille.rollup_models import QualityRollupRow, WatchRollupDirty, WatchRollupMark, WatchRollupRow

__all__ = [
    "DAY",
    "GRAINS",
    "KEPT",
    "SHARED",
    "Plan",
    "bounds",
    "first_of",
    "next_of",
    "pending",
    "plan",
    "quality_rows",
    "roll",
    "run",
    "sector_country_columns",
    "wait_seconds",
]

DAY = "day"
GRAINS = ("week", "month", "quarter", "year")  # the buckets of the stories
KEPT = 50  # the shared stories kept per bucket, by items: the top ten of any scope among them
SHARED = ("network", "public")  # what every member of the network sees (``tfe.app.indicators.context``)
DECIDED = ("accepted", "rejected")
LOCKED = ("items", "classifications", "documents", "concepts")  # what a roll reads, locked on PostgreSQL
LOCK_TRIES = 5
_COLUMNS = ("grain", "bucket", "kind", "org_id", "visibility", "key", "key2", "items", "extra", "value")


def first_of(grain: str, day: dt.date) -> dt.date:
    """The first day of the bucket of ``grain`` holding ``day``."""
    if grain == DAY:
        return day
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def next_of(grain: str, first: dt.date) -> dt.date:
    """The first day of the bucket after the one beginning on ``first``."""
    if grain == DAY:
        return first + dt.timedelta(days=1)
    if grain == "week":
        return first + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def bounds(grain: str, since: dt.date, until: dt.date) -> list[tuple[dt.date, dt.date]]:
    """``(first day, next first day)`` of every bucket of ``grain`` meeting ``[since, until)``."""
    day = first_of(grain, since)
    out = []
    while day < until:
        out.append((day, next_of(grain, day)))
        day = next_of(grain, day)
    return out


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _day_of(at: dt.datetime) -> dt.date:
    """The UTC day of an instant as the database gives it (naive on SQLite: UTC already)."""
    return (at.astimezone(dt.UTC) if at.tzinfo else at).date()


def wait_seconds(dialect: str) -> Any:
    """An item's wait from fetch to decision in seconds, as the live indicator computes it."""
    if dialect == "postgresql":
        return func.extract("epoch", Item.decided_at - Item.fetched_at)
    return (func.julianday(Item.decided_at) - func.julianday(Item.fetched_at)) * 86400.0


def sector_country_columns() -> tuple[Any, Any, Any, Any]:
    """The sector and country classifications of an item (aliases), its division and its country code."""
    sector, country = aliased(Classification), aliased(Classification)
    return sector, country, func.substr(sector.concept_id, 5, 2), func.substr(country.concept_id, 9, 2)


def sector_country_join(query: Any, sector: Any, country: Any) -> Any:
    """``query`` joined to the item's sector (a NAF division or finer) and country classifications, both
    not refused by a curator (what the live heat map counts)."""
    return (
        query.join(sector, (sector.target_id == Item.id) & (sector.target_kind == "item"))
        .join(country, (country.target_id == Item.id) & (country.target_kind == "item"))
        .where(
            sector.concept_id.like("naf:%"),
            func.length(sector.concept_id) >= 6,
            ~((sector.method == "curator") & (sector.score == 0)),
            country.concept_id.like("country:%"),
            ~((country.method == "curator") & (country.score == 0)),
        )
    )


def quality_rows(*extra: Any) -> Any:
    """Per classification (and ``extra`` columns): its scheme, its band (``"none"`` for a concept a curator
    added), and whether it is a machine proposal kept, one reviewed, one corrected, one added; the quality
    indicator sums them (``tfe.app.indicators.quality``). Select from it with a ``where``."""
    prior = Classification.explanation[PRIOR].as_float()
    curator = Classification.method == CURATOR
    reviewed = curator & prior.is_not(None)
    score = case((curator, prior), else_=Classification.score)
    band = case((score < 0.5, "low"), (score < 0.8, "medium"), else_="high")
    return select(
        Concept.scheme_id.label("scheme"),
        case((curator & prior.is_(None), "none"), else_=band).label("band"),
        case((~curator, 1), else_=0).label("kept"),
        case((reviewed, 1), else_=0).label("seen"),
        case((reviewed & (Classification.score == 0), 1), else_=0).label("corrected"),
        case((curator & prior.is_(None), 1), else_=0).label("added"),
        *extra,
    ).join(Concept, Concept.id == Classification.concept_id)


def _quality_day(start: dt.date) -> Any:
    """One day's quality rows: the classifications created that day, per target kind and owner."""
    lo, hi = _utc(start), _utc(next_of(DAY, start))
    is_doc = Classification.target_kind == "document"
    is_item = Classification.target_kind == "item"
    inner = (
        quality_rows(
            Classification.target_kind.label("target_kind"),
            case((is_doc, Document.org_id), (is_item, Item.org_id), else_=None).label("org_id"),
            case((is_item, Item.visibility), else_=None).label("visibility"),
        )
        .outerjoin(Document, is_doc & (Document.id == Classification.target_id))
        .outerjoin(Item, is_item & (Item.id == Classification.target_id))
        .where(Classification.created_at >= lo, Classification.created_at < hi)
        .subquery()
    )
    c = inner.c
    return select(
        literal(start),
        c.target_kind,
        c.org_id,
        c.visibility,
        c.scheme,
        c.band,
        func.sum(c.kept),
        func.sum(c.seen),
        func.sum(c.corrected),
        func.sum(c.added),
    ).group_by(c.target_kind, c.org_id, c.visibility, c.scheme, c.band)


_QUALITY_COLUMNS = (
    "day",
    "target_kind",
    "org_id",
    "visibility",
    "scheme",
    "band",
    "kept",
    "seen",
    "corrected",
    "added",
)


def _head(grain: str, start: dt.date, kind: str) -> tuple[Any, Any, Any]:
    return cast(literal(grain), String), literal(start), cast(literal(kind), String)


def _day_queries(dialect: str, start: dt.date) -> list[Any]:
    """The statements giving one day's rows (``_COLUMNS`` order)."""
    lo, hi = _utc(start), _utc(next_of(DAY, start))
    fetched = (Item.fetched_at >= lo) & (Item.fetched_at < hi)
    zero, none = cast(literal(0), Integer), cast(literal(None), Float)
    empty = cast(literal(""), String)
    source = func.coalesce(cast(Item.source_id, String), "")
    per_source = (
        select(
            *_head(DAY, start, "source"),
            Item.org_id,
            Item.visibility,
            source,
            empty,
            func.count(Item.id),
            zero,
            none,
        )
        .where(fetched)
        .group_by(Item.org_id, Item.visibility, source)
    )
    sector, country, division, code = sector_country_columns()
    heat = sector_country_join(
        select(
            *_head(DAY, start, "sector_country"),
            Item.org_id,
            Item.visibility,
            division,
            code,
            func.count(distinct(Item.id)),
            zero,
            none,
        ),
        sector,
        country,
    )
    heat = heat.where(fetched).group_by(Item.org_id, Item.visibility, division, code)
    backlog = (
        select(
            *_head(DAY, start, "backlog"),
            Item.org_id,
            Item.visibility,
            empty,
            empty,
            func.count(Item.id),
            zero,
            none,
        )
        .where(fetched, Item.curator_status == "new")
        .group_by(Item.org_id, Item.visibility)
    )
    wait = cast(wait_seconds(dialect), Float)
    decisions = (
        select(
            *_head(DAY, start, "decision"),
            Item.org_id,
            Item.visibility,
            empty,
            empty,
            func.count(Item.id),
            zero,
            wait,
        )
        .where(
            Item.decided_at >= lo,
            Item.decided_at < hi,
            Item.decided_at.is_not(None),
            Item.curator_status.in_(DECIDED),
        )
        .group_by(Item.org_id, Item.visibility, wait)
    )
    return [per_source, heat, backlog, decisions]


def _bucket_queries(grain: str, start: dt.date, end: dt.date) -> list[Any]:
    """The statements giving one week's, month's, quarter's or year's story rows."""
    lo, hi = _utc(start), _utc(end)
    fetched = (Item.fetched_at >= lo) & (Item.fetched_at < hi)
    shared = Item.visibility.in_(SHARED)
    zero, none = cast(literal(0), Integer), cast(literal(None), Float)
    empty = cast(literal(""), String)
    no_org = cast(literal(None), Integer)
    network = cast(literal("network"), String)
    stories = select(
        *_head(grain, start, "stories"),
        no_org,
        network,
        empty,
        empty,
        func.count(distinct(Item.story_id)),
        zero,
        none,
    ).where(fetched, shared)
    n = func.count(Item.id)
    top = (
        select(
            *_head(grain, start, "top"),
            no_org,
            network,
            Item.story_id,
            empty,
            n,
            zero,
            none,
        )
        .where(fetched, shared, Item.story_id.is_not(None))
        .group_by(Item.story_id)
        .order_by(n.desc(), Item.story_id)
        .limit(KEPT)
    )
    other = aliased(Item)
    shared_items = (
        select(func.count(other.id))
        .where(
            other.story_id == Item.story_id,
            other.fetched_at >= lo,
            other.fetched_at < hi,
            other.visibility.in_(SHARED),
        )
        .scalar_subquery()
    )
    private = (
        select(
            *_head(grain, start, "story_private"),
            Item.org_id,
            Item.visibility,
            Item.story_id,
            empty,
            func.count(Item.id),
            shared_items,
            none,
        )
        .where(fetched, ~shared, Item.story_id.is_not(None))
        .group_by(Item.story_id, Item.org_id, Item.visibility)
    )
    return [stories, top.subquery().select(), private]


def roll(factory: sessionmaker[Session], grain: str, start: dt.date) -> int:
    """Replace one bucket's rows and mark; the rows written. A day is rolled in one transaction that, on
    PostgreSQL, locks the tables read against writes (a write waits for it, then its trigger sees the new
    mark), so no change slips between the rows read and the mark; the lock is taken without waiting
    (``NOWAIT``, a few tries), so the roll-up never deadlocks with a writer: it gives up instead."""
    for attempt in range(LOCK_TRIES):
        try:
            return _roll(factory, grain, start)
        except OperationalError as exc:
            if "lock" not in str(exc).lower() or attempt == LOCK_TRIES - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def _roll(factory: sessionmaker[Session], grain: str, start: dt.date) -> int:
    if grain != DAY:
        return _roll_bucket(factory, grain, start)
    with factory.begin() as session:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            session.execute(text(f"LOCK TABLE {', '.join(LOCKED)} IN SHARE MODE NOWAIT"))
        # on SQLite this first statement is a write: the transaction holds the one writer's lock from here
        same = (WatchRollupRow.grain == grain) & (WatchRollupRow.bucket == start)
        session.execute(delete(WatchRollupRow).where(same))
        session.execute(delete(QualityRollupRow).where(QualityRollupRow.day == start))
        session.execute(insert(QualityRollupRow).from_select(list(_QUALITY_COLUMNS), _quality_day(start)))
        session.execute(
            delete(WatchRollupMark).where(WatchRollupMark.grain == grain, WatchRollupMark.bucket == start)
        )
        for query in _day_queries(dialect, start):
            session.execute(insert(WatchRollupRow).from_select(list(_COLUMNS), query))
        written = int(session.scalar(select(func.count(WatchRollupRow.id)).where(same)) or 0)
        session.add(WatchRollupMark(grain=grain, bucket=start, rows=written, rolled_at=utcnow()))
    return written


def _roll_bucket(factory: sessionmaker[Session], grain: str, start: dt.date) -> int:
    """A week's, month's, quarter's or year's story rows: read first (a year's pass over its items takes
    seconds, and holds no lock), then written in a short transaction. No lock is needed: the bucket's days
    are all rolled, so a change meanwhile marks its day dirty (the triggers see the days' marks), and
    ``run`` keeps a dirty mark that changed after it read them; the bucket is read live until rolled again."""
    end = next_of(grain, start)
    with factory() as reader:
        found = [tuple(row) for query in _bucket_queries(grain, start, end) for row in reader.execute(query)]
    rows = [{**dict(zip(_COLUMNS, row, strict=True)), "grain": grain, "bucket": start} for row in found]
    with factory.begin() as session:
        session.execute(
            delete(WatchRollupRow).where(WatchRollupRow.grain == grain, WatchRollupRow.bucket == start)
        )
        session.execute(
            delete(WatchRollupMark).where(WatchRollupMark.grain == grain, WatchRollupMark.bucket == start)
        )
        if rows:
            session.execute(insert(WatchRollupRow), rows)
        session.add(WatchRollupMark(grain=grain, bucket=start, rows=len(rows), rolled_at=utcnow()))
    return len(rows)


def pending(
    session: Session,
    today: dt.date,
    *,
    since: dt.date | None = None,
    rebuild: bool = False,
    dirty: set[dt.date] | None = None,
    stories: set[dt.date] | None = None,
) -> list[tuple[str, dt.date]]:
    """``(grain, first day)`` of the closed buckets to roll: not rolled yet, from ``since``, a ``dirty``
    day, a week, month, quarter or year holding a day whose ``stories`` changed (a subset of ``dirty``), or
    all (``rebuild``); oldest first, days before the buckets holding them."""
    columns = (Item.fetched_at, Item.decided_at, Classification.created_at)
    ats = [session.scalar(select(func.min(c))) for c in columns]
    days = [_day_of(at) for at in ats if at is not None]
    if not days:
        return []
    # from the first of the year: every day of a rolled bucket is rolled too (empty ones with no rows), so
    # the triggers mark any day of it a change touches
    first = first_of("year", min(days))
    dirty = dirty or set()
    moved = stories or set()
    done = {(g, b) for g, b in session.execute(select(WatchRollupMark.grain, WatchRollupMark.bucket))}
    out: list[tuple[str, dt.date]] = []
    for grain in (DAY, *GRAINS):
        touched = {first_of(grain, d) for d in (dirty if grain == DAY else moved)}
        for start, end in bounds(grain, first, today):
            if end > today:
                continue  # still open: read live
            again = rebuild or (since is not None and end > since) or start in touched
            if again or (grain, start) not in done:
                out.append((grain, start))
    order = {g: n for n, g in enumerate((DAY, *GRAINS))}
    return sorted(out, key=lambda b: (next_of(b[0], b[1]), order[b[0]]))


@dataclass(frozen=True)
class Plan:
    """What ``run`` will roll: the buckets (``pending``), and the dirty marks seen (day → changes) with the
    closed days among them, cleared after the roll unless they changed meanwhile."""

    todo: list[tuple[str, dt.date]]
    seen: dict[dt.date, int]
    closed: set[dt.date]


def plan(session: Session, today: dt.date, *, since: dt.date | None = None, rebuild: bool = False) -> Plan:
    """The buckets to roll now and the dirty marks they clear."""
    seen: dict[dt.date, int] = {}
    stories: set[dt.date] = set()
    for d, n, moved in session.execute(
        select(WatchRollupDirty.day, WatchRollupDirty.changes, WatchRollupDirty.stories)
    ):
        seen[d] = n
        if moved and d < today:
            stories.add(d)
    closed = {d for d in seen if d < today}
    todo = pending(session, today, since=since, rebuild=rebuild, dirty=closed, stories=stories)
    return Plan(todo, seen, closed)


def run(
    factory: sessionmaker[Session],
    *,
    today: dt.date | None = None,
    since: dt.date | None = None,
    rebuild: bool = False,
    progress: Callable[[int, int], None] | None = None,
    planned: Plan | None = None,
) -> dict[str, Any]:
    """Roll what ``plan`` names (``planned``: made already, by ``tfe.app.rollups.run`` counting the whole
    roll-up's steps), then clear the dirty marks seen (those not changed since); ``progress(done, total)``
    after each bucket. A summary."""
    day = today or utcnow().date()
    t0 = time.perf_counter()
    if planned is None:
        with factory() as session:
            planned = plan(session, day, since=since, rebuild=rebuild)
    todo, seen, closed = planned.todo, planned.seen, planned.closed
    rows = 0
    for n, (grain, start) in enumerate(todo, 1):
        rows += roll(factory, grain, start)
        if progress is not None:
            progress(n, len(todo))
    if closed:
        with factory.begin() as session:
            for d in sorted(closed):
                session.execute(
                    delete(WatchRollupDirty).where(
                        WatchRollupDirty.day == d, WatchRollupDirty.changes == seen[d]
                    )
                )
    return {
        "buckets": len(todo),
        "days": sum(1 for g, _ in todo if g == DAY),
        "dirty_days": len(closed),
        "rows": rows,
        "seconds": round(time.perf_counter() - t0, 2),
    }
