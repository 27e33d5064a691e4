"""Which part of a period the roll-ups answer and which part the audit trail does.

A week or month bucket rolled up (``tfe.app.rollups``) and wholly inside the period is read from
``indicator_user_buckets``; the rest of the period (buckets not rolled up yet, today, the edges of a period
that cut a week) is read live from ``audit_events``. The whole-period cells use the rolled months. Rows
hold each person once per bucket, so distinct people over any union of buckets stay exact; a week's or a
month's cells group the live and the rolled rows apart (``sources``: no bucket is in both).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, String, Subquery, cast, false, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from tfe.app.indicators.context import Context
from tfe.app.rollups import ACTIVE, bucket_bounds
from tfe.core.models import IndicatorRollup

__all__ = ["ACTIVE", "Plan", "plan", "sources"]


@dataclass(frozen=True)
class Plan:
    grain: str  # the stored grain read: the cell's grain, "month" for whole-period cells
    rolled: list[dt.date]  # rolled-up buckets (first days) wholly inside the period
    live: list[tuple[dt.datetime, dt.datetime]]  # what the audit trail answers, [start, end)

    def live_filter(self, column: Any) -> ColumnElement[bool]:
        if not self.live:
            return false()
        return or_(*[(column >= start) & (column < end) for start, end in self.live])

    def bucket_text(self, column: Any, grain: str | None) -> Any:
        """A rolled row's bucket: its first day for a week's or a month's cells (grouped apart from the live
        rows, ``sources``), ``""`` for the period's (in one union with them)."""
        return column if grain else cast("", String)


def sources(grain: str | None, parts: list[Select[Any]]) -> list[Subquery]:
    """The live rows and the rolled rows (``parts``), as the subqueries to group. Apart for a week's or a
    month's cells: a bucket is read from one of them only (rolled when wholly inside the period and rolled
    up, live otherwise), so each is grouped by its own bucket column, the rolled rows in their covering
    index's order (a union would sort the year's rows again). As one union for the whole period's cells,
    where one person may be in both and is counted once."""
    if grain is None and len(parts) > 1:
        return [union_all(*parts).subquery()]
    return [part.subquery() for part in parts]


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def plan(ctx: Context, grain: str | None) -> Plan:
    """The rolled buckets and the live ranges for the cells of ``grain`` (``None``: the whole period)."""
    stored = grain or "month"
    start, end = ctx.period.start, ctx.period.end
    inside = [
        (first, nxt)
        for first, nxt in bucket_bounds(stored, start.date(), end.date() + dt.timedelta(days=1))
        if _utc(first) >= start and _utc(nxt) <= end
    ]
    done: set[dt.date] = set()
    if inside:
        done = set(
            ctx.session.scalars(
                select(IndicatorRollup.bucket).where(
                    IndicatorRollup.grain == stored,
                    IndicatorRollup.bucket >= inside[0][0],
                    IndicatorRollup.bucket <= inside[-1][0],
                )
            )
        )
    used = [(first, nxt) for first, nxt in inside if first in done]
    live: list[tuple[dt.datetime, dt.datetime]] = []
    at = start
    for first, nxt in used:
        if _utc(first) > at:
            live.append((at, _utc(first)))
        at = _utc(nxt)
    if at < end:
        live.append((at, end))
    return Plan(stored, [first for first, _ in used], live)
