"""SearchService: validation and the exact ``GET /api/search`` shape; factory; fusion; evaluation metrics."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from search.embedded import EmbeddedBackend
from search.evaluation import evaluate_beir, mrr_at_k, ndcg_at_k, recall_at_k
from search.factory import make_backend
from search.fusion import reciprocal_rank_fusion
from search.service import SearchService
from search.testdata import ANONYMOUS, SYSTEM, corpus_passages, shared_embedder
from tfe.core.errors import ConfigurationError, ValidationError
from tfe.core.settings import load_settings

LABELS = {
    "naf:11": "Fabrication de boissons",
    "country:DE": "Allemagne",
    "doctype:sector_analysis": "Analyse",
}


@pytest.fixture
def service(tmp_path: Path) -> SearchService:
    backend = EmbeddedBackend(tmp_path / "index")
    backend.write([replace(p) for p in corpus_passages()])
    backend.commit()
    return SearchService(backend, shared_embedder(), lambda cid: LABELS[cid])


def test_api_shape(service: SearchService) -> None:
    out = service.search("vins", ANONYMOUS, sector=["naf:11"])
    assert set(out) == {"total", "hits", "facets", "suggestions", "understood"}
    assert out["total"] == len(out["hits"]) == 2
    hit = next(h for h in out["hits"] if h["id"] == "doc-vin")
    assert set(hit) == {
        "id",
        "title",
        "snippet",
        "score",
        "type",
        "sectors",
        "countries",
        "url",
        "source_url",
        "kind",
        "date",
        "language",
        "explanation",
    }
    assert hit["source_url"] is None and hit["date"] == "2024-03-01" and hit["language"] == "fr"
    assert hit["id"] == "doc-vin" and hit["url"] == "/documents/doc-vin" and hit["kind"] == "document"
    assert hit["sectors"] == [{"id": "naf:11", "label": "Fabrication de boissons"}]
    assert {"id": "country:DE", "label": "Allemagne"} in hit["countries"]
    assert hit["type"] == {"id": "doctype:sector_analysis", "label": "Analyse"}
    item = next(h for h in out["hits"] if h["kind"] == "item")
    assert item["url"] == "/items/item-chine"  # the item's own page (classification, story, source)
    assert item["source_url"] == "https://example.org/news/vin-chine"
    assert out["facets"]["sector"] == [{"id": "naf:11", "label": "Fabrication de boissons", "count": 2}]
    assert {"id": "country:CN", "label": "country:CN", "count": 1} in out["facets"][
        "country"
    ]  # unknown label
    json.dumps(out)


@pytest.mark.parametrize("kwargs", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"mode": "fuzzy"}])
def test_validation(service: SearchService, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        service.search("vins", ANONYMOUS, **kwargs)  # type: ignore[arg-type]


def test_every_mode_and_paging(service: SearchService) -> None:
    for mode in ("bm25", "vector", "hybrid"):
        assert service.search("vins", SYSTEM, mode=mode, limit=1, offset=1)["hits"]
    assert service.search("", ANONYMOUS, limit=100)["total"] == 4


def test_factory(tmp_path: Path) -> None:
    backend = make_backend(load_settings(data_dir=tmp_path))
    assert isinstance(backend, EmbeddedBackend)
    with pytest.raises(ConfigurationError):
        make_backend(load_settings(data_dir=tmp_path, search_backend="opensearch"))


def test_rrf() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]])
    assert [x for x, _ in fused] == ["a", "c", "b"]
    assert fused[0][1] == pytest.approx(1 / 11 + 1 / 12)  # k = 10
    assert reciprocal_rank_fusion([["a"], ["a"]], k=60)[0][1] == pytest.approx(2 / 61)


def test_metrics() -> None:
    rel = {"d1": 1, "d2": 1}
    assert ndcg_at_k(["d1", "d2", "x"], rel) == pytest.approx(1.0)
    assert recall_at_k(["x", "d2"], rel) == 0.5
    assert mrr_at_k(["x", "d2"], rel) == 0.5


def test_evaluate_beir_small(tmp_path: Path) -> None:
    corpus = [
        {"_id": "c1", "title": "Vins", "text": "Les vins de Bordeaux s'exportent en Chine."},
        {"_id": "c2", "title": "Énergie", "text": "Le solaire progresse au Maroc."},
        {"_id": "c3", "title": "Fromages", "text": "Le comté se vend bien au Japon."},
    ]
    queries = [{"_id": "q1", "text": "exportation de vin"}, {"_id": "q2", "text": "énergie solaire"}]
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(c) for c in corpus), encoding="utf-8")
    (tmp_path / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries), encoding="utf-8")
    (tmp_path / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\tc1\t1\nq2\tc2\t1\n", encoding="utf-8"
    )
    out = evaluate_beir(tmp_path, shared_embedder(), progress=False)
    assert out["queries"] == 2 and out["corpus"] == 3
    for mode in ("bm25", "vector", "hybrid"):
        assert out["modes"][mode]["ndcg@10"] == pytest.approx(1.0)
    with pytest.raises(ValidationError):
        evaluate_beir(tmp_path / "missing", shared_embedder())


def test_filter_values_are_resolved_to_concepts(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path / "index")
    backend.write([replace(p) for p in corpus_passages()])
    backend.commit()
    known = {
        ("11", "naf"): "naf:11",
        ("Allemagne", "country"): "country:DE",
        ("Europe", "region"): "region:150",
    }
    service = SearchService(backend, None, None, lambda value, scheme: known.get((value, scheme)))
    by_code = service.search("vins", ANONYMOUS, sector=["11"], country=["Allemagne"], mode="bm25")
    assert [h["id"] for h in by_code["hits"]] == ["doc-vin"]
    assert service.search("vins", ANONYMOUS, country=["Europe"], mode="bm25")["total"] == 1
    with pytest.raises(ValidationError, match="unknown sector"):
        service.search("vins", ANONYMOUS, sector=["boulangerie"])
