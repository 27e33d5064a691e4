"""The passages one OpenSearch search sees, numbered locally (``search.fusion`` ranks integers), with the
vectors and facet values their hits returned in ``_source``; and the query boosts applied on them."""

from __future__ import annotations

from typing import Any

import numpy as np

from search.columns import Columns
from search.filters import Scalar
from search.opensearch_mapping import KEYWORD_FIELDS, facet_field
from search.types import SearchQuery


class Rows:
    """Local numbering of the passages one search sees (``fusion`` ranks integers)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.parent: list[str] = []
        self.vec: list[np.ndarray | None] = []
        self.meta: list[dict[str, list[Scalar]]] = []  # the facet values in ``_source`` (boosts)
        self._row: dict[str, int] = {}

    def add(self, hit: dict[str, Any]) -> int:
        row = self._row.get(hit["_id"])
        src = hit.get("_source") or {}
        emb = src.get("embedding")
        if row is None:
            row = self._row[hit["_id"]] = len(self.ids)
            self.ids.append(hit["_id"])
            self.parent.append(src.get("parent_id", hit["_id"]))
            self.vec.append(None)
            self.meta.append({})
        if not self.meta[row]:
            self.meta[row] = _facet_values(src)
        if emb is not None and self.vec[row] is None:
            self.vec[row] = np.asarray(emb, dtype=np.float32)
        return row

    def cosines(self, qvec: np.ndarray | None, rows: list[int]) -> list[float | None]:
        if qvec is None:
            return [None] * len(rows)
        out: list[float | None] = []
        for r in rows:
            vec = self.vec[r]
            out.append(None if vec is None else float(np.dot(vec, qvec)))
        return out


def _facet_values(src: dict[str, Any]) -> dict[str, list[Scalar]]:
    """The meta fields kept in ``_source`` (``f_<field>`` keywords) back under their meta names, typed as
    ``search.filters`` expects them (organisation ids are integers)."""
    out: dict[str, list[Scalar]] = {}
    for name in KEYWORD_FIELDS:
        vals = src.get(facet_field(name))
        if vals:
            out[name] = [int(v) if name == "org_id" and v.lstrip("-").isdigit() else v for v in vals]
    return out


def boosted(query: SearchQuery, rows: Rows, ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """``query.boosts``: the fused score of a passage carrying a recognised concept multiplied by
    ``1 + BOOST`` per facet (``search.understanding.boosted``, the embedded backend's rule), never a filter;
    the facet filters are evaluated on the facet values the hits carry (``_source``)."""
    if not any(query.boosts.values()) or not ranked:
        return ranked
    from search import understanding

    fields: dict[str, list[list[Scalar]]] = {}
    for row, meta in enumerate(rows.meta):
        for path, vals in meta.items():
            col = fields.setdefault(path, [])
            col.extend([] for _ in range(row - len(col)))
            col.append(vals)
    columns = Columns(fields, len(rows.ids))
    return understanding.boosted(ranked, query.boosts, columns.mask)
