"""Watch items by concept: the conditions for items classified under a sector (its narrower concepts
count) or a country (or a zone: its countries count), shared by the item reads (``veille.items``), the
curators' queue and the story lists. A curator's rejection (score 0) does not count; an unknown name is
``ValidationError``.
"""

from __future__ import annotations

from typing import TypeAlias

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from taxonomy.classifications import CURATOR
from taxonomy.models import Classification
from taxonomy.referential import Referential
from tfe.core.errors import ValidationError
from veille.models import Item

IdColumn: TypeAlias = "ColumnElement[str] | InstrumentedAttribute[str]"

__all__ = ["IdColumn", "classified_under", "country_ids", "sector_ids"]


def _descendants(referential: Referential, concept_id: str) -> list[str]:
    """The concept and every concept narrower than it, at any depth."""
    out, todo = [concept_id], [concept_id]
    while todo:
        for child in referential.narrower(todo.pop()):
            if child not in out:
                out.append(child)
                todo.append(child)
    return out


def sector_ids(referential: Referential, value: str) -> list[str]:
    """A NAF concept (id, code or name) and its narrower concepts."""
    concept_id = referential.resolve(value, "naf")
    if concept_id is None:
        raise ValidationError(f"unknown sector {value.strip()!r}")
    return _descendants(referential, concept_id)


def country_ids(referential: Referential, value: str) -> list[str]:
    """A country, or the countries of a zone (id, code or name)."""
    concept_id = referential.resolve(value, "country")
    if concept_id is not None:
        return [concept_id]
    region = referential.resolve(value, "region")
    if region is None:
        raise ValidationError(f"unknown country or zone {value.strip()!r}")
    return [c.id for c in referential.concepts("country") if region in referential.regions_of(c.id)]


def _holds(item_id: IdColumn, concepts: list[str]) -> ColumnElement[bool]:
    """The item holds one of ``concepts`` (a curator's rejection, score 0, does not count)."""
    return exists(
        select(Classification.id).where(
            Classification.target_kind == "item",
            Classification.target_id == item_id,
            Classification.concept_id.in_(concepts),
            or_(Classification.method != CURATOR, Classification.score > 0),
        )
    )


def classified_under(
    referential: Referential,
    item_id: IdColumn = Item.id,
    *,
    sector: str | None = None,
    country: str | None = None,
) -> list[ColumnElement[bool]]:
    """Conditions for items classified under ``sector`` (a NAF id, code or name; narrower concepts count)
    and ``country`` (a country, or a zone: its countries count); ``ValidationError`` for an unknown one.

    ``item_id`` is the item id column to test (``Item.id`` or an alias's).
    """
    clauses: list[ColumnElement[bool]] = []
    if sector and sector.strip():
        clauses.append(_holds(item_id, sector_ids(referential, sector)))
    if country and country.strip():
        clauses.append(_holds(item_id, country_ids(referential, country)))
    return clauses
