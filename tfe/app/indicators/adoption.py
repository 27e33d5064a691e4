"""Adoption: accounts, active users (distinct users with an audit event, per week and month), new users;
in total, by organisation kind, by role and (network and region scopes) by organisation. Every cell counts
people, so every cell goes through the suppression rule (``privacy``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, distinct, func, literal, select

from tfe.app.indicators import rolled
from tfe.app.indicators.context import Context, label_of
from tfe.app.indicators.periods import GRAINS
from tfe.app.indicators.privacy import Cell, people_cell
from tfe.app.indicators.sql import bucket_of
from tfe.app.rollups import NOT_ACTIVITY
from tfe.core.models import AuditEvent, IndicatorUserBucket, Organisation, User

__all__ = ["adoption"]


def _dimensions(ctx: Context) -> dict[str, Any]:
    dims: dict[str, Any] = {"": None, "kind": Organisation.kind, "role": User.role}
    if ctx.scope.kind != "org":
        dims["org"] = Organisation.slug
    return dims


def _dims(name: str, value: Any) -> dict[str, str]:
    return {name: str(value)} if name else {}


def adoption(ctx: Context) -> list[Cell]:
    cells: list[Cell] = []
    for name, column in _dimensions(ctx).items():
        cells += _accounts(ctx, name, column)
    for grain in (None, *GRAINS):
        cells += _rolled(ctx, "active_users", _active_rows(ctx, grain), grain)
        cells += _rolled(ctx, "new_users", _new_rows(ctx, grain), grain)
    return cells


def _key(column: Any) -> Any:
    return column if column is not None else literal("")


def _accounts(ctx: Context, name: str, column: Any) -> list[Cell]:
    key = _key(column)
    rows = ctx.session.execute(
        select(key, func.count(User.id))
        .join(Organisation, Organisation.id == User.org_id)
        .where(User.active.is_(True), User.created_at < ctx.snapshot_at, ctx.orgs(User.org_id))
        .group_by(key)
        .order_by(key)  # the cells in one order whatever the plan (a hash aggregate has none)
    )
    return [people_cell("accounts", n, n, dims=_dims(name, value)) for value, n in rows]


def _active_rows(ctx: Context, grain: str | None) -> Any:
    """Distinct active users per (bucket, organisation, kind, role) of one grain. A user has one
    organisation and one role, so these counts add up exactly to every coarser dimension (``_rolled``); the
    live and the rolled rows are grouped apart for a week or a month (``rolled.sources``)."""
    rows: list[Any] = []
    for active in rolled.sources(grain, _active_parts(ctx, grain)):
        rows += ctx.session.execute(
            select(
                active.c.bucket,
                Organisation.slug,
                Organisation.kind,
                User.role,
                func.count(distinct(active.c.user_id)),
            )
            .join(User, User.id == active.c.user_id)
            .join(Organisation, Organisation.id == User.org_id)
            .where(ctx.orgs(User.org_id))
            .group_by(active.c.bucket, Organisation.slug, Organisation.kind, User.role)
        ).all()
    return rows


def _active_parts(ctx: Context, grain: str | None) -> list[Any]:
    """(bucket, user_id) of the live part's events and of the rolled buckets' active people (``rolled``)."""
    plan = rolled.plan(ctx, grain)
    parts = []
    if plan.live:
        bucket = bucket_of(ctx.dialect, AuditEvent.at, grain) if grain else cast("", String)
        parts.append(
            select(bucket.label("bucket"), AuditEvent.actor_user_id.label("user_id")).where(
                plan.live_filter(AuditEvent.at), AuditEvent.action.not_in(NOT_ACTIVITY)
            )
        )
    if plan.rolled or not parts:
        row = IndicatorUserBucket
        parts.append(
            select(plan.bucket_text(row.bucket, grain).label("bucket"), row.user_id).where(
                row.grain == plan.grain, row.bucket.in_(plan.rolled), row.metric == rolled.ACTIVE
            )
        )
    return parts


def _new_rows(ctx: Context, grain: str | None) -> Any:
    bucket = bucket_of(ctx.dialect, User.created_at, grain) if grain else literal("")
    return ctx.session.execute(
        select(bucket, Organisation.slug, Organisation.kind, User.role, func.count(User.id))
        .join(Organisation, Organisation.id == User.org_id)
        .where(ctx.within(User.created_at), ctx.orgs(User.org_id))
        .group_by(bucket, Organisation.slug, Organisation.kind, User.role)
    )


def _rolled(ctx: Context, metric: str, rows: Any, grain: str | None) -> list[Cell]:
    """The finest counts summed to the total and to each dimension, then one cell per bucket: totals for
    every bucket (0 where no one), a dimension value only in the buckets where someone is counted."""
    names = [n for n in _dimensions(ctx) if n]
    sums: dict[tuple[str | None, str, str], int] = {}
    for b, slug, kind, role, n in rows:
        label = label_of(grain, b) if grain else None
        values = {"org": str(slug), "kind": str(kind), "role": str(role)}
        for name in ["", *names]:
            key = (label, name, values[name] if name else "")
            sums[key] = sums.get(key, 0) + int(n)
    buckets: list[str | None] = list(ctx.buckets(grain)) if grain else [None]
    cells = [
        people_cell(metric, sums.get((b, "", ""), 0), sums.get((b, "", ""), 0), bucket=b, grain=grain)
        for b in buckets
    ]
    for name in names:
        for value in sorted({v for (_, n, v) in sums if n == name}):
            for b in buckets:
                n = sums.get((b, name, value), 0)
                if n:
                    cells.append(people_cell(metric, n, n, dims={name: value}, bucket=b, grain=grain))
    return cells
