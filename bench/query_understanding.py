"""PIAF (dev) BM25 nDCG@10 with query understanding (synonym and correction expansions at several weights).

Run: .venv/bin/python bench/query_understanding.py (about 2 minutes); one JSON line per setting."""

import json
import tempfile
import time
from dataclasses import replace
from functools import partial
from pathlib import Path

from search import understanding as U
from search.embedded import EmbeddedBackend
from search.evaluation import _read_jsonl, ndcg_at_k, read_qrels
from search.types import Passage, SearchQuery
from taxonomy.query_concepts import recognise
from taxonomy.referential import Referential
from tfe.core.security.scope import AccessScope

d = Path("/work/shared/data/eval/retrieval/piaf")
corpus = _read_jsonl(d / "corpus.jsonl")
qrels = read_qrels(d / "qrels.tsv")
queries = [q for q in _read_jsonl(d / "queries.jsonl") if str(q["_id"]) in qrels]
ref = Referential.load()
rec = partial(recognise, ref)
b = EmbeddedBackend(Path(tempfile.mkdtemp()) / "i")
b.write(
    [
        Passage(
            id=f"{c['_id']}:0",
            parent_id=str(c["_id"]),
            title=c.get("title") or "",
            text=c.get("text") or "",
            meta={"visibility": "public", "kind": "document"},
        )
        for c in corpus
    ]
)
b.commit()
scope = AccessScope.everything()


def run(syn_w, corr_w, spell):
    U.SYNONYM_WEIGHT, U.CORRECTION_WEIGHT = syn_w, corr_w
    total = 0.0
    touched = 0
    for q in queries:
        sq = SearchQuery(text=q["text"], scope=scope, mode="bm25", limit=10)
        corrected = b.spelling(sq) if spell else None
        u = U.understand(q["text"], rec, corrected)
        if u.expansions:
            touched += 1
        res = b.search(replace(sq, expansions=u.expansions, boosts=u.boosts))
        total += ndcg_at_k([h.parent_id for h in res.hits], qrels[str(q["_id"])])
    return round(total / len(queries), 4), touched


for args in [
    (0, 0, False),
    (0.3, 0, False),
    (0.15, 0, False),
    (0, 0.5, True),
    (0, 0.8, True),
    (0.3, 0.5, True),
]:
    t = time.time()
    print(
        json.dumps(
            {
                "synonym_weight": args[0],
                "correction_weight": args[1],
                "spelling_on_every_query": args[2],
                "ndcg@10": run(*args)[0],
                "s": round(time.time() - t, 1),
            }
        ),
        flush=True,
    )
