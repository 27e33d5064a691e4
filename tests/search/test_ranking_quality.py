"""What the ranking-quality decisions of 2026-12-02 changed (docs/benchmarks.md): the French analyzer's
stop words, the unstemmed field, query parsing of hyphens and apostrophes, the layout-4 rebuild of an
index an older analyzer wrote, and the evaluation's embedding cache. No model is loaded."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import tantivy

from search import tantivy_filters
from search import tantivy_index as ti
from search.embedded import EmbeddedBackend
from search.evaluation import cached_embeddings, evaluate_beir
from search.filters import SORT_FIELD
from search.testdata import ANONYMOUS, file_store, parents, plain_passages, run
from search.types import Passage
from search.upgrade import current
from tfe.core.errors import ValidationError

PUBLIC = {"kind": "document", "visibility": "public"}


def test_question_words_and_elided_conjunctions_are_stop_words() -> None:
    analyzer = ti.french_analyzer()
    assert analyzer.analyze("Combien de temps est-ce qu'il a fallu jusqu'à Pâques ?") == [
        "temp",
        "fallu",
        "paqu",
    ]
    assert analyzer.analyze("Quand et comment, pourquoi ? Où, quoi !") == []
    assert ti.french_analyzer(stem=False).analyze("Les exportations de vins") == ["exportations", "vins"]
    assert analyzer.analyze("Les exportations de vins") == ["export", "vin"]


def _index() -> tantivy.Index:
    index = tantivy.Index(ti.build_schema(), path=None)
    index.register_tokenizer(ti.ANALYZER, ti.french_analyzer())
    index.register_tokenizer(ti.EXACT_ANALYZER, ti.french_analyzer(stem=False))
    return index


def test_hyphens_and_apostrophes_inside_words_separate_words_quotes_make_phrases() -> None:
    index = _index()
    # a phrase of the parser has slop 0; the proximity pairs of a longer query (slop 3) only add score
    assert "slop: 0" not in str(ti.text_query(index, "la langue officielle des États-Unis"))
    assert "slop: 0" not in str(ti.text_query(index, "l'aujourd'hui de Terre-Neuve"))
    assert "slop: 0" in str(ti.text_query(index, 'le livre "Miroir des pays"'))
    assert "Excluded" in str(ti.text_query(index, "vins -rouges")) or "MustNot" in str(
        ti.text_query(index, "vins -rouges")
    )  # a leading minus is still the exclusion operator


def _passage(pid: str, title: str, text: str) -> Passage:
    return Passage(f"{pid}:0", pid, title, text, 0, dict(PUBLIC))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedBackend:
    backend = EmbeddedBackend(tmp_path_factory.mktemp("ranking") / "index")
    backend.write(
        [
            _passage("exact", "Commerce", "Les exportations françaises progressent en Asie."),
            _passage("stem", "Commerce", "L'exportation française progresse en Asie."),
            _passage("title", "Vignobles de Bourgogne", "Une région aux nombreux domaines réputés."),
            _passage("noise", "Questions", "Comment et pourquoi : combien de questions quand on doute."),
        ]
    )
    backend.commit()
    return backend


def test_the_exact_form_of_a_word_ranks_first(small: EmbeddedBackend) -> None:
    found = parents(run(small, "les exportations en Asie", scope=ANONYMOUS, mode="bm25"))
    assert found[:2] == ["exact", "stem"]  # both match through the stem; the exact form wins
    assert parents(run(small, "l'exportation en Asie", scope=ANONYMOUS, mode="bm25"))[0] == "stem"


def test_title_words_are_found_in_text_and_question_words_match_nothing(small: EmbeddedBackend) -> None:
    assert parents(run(small, "domaines Bourgogne", scope=ANONYMOUS, mode="bm25")) == ["title"]
    # « combien », « pourquoi » no longer pull the passage that happens to contain them
    assert parents(
        run(small, "combien de domaines et pourquoi en Bourgogne", scope=ANONYMOUS, mode="bm25")
    ) == ["title"]


def _layout3_schema() -> tantivy.Schema:
    """The schema of layout 3 (before 2026-12-02): analyzer « fr_stem », no ``text_exact``."""
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_unsigned_field("key", stored=True, indexed=True, fast=True)
    sb.add_text_field("parent_id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("title", stored=False, tokenizer_name="fr_stem")
    sb.add_text_field("text", stored=False, tokenizer_name="fr_stem")
    sb.add_text_field(SORT_FIELD, stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    tantivy_filters.add_fields(sb)
    return sb.build()


def test_an_index_of_the_older_analyzer_is_rebuilt_from_the_store(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    texts = file_store(tmp_path / "texts.sqlite3")
    backend = EmbeddedBackend(index_dir, texts)
    backend.write(plain_passages())
    backend.commit()
    keys = {p.id: backend._table.keys[backend._table.row_of(p.id)] for p in plain_passages()}
    backend.close()
    # what layout 3 left on disk: ids, keys and parents only, terms of the old analyzer
    tantivy_dir = index_dir / "tantivy"
    for f in tantivy_dir.iterdir():
        f.unlink()
    old = tantivy.Index(_layout3_schema(), path=str(tantivy_dir))
    old.register_tokenizer("fr_stem", ti.french_analyzer())
    writer = old.writer(heap_size=15_000_000, num_threads=1)
    for p in plain_passages():
        doc = tantivy.Document()
        doc.add_text("id", p.id)
        doc.add_unsigned("key", int(keys[p.id]))
        doc.add_text("parent_id", p.parent_id)
        doc.add_text("title", p.title)
        doc.add_text("text", p.text)
        writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    del writer, old
    assert not current(tantivy_dir)

    reopened = EmbeddedBackend(index_dir, texts)
    assert current(tantivy_dir)
    assert reopened.count() == len(plain_passages())
    searcher = reopened._index.searcher()
    assert searcher.doc_freq(ti.EXACT_FIELD, "vins") > 0  # the new field, filled from the store
    result = run(reopened, "vins Allemagne", scope=ANONYMOUS, mode="bm25")
    assert "doc-vin" in parents(result) and result.hits[0].title and "<mark>" in result.hits[0].snippet
    assert all(p.id in keys for p in map(replace, plain_passages()))
    for p in plain_passages():  # keys kept: the vector rows still belong to their passages
        assert reopened._table.keys[reopened._table.row_of(p.id)] == keys[p.id]
    reopened.close()


def test_embedding_cache_is_keyed_by_the_texts(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return np.asarray([[len(t), 1.0] for t in texts], dtype=np.float32)

    first = cached_embeddings(tmp_path, "passages", ["un", "deux"], embed)
    again = cached_embeddings(tmp_path, "passages", ["un", "deux"], embed)
    assert calls == [["un", "deux"]] and np.array_equal(first, again)
    cached_embeddings(tmp_path, "passages", ["un", "trois"], embed)  # another text: a miss
    cached_embeddings(tmp_path, "queries", ["un", "deux"], embed)  # another kind: a miss
    assert len(calls) == 3 and len(list(tmp_path.glob("*.npy"))) == 3
    cached_embeddings(None, "passages", ["un", "deux"], embed)  # no cache: always embeds
    assert len(calls) == 4


def _beir(directory: Path) -> Path:
    directory.mkdir()
    corpus = [
        {"_id": "d1", "title": "Vins", "text": "Les exportations de vins vers l'Allemagne."},
        {"_id": "d2", "title": "Acier", "text": "La sidérurgie au Brésil."},
    ]
    queries = [{"_id": "q1", "text": "Combien de vins exporte-t-on ?"}, {"_id": "q2", "text": "acier Brésil"}]
    (directory / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in corpus), encoding="utf-8")
    (directory / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries), encoding="utf-8")
    (directory / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n", encoding="utf-8"
    )
    return directory


def test_evaluation_reports_its_fusion_and_refuses_unknown_ones(tmp_path: Path) -> None:
    directory = _beir(tmp_path / "beir")
    report = evaluate_beir(directory, None, modes=("bm25",), progress=False)  # type: ignore[arg-type]
    assert report["modes"]["bm25"]["ndcg@10"] == 1.0
    assert report["fusion"] == {"method": "adaptive", "alpha": 0.4}  # the product's default
    with pytest.raises(ValidationError, match="fusion"):
        evaluate_beir(directory, None, modes=("bm25",), progress=False, fusion_method="linear")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="alpha"):
        evaluate_beir(directory, None, modes=("bm25",), progress=False, alpha=2.0)  # type: ignore[arg-type]
