"""Haystack filter grammar helpers shared by the embedded backend's two halves (Tantivy and vectors).

Filters arrive in Haystack's grammar (``{"operator": "AND"|"OR"|"NOT", "conditions": [...]}`` and
``{"field": "meta.x", "operator": "==", "value": v}`` with ``== != in "not in" > >= < <=``). The access
scope is one (``AccessScope.haystack_filter()``) and the API facets are turned into another by
``facet_filter``; ``combine`` ANDs them so every backend applies both *inside* its query.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tfe.core.errors import ValidationError

# Keyword fields every backend indexes from ``Passage.meta`` (see ``search.types.Passage``).
KEYWORD_FIELDS: tuple[str, ...] = (
    "kind",
    "doc_type",
    "sectors",
    "sector_facet",
    "countries",
    "regions",
    "org_id",
    "owner_user_id",
    "visibility",
    "language",
    "date",
)

COMPARISONS = ("==", "!=", "in", "not in", ">", ">=", "<", "<=")
LOGICAL = ("AND", "OR", "NOT")


def keyword(value: Any) -> str:
    """The string form a scalar takes in a keyword field (ints as digits, dates as ISO 8601)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def keyword_values(meta: dict[str, Any], field: str) -> list[str]:
    """The keyword strings a passage carries for ``field`` (empty when absent)."""
    value = meta.get(field)
    if value is None:
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return [keyword(v) for v in value if v is not None]
    return [keyword(value)]


def field_name(name: str) -> str:
    """``meta.visibility`` -> ``visibility``; refuses fields the backends do not index as keywords."""
    bare = name[5:] if name.startswith("meta.") else name
    if bare not in KEYWORD_FIELDS:
        raise ValidationError(f"cannot filter search results on field {name!r}")
    return bare


def combine(*filters: dict[str, Any] | None) -> dict[str, Any] | None:
    """AND the given filters, dropping ``None`` (no restriction)."""
    present = [f for f in filters if f]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return {"operator": "AND", "conditions": present}


def facet_filter(facets: dict[str, list[str]]) -> dict[str, Any] | None:
    """API facet selections as a Haystack filter: OR within a facet, AND across facets.

    ``sector`` matches ``sectors`` (which holds every ancestor, so a section, division or class all work),
    ``country`` matches ``countries`` or ``regions`` (a zone selects its countries' documents), ``type``
    matches ``doc_type``.
    """
    conditions: list[dict[str, Any]] = []
    for facet, values in facets.items():
        wanted = [v for v in values if v]
        if not wanted:
            continue
        if facet == "sector":
            conditions.append({"field": "meta.sectors", "operator": "in", "value": wanted})
        elif facet == "country":
            conditions.append(
                {
                    "operator": "OR",
                    "conditions": [
                        {"field": "meta.countries", "operator": "in", "value": wanted},
                        {"field": "meta.regions", "operator": "in", "value": wanted},
                    ],
                }
            )
        elif facet == "type":
            conditions.append({"field": "meta.doc_type", "operator": "in", "value": wanted})
        else:
            raise ValidationError(f"unknown facet {facet!r}")
    return combine(*conditions)


def check(node: dict[str, Any]) -> None:
    """Raise ``ValidationError`` unless ``node`` is a well-formed filter over keyword fields."""
    if "operator" not in node:
        raise ValidationError("filter without an operator")
    op = node["operator"]
    if "conditions" in node:
        if op not in LOGICAL:
            raise ValidationError(f"unknown logical operator {op!r}")
        for child in node["conditions"]:
            check(child)
        return
    if op not in COMPARISONS:
        raise ValidationError(f"unknown comparison operator {op!r}")
    if "field" not in node or "value" not in node:
        raise ValidationError("comparison needs a field and a value")
    field_name(node["field"])
    if op in ("in", "not in") and not isinstance(node["value"], list):
        raise ValidationError(f"operator {op!r} needs a list value")


def compare(op: str, left: str, right: Any) -> bool:
    """Order comparison of a stored keyword with a filter value (numbers numerically, else as strings)."""
    if right is None or isinstance(right, list):
        return False
    rkey = keyword(right)
    try:
        lnum, rnum = float(left), float(rkey)
    except ValueError:
        lval: Any = left
        rval: Any = rkey
    else:
        lval, rval = lnum, rnum
    if op == ">":
        return bool(lval > rval)
    if op == ">=":
        return bool(lval >= rval)
    if op == "<":
        return bool(lval < rval)
    return bool(lval <= rval)
