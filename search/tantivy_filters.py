"""A Haystack filter as a Tantivy query, over two JSON fields of the index.

``meta`` holds every filterable meta value (``search.filters.filter_values``: strings, numbers, booleans,
typed as Tantivy's JSON fields type them) and ``meta_date`` the instants of its ISO date strings, in
microseconds (``search.filters.instant_values``). Equality is a term query on the JSON path (date
strings also match by instant, since Tantivy itself indexes RFC 3339 strings as dates), ``None`` is a
missing path (``exists_query``), order comparisons are fast-field range queries on the path (numbers on
``meta``, dates on ``meta_date``). The semantics are those documented in ``search.filters``, the same as
the vector mask's (``search.columns``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tantivy

from search.filters import Scalar, as_scalar, field_path, instant, instant_values, order_operand
from tfe.core.errors import ValidationError

META = "meta"
META_DATE = "meta_date"


def add_fields(sb: tantivy.SchemaBuilder) -> None:
    """The two JSON fields (raw strings, fast so that ranges and missing-field tests work)."""
    for name in (META, META_DATE):
        sb.add_json_field(
            name,
            stored=False,
            fast=True,
            tokenizer_name="raw",
            index_option="basic",
            expand_dots_enabled=True,
        )


def add_values(doc: tantivy.Document, values: dict[str, list[Scalar]]) -> None:
    """Index a passage's flattened meta values (dotted paths expand into nested JSON paths)."""
    if values:
        doc.add_json(META, values)
    instants = instant_values(values)
    if instants:
        doc.add_json(META_DATE, instants)


def _must(*queries: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])


def _any(queries: list[tantivy.Query]) -> tantivy.Query:
    if not queries:
        return tantivy.Query.empty_query()
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])


def _not(query: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, tantivy.Query.all_query()), (tantivy.Occur.MustNot, query)]
    )


def _escape(path: str) -> str:
    """A JSON path as the query parser reads it (each special character escaped; dots separate keys)."""
    if "\\" in path:
        raise ValidationError(f"cannot order-compare on field {path!r}")
    return ".".join(
        "".join(c if c.isalnum() or c in "_-" else "\\" + c for c in part) for part in path.split(".")
    )


def _number(x: float) -> str:
    if x.is_integer() and abs(x) < 2**63:
        return str(int(x))
    return str(np.format_float_positional(x, unique=True, trim="-"))


def _equal(schema: tantivy.Schema, path: str, value: Any) -> tantivy.Query:
    if value is None:
        return _not(tantivy.Query.exists_query(f"{META}.{path}"))
    scalar = as_scalar(value)
    queries = [] if scalar is None else [tantivy.Query.term_query(schema, f"{META}.{path}", scalar)]
    when = instant(value)
    if when is not None:
        queries.append(tantivy.Query.term_query(schema, f"{META_DATE}.{path}", when))
    return _any(queries)


def filter_query(index: tantivy.Index, node: dict[str, Any] | None) -> tantivy.Query:
    """The Tantivy query of a filter already validated by ``search.filters.check`` (``None``: all)."""
    if node is None:
        return tantivy.Query.all_query()
    schema = index.schema
    op = node["operator"]
    if "conditions" in node:
        subs = [filter_query(index, c) for c in node["conditions"]]
        if op == "OR":
            return _any(subs)
        both = _must(*subs) if subs else tantivy.Query.all_query()
        return both if op == "AND" else _not(both)
    path = field_path(node["field"])
    value = node["value"]
    if op in ("==", "!="):
        q = _equal(schema, path, value)
        return q if op == "==" else _not(q)
    if op in ("in", "not in"):
        q = _any([_equal(schema, path, v) for v in value])
        return q if op == "in" else _not(q)
    operand = order_operand(value)
    if operand is None:
        return tantivy.Query.empty_query()
    kind, bound = operand
    field = META if kind == "number" else META_DATE
    return index.parse_query(f"{field}.{_escape(path)}:{op}{_number(bound)}", [])
