"""Indexes written with an older layout are rebuilt on open: the keyword-field layout (Tantivy keyword
fields, vector table format 1) and the typed layout that still stored texts (2) end with the same passages,
keys and vectors, typed meta, every filter engine agreeing, their texts moved to the passage store and no
text left in the index files."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import tantivy

from search import tantivy_filters
from search import tantivy_index as ti
from search.embedded import EmbeddedBackend
from search.filter_cases import product_filter_cases
from search.filters import SORT_FIELD, filter_values
from search.testdata import ANONYMOUS, MEMBER_ORG1, corpus_passages, file_store, parents, run, visible
from search.types import Passage
from search.upgrade import current, upgrade
from search.vectors import FORMAT_VERSION, Op, VectorTable
from tfe.core.errors import BackendError

LEGACY_KEYWORDS = (
    "kind",
    "doc_type",
    "sectors",
    "sector_facet",
    "countries",
    "regions",
    "org_id",
    "owner_user_id",
    "visibility",
    "language",
    "date",
)


def _strings(value: object) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _write_legacy(index_dir: Path, passages: list[Passage]) -> None:
    """The layout before typed filters: one raw keyword field per product field, values as strings."""
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_unsigned_field("key", stored=True, indexed=True, fast=True)
    sb.add_text_field("parent_id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("title", stored=True, tokenizer_name=ti.ANALYZER)
    sb.add_text_field("text", stored=True, tokenizer_name=ti.ANALYZER)
    sb.add_integer_field("position", stored=True)
    sb.add_bytes_field("meta_json", stored=True)
    for name in LEGACY_KEYWORDS:
        sb.add_text_field(name, stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    (index_dir / "tantivy").mkdir(parents=True)
    index = tantivy.Index(sb.build(), path=str(index_dir / "tantivy"), reuse=True)
    index.register_tokenizer(ti.ANALYZER, ti.french_analyzer())
    writer = index.writer(heap_size=15_000_000, num_threads=1)
    rows = []
    for key, p in enumerate(passages, start=1):
        doc = tantivy.Document()
        doc.add_text("id", p.id)
        doc.add_unsigned("key", key)
        doc.add_text("parent_id", p.parent_id)
        doc.add_text("title", p.title)
        doc.add_text("text", p.text)
        doc.add_integer("position", p.position)
        doc.add_bytes("meta_json", json.dumps(p.meta).encode("utf-8"))
        values = {name: _strings(p.meta.get(name)) for name in LEGACY_KEYWORDS}
        for name, vals in values.items():
            for v in vals:
                doc.add_text(name, v)
        writer.add_document(doc)
        rows.append((key, p.id, p.parent_id, values, p.embedding))
    writer.commit()
    writer.wait_merging_threads()
    del writer
    table = VectorTable()
    table.extend(rows)  # type: ignore[arg-type]
    table.save(index_dir / "vectors")
    meta_file = index_dir / "vectors" / f"gen-{table.generation}.json"
    doc = json.loads(meta_file.read_text(encoding="utf-8"))
    doc["format"] = 1
    meta_file.write_text(json.dumps(doc), encoding="utf-8")


def _write_stored_texts(index_dir: Path, passages: list[Passage]) -> None:
    """Layout 2: typed JSON filter fields, but title, text, position and meta stored in Tantivy."""
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_unsigned_field("key", stored=True, indexed=True, fast=True)
    sb.add_text_field("parent_id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("title", stored=True, tokenizer_name=ti.ANALYZER)
    sb.add_text_field("text", stored=True, tokenizer_name=ti.ANALYZER)
    sb.add_integer_field("position", stored=True)
    sb.add_bytes_field("meta_json", stored=True)
    sb.add_text_field(SORT_FIELD, stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    tantivy_filters.add_fields(sb)
    (index_dir / "tantivy").mkdir(parents=True)
    index = tantivy.Index(sb.build(), path=str(index_dir / "tantivy"), reuse=True)
    index.register_tokenizer(ti.ANALYZER, ti.french_analyzer())
    writer = index.writer(heap_size=15_000_000, num_threads=1)
    ops = []
    for key, p in enumerate(passages, start=1):
        doc = tantivy.Document()
        doc.add_text("id", p.id)
        doc.add_unsigned("key", key)
        doc.add_text("parent_id", p.parent_id)
        doc.add_text("title", p.title)
        doc.add_text("text", p.text)
        doc.add_integer("position", p.position)
        doc.add_bytes("meta_json", json.dumps(p.meta).encode("utf-8"))
        if isinstance(p.meta.get(SORT_FIELD), str):
            doc.add_text(SORT_FIELD, p.meta[SORT_FIELD])
        tantivy_filters.add_values(doc, filter_values(p.meta))
        writer.add_document(doc)
        ops.append(Op("upsert", passage=p, key=key))
    writer.commit()
    writer.wait_merging_threads()
    del writer
    table = VectorTable()
    table.apply(ops)
    table.save(index_dir / "vectors")


def _stored_fields(index_dir: Path) -> set[str]:
    """The fields Tantivy's (compressed) doc store holds for the index's documents."""
    index = tantivy.Index.open(str(index_dir / "tantivy"))
    searcher = index.searcher()
    hits = searcher.search(tantivy.Query.all_query(), limit=100).hits
    return {name for _s, addr in hits for name in searcher.doc(addr).to_dict()}


def test_index_with_stored_texts_moves_them_to_the_store(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    passages = [replace(p) for p in corpus_passages()]
    _write_stored_texts(index_dir, passages)
    assert {"title", "text", "meta_json"} <= _stored_fields(index_dir)  # the old layout stored them

    texts = file_store(tmp_path / "texts.sqlite3")
    texts.put([replace(passages[1], title="Titre plus récent")])  # a text the store already had wins
    backend = EmbeddedBackend(index_dir, texts)
    assert backend.count() == len(passages) and texts.count() == len(passages)
    assert _stored_fields(index_dir) == {"id", "key", "parent_id"}
    assert not (index_dir / "tantivy.old").exists() and not (index_dir / "tantivy.upgrade").exists()
    assert texts.get([passages[1].id])[passages[1].id].title == "Titre plus récent"
    result = run(backend, "vins Allemagne", scope=ANONYMOUS, mode="hybrid")
    assert "doc-vin" in parents(result) and "<mark>" in result.hits[0].snippet and result.hits[0].title
    for _name, flt, _refused in product_filter_cases():
        assert backend.filter_ids(flt, "tantivy") == backend.filter_ids(flt, "vectors")
    assert backend.missing_embeddings() == []  # keys kept: the vectors still belong to their passages
    backend.close()


def test_old_index_without_a_persistent_store_is_refused(tmp_path: Path) -> None:
    _write_stored_texts(tmp_path / "index", [replace(p) for p in corpus_passages()])
    with pytest.raises(BackendError, match="passage store"):
        EmbeddedBackend(tmp_path / "index")  # its texts would only live in memory
    assert not upgrade_done(tmp_path / "index")


def upgrade_done(index_dir: Path) -> bool:
    return current(index_dir / "tantivy")


def test_legacy_index_is_rebuilt_on_open(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    passages = [replace(p) for p in corpus_passages()]
    _write_legacy(index_dir, passages)
    assert VectorTable.load(index_dir / "vectors").values_of("org_id", 0) == ["1"]

    texts = file_store(tmp_path / "texts.sqlite3")
    backend = EmbeddedBackend(index_dir, texts)
    assert backend.count() == len(passages)
    assert sorted(p.name for p in index_dir.iterdir()) == [".upgrade.lock", "tantivy", "vectors"]
    table = VectorTable.load(index_dir / "vectors")
    assert table.format == FORMAT_VERSION and table.values_of("org_id", 0) == [1]  # typed again
    assert table.keys.tolist() == list(range(1, len(passages) + 1)) and bool(table.has_vec.all())

    # org_id == 1 (an int) matches again, in the Tantivy query and in the vector mask
    for mode in ("bm25", "vector", "hybrid"):
        result = run(backend, "grille tarifaire des prestations", scope=MEMBER_ORG1, mode=mode, limit=50)
        assert "doc-org1" in parents(result) and set(parents(result)) <= visible(MEMBER_ORG1)
    assert set(parents(run(backend, "", scope=ANONYMOUS, limit=50))) == visible(ANONYMOUS)
    for _name, flt, _refused in product_filter_cases():
        assert backend.filter_ids(flt, "tantivy") == backend.filter_ids(flt, "vectors")
    backend.close()

    assert upgrade(index_dir, texts) is False  # done once
    reopened = EmbeddedBackend(index_dir, texts)
    assert reopened.count() == len(passages) and reopened.missing_embeddings() == []
