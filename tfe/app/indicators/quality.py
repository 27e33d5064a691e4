"""Quality: how often curators correct the classifier, by scheme and confidence band.

Over the classifications written in the period on the targets the scope sees (its organisations'
documents, the items its members see): a machine proposal (rule, model, similarity) still standing counts
as kept; a curator's decision on a concept the machine had proposed (``prior_score`` in its explanation)
counts as reviewed, and as corrected when the curator removed it; a concept a curator added that the
machine had not proposed counts in ``added_by_curator``. The band is that of the machine's score: low
(< 0.5), medium (0.5–0.8), high (≥ 0.8).

The closed days rolled up (``tfe.app.rollups_watch``, by day of the classifications' creation, with the
target's owner) and not dirty since are read from ``quality_rollup_rows``, the rest live, with the same
results."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, or_, select, true

from ged.models import Document
from taxonomy.models import Classification
from tfe.app.indicators.context import Context
from tfe.app.indicators.privacy import Cell, plain_cell
from tfe.app.indicators.watch import Rolled
from tfe.app.rollups_watch import quality_rows
from veille.models import Item
from veille.rollup_models import QualityRollupRow

__all__ = ["BANDS", "quality"]

BANDS = (("low", 0.5), ("medium", 0.8), ("high", None))
Q = QualityRollupRow


def _seen(ctx: Context) -> Any:
    if ctx.scope.org_ids is None:
        return Classification.id.is_not(None)
    docs = exists().where(Document.id == Classification.target_id, ctx.orgs(Document.org_id))
    items = exists().where(Item.id == Classification.target_id, ctx.visible(Item.org_id, Item.visibility))
    return or_(
        (Classification.target_kind == "document") & docs, (Classification.target_kind == "item") & items
    )


def _rolled_seen(ctx: Context) -> Any:
    """The rolled rows of the targets the scope sees (their owner is in the row)."""
    if ctx.scope.org_ids is None:
        return true()
    return or_(
        (Q.target_kind == "document") & ctx.orgs(Q.org_id),
        (Q.target_kind == "item") & ctx.visible(Q.org_id, Q.visibility),
    )


def quality(ctx: Context) -> list[Cell]:
    rolled = Rolled.load(ctx)
    runs = rolled.runs(ctx.period.start.date(), ctx.period.end.date())
    sums: dict[tuple[str, str], list[int]] = {}

    def add(rows: Any) -> None:
        for scheme, band, *counts in rows:
            into = sums.setdefault((str(scheme), str(band)), [0, 0, 0, 0])
            for n, value in enumerate(counts):
                into[n] += int(value or 0)

    if runs:
        within = or_(*[(Q.day >= a) & (Q.day < b) for a, b in runs])
        add(
            ctx.session.execute(
                select(
                    Q.scheme,
                    Q.band,
                    func.sum(Q.kept),
                    func.sum(Q.seen),
                    func.sum(Q.corrected),
                    func.sum(Q.added),
                )
                .where(within, _rolled_seen(ctx))
                .group_by(Q.scheme, Q.band)
            )
        )
    live = rolled.gaps(Classification.created_at, ctx.period.start, ctx.period.end, runs)
    if live is not None:
        # the band is computed in a subquery and grouped on outside (PostgreSQL groups on an expression
        # only when it is the very same one, bound parameters included)
        inner = quality_rows().where(ctx.within(Classification.created_at), live, _seen(ctx)).subquery()
        add(
            ctx.session.execute(
                select(
                    inner.c.scheme,
                    inner.c.band,
                    func.sum(inner.c.kept),
                    func.sum(inner.c.seen),
                    func.sum(inner.c.corrected),
                    func.sum(inner.c.added),
                ).group_by(inner.c.scheme, inner.c.band)
            )
        )
    cells: list[Cell] = []
    for (scheme, band_name), (kept, seen, corrected, added) in sorted(sums.items()):
        if band_name == "none":
            cells.append(plain_cell("added_by_curator", added, dims={"scheme": scheme}))
            continue
        dims = {"scheme": scheme, "band": band_name}
        proposals = kept + seen
        cells.append(plain_cell("proposals", proposals, dims=dims))
        cells.append(plain_cell("reviewed", seen, dims=dims))
        cells.append(plain_cell("corrected", corrected, dims=dims))
        share = round(corrected / proposals, 4) if proposals else None
        cells.append(plain_cell("corrected_share", share, dims=dims))
    return cells
