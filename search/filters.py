"""Haystack filter grammar and value semantics, the same in every engine (Tantivy query, vector mask).

Filters arrive in Haystack's grammar (``{"operator": "AND"|"OR"|"NOT", "conditions": [...]}`` and
``{"field": "meta.x", "operator": "==", "value": v}`` with ``== != in "not in" > >= < <=``). The access
scope is one (``AccessScope.haystack_filter()``) and the API facets are turned into another by
``facet_filter``; ``combine`` ANDs them so every backend applies both *inside* its query.

Every meta value is filterable (``filter_values`` flattens ``Passage.meta``; keys starting with ``_`` are
private). The semantics, identical in every engine (``check`` refuses what they cannot express):

- values are typed: strings, numbers (``2 == 2.0``), booleans (never equal to numbers); a list is
  multi-valued and a comparison matches when any element does;
- ``== None`` matches a missing field, ``!= v`` and ``not in`` match missing fields too (as in Haystack),
  ``in`` accepts ``None`` among its values;
- strings that are ISO 8601 dates are also instants: ``==`` matches the same instant in another spelling,
  and ``> >= < <=`` take a number (compared with numbers) or an ISO date / ``datetime`` (compared with
  dates); a naive date is UTC. Other strings cannot be ordered (``ValidationError``); ``None`` matches
  nothing.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tfe.core.errors import ValidationError
from tfe.core.security.scope import AccessScope

Scalar = str | int | float | bool

COMPARISONS = ("==", "!=", "in", "not in", ">", ">=", "<", "<=")
ORDERING = (">", ">=", "<", "<=")
LOGICAL = ("AND", "OR", "NOT")
FIELD_FACET = "field."  # facet names ``field.<name>`` filter on a document's typed field
SORT_FIELD = "date"  # the meta field browsing (empty query text) orders by, newest first

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_I64 = 2**63


def keyword(value: Any) -> str:
    """The string form of a scalar (facet values, stored JSON of dates, the browse sort key)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def as_scalar(value: Any) -> Scalar | None:
    """A meta or filter value as an indexable scalar (``None``: not filterable, e.g. NaN, bytes, objects)."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if -_I64 <= value < _I64 else float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return None


def filter_values(meta: dict[str, Any]) -> dict[str, list[Scalar]]:
    """``meta`` flattened to dotted paths -> scalars (``{"a": {"b": 1}}`` -> ``{"a.b": [1]}``).

    Lists are multi-valued; ``None``, empty lists and private keys (``_...``, e.g. the Haystack copy of a
    document) are left out, so a field is "missing" exactly when it has no value here.
    """
    out: dict[str, list[Scalar]] = {}

    def walk(path: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                key = str(k)
                if key and not (not path and key.startswith("_")):
                    walk(f"{path}.{key}" if path else key, v)
        elif isinstance(value, list | tuple | set | frozenset):
            for v in value:
                walk(path, v)
        else:
            scalar = as_scalar(value)
            if scalar is not None and path:
                out.setdefault(path, []).append(scalar)

    walk("", meta)
    return out


def _looks_like_iso_date(value: str) -> bool:
    """A ``YYYY-MM-DD`` prefix, alone or followed by a time (Haystack's cheap test before parsing)."""
    return (
        len(value) >= 10
        and value[:4].isdigit()
        and value[4] == "-"
        and value[5:7].isdigit()
        and value[7] == "-"
        and value[8:10].isdigit()
        and (len(value) == 10 or value[10] in "Tt ")
    )


def instant(value: Any) -> int | None:
    """Microseconds since 1970 (UTC) of an ISO 8601 date string or ``datetime``; ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and _looks_like_iso_date(value):
        try:  # RFC 3339 allows a lower-case "t" and "z"; Python's parser wants them upper-case
            when = datetime.fromisoformat(value[:10] + value[10:].upper())
        except ValueError:
            return None
    else:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - _EPOCH) // timedelta(microseconds=1)


def instant_values(values: dict[str, list[Scalar]]) -> dict[str, list[int]]:
    """The instants among flattened values (what engines index to order dates)."""
    out: dict[str, list[int]] = {}
    for path, vals in values.items():
        found = [t for t in (instant(v) for v in vals if isinstance(v, str)) if t is not None]
        if found:
            out[path] = found
    return out


def term_key(value: Scalar) -> tuple[int, Any]:
    """Equality identity of a scalar: booleans, numbers (int and float alike) and strings never mix."""
    if isinstance(value, bool):
        return (0, value)
    if isinstance(value, int | float):
        return (1, float(value))
    return (2, value)


def field_path(name: str) -> str:
    """``meta.sectors`` -> ``sectors`` (the path in ``filter_values``); bare names are meta fields too."""
    path = name[5:] if name.startswith("meta.") else name
    if not path or path.startswith("_") or any(not part for part in path.split(".")):
        raise ValidationError(f"cannot filter search results on field {name!r}")
    return path


def order_operand(value: Any) -> tuple[str, float] | None:
    """The right side of ``> >= < <=``: ``("number", x)`` or ``("instant", microseconds)``; ``None``
    (no document matches) for a ``None`` value."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValidationError("cannot order-compare with a non-finite number")
        return ("number", float(value))
    when = instant(value)
    if when is None:
        raise ValidationError(
            f"cannot order-compare with {value!r}: only numbers and ISO 8601 dates are ordered"
        )
    return ("instant", float(when))


def combine(*filters: dict[str, Any] | None) -> dict[str, Any] | None:
    """AND the given filters, dropping ``None`` (no restriction)."""
    present = [f for f in filters if f]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return {"operator": "AND", "conditions": present}


# Rejected watch items (``meta.curator_status``, set on item passages by a curator's decision) stay out of
# every search except those of curators, administrators and system jobs; passages without the field
# (documents, items never decided) are kept (``!=`` matches a missing field).
REVIEWER_ROLES = frozenset({"curator", "admin"})
NOT_REJECTED: dict[str, Any] = {"field": "meta.curator_status", "operator": "!=", "value": "rejected"}


def visible_filter(scope: AccessScope) -> dict[str, Any] | None:
    """What ``scope`` may find: its access filter, the documents' status rule (other organisations' drafts
    and, unless asked for, archived documents left out: ``AccessScope.document_filter``), and no rejected
    item unless it reviews items."""
    access = combine(scope.haystack_filter(), scope.document_filter())
    if scope.system or scope.roles & REVIEWER_ROLES:
        return access
    return combine(access, NOT_REJECTED)


def facet_filter(facets: dict[str, list[str]]) -> dict[str, Any] | None:
    """API facet selections as a Haystack filter: OR within a facet, AND across facets.

    ``sector`` matches ``sectors`` (which holds every ancestor, so a section, division or class all work),
    ``country`` matches ``countries`` or ``regions`` (a zone selects its countries' documents), ``type``
    matches ``doc_type``, ``org`` matches ``org_id`` (ids), ``language`` and ``status`` their field;
    ``field.<name>`` matches the typed field ``fields.<name>`` of documents (their
    filterable values are indexed as keywords: ``"EUR"``, ``"true"``, ``"2024"``, concept ids).
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
        elif facet == "org":  # organisation ids (the meta value is an integer)
            try:
                ids: list[Any] = [int(v) for v in wanted]
            except ValueError as e:
                raise ValidationError("organisation filter values must be organisation ids") from e
            conditions.append({"field": "meta.org_id", "operator": "in", "value": ids})
        elif facet == "filiere":  # ``filieres`` holds every ancestor: a filière selects its sous-filières
            conditions.append({"field": "meta.filieres", "operator": "in", "value": wanted})
        elif facet == "signal":
            conditions.append({"field": "meta.signals", "operator": "in", "value": wanted})
        elif facet in ("language", "status"):
            conditions.append({"field": f"meta.{facet}", "operator": "in", "value": wanted})
        elif facet.startswith(FIELD_FACET):  # a typed document field (``ged.field_schema``): keywords
            path = field_path(f"fields.{facet[len(FIELD_FACET) :]}")
            conditions.append({"field": f"meta.{path}", "operator": "in", "value": wanted})
        else:
            raise ValidationError(f"unknown facet {facet!r}")
    return combine(*conditions)


def date_filter(date_from: date | None, date_to: date | None) -> dict[str, Any] | None:
    """``meta.date`` within ``[date_from, date_to]``, both whole days (UTC) and optional; passages
    without a date are left out as soon as one bound is given."""
    conditions: list[dict[str, Any]] = []
    if date_from is not None:
        conditions.append({"field": f"meta.{SORT_FIELD}", "operator": ">=", "value": date_from.isoformat()})
    if date_to is not None:
        end = (date_to + timedelta(days=1)).isoformat()
        conditions.append({"field": f"meta.{SORT_FIELD}", "operator": "<", "value": end})
    return combine(*conditions)


def _check_equality_value(op: str, value: Any) -> None:
    if value is not None and as_scalar(value) is None:
        raise ValidationError(f"operator {op!r} needs a string, number, boolean, date or None")


def check(node: Any) -> None:
    """Raise ``ValidationError`` unless ``node`` is a well-formed filter every engine can evaluate."""
    if not isinstance(node, dict) or "operator" not in node:
        raise ValidationError("filter without an operator")
    op = node["operator"]
    if "conditions" in node:
        if op not in LOGICAL:
            raise ValidationError(f"unknown logical operator {op!r}")
        if not isinstance(node["conditions"], list):
            raise ValidationError("conditions must be a list")
        for child in node["conditions"]:
            check(child)
        return
    if op not in COMPARISONS:
        raise ValidationError(f"unknown comparison operator {op!r}")
    if "field" not in node or "value" not in node or not isinstance(node["field"], str):
        raise ValidationError("comparison needs a field and a value")
    field_path(node["field"])
    value = node["value"]
    if op in ("in", "not in"):
        if not isinstance(value, list):
            raise ValidationError(f"operator {op!r} needs a list value")
        for v in value:
            _check_equality_value(op, v)
    elif op in ORDERING:
        if isinstance(value, list):
            raise ValidationError(f"operator {op!r} cannot take a list value")
        order_operand(value)
    else:
        _check_equality_value(op, value)
