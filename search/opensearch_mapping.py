"""The OpenSearch index of passages: its template (French analysis, keyword facets, ``knn_vector``) and how a
passage becomes an OpenSearch document.

Analysis (``ANALYZER``): standard tokenizer -> elision (« l'énergie » -> « énergie ») -> lowercase -> French
stop words -> ASCII folding -> light French stemmer, for ``title`` and ``text`` (the title followed by the
text, as the embedded index has it); ``text_exact`` is the same chain without the stemmer. A test server
that cannot run that chain (osmem-server indexes with bleve and mis-handles the ``stemmer`` filter) is
given OpenSearch's built-in ``french`` analyzer instead (``analyzer="french"``); production clusters use
``ANALYZER``.

The index stores no original text: ``_source`` leaves out the text fields and the filter encodings, so a
stored document holds ids, facet values and the vector; titles and texts come from the passage store
(``search.passage_store``) like the embedded backend's. Filters (``search.opensearch_query``) run on:

- ``mk``: one keyword per flattened meta value, typed (``s``: string, ``n``: number as a float, ``b``:
  boolean) and prefixed by its path, so ``2 == 2.0`` and ``"true" != true`` as ``search.filters`` says;
- ``mp``: the paths that have a value (``== None`` is ``mp`` missing the path);
- ``mn`` / ``md``: nested (path, number) and (path, instant in microseconds) pairs for ``> >= < <=`` and
  for date equality across spellings;
- ``f_<field>``: the facet fields of ``search.types.FACET_FIELDS`` (and the boost fields) as keywords, for
  terms aggregations; ``sort_instant``: ``meta.date`` as an instant (sorting by date, undated last).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from search.embeddings import DIM
from search.filters import SORT_FIELD, Scalar, filter_values, instant, instant_values, keyword
from search.types import FACET_FIELDS, Passage

ANALYZER = "tfe_french"
EXACT_ANALYZER = "tfe_french_exact"
ANALYZERS = ("tfe_french", "french")  # ours (production), or the built-in one (test servers)
TEMPLATE = "tfe-passages"  # the composable index template's name
SEP = "\x1f"  # between the type, the path and the value of an ``mk`` keyword
# meta fields kept as keywords (facets, boosts and explanations read them back from ``_source``)
KEYWORD_FIELDS = tuple(dict.fromkeys([*FACET_FIELDS.values(), "sectors", "regions"]))
HIDDEN = ["title", "text", "text_exact", "mk", "mp", "mn", "md"]  # indexed, never in ``_source``

_ELISIONS = ["l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu", "lorsqu", "puisqu"]


def analysis() -> dict[str, Any]:
    """The ``tfe_french`` chains (stemmed and exact)."""
    chain = ["tfe_elision", "lowercase", "tfe_french_stop", "asciifolding"]
    return {
        "filter": {
            "tfe_elision": {"type": "elision", "articles_case": True, "articles": _ELISIONS},
            "tfe_french_stop": {"type": "stop", "stopwords": "_french_"},
            "tfe_french_stemmer": {"type": "stemmer", "language": "light_french"},
        },
        "analyzer": {
            ANALYZER: {"type": "custom", "tokenizer": "standard", "filter": [*chain, "tfe_french_stemmer"]},
            EXACT_ANALYZER: {"type": "custom", "tokenizer": "standard", "filter": chain},
        },
    }


def mappings(analyzer: str = ANALYZER, dim: int = DIM) -> dict[str, Any]:
    stemmed = analyzer
    exact = EXACT_ANALYZER if analyzer == ANALYZER else "standard"
    keyword_field = {"type": "keyword"}
    pair = {"type": "nested", "properties": {"p": keyword_field, "v": {"type": "double"}}}
    when = {"type": "nested", "properties": {"p": keyword_field, "v": {"type": "long"}}}
    return {
        "dynamic": "strict",
        "_source": {"excludes": HIDDEN},
        "properties": {
            "id": keyword_field,
            "parent_id": keyword_field,
            "position": {"type": "integer"},
            "seq": {"type": "long"},
            "title": {"type": "text", "analyzer": stemmed},
            "text": {"type": "text", "analyzer": stemmed},
            "text_exact": {"type": "text", "analyzer": exact},
            "sort_instant": {"type": "long"},
            "has_vec": {"type": "boolean"},
            "embedding": {
                "type": "knn_vector",
                "dimension": dim,
                "method": {"name": "hnsw", "space_type": "cosinesimil", "engine": "lucene"},
            },
            "mk": keyword_field,
            "mp": keyword_field,
            "mn": pair,
            "md": when,
            **{facet_field(f): keyword_field for f in KEYWORD_FIELDS},
        },
    }


def settings(analyzer: str = ANALYZER, shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {"number_of_shards": shards, "number_of_replicas": replicas, "knn": True}
    if analyzer == ANALYZER:
        out["analysis"] = analysis()
    return out


def index_template(pattern: str, analyzer: str = ANALYZER, replicas: int = 0) -> dict[str, Any]:
    """The composable index template (``PUT _index_template/tfe-passages``) for indices named ``pattern``."""
    return {
        "index_patterns": [pattern],
        "priority": 100,
        "template": {"settings": settings(analyzer, replicas=replicas), "mappings": mappings(analyzer)},
        "_meta": {"tfe": "passages", "analyzer": analyzer},
    }


def facet_field(meta_field: str) -> str:
    return f"f_{meta_field}"


def mk(kind: str, path: str, value: str) -> str:
    return f"{kind}{SEP}{path}{SEP}{value}"


def typed_key(value: Scalar) -> str:
    """The ``mk`` form of one scalar at ``path`` (see ``search.filters.term_key``)."""
    if isinstance(value, bool):
        return "b" + SEP + ("true" if value else "false")
    if isinstance(value, int | float):
        return "n" + SEP + repr(float(value))
    return "s" + SEP + value


def mk_of(path: str, value: Scalar) -> str:
    kind, _sep, text = typed_key(value).partition(SEP)
    return mk(kind, path, text)


def to_source(passage: Passage, seq: int) -> dict[str, Any]:
    """The OpenSearch document of one passage (``_id`` is ``passage.id``)."""
    values = filter_values(passage.meta)
    doc: dict[str, Any] = {
        "id": passage.id,
        "parent_id": passage.parent_id,
        "position": passage.position,
        "seq": seq,
        "title": passage.title or "",
        "text": "\n".join(part for part in (passage.title, passage.text) if part),
        "has_vec": passage.embedding is not None,
        "mk": [mk_of(path, v) for path, vals in values.items() for v in vals],
        "mp": list(values),
        "mn": [
            {"p": path, "v": float(v)}
            for path, vals in values.items()
            for v in vals
            if isinstance(v, int | float) and not isinstance(v, bool)
        ],
        "md": [{"p": path, "v": t} for path, ts in instant_values(values).items() for t in ts],
    }
    doc["text_exact"] = doc["text"]
    when = passage.meta.get(SORT_FIELD)
    stamp = instant(keyword(when)) if when is not None and not isinstance(when, list | dict) else None
    if stamp is not None:
        doc["sort_instant"] = stamp
    for name in KEYWORD_FIELDS:
        found = [keyword(v) for v in values.get(name, [])]
        if found:
            doc[facet_field(name)] = found
    if passage.embedding is not None:
        doc["embedding"] = np.asarray(passage.embedding, dtype=np.float32).reshape(-1).tolist()
    return doc
