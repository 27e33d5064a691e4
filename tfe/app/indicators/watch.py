"""Watch: items and stories per week and month, items by sector (NAF division) × country, the top
stories of the period (by items), sources by health, items per source, the curation backlog and the
median time to a curator's decision. The items and sources counted are those the scope's members see
(shared with the network, or their organisations' own). Counts of items, never suppressed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import distinct, func, literal, select
from sqlalchemy.orm import aliased

from taxonomy.models import Classification
from tfe.app.indicators.context import Context, label_of
from tfe.app.indicators.periods import GRAINS, month_label, week_label
from tfe.app.indicators.privacy import Cell, plain_cell
from tfe.app.indicators.sql import bucket_of, seconds_between
from veille.models import Item, Source, Story

__all__ = ["TOP", "watch"]

TOP = 10
METRIC = "items_by_sector_country"


def watch(ctx: Context) -> list[Cell]:
    seen = ctx.visible(Item.org_id, Item.visibility)
    cells: list[Cell] = []
    for grain in (None, *GRAINS):
        bucket = bucket_of(ctx.dialect, Item.fetched_at, grain) if grain else literal("")
        rows = ctx.session.execute(
            select(bucket, func.count(Item.id), func.count(distinct(Item.story_id)))
            .where(ctx.within(Item.fetched_at), seen)
            .group_by(bucket)
        )
        found = {(label_of(grain, b) if grain else None): (int(n), int(s)) for b, n, s in rows}
        for label in ctx.buckets(grain) if grain else [None]:
            n, s = found.get(label, (0, 0))
            cells.append(plain_cell("items", n, bucket=label, grain=grain))
            cells.append(plain_cell("stories", s, bucket=label, grain=grain))
    cells += _sector_country(ctx, seen)
    cells += _top_stories(ctx, seen)
    cells += _sources(ctx)
    cells += _curation(ctx, seen)
    return cells


def _sector_country(ctx: Context, seen: Any) -> list[Cell]:
    """Items by sector division × country for the period, each week and each month: one query by day,
    summed into the buckets in Python (exact: an item is fetched on one day, so in one week and month)."""
    sector, country = aliased(Classification), aliased(Classification)
    day = bucket_of(ctx.dialect, Item.fetched_at, "day")
    division = func.substr(sector.concept_id, 5, 2)
    code = func.substr(country.concept_id, 9, 2)
    rows = ctx.session.execute(
        select(day, division, code, func.count(distinct(Item.id)))
        .join(sector, (sector.target_id == Item.id) & (sector.target_kind == "item"))
        .join(country, (country.target_id == Item.id) & (country.target_kind == "item"))
        .where(
            ctx.within(Item.fetched_at),
            seen,
            sector.concept_id.like("naf:%"),
            func.length(sector.concept_id) >= 6,
            ~((sector.method == "curator") & (sector.score == 0)),
            country.concept_id.like("country:%"),
            ~((country.method == "curator") & (country.score == 0)),
        )
        .group_by(day, division, code)
    )
    sums: dict[tuple[str | None, str | None, str, str], int] = {}
    for d, div, c, n in rows:
        first = dt.date.fromisoformat(str(d)[:10])
        for grain, label in ((None, None), ("week", week_label(first)), ("month", month_label(first))):
            key = (grain, label, str(div), str(c))
            sums[key] = sums.get(key, 0) + int(n)
    order = {None: 0, "week": 1, "month": 2}
    return [
        plain_cell(METRIC, n, dims={"sector": div, "country": c}, bucket=label, grain=grain)
        for (grain, label, div, c), n in sorted(sums.items(), key=lambda kv: (order[kv[0][0]], kv[0][1:]))
    ]


def _top_stories(ctx: Context, seen: Any) -> list[Cell]:
    n = func.count(Item.id)
    rows = ctx.session.execute(
        select(Item.story_id, n)
        .where(ctx.within(Item.fetched_at), seen, Item.story_id.is_not(None))
        .group_by(Item.story_id)
        .order_by(n.desc(), Item.story_id)
        .limit(TOP)
    ).all()
    cells = []
    for rank, (story_id, count) in enumerate(rows, 1):
        story = ctx.session.get(Story, story_id)  # ten rows: the title is decrypted by the column type
        title = story.title if story is not None else ""
        dims = {"rank": str(rank), "story": str(story_id), "title": title}
        cells.append(plain_cell("top_stories", int(count), dims=dims))
    return cells


def _sources(ctx: Context) -> list[Cell]:
    seen = ctx.visible(Source.org_id, Source.visibility)
    rows = ctx.session.execute(
        select(Source.health, func.count(Source.id))
        .where(seen)
        .group_by(Source.health)
        .order_by(Source.health)
    )
    cells = [plain_cell("sources", int(n), dims={"health": str(h)}) for h, n in rows]
    n = func.count(Item.id)
    top = ctx.session.execute(
        select(Source.id, Source.title, n)
        .join(Item, Item.source_id == Source.id)
        .where(seen, ctx.within(Item.fetched_at), ctx.visible(Item.org_id, Item.visibility))
        .group_by(Source.id, Source.title)
        .order_by(n.desc(), Source.id)
        .limit(TOP * 2)
    )
    cells += [
        plain_cell("items_per_source", int(count), dims={"source": str(sid), "title": title or ""})
        for sid, title, count in top
    ]
    return cells


def _curation(ctx: Context, seen: Any) -> list[Cell]:
    at = ctx.snapshot_at
    backlog = ctx.session.scalar(
        select(func.count(Item.id)).where(seen, Item.curator_status == "new", Item.fetched_at < at)
    )
    decided = (
        ctx.within(Item.decided_at)
        & Item.decided_at.is_not(None)
        & Item.curator_status.in_(("accepted", "rejected"))
        & seen
    )
    count = int(ctx.session.scalar(select(func.count(Item.id)).where(decided)) or 0)
    cells = [plain_cell("curation_backlog", int(backlog or 0)), plain_cell("decisions", count)]
    median: float | None = None
    if count:  # the middle row(s) of the ordered durations, read by the database (no rows loaded)
        wait = seconds_between(ctx.dialect, Item.fetched_at, Item.decided_at)
        middle = ctx.session.scalars(
            select(wait).where(decided).order_by(wait).offset((count - 1) // 2).limit(2 - count % 2)
        ).all()
        median = round(sum(float(v) for v in middle) / len(middle) / 3600.0, 2)
    cells.append(plain_cell("median_hours_to_decision", median))
    return cells
