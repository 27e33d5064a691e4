"""Search latency of the embedded backend at 10k, 100k, 1M passages (p50/p95 ms per mode), printed as JSON.

Run by hand: ``.venv/bin/python bench/search_latency.py [--sizes 10000 100000 1000000] [--queries 200]
[--embed-queries] [--no-rebuild]``. Passages are synthetic French-like text with random unit vectors,
generated and written 5,000 at a time (a million passages never sit in memory at once); queries run as a
signed-in user so the access-scope filter is part of every query, as in production.
``--embed-queries``: the vector and hybrid timings include embedding the query text (``search.embeddings``,
the query cache off), as a search box pays it; without it the query vectors are random and precomputed.
From 100,000 vectors the table searches an HNSW graph (``search.ann``), built by the commit and included
in ``index_s``; ``vector_recall_at_10`` compares its scoped top 10 with exact search on 50 queries.
``rss_mb`` is the resident memory after the queries (one backend, its table and graph loaded) and
``peak_rss_mb`` the process's peak so far, which includes the indexing and the cold open of a second
reader (run one size per process to read it per size). ``--no-rebuild`` skips ``erase_s`` and
``rebuild_s`` (each refills the index and rebuilds the graph). ``--keep DIR`` builds each size's index
under ``DIR/SIZE`` and keeps it; a later run with the same ``DIR`` only opens and searches it, so its
``rss_mb`` and ``peak_rss_mb`` are those of a serving process, not of the one that wrote the passages.
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
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search.embedded import EmbeddedBackend, query_filter
from search.embeddings import DIM, Embedder
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


def make_passages(n: int, seed: int = 7, first: int = 0) -> list[Passage]:
    """``n`` synthetic passages numbered from ``first`` (five per document)."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    passages = []
    for j in range(n):
        i = first + j
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
                embedding=vectors[j],
            )
        )
    return passages


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # kB on Linux


def _rss_mb() -> float:
    """Resident memory now (Linux): what the one backend left holds, without the cold-open copy's peak."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def bench(
    size: int,
    queries: int,
    modes: list[Mode],
    *,
    embedder: Embedder | None = None,
    rebuild: bool = True,
    keep: Path | None = None,
) -> dict[str, object]:
    rng = np.random.default_rng(size)
    with tempfile.TemporaryDirectory(prefix="tfe-bench-") as scratch:
        tmp = scratch if keep is None else str(keep / str(size))
        Path(tmp).mkdir(parents=True, exist_ok=True)
        texts = file_store(Path(tmp) / "texts.sqlite3")
        backend = EmbeddedBackend(Path(tmp) / "index", texts)
        index_s = None
        if backend.count() not in (0, size):
            sys.exit(f"{tmp} holds {backend.count()} passages, not {size}: remove it or use another --keep")
        if backend.count() == 0:  # a kept index of this size is searched as it is
            t0 = time.perf_counter()
            for start in range(0, size, 5000):
                backend.write(make_passages(min(5000, size - start), seed=7 + start, first=start))
            backend.commit()
            index_s = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        EmbeddedBackend(Path(tmp) / "index", texts).count()  # cold open of a reader (loads the matrix)
        open_s = time.perf_counter() - t0
        scope = AccessScope(user_id=5, org_id=3, roles=frozenset({"reader"}))
        texts = [" ".join(_words(rng, int(rng.integers(1, 5)))) for _ in range(queries)]
        qvecs = rng.standard_normal((queries, DIM)).astype(np.float32)
        qvecs /= np.linalg.norm(qvecs, axis=1, keepdims=True)
        out: dict[str, object] = {"passages": size, "index_s": index_s, "open_s": round(open_s, 2)}
        out["ann"] = backend._table.ann is not None  # the HNSW graph is searched (search.ann)
        out["query_embedding"] = embedder is not None
        if embedder is not None:
            embedder.warm_up()
        for mode in modes:
            lat = []
            for i, text in enumerate(texts):
                t0 = time.perf_counter()
                qvec = qvecs[i] if embedder is None or mode == "bm25" else embedder.query(text)
                q = SearchQuery(text=text, scope=scope, mode=mode, query_embedding=qvec, limit=10)
                backend.search(q)
                lat.append((time.perf_counter() - t0) * 1000)
            out[mode] = {
                "p50_ms": round(statistics.median(lat), 2),
                "p95_ms": round(float(np.percentile(lat, 95)), 2),
            }
        filtered = []
        for i, text in enumerate(texts[:50]):
            t0 = time.perf_counter()
            q = SearchQuery(
                text=text,
                scope=scope,
                mode="hybrid",
                query_embedding=qvecs[i] if embedder is None else embedder.query(text),
                filters={"sector": ["naf:C"], "country": ["country:DE", "region:150"]},
            )
            backend.search(q)
            filtered.append((time.perf_counter() - t0) * 1000)
        out["hybrid_with_facet_filters"] = {
            "p50_ms": round(statistics.median(filtered), 2),
            "p95_ms": round(float(np.percentile(filtered, 95)), 2),
        }
        out["vector_recall_at_10"] = _recall(backend, scope, qvecs[:50])
        out["rss_mb"] = _rss_mb()
        out["peak_rss_mb"] = _peak_rss_mb()
        if rebuild and keep is None:  # a kept index stays as it was built
            t0 = time.perf_counter()
            backend.erase_parents(["doc-0"])
            out["erase_s"] = round(time.perf_counter() - t0, 2)
            out["rebuild_s"] = backend.rebuild()["seconds"]
            out["peak_rss_mb_after_rebuild"] = _peak_rss_mb()
        backend.close()
    return out


def _recall(backend: EmbeddedBackend, scope: AccessScope, qvecs: np.ndarray) -> float:
    """Mean overlap of the table's scoped top 10 (the graph when there is one) with exact search."""
    table = backend._table
    mask = table.mask(query_filter(SearchQuery(text="", scope=scope))) & table.has_vec
    found = []
    for q in qvecs:
        rows, _ = table.top_k(q, mask, 10)
        scores = table.matrix @ q
        scores[~mask] = -np.inf
        exact = np.argpartition(-scores, 9)[:10]
        found.append(len(set(rows.tolist()) & set(exact.tolist())) / 10)
    return round(float(np.mean(found)), 3)


def main() -> None:
    if "--clients" in sys.argv[1:]:  # concurrent clients against a server (bench/search_clients.py)
        from bench.search_clients import main as clients_main

        clients_main(sys.argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embed-queries", action="store_true", help="time the query embedding too")
    parser.add_argument("--no-rebuild", action="store_true", help="skip the erasure and rebuild timings")
    parser.add_argument(
        "--keep",
        type=Path,
        help="build each size's index under KEEP/SIZE and keep it; a later run with the same KEEP searches "
        "it without indexing again (index_s null), so rss_mb is that of a process that only opened it",
    )
    args = parser.parse_args()
    modes: list[Mode] = ["bm25", "vector", "hybrid"]
    embedder = Embedder(query_cache=0) if args.embed_queries else None
    results = [
        bench(size, args.queries, modes, embedder=embedder, rebuild=not args.no_rebuild, keep=args.keep)
        for size in args.sizes
    ]
    print(json.dumps({"benchmark": "search_latency", "results": results}, indent=2))


if __name__ == "__main__":
    main()
