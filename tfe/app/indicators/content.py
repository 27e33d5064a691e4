"""Content: the documents of the scope's organisations at the period's end (or now): by type, status,
sector (NAF division) and country; validated and draft; expiring within 90 days. Counts of documents,
never suppressed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, distinct, func, select

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
    at = ctx.snapshot_at
    expiring = case(
        (
            (Document.status != "archived")
            & (Document.valid_until >= at)
            & (Document.valid_until < at + dt.timedelta(days=EXPIRY_DAYS)),
            1,
        ),
        else_=0,
    )
    # one pass over the documents alive at the snapshot: counts per (type, status), summed here into the
    # whole, the types and the statuses (a document has one type and one status: exact)
    counts = ctx.session.execute(
        select(Document.doc_type, Document.status, func.count(Document.id), func.sum(expiring))
        .where(_alive(ctx))
        .group_by(Document.doc_type, Document.status)
        .order_by(Document.doc_type, Document.status)
    ).all()
    by_type: dict[Any, int] = {}  # in the database's order of the types
    by_status: dict[Any, int] = {}
    for doc_type, status, n, _ in counts:
        by_type[doc_type] = by_type.get(doc_type, 0) + int(n)
        by_status[status] = by_status.get(status, 0) + int(n)
    total = sum(int(n) for _, _, n, _ in counts)
    cells.append(plain_cell("documents", total))
    cells += [plain_cell("documents", n, dims={"type": str(v or "")}) for v, n in by_type.items()]
    # statuses in code point order, as the database's ORDER BY gave them (ged.models.STATUSES: lowercase
    # words, the same order under any collation)
    status_cells = [
        plain_cell("documents", n, dims={"status": str(v or "")}) for v, n in sorted(by_status.items())
    ]
    cells += status_cells
    named = {c.dims["status"]: c.value for c in status_cells}
    cells.append(plain_cell("validated", named.get("validated", 0)))
    cells.append(plain_cell("draft", named.get("draft", 0)))
    for name, prefix, part in (("sector", "naf:", division_of()), ("country", "country:", country_of())):
        where: Any = Classification.concept_id.like(f"{prefix}%")
        if name == "sector":
            where = where & (func.length(Classification.concept_id) >= 6)
        kept = (Classification.target_kind == "document") & where & standing()
        query = select(part, func.count(distinct(Classification.target_id)))
        if ctx.scope.org_ids is None:  # the network: the documents' classifications in target order
            # (index ix_classifications_kind_target), each joined to its document
            query = query.join(Document, Document.id == Classification.target_id).where(kept, _alive(ctx))
        else:  # some organisations: their documents first (by org_id), then each one's classifications
            query = query.where(kept, Classification.target_id.in_(select(Document.id).where(_alive(ctx))))
        rows = ctx.session.execute(query.group_by(part).order_by(part))
        cells += [plain_cell("documents", int(n), dims={name: str(v)}) for v, n in rows]
    cells.append(plain_cell("expiring_90_days", sum(int(soon or 0) for _, _, _, soon in counts)))
    return cells
