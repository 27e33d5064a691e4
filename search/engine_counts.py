"""Totals and facet counts of a large result set computed inside Tantivy (aggregations), not in Python.

The embedded backend ranks only the first ``fusion.rank_depth`` BM25 matches. When the scoped query has
no more matches than ``EXACT_MATCHES`` passages, it reads them all and counts distinct parents exactly in
numpy (``search.vectors.VectorTable.facet_counts``); above, reading every match into Python is what made
the tail slow (about 45 ms per 100,000 hits), so one Tantivy aggregation over the scoped query gives the
number of matching passages, the distinct parents (``cardinality`` on ``parent_id``) and, per facet field,
the distinct parents of each value (a ``terms`` aggregation on the ``meta`` JSON path with a
``cardinality`` sub-aggregation). Tantivy's cardinality is a HyperLogLog estimate (about ±2.5 %), so
above ``EXACT_MATCHES`` totals and facet counts are estimates, clamped to what is certain (a value's
parents never exceed its passages nor the total); below, they stay exact (docs/decisions.md).

The hybrid result set is every BM25 match plus a few vector-only candidates (``search.fusion``): those
(at most ``fusion.VECTOR_EXTRA`` rows) are added exactly, per parent, by ``add_extras``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import tantivy

from search.filters import keyword
from search.tantivy_filters import META

EXACT_MATCHES = 5000  # up to this many scoped BM25 matches (passages), counts are exact
TERMS_SIZE = 10_000  # distinct values per facet listed (every one in practice: sectors, countries, orgs)


@dataclass
class Counted:
    """Totals and facets of a result set (``total``: distinct parents)."""

    total: int
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    passages: int = 0  # matching passages (exact)


def matches(searcher: tantivy.Searcher, query: tantivy.Query) -> int:
    """How many passages ``query`` matches (no scoring)."""
    out = searcher.aggregate(query, {"n": {"value_count": {"field": "key"}}})
    return int(out["n"]["value"] or 0)


def aggregate(searcher: tantivy.Searcher, query: tantivy.Query, fields: dict[str, str]) -> Counted:
    """Passages, distinct parents and per-facet counts of ``query`` (facet name -> meta path), estimated:
    the parents by Tantivy's cardinality, each value's parents as its matching passages times the result
    set's parents per passage (clamped: at least 1, at most its passages and the total)."""
    spec: dict[str, object] = {
        "n": {"value_count": {"field": "key"}},
        "parents": {"cardinality": {"field": "parent_id"}},
    }
    for name, path in fields.items():
        spec[f"f:{name}"] = {
            "terms": {"field": f"{META}.{path}", "size": TERMS_SIZE, "segment_size": TERMS_SIZE}
        }
    out = searcher.aggregate(query, spec)
    passages = int(out["n"]["value"] or 0)
    if passages == 0:
        return Counted(total=0, facets={name: [] for name in fields}, passages=0)
    total = min(passages, max(1, round(out["parents"]["value"] or 0)))
    ratio = total / passages
    facets: dict[str, list[tuple[str, int]]] = {}
    for name in fields:
        counts = []
        for bucket in out[f"f:{name}"]["buckets"]:
            docs = int(bucket["doc_count"])
            if docs:
                counts.append((keyword(bucket["key"]), max(1, min(docs, total, round(docs * ratio)))))
        facets[name] = sorted(counts, key=lambda vc: (-vc[1], vc[0]))
    return Counted(total=total, facets=facets, passages=passages)


def add_extras(
    counted: Counted,
    extras: dict[str, list[int]],
    matched_rows_of: Callable[[str], np.ndarray],
    values_of: Callable[[str, np.ndarray], set[str]],
    fields: dict[str, str],
) -> Counted:
    """Add vector-only candidates to aggregated counts, exactly: ``extras`` maps a parent to its rows that
    joined the result set; ``matched_rows_of(parent)`` gives that parent's rows the BM25 query matches,
    ``values_of(path, rows)`` the facet values of rows. A parent with no BM25 match adds one to the total;
    each value its extra rows carry and its matched rows do not adds one to that value's count."""
    facets = {name: dict(counts) for name, counts in counted.facets.items()}
    total = counted.total
    for parent, rows in extras.items():
        extra = np.asarray(rows, dtype=np.int64)
        matched = matched_rows_of(parent)
        if len(matched) == 0:
            total += 1
        for name, path in fields.items():
            new = values_of(path, extra) - (values_of(path, matched) if len(matched) else set())
            for value in new:
                facets[name][value] = facets[name].get(value, 0) + 1
    out = {n: sorted(c.items(), key=lambda vc: (-vc[1], vc[0])) for n, c in facets.items()}
    return Counted(total=total, facets=out, passages=counted.passages)
