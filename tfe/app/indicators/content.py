"""Content: the documents of the scope's organisations at the period's end (or now): by type, status,
sector (NAF division) and country; validated and draft; expiring within 90 days. Counts of documents,
never suppressed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import distinct, func, select

from ged.models import Document
from taxonomy.models import Classification
from tfe.app.indicators.context import Context
from tfe.app.indicators.privacy import Cell, plain_cell

__all__ = ["EXPIRY_DAYS", "content", "country_of", "division_of", "standing"]

EXPIRY_DAYS = 90


def standing() -> Any:
    """Classifications a reader sees: not a curator's removal (a ``curator`` row of score 0)."""
    return ~((Classification.method == "curator") & (Classification.score == 0))


def division_of() -> Any:
    """The NAF division (two digits) of a ``naf:`` concept id of a division or below."""
    return func.substr(Classification.concept_id, 5, 2)


def country_of() -> Any:
    return func.substr(Classification.concept_id, 9, 2)


def _alive(ctx: Context) -> Any:
    at = ctx.snapshot_at
    return (
        (Document.created_at < at)
        & (Document.deleted_at.is_(None) | (Document.deleted_at >= at))
        & ctx.orgs(Document.org_id)
    )


def content(ctx: Context) -> list[Cell]:
    cells: list[Cell] = []
    total = ctx.session.scalar(select(func.count(Document.id)).where(_alive(ctx))) or 0
    cells.append(plain_cell("documents", int(total)))
    for name, column in (("type", Document.doc_type), ("status", Document.status)):
        rows = ctx.session.execute(
            select(column, func.count(Document.id)).where(_alive(ctx)).group_by(column).order_by(column)
        )
        cells += [plain_cell("documents", int(n), dims={name: str(v or "")}) for v, n in rows]
    by_status = {c.dims["status"]: c.value for c in cells if "status" in c.dims}
    cells.append(plain_cell("validated", by_status.get("validated", 0)))
    cells.append(plain_cell("draft", by_status.get("draft", 0)))
    for name, prefix, part in (("sector", "naf:", division_of()), ("country", "country:", country_of())):
        where: Any = Classification.concept_id.like(f"{prefix}%")
        if name == "sector":
            where = where & (func.length(Classification.concept_id) >= 6)
        rows = ctx.session.execute(
            select(part, func.count(distinct(Document.id)))
            .join(
                Classification,
                (Classification.target_id == Document.id) & (Classification.target_kind == "document"),
            )
            .where(_alive(ctx), where, standing())
            .group_by(part)
            .order_by(part)
        )
        cells += [plain_cell("documents", int(n), dims={name: str(v)}) for v, n in rows]
    at = ctx.snapshot_at
    expiring = ctx.session.scalar(
        select(func.count(Document.id)).where(
            _alive(ctx),
            Document.status != "archived",
            Document.valid_until >= at,
            Document.valid_until < at + dt.timedelta(days=EXPIRY_DAYS),
        )
    )
    cells.append(plain_cell("expiring_90_days", int(expiring or 0)))
    return cells
