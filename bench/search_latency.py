"""Search latency of the embedded backend at 10k and 100k passages (p50/p95 ms per mode), printed as JSON.

Run by hand: ``.venv/bin/python bench/search_latency.py [--sizes 10000 100000] [--queries 200]``.
Passages are synthetic French-like text with random unit vectors (embedding speed is not measured here);
queries run as a signed-in user so the access-scope filter is part of every query, as in production.
The passage texts live in a SQLite passage store beside the index (titles and snippets are read from it
for each page of hits, as in an installation); ``erase_s`` is one ``erase_parents`` (delete, then rebuild
the index from the store so no term remains) and ``rebuild_s`` a ``tfe reindex`` without embedding.

``--clients N [N...] (--serve DATA_DIR [--workers W] | --server URL --token T) [--duration S]``: the
concurrent-clients mode instead, ``GET /api/search`` against a running ``tfe serve``
(``bench/search_clients.py``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search.embedded import EmbeddedBackend
from search.embeddings import DIM
from search.testdata import file_store
from search.types import Mode, Passage, SearchQuery
from tfe.core.security.scope import AccessScope

STEMS = [
    "export",
    "march",
    "vin",
    "fromag",
    "energ",
    "solair",
    "client",
    "contrat",
    "douan",
    "tarif",
    "salon",
    "aéronaut",
    "automobil",
    "agroaliment",
    "cosmét",
    "pharmac",
    "numér",
    "logist",
    "transport",
    "banqu",
    "financ",
    "investiss",
    "prospect",
    "distribut",
    "import",
    "régl",
    "norm",
    "certific",
    "innov",
    "start",
]
ENDINGS = ["", "s", "e", "es", "ation", "ations", "ement", "ique", "iques", "eur", "eurs", "er", "é", "ée"]
FILLER = ["le", "la", "les", "des", "du", "de", "en", "au", "aux", "pour", "avec", "dans", "sur", "une", "un"]
COUNTRIES = ["DE", "ES", "IT", "US", "CN", "JP", "MA", "BR", "IN", "GB", "CA", "NO", "SG", "AE", "ZA"]
VIS = ["public", "network", "organisation", "private"]


def _words(rng: np.random.Generator, n: int) -> list[str]:
    vocab = [s + e for s in STEMS for e in ENDINGS]
    ranks = np.minimum(rng.zipf(1.3, n) - 1, len(vocab) - 1)
    out = []
    for r in ranks:
        out.append(vocab[int(r)] if rng.random() < 0.6 else FILLER[int(rng.integers(len(FILLER)))])
    return out


def make_passages(n: int, seed: int = 7) -> list[Passage]:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    passages = []
    for i in range(n):
        parent = f"doc-{i // 5}"
        div = f"{int(rng.integers(1, 99)):02d}"
        country = COUNTRIES[int(rng.integers(len(COUNTRIES)))]
        meta = {
            "kind": "document",
            "visibility": VIS[int(rng.integers(len(VIS)))],
            "org_id": int(rng.integers(1, 40)),
            "owner_user_id": int(rng.integers(1, 1800)),
            "sectors": ["naf:C", f"naf:{div}"],
            "sector_facet": [f"naf:{div}"],
            "countries": [f"country:{country}"],
            "regions": ["region:150"],
            "doc_type": f"doctype:t{int(rng.integers(8))}",
            "date": f"20{int(rng.integers(15, 25))}-{int(rng.integers(1, 13)):02d}-01",
        }
        passages.append(
            Passage(
                id=f"{parent}:{i % 5}",
                parent_id=parent,
                title=" ".join(_words(rng, 6)),
                text=" ".join(_words(rng, 80)),
                position=i % 5,
                meta=meta,
                embedding=vectors[i],
            )
        )
    return passages


def bench(size: int, queries: int, modes: list[Mode]) -> dict[str, object]:
    rng = np.random.default_rng(size)
    with tempfile.TemporaryDirectory(prefix="tfe-bench-") as tmp:
        texts = file_store(Path(tmp) / "texts.sqlite3")
        backend = EmbeddedBackend(Path(tmp) / "index", texts)
        passages = make_passages(size)
        t0 = time.perf_counter()
        for start in range(0, size, 5000):
            backend.write(passages[start : start + 5000])
        backend.commit()
        index_s = time.perf_counter() - t0
        del passages
        t0 = time.perf_counter()
        EmbeddedBackend(Path(tmp) / "index", texts).count()  # cold open of a reader (loads the matrix)
        open_s = time.perf_counter() - t0
        scope = AccessScope(user_id=5, org_id=3, roles=frozenset({"reader"}))
        texts = [" ".join(_words(rng, int(rng.integers(1, 5)))) for _ in range(queries)]
        qvecs = rng.standard_normal((queries, DIM)).astype(np.float32)
        qvecs /= np.linalg.norm(qvecs, axis=1, keepdims=True)
        out: dict[str, object] = {"passages": size, "index_s": round(index_s, 2), "open_s": round(open_s, 2)}
        for mode in modes:
            lat = []
            for i, text in enumerate(texts):
                q = SearchQuery(text=text, scope=scope, mode=mode, query_embedding=qvecs[i], limit=10)
                t0 = time.perf_counter()
                backend.search(q)
                lat.append((time.perf_counter() - t0) * 1000)
            out[mode] = {
                "p50_ms": round(statistics.median(lat), 2),
                "p95_ms": round(float(np.percentile(lat, 95)), 2),
            }
        filtered = []
        for i, text in enumerate(texts[:50]):
            q = SearchQuery(
                text=text,
                scope=scope,
                mode="hybrid",
                query_embedding=qvecs[i],
                filters={"sector": ["naf:C"], "country": ["country:DE", "region:150"]},
            )
            t0 = time.perf_counter()
            backend.search(q)
            filtered.append((time.perf_counter() - t0) * 1000)
        out["hybrid_with_facet_filters"] = {
            "p50_ms": round(statistics.median(filtered), 2),
            "p95_ms": round(float(np.percentile(filtered, 95)), 2),
        }
        t0 = time.perf_counter()
        backend.erase_parents(["doc-0"])
        out["erase_s"] = round(time.perf_counter() - t0, 2)
        out["rebuild_s"] = backend.rebuild()["seconds"]
        backend.close()
    return out


def main() -> None:
    if "--clients" in sys.argv[1:]:  # concurrent clients against a server (bench/search_clients.py)
        from bench.search_clients import main as clients_main

        clients_main(sys.argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    modes: list[Mode] = ["bm25", "vector", "hybrid"]
    results = [bench(size, args.queries, modes) for size in args.sizes]
    print(json.dumps({"benchmark": "search_latency", "results": results}, indent=2))


if __name__ == "__main__":
    main()
