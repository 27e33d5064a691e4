"""Watch: items and stories per week and month, items by sector (NAF division) × country, the top
stories of the period (by items), sources by health, items per source, the curation backlog and the
median time to a curator's decision. The items and sources counted are those the scope's members see
(shared with the network, or their organisations' own). Counts of items, never suppressed.

The closed days, weeks, months, quarters and years rolled up (``tfe.app.rollups_watch``) and not dirty
since are read from ``watch_rollup_rows``; the rest (today, what is not rolled yet, the days changed since
their roll-up, the edges of a period that cut a week) from the items, with the same results."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, cast, distinct, false, func, literal, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from tfe.app.indicators.context import Context, label_of
from tfe.app.indicators.periods import GRAINS, month_label, week_label
from tfe.app.indicators.privacy import Cell, plain_cell
from tfe.app.indicators.sql import bucket_of, seconds_between
from tfe.app.rollups_watch import (
    DAY,
    DECIDED,
    KEPT,
    first_of,
    next_of,
    sector_country_columns,
    sector_country_join,
)
from veille.models import Item, Source, Story
from veille.rollup_models import WatchRollupDirty, WatchRollupMark, WatchRollupRow

__all__ = ["TOP", "watch"]

TOP = 10
METRIC = "items_by_sector_country"
Row = WatchRollupRow


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Rolled:
    """The buckets of the watch roll-up that may be read: the days rolled up and not dirty since, the
    weeks, months, quarters and years rolled up with no day of them whose stories changed since (their rows
    are stories only: a decision or a reclassification leaves them right)."""

    days: frozenset[dt.date]
    buckets: frozenset[tuple[str, dt.date]]

    @classmethod
    def load(cls, ctx: Context) -> Rolled:
        dirty: set[dt.date] = set()
        moved: set[dt.date] = set()
        for day, stories in ctx.session.execute(select(WatchRollupDirty.day, WatchRollupDirty.stories)):
            dirty.add(day)
            if stories:
                moved.add(day)
        days: set[dt.date] = set()
        buckets: set[tuple[str, dt.date]] = set()
        for grain, first in ctx.session.execute(select(WatchRollupMark.grain, WatchRollupMark.bucket)):
            if grain == DAY:
                if first not in dirty:
                    days.add(first)
            elif not any(first <= d < next_of(grain, first) for d in moved):
                buckets.add((grain, first))
        return cls(frozenset(days), frozenset(buckets))

    def runs(self, lo: dt.date | None, hi: dt.date) -> list[tuple[dt.date, dt.date]]:
        """The runs ``[first, next)`` of readable days in ``[lo, hi)`` (``lo`` ``None``: from the first)."""
        out: list[tuple[dt.date, dt.date]] = []
        for day in sorted(d for d in self.days if (lo is None or d >= lo) and d < hi):
            if out and out[-1][1] == day:
                out[-1] = (out[-1][0], day + dt.timedelta(days=1))
            else:
                out.append((day, day + dt.timedelta(days=1)))
        return out

    def rows_in(self, runs: list[tuple[dt.date, dt.date]], kind: str) -> ColumnElement[bool]:
        if not runs:
            return false()
        within = or_(*[(Row.bucket >= a) & (Row.bucket < b) for a, b in runs])
        return (Row.grain == DAY) & (Row.kind == kind) & within

    @staticmethod
    def gaps(
        column: Any, lo: dt.datetime | None, hi: dt.datetime, runs: list[tuple[dt.date, dt.date]]
    ) -> ColumnElement[bool] | None:
        """``column`` in ``[lo, hi)`` outside the ``runs`` (as ranges, so that an index answers), or
        ``None`` when the runs cover it all."""
        parts = []
        at = lo
        for a, b in runs:
            if at is None or _utc(a) > at:
                parts.append((at, _utc(a)))
            at = _utc(b) if at is None else max(at, _utc(b))
        if at is None or at < hi:
            parts.append((at, hi))
        if not parts:
            return None
        return or_(*[(column < b) if a is None else (column >= a) & (column < b) for a, b in parts])


def watch(ctx: Context) -> list[Cell]:
    seen = ctx.visible(Item.org_id, Item.visibility)
    rolled = Rolled.load(ctx)
    runs = rolled.runs(ctx.period.start.date(), ctx.period.end.date())
    per_day = _items_per_day(ctx, seen, rolled, runs)
    cells: list[Cell] = []
    for grain in (None, *GRAINS):
        stories = _stories(ctx, seen, rolled, grain)
        items: dict[str | None, int] = {}
        for day, n in per_day.items():
            label = None if grain is None else (week_label(day) if grain == "week" else month_label(day))
            items[label] = items.get(label, 0) + n
        for label in ctx.buckets(grain) if grain else [None]:
            cells.append(plain_cell("items", items.get(label, 0), bucket=label, grain=grain))
            cells.append(plain_cell("stories", stories.get(label, 0), bucket=label, grain=grain))
    cells += _sector_country(ctx, seen, rolled, runs)
    cells += _top_stories(ctx, seen, rolled)
    cells += _sources(ctx, rolled, runs)
    cells += _curation(ctx, seen, rolled)
    return cells


def _day(value: Any) -> dt.date:
    return dt.date.fromisoformat(str(value)[:10])


def _items_per_day(ctx: Context, seen: Any, rolled: Rolled, runs: list[Any]) -> dict[dt.date, int]:
    out: dict[dt.date, int] = {}
    if runs:
        rows = ctx.session.execute(
            select(Row.bucket, func.sum(Row.items))
            .where(rolled.rows_in(runs, "source"), ctx.visible(Row.org_id, Row.visibility))
            .group_by(Row.bucket)
        )
        out.update({_day(d): int(n) for d, n in rows})
    live = rolled.gaps(Item.fetched_at, ctx.period.start, ctx.period.end, runs)
    if live is not None:
        day = bucket_of(ctx.dialect, Item.fetched_at, "day")
        for d, n in ctx.session.execute(
            select(day, func.count(Item.id)).where(ctx.within(Item.fetched_at), seen, live).group_by(day)
        ):
            out[_day(d)] = out.get(_day(d), 0) + int(n)
    return out


def _stored_period(ctx: Context) -> tuple[str, dt.date] | None:
    """The rolled bucket that is exactly the period (a week, month, quarter or year), if any."""
    start = ctx.period.start.date()
    for grain in ("week", "month", "quarter", "year"):
        first = first_of(grain, start)
        if _utc(first) == ctx.period.start and _utc(next_of(grain, first)) == ctx.period.end:
            return grain, first
    return None


def _rolled_stories(ctx: Context, grain: str, firsts: list[dt.date]) -> dict[dt.date, int]:
    """Distinct stories of the scope in rolled buckets: the shared items' stories, plus the stories of the
    scope's own items that have no shared item in the bucket."""
    if not firsts:
        return {}
    mine = (Row.grain == grain) & Row.bucket.in_(firsts)
    out = {
        _day(b): int(n)
        for b, n in ctx.session.execute(select(Row.bucket, Row.items).where(mine, Row.kind == "stories"))
    }
    private = ctx.session.execute(
        select(Row.bucket, func.count(distinct(Row.key)))
        .where(
            mine,
            Row.kind == "story_private",
            Row.extra == 0,
            ctx.visible(Row.org_id, Row.visibility),
        )
        .group_by(Row.bucket)
    )
    for b, n in private:
        out[_day(b)] = out.get(_day(b), 0) + int(n)
    return out


def _stories(ctx: Context, seen: Any, rolled: Rolled, grain: str | None) -> dict[str | None, int]:
    """Distinct stories of the period (``grain`` ``None``) or of each of its weeks or months."""
    if grain is None:
        stored = _stored_period(ctx)
        if stored is not None and stored in rolled.buckets:
            return {None: _one(ctx, stored)}
        n = ctx.session.scalar(
            select(func.count(distinct(Item.story_id))).where(ctx.within(Item.fetched_at), seen)
        )
        return {None: int(n or 0)}
    start, end = ctx.period.start, ctx.period.end
    use: list[dt.date] = []
    live: list[tuple[dt.datetime, dt.datetime]] = []
    first = first_of(grain, start.date())
    while _utc(first) < end:
        nxt = next_of(grain, first)
        if _utc(first) >= start and _utc(nxt) <= end and (grain, first) in rolled.buckets:
            use.append(first)
        else:
            live.append((max(start, _utc(first)), min(end, _utc(nxt))))
        first = nxt
    out: dict[str | None, int] = {
        label_of(grain, b.isoformat()): n for b, n in _rolled_stories(ctx, grain, use).items()
    }
    if live:
        bucket = bucket_of(ctx.dialect, Item.fetched_at, grain)
        within = or_(*[(Item.fetched_at >= a) & (Item.fetched_at < b) for a, b in live])
        rows = ctx.session.execute(
            select(bucket, func.count(distinct(Item.story_id))).where(within, seen).group_by(bucket)
        )
        out.update({label_of(grain, b): int(n) for b, n in rows})
    return out


def _one(ctx: Context, stored: tuple[str, dt.date]) -> int:
    return _rolled_stories(ctx, stored[0], [stored[1]]).get(stored[1], 0)


def _first_of(dialect: str, column: Any, grain: str) -> Any:
    """The first day of the week or month of a date column, as ``YYYY-MM-DD`` text."""
    if dialect == "postgresql":
        return func.to_char(func.date_trunc(grain, cast(column, DateTime())), "YYYY-MM-DD")
    if grain == "week":
        return func.date(column, "weekday 0", "-6 days")
    return func.strftime("%Y-%m-01", column)


def _sector_country(ctx: Context, seen: Any, rolled: Rolled, runs: list[Any]) -> list[Cell]:
    """Items by sector division × country for the period, each week and each month: the rolled days
    summed by the database into the period, weeks and months; the live days counted by day and summed
    into them in Python (exact: an item is fetched on one day, so in one week and month)."""
    sums: dict[tuple[str | None, str | None, str, str], int] = {}

    def add(grain: str | None, label: str | None, div: Any, c: Any, n: Any) -> None:
        key = (grain, label, str(div), str(c))
        sums[key] = sums.get(key, 0) + int(n)

    if runs:
        rows = rolled.rows_in(runs, "sector_country") & ctx.visible(Row.org_id, Row.visibility)
        for div, c, n in ctx.session.execute(
            select(Row.key, Row.key2, func.sum(Row.items)).where(rows).group_by(Row.key, Row.key2)
        ):
            add(None, None, div, c, n)
        for part in GRAINS:
            first = _first_of(ctx.dialect, Row.bucket, part)
            for b, div, c, n in ctx.session.execute(
                select(first, Row.key, Row.key2, func.sum(Row.items))
                .where(rows)
                .group_by(first, Row.key, Row.key2)
            ):
                add(part, label_of(part, b), div, c, n)
    live = rolled.gaps(Item.fetched_at, ctx.period.start, ctx.period.end, runs)
    if live is not None:
        sector, country, division, code = sector_country_columns()
        day = bucket_of(ctx.dialect, Item.fetched_at, "day")
        query = sector_country_join(
            select(day, division, code, func.count(distinct(Item.id))), sector, country
        )
        for d, div, c, n in ctx.session.execute(
            query.where(ctx.within(Item.fetched_at), seen, live).group_by(day, division, code)
        ):
            first = _day(d)
            add(None, None, div, c, n)
            add("week", week_label(first), div, c, n)
            add("month", month_label(first), div, c, n)
    order = {None: 0, "week": 1, "month": 2}
    return [
        plain_cell(METRIC, n, dims={"sector": div, "country": c}, bucket=label, grain=grain)
        for (grain, label, div, c), n in sorted(sums.items(), key=lambda kv: (order[kv[0][0]], kv[0][1:]))
    ]


def _rolled_top(ctx: Context, stored: tuple[str, dt.date]) -> list[tuple[str, int]] | None:
    """The top stories from a rolled bucket: the shared items' first stories by items, with the scope's
    own items added to theirs and to their own stories; ``None`` when the kept stories may not hold the
    top ten (more of the scope's own stories than the margin kept)."""
    grain, first = stored
    mine = (Row.grain == grain) & (Row.bucket == first)
    private = mine & (Row.kind == "story_private") & ctx.visible(Row.org_id, Row.visibility)
    kept = int(ctx.session.scalar(select(func.count(Row.id)).where(mine, Row.kind == "top")) or 0)
    own = int(ctx.session.scalar(select(func.count(distinct(Row.key))).where(private)) or 0)
    if kept >= KEPT and kept - own < TOP:
        return None
    parts = union_all(
        select(Row.key.label("story"), Row.items.label("shared"), literal(0).label("own")).where(
            mine, Row.kind == "top"
        ),
        select(Row.key.label("story"), Row.extra.label("shared"), Row.items.label("own")).where(private),
    ).subquery()
    n = (func.max(parts.c.shared) + func.sum(parts.c.own)).label("n")
    rows = ctx.session.execute(
        select(parts.c.story, n).group_by(parts.c.story).order_by(n.desc(), parts.c.story).limit(TOP)
    ).all()
    return [(str(s), int(c)) for s, c in rows]


def _top_stories(ctx: Context, seen: Any, rolled: Rolled) -> list[Cell]:
    stored = _stored_period(ctx)
    rows: list[tuple[str, int]] | None = None
    if stored is not None and stored in rolled.buckets:
        rows = _rolled_top(ctx, stored)
    if rows is None:
        n = func.count(Item.id)
        rows = [
            (str(s), int(c))
            for s, c in ctx.session.execute(
                select(Item.story_id, n)
                .where(ctx.within(Item.fetched_at), seen, Item.story_id.is_not(None))
                .group_by(Item.story_id)
                .order_by(n.desc(), Item.story_id)
                .limit(TOP)
            )
        ]
    cells = []
    for rank, (story_id, count) in enumerate(rows, 1):
        story = ctx.session.get(Story, story_id)  # ten rows: the title is decrypted by the column type
        title = story.title if story is not None else ""
        dims = {"rank": str(rank), "story": str(story_id), "title": title}
        cells.append(plain_cell("top_stories", int(count), dims=dims))
    return cells


def _sources(ctx: Context, rolled: Rolled, runs: list[Any]) -> list[Cell]:
    seen = ctx.visible(Source.org_id, Source.visibility)
    rows = ctx.session.execute(
        select(Source.health, func.count(Source.id))
        .where(seen)
        .group_by(Source.health)
        .order_by(Source.health)
    )
    cells = [plain_cell("sources", int(n), dims={"health": str(h)}) for h, n in rows]
    counts: dict[int, int] = {}
    if runs:
        for key, n in ctx.session.execute(
            select(Row.key, func.sum(Row.items))
            .where(rolled.rows_in(runs, "source"), ctx.visible(Row.org_id, Row.visibility), Row.key != "")
            .group_by(Row.key)
        ):
            counts[int(key)] = counts.get(int(key), 0) + int(n)
    live = rolled.gaps(Item.fetched_at, ctx.period.start, ctx.period.end, runs)
    if live is not None:
        for sid, n in ctx.session.execute(
            select(Item.source_id, func.count(Item.id))
            .where(
                ctx.within(Item.fetched_at),
                ctx.visible(Item.org_id, Item.visibility),
                Item.source_id.is_not(None),
                live,
            )
            .group_by(Item.source_id)
        ):
            if sid is not None:
                counts[sid] = counts.get(sid, 0) + int(n)
    titles = dict(ctx.session.execute(select(Source.id, Source.title).where(seen)).all()) if counts else {}
    top = sorted(((-n, sid) for sid, n in counts.items() if sid in titles and n))[: TOP * 2]
    cells += [
        plain_cell("items_per_source", -n, dims={"source": str(sid), "title": titles[sid] or ""})
        for n, sid in top
    ]
    return cells


def _curation(ctx: Context, seen: Any, rolled: Rolled) -> list[Cell]:
    at = ctx.snapshot_at
    new = Item.curator_status == "new"
    # the backlog: every undecided item fetched before the instant, rolled days wholly before it first
    before = rolled.runs(None, at.date())  # the days ended by then (the day of ``at`` is read live)
    backlog = 0
    if before:
        backlog += int(
            ctx.session.scalar(
                select(func.sum(Row.items)).where(
                    rolled.rows_in(before, "backlog"), ctx.visible(Row.org_id, Row.visibility)
                )
            )
            or 0
        )
    live = rolled.gaps(Item.fetched_at, None, at, before)
    if live is not None:
        backlog += int(
            ctx.session.scalar(select(func.count(Item.id)).where(seen, new, Item.fetched_at < at, live)) or 0
        )
    decided = (
        ctx.within(Item.decided_at) & Item.decided_at.is_not(None) & Item.curator_status.in_(DECIDED) & seen
    )
    runs = rolled.runs(ctx.period.start.date(), ctx.period.end.date())
    waits: dict[float, int] = {}
    if runs:
        for value, n in ctx.session.execute(
            select(Row.value, func.sum(Row.items))
            .where(rolled.rows_in(runs, "decision"), ctx.visible(Row.org_id, Row.visibility))
            .group_by(Row.value)
        ):
            if value is not None:
                waits[value] = waits.get(value, 0) + int(n)
    wait = seconds_between(ctx.dialect, Item.fetched_at, Item.decided_at)
    live = rolled.gaps(Item.decided_at, ctx.period.start, ctx.period.end, runs)
    median: float | None = None
    if waits:  # rolled days: their waits, and the live days' few waits read
        if live is not None:
            for value in ctx.session.scalars(select(wait).where(decided, live)):
                waits[float(value)] = waits.get(float(value), 0) + 1
        count = sum(waits.values())
        middle = _middle(waits, count)
        median = round(sum(middle) / len(middle) / 3600.0, 2)
    else:  # nothing rolled: the middle row(s) of the ordered durations, read by the database
        count = int(ctx.session.scalar(select(func.count(Item.id)).where(decided)) or 0)
        if count:
            middle = [
                float(v)
                for v in ctx.session.scalars(
                    select(wait).where(decided).order_by(wait).offset((count - 1) // 2).limit(2 - count % 2)
                ).all()
            ]
            median = round(sum(middle) / len(middle) / 3600.0, 2)
    cells = [plain_cell("curation_backlog", backlog), plain_cell("decisions", count)]
    cells.append(plain_cell("median_hours_to_decision", median))
    return cells


def _middle(waits: dict[float, int], count: int) -> list[float]:
    """The middle value (odd ``count``) or two middle values of the ordered waits."""
    wanted = [(count - 1) // 2] if count % 2 else [count // 2 - 1, count // 2]
    out: list[float] = []
    seen = 0
    for value in sorted(waits):
        seen += waits[value]
        while wanted and wanted[0] < seen:
            out.append(value)
            wanted.pop(0)
    return out
