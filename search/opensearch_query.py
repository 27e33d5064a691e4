"""Haystack filters and user text as OpenSearch query DSL, and the aggregations of a result set.

``filter_dsl`` translates a filter already validated by ``search.filters.check`` onto the fields of
``search.opensearch_mapping`` with the semantics of ``search.filters`` (the same as the embedded engines':
typed equality, ``None`` as a missing field, ``!=``/``not in`` matching missing fields, any element of a
list, dates compared as instants); the parity tests hold it to the reference mask (``search.columns``).
The scope filter always goes into the ``filter`` clause of a bool query, of the searches and of the
aggregations alike: nothing is filtered after the fact.

``text_dsl`` turns what a user typed into match queries over ``text`` (title and text), ``title`` and
``text_exact`` (weights as the embedded backend's, ``search.tantivy_index``); quoted parts are phrases,
``-word``/``NOT word`` exclude, ``OR`` turns a keyword query into any-word; other syntax is dropped
(``search.tantivy_index.sanitize``), so nothing typed raises.
"""

from __future__ import annotations

import re
from typing import Any

from search import tantivy_index as ti
from search.filters import as_scalar, field_path, instant, order_operand
from search.opensearch_mapping import KEYWORD_FIELDS, facet_field, mk_of
from search.types import FACET_FIELDS

MATCH_ALL: dict[str, Any] = {"match_all": {}}
MATCH_NONE: dict[str, Any] = {"match_none": {}}
FACET_SIZE = 1000  # distinct values counted per facet
# exact below this many distinct parents (HyperLogLog above it on a real cluster; osmem is always exact)
PRECISION = 40_000
_RANGE = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
_TOKEN = re.compile(r'[-+]?"[^"]*"|\S+')


def _not(q: dict[str, Any]) -> dict[str, Any]:
    return {"bool": {"must_not": [q]}}


def _any(qs: list[dict[str, Any]]) -> dict[str, Any]:
    if not qs:
        return MATCH_NONE
    if len(qs) == 1:
        return qs[0]
    return {"bool": {"should": qs, "minimum_should_match": 1}}


def _nested(name: str, path: str, cond: dict[str, Any]) -> dict[str, Any]:
    must = [{"term": {f"{name}.p": path}}, cond]
    return {"nested": {"path": name, "query": {"bool": {"filter": must}}}}


def _equal(path: str, value: Any) -> dict[str, Any]:
    if value is None:
        return _not({"term": {"mp": path}})
    scalar = as_scalar(value)
    qs: list[dict[str, Any]] = [] if scalar is None else [{"term": {"mk": mk_of(path, scalar)}}]
    when = instant(value)
    if when is not None:
        qs.append(_nested("md", path, {"term": {"md.v": when}}))
    return _any(qs)


def filter_dsl(node: dict[str, Any] | None) -> dict[str, Any]:
    """The query of a validated Haystack filter (``None``: everything)."""
    if node is None:
        return MATCH_ALL
    op = node["operator"]
    if "conditions" in node:
        subs = [filter_dsl(c) for c in node["conditions"]]
        if op == "OR":
            return _any(subs)
        both = {"bool": {"filter": subs}} if subs else MATCH_ALL
        return both if op == "AND" else _not(both)
    path = field_path(node["field"])
    value = node["value"]
    if op in ("==", "!="):
        q = _equal(path, value)
        return q if op == "==" else _not(q)
    if op in ("in", "not in"):
        q = _any([_equal(path, v) for v in value])
        return q if op == "in" else _not(q)
    operand = order_operand(value)
    if operand is None:
        return MATCH_NONE
    kind, bound = operand
    name = "mn" if kind == "number" else "md"
    return _nested(
        name, path, {"range": {f"{name}.v": {_RANGE[op]: bound if kind == "number" else int(bound)}}}
    )


def scoped(filter_query: dict[str, Any], exclude_parents: tuple[str, ...] = ()) -> dict[str, Any]:
    """The filter clause of every query: the search's filter, less the excluded parents."""
    out: dict[str, Any] = {"bool": {"filter": [filter_query]}}
    if exclude_parents:
        out["bool"]["must_not"] = [{"terms": {"parent_id": list(exclude_parents)}}]
    return out


def _parts(text: str) -> tuple[list[str], str, list[dict[str, Any]], bool]:
    """(quoted phrases, the other words without syntax, the excluded words and phrases as queries, whether
    ``OR`` appears): ``-word``, ``-"a phrase"`` and ``NOT word`` exclude; ``AND``/``OR`` are operators."""
    phrases: list[str] = []
    words: list[str] = []
    excluded: list[dict[str, Any]] = []
    any_of = negate_next = False
    for token in _TOKEN.findall(text):
        if token in ("AND", "OR", "NOT"):
            any_of = any_of or token == "OR"
            negate_next = token == "NOT"
            continue
        negated = negate_next or (token.startswith("-") and len(token) > 1)
        negate_next = False
        bare = token.lstrip("-+")
        quoted = len(bare) > 1 and bare.startswith('"') and bare.endswith('"')
        plain = ti.sanitize(bare)
        if not plain:
            continue
        if negated:
            excluded.append({"match_phrase" if quoted else "match": {"text": {"query": plain}}})
        elif quoted:
            phrases.append(plain)
        else:
            words.append(plain)
    return phrases, " ".join(words), excluded, any_of


def _words_dsl(text: str, conjunction: bool) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(the scoring query of ``text`` without its exclusions, the excluded words as queries)."""
    phrases, rest, excluded, any_of = _parts(text)
    pairs = [] if conjunction else ti.word_pairs(text)  # as ``tantivy_index.with_proximity``
    conjunction = conjunction and not any_of
    required: list[dict[str, Any]] = []
    optional: list[dict[str, Any]] = []
    if rest:
        main = {"match": {"text": {"query": rest, "operator": "and" if conjunction else "or"}}}
        (required if conjunction else optional).append(main)
        optional.append({"match": {"title": {"query": rest, "boost": ti.TITLE_BOOST}}})
        optional.append({"match": {"text_exact": {"query": rest, "boost": ti.EXACT_BOOST}}})
    for phrase in phrases:
        required.append({"match_phrase": {"text": {"query": phrase}}})
    for first, second in pairs:  # only with a scoring clause: a pair's phrase never widens the matches
        near = {"query": f"{first} {second}", "slop": ti.PROXIMITY_SLOP, "boost": ti.PROXIMITY_BOOST}
        optional.append({"match_phrase": {"text": near}})
    if not required and not optional:
        return None, excluded
    body: dict[str, Any] = {"should": optional}
    if required:
        body["must"] = required
    else:
        body["minimum_should_match"] = 1
    return {"bool": body}, excluded


def text_dsl(
    text: str, *, conjunction: bool = False, expansions: list[tuple[str, float]] | None = None
) -> dict[str, Any] | None:
    """The scoring query of user text (``None`` when nothing searchable is left); ``conjunction``: every
    word required (keyword queries, unless ``OR`` is typed); ``expansions``: alternative texts (a typo's
    correction, a synonym) OR-ed with the typed one, each read the same way and weighted below 1, as
    ``search.understanding.text_query`` does; excluded words (``-mot``, ``NOT mot``) never match, alone
    they exclude from everything."""
    query, excluded = _words_dsl(text, conjunction)
    alternatives: list[dict[str, Any]] = [query] if query is not None else []
    for alt, weight in expansions or []:
        extra, _ = _words_dsl(alt, conjunction)
        if extra is not None and weight > 0:
            alternatives.append({"bool": {"must": [extra], "boost": float(weight)}})
    if not alternatives:
        if not excluded:
            return None
        alternatives = [MATCH_ALL]
    body: dict[str, Any] = (
        {"must": alternatives}
        if len(alternatives) == 1
        else {"should": alternatives, "minimum_should_match": 1}
    )
    if excluded:
        body["must_not"] = excluded
    return {"bool": body}


def any_word_dsl(text: str) -> dict[str, Any] | None:
    """Whether any word occurs (the relevance floor's ``lexical``)."""
    words = ti.sanitize(text.replace('"', " "))
    return {"match": {"text": {"query": words, "operator": "or"}}} if words else None


def combined(scoring: dict[str, Any] | None, where: dict[str, Any]) -> dict[str, Any]:
    """A scoring query restricted by ``where`` (the scope and facets) in the filter clause."""
    if scoring is None:
        return {"bool": {"filter": [where]}}
    return {"bool": {"must": [scoring], "filter": [where]}}


def aggregations() -> dict[str, Any]:
    """Totals (distinct parents) and the facets (distinct parents per value), computed by the engine."""
    parents = {"cardinality": {"field": "parent_id", "precision_threshold": PRECISION}}
    aggs: dict[str, Any] = {"parents": parents}
    for name, fld in FACET_FIELDS.items():
        assert fld in KEYWORD_FIELDS
        aggs[f"facet_{name}"] = {
            "terms": {"field": facet_field(fld), "size": FACET_SIZE},
            "aggs": {"parents": parents},
        }
    return aggs


def read_aggregations(aggs: dict[str, Any]) -> tuple[int, dict[str, list[tuple[str, int]]]]:
    """(total distinct parents, facet name -> [(value, distinct parents)], most frequent first)."""
    total = int(aggs.get("parents", {}).get("value", 0))
    facets: dict[str, list[tuple[str, int]]] = {}
    for name in FACET_FIELDS:
        buckets = aggs.get(f"facet_{name}", {}).get("buckets", [])
        counts = [(str(b["key"]), int(b["parents"]["value"])) for b in buckets if b["parents"]["value"]]
        counts.sort(key=lambda vc: (-vc[1], vc[0]))
        facets[name] = counts
    return total, facets
