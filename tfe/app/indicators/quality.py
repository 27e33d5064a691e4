"""Quality: how often curators correct the classifier, by scheme and confidence band.

Over the classifications written in the period on the targets the scope sees (its organisations'
documents, the items its members see): a machine proposal (rule, model, similarity) still standing counts
as kept; a curator's decision on a concept the machine had proposed (``prior_score`` in its explanation)
counts as reviewed, and as corrected when the curator removed it; a concept a curator added that the
machine had not proposed counts in ``added_by_curator``. The band is that of the machine's score: low
(< 0.5), medium (0.5–0.8), high (≥ 0.8)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, exists, func, or_, select

from ged.models import Document
from taxonomy.classifications import CURATOR, PRIOR
from taxonomy.models import Classification, Concept
from tfe.app.indicators.context import Context
from tfe.app.indicators.privacy import Cell, plain_cell
from veille.models import Item

__all__ = ["BANDS", "quality"]

BANDS = (("low", 0.5), ("medium", 0.8), ("high", None))


def _band(score: Any) -> Any:
    return case((score < 0.5, "low"), (score < 0.8, "medium"), else_="high")


def _seen(ctx: Context) -> Any:
    if ctx.scope.org_ids is None:
        return Classification.id.is_not(None)
    docs = exists().where(Document.id == Classification.target_id, ctx.orgs(Document.org_id))
    items = exists().where(Item.id == Classification.target_id, ctx.visible(Item.org_id, Item.visibility))
    return or_(
        (Classification.target_kind == "document") & docs, (Classification.target_kind == "item") & items
    )


def quality(ctx: Context) -> list[Cell]:
    prior = Classification.explanation[PRIOR].as_float()
    curator = Classification.method == CURATOR
    reviewed = curator & prior.is_not(None)
    machine = ~curator
    score = case((curator, prior), else_=Classification.score)
    band = _band(score)
    # the band is computed in a subquery and grouped on outside (PostgreSQL groups on an expression only
    # when it is the very same one, bound parameters included)
    inner = (
        select(
            Concept.scheme_id.label("scheme"),
            case((curator & prior.is_(None), "none"), else_=band).label("band"),
            case((machine, 1), else_=0).label("kept"),
            case((reviewed, 1), else_=0).label("seen"),
            case((reviewed & (Classification.score == 0), 1), else_=0).label("corrected"),
            case((curator & prior.is_(None), 1), else_=0).label("added"),
        )
        .join(Concept, Concept.id == Classification.concept_id)
        .where(ctx.within(Classification.created_at), _seen(ctx))
        .subquery()
    )
    rows = ctx.session.execute(
        select(
            inner.c.scheme,
            inner.c.band,
            func.sum(inner.c.kept),
            func.sum(inner.c.seen),
            func.sum(inner.c.corrected),
            func.sum(inner.c.added),
        )
        .group_by(inner.c.scheme, inner.c.band)
        .order_by(inner.c.scheme, inner.c.band)
    )
    cells: list[Cell] = []
    for scheme, band_name, kept, seen, corrected, added in rows:
        kept, seen, corrected, added = int(kept or 0), int(seen or 0), int(corrected or 0), int(added or 0)
        if band_name == "none":
            cells.append(plain_cell("added_by_curator", added, dims={"scheme": str(scheme)}))
            continue
        dims = {"scheme": str(scheme), "band": str(band_name)}
        proposals = kept + seen
        cells.append(plain_cell("proposals", proposals, dims=dims))
        cells.append(plain_cell("reviewed", seen, dims=dims))
        cells.append(plain_cell("corrected", corrected, dims=dims))
        share = round(corrected / proposals, 4) if proposals else None
        cells.append(plain_cell("corrected_share", share, dims=dims))
    return cells
