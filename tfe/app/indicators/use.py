"""Use: searches and the share with no result, document reads and downloads, uploads and new versions,
alerts sent (deliveries) and unsubscriptions; per week, month and the whole period, in total and by
organisation kind. Each count comes with the number of distinct people behind it (``privacy``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String, case, cast, distinct, func, literal, select

from tfe.app.indicators import rolled
from tfe.app.indicators.context import Context, label_of
from tfe.app.indicators.periods import GRAINS
from tfe.app.indicators.privacy import Cell, people_cell
from tfe.app.indicators.sql import bucket_of
from tfe.app.rollups import ACTIONS, EMPTY_SEARCH, METRIC
from tfe.app.rollups import METRIC_OF as _METRIC_OF
from tfe.core.models import AuditEvent, IndicatorUserBucket, Organisation, User
from veille.alerts.models import Delivery, Subscription

__all__ = ["ACTIONS", "use"]  # ACTIONS: metric → the audit actions it counts (``tfe.app.rollups``)


def use(ctx: Context) -> list[Cell]:
    cells: list[Cell] = []
    kinds = dict(ctx.session.execute(select(Organisation.id, Organisation.kind)).all())
    for grain in (None, *GRAINS):
        found = _event_rows(ctx, grain, kinds)
        for name in ("", "kind"):
            cells += _events(ctx, name, grain, found)
        for name, column in (("", None), ("kind", Organisation.kind)):
            cells += _alerts(ctx, name, column, grain)
    return cells


def _buckets(ctx: Context, grain: str | None) -> list[str | None]:
    return list(ctx.buckets(grain)) if grain else [None]


def _event_rows(
    ctx: Context, grain: str | None, kinds: dict[int, str]
) -> dict[tuple[str | None, str, str, str], tuple[int, int, int, int]]:
    """Counts and distinct people per (bucket, actor's organisation, metric) of one grain
    (``rolled.sources``), summed to the organisation kind and the total (a user acts for one organisation,
    so the people add up)."""
    found: dict[tuple[str | None, str, str, str], tuple[int, int, int, int]] = {}
    for rows in rolled.sources(grain, _parts(ctx, grain)):
        query = select(
            rows.c.bucket,
            rows.c.org_id,
            rows.c.metric,
            func.sum(rows.c.events),
            func.count(distinct(rows.c.user_id)),
            func.sum(rows.c.empty),
            func.count(distinct(case((rows.c.empty > 0, rows.c.user_id), else_=None))),
        ).group_by(rows.c.bucket, rows.c.org_id, rows.c.metric)
        for b, org_id, m, n, people, none, none_people in ctx.session.execute(query):
            label = label_of(grain, b) if grain else None
            add = (int(n), int(people), int(none or 0), int(none_people))
            for key in ((label, "", "", str(m)), (label, "kind", str(kinds.get(org_id, "")), str(m))):
                was = found.get(key, (0, 0, 0, 0))
                found[key] = (was[0] + add[0], was[1] + add[1], was[2] + add[2], was[3] + add[3])
    return found


def _parts(ctx: Context, grain: str | None) -> list[Any]:
    """One row per event of the live part, one per (person, organisation, metric) of each rolled bucket
    (``rolled``): bucket, user_id, org_id, metric, events, empty (searches without result)."""
    plan = rolled.plan(ctx, grain)
    parts = []
    if plan.live:
        bucket = bucket_of(ctx.dialect, AuditEvent.at, grain) if grain else cast("", String)
        parts.append(
            select(
                bucket.label("bucket"),
                AuditEvent.actor_user_id.label("user_id"),
                AuditEvent.actor_org_id.label("org_id"),
                METRIC.label("metric"),
                cast(1, Integer).label("events"),
                case((EMPTY_SEARCH, 1), else_=0).label("empty"),
            ).where(
                plan.live_filter(AuditEvent.at),
                AuditEvent.action.in_(list(_METRIC_OF)),
                AuditEvent.actor_user_id.is_not(None),
                ctx.orgs(AuditEvent.actor_org_id),
            )
        )
    if plan.rolled or not parts:
        row = IndicatorUserBucket
        parts.append(
            select(
                plan.bucket_text(row.bucket, grain).label("bucket"),
                row.user_id,
                row.org_id,
                row.metric,
                row.events,
                row.empty,
            ).where(
                row.grain == plan.grain,
                row.bucket.in_(plan.rolled),
                row.metric != rolled.ACTIVE,
                ctx.orgs(row.org_id),
            )
        )
    return parts


def _events(
    ctx: Context,
    name: str,
    grain: str | None,
    found: dict[tuple[str | None, str, str, str], tuple[int, int, int, int]],
) -> list[Cell]:
    values = sorted({v for _, n, v, _ in found if n == name}) if name else [""]
    cells: list[Cell] = []
    for value in values:
        dims = {name: value} if name else {}
        for label in _buckets(ctx, grain):
            for m in ACTIONS:
                n, people, none, none_people = found.get((label, name, value, m), (0, 0, 0, 0))
                if name and n == 0:
                    continue
                cells.append(people_cell(m, n, people, dims=dims, bucket=label, grain=grain))
                if m == "searches":
                    cells.append(
                        people_cell(
                            "searches_no_result", none, none_people, dims=dims, bucket=label, grain=grain
                        )
                    )
                    share = round(none / n, 4) if n else None
                    cells.append(
                        people_cell(
                            "searches_no_result_share", share, people, dims=dims, bucket=label, grain=grain
                        )
                    )
    return cells


def _alerts(ctx: Context, name: str, column: Any, grain: str | None) -> list[Cell]:
    """Alerts sent: one delivery is one story or document sent to one subscriber (never twice)."""
    key = column if column is not None else literal("")
    bucket = bucket_of(ctx.dialect, Delivery.first_sent_at, grain) if grain else literal("")
    query = (
        select(bucket, key, func.count(Delivery.id), func.count(distinct(Subscription.user_id)))
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .join(User, User.id == Subscription.user_id)
        .where(ctx.within(Delivery.first_sent_at), ctx.orgs(User.org_id))
        .group_by(bucket, key)
    )
    if column is not None:
        query = query.join(Organisation, Organisation.id == User.org_id)
    found = {
        (label_of(grain, b) if grain else None, str(v)): (int(n), int(p))
        for b, v, n, p in ctx.session.execute(query)
    }
    values = sorted({v for _, v in found}) if name else [""]
    cells = []
    for value in values:
        for label in _buckets(ctx, grain):
            n, people = found.get((label, value), (0, 0))
            if name and n == 0:
                continue
            dims = {name: value} if name else {}
            cells.append(people_cell("alerts_sent", n, people, dims=dims, bucket=label, grain=grain))
    return cells
