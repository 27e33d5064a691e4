"""Adoption: accounts, active users (distinct users with an audit event, per week and month), new users;
in total, by organisation kind, by role and (network and region scopes) by organisation. Every cell counts
people, so every cell goes through the suppression rule (``privacy``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import distinct, func, literal, select

from tfe.app.indicators.context import Context, label_of
from tfe.app.indicators.periods import GRAINS
from tfe.app.indicators.privacy import Cell, people_cell
from tfe.app.indicators.sql import bucket_of
from tfe.core.models import AuditEvent, Organisation, User

__all__ = ["adoption"]

NOT_ACTIVITY = ("auth.login_failed", "auth.login_throttled", "auth.login_held")


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
            cells += _active(ctx, name, column, grain)
            cells += _new(ctx, name, column, grain)
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
    )
    return [people_cell("accounts", n, n, dims=_dims(name, value)) for value, n in rows]


def _active(ctx: Context, name: str, column: Any, grain: str | None) -> list[Cell]:
    key = _key(column)
    bucket = bucket_of(ctx.dialect, AuditEvent.at, grain) if grain else literal("")
    rows = ctx.session.execute(
        select(bucket, key, func.count(distinct(AuditEvent.actor_user_id)))
        .join(User, User.id == AuditEvent.actor_user_id)
        .join(Organisation, Organisation.id == User.org_id)
        .where(ctx.within(AuditEvent.at), AuditEvent.action.not_in(NOT_ACTIVITY), ctx.orgs(User.org_id))
        .group_by(bucket, key)
    )
    return _cells("active_users", rows, name, grain, ctx)


def _new(ctx: Context, name: str, column: Any, grain: str | None) -> list[Cell]:
    key = _key(column)
    bucket = bucket_of(ctx.dialect, User.created_at, grain) if grain else literal("")
    rows = ctx.session.execute(
        select(bucket, key, func.count(User.id))
        .join(Organisation, Organisation.id == User.org_id)
        .where(ctx.within(User.created_at), ctx.orgs(User.org_id))
        .group_by(bucket, key)
    )
    return _cells("new_users", rows, name, grain, ctx)


def _cells(metric: str, rows: Any, name: str, grain: str | None, ctx: Context) -> list[Cell]:
    """One cell per bucket and dimension value; buckets without anyone are 0 (totals only: a dimension
    value with no one in a bucket is left out)."""
    found = {(label_of(grain, b) if grain else None, str(v)): int(n) for b, v, n in rows}
    buckets: list[str | None] = list(ctx.period.buckets(grain)) if grain else [None]
    values = sorted({v for _, v in found}) or ([""] if not name else [])
    if not name:
        values = [""]
    cells = []
    for value in values:
        for bucket in buckets:
            n = found.get((bucket, value), 0)
            if name and n == 0:
                continue
            cells.append(people_cell(metric, n, n, dims=_dims(name, value), bucket=bucket, grain=grain))
    return cells
