"""The typed wiring of the pipeline, and the classifier and writer following the referential in force."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from ingest.components.classifier import TaxonomyClassifierComponent
from ingest.components.writer import RecordWriter
from ingest.errors import IngestError
from ingest.item import ExtractedMetadata, IngestItem, Processed
from ingest.pipeline import ITEM_INPUTS, build_pipeline
from taxonomy.classifier import Scored
from taxonomy.referential import SCHEMES, Referential
from tests.conftest import make_settings


class _Source:
    """A ``ReferentialSource`` whose referential the test swaps, as a curator's edit would."""

    def __init__(self, referential: Any) -> None:
        self.referential, self.calls = referential, 0

    def current(self) -> Any:
        self.calls += 1
        return self.referential


class _Sink:
    target_kind = "document"

    def __init__(self) -> None:
        self.saved: list[Processed] = []
        self.discarded: list[str] = []

    def save(self, item: IngestItem, processed: Processed) -> str:
        self.saved.append(processed)
        return f"doc-{len(self.saved)}"

    def discard(self, target_id: str) -> None:
        self.discarded.append(target_id)


class _Backend:
    def __init__(self, fail: bool = False) -> None:
        self.fail, self.written, self.commits, self.deleted = fail, [], 0, []  # type: ignore[var-annotated]

    def write(self, passages: list[Any]) -> int:
        if self.fail:
            raise RuntimeError("disk full")
        self.written.extend(passages)
        return len(passages)

    def commit(self) -> None:
        self.commits += 1

    def delete_parent(self, parent_id: str) -> None:
        self.deleted.append(parent_id)


def test_every_socket_is_wired_but_the_item(tmp_path: Path) -> None:
    pipeline = build_pipeline(make_settings(tmp_path), _Sink(), _Backend())  # type: ignore[arg-type]
    unconnected = {name: set(sockets) for name, sockets in pipeline.inputs().items()}
    assert unconnected == {name: {"item"} for name in ITEM_INPUTS}
    assert {name: set(sockets) for name, sockets in pipeline.outputs().items()} == {
        "writer": {"record", "target_id"}
    }
    classifier = cast(TaxonomyClassifierComponent, pipeline.get_component("classifier"))
    writer = cast(RecordWriter, pipeline.get_component("writer"))
    assert classifier.referential_source is writer.referential_source  # one source, loaded once


def _with_cue(referential: Referential, concept_id: str, cue: str) -> Referential:
    """A copy of ``referential`` where ``concept_id`` has one more French hidden label."""
    concepts = [
        dataclasses.replace(c, hidden_labels_fr=(*c.hidden_labels_fr, cue)) if c.id == concept_id else c
        for scheme in SCHEMES
        for c in referential.concepts(scheme)
    ]
    return Referential(concepts, referential.lemmas)


def test_classifier_rebuilds_only_when_the_referential_changes() -> None:
    base = Referential.load()
    source = _Source(base)
    component = TaxonomyClassifierComponent(source)
    item = IngestItem(key="note.txt", filename="note.txt")

    def doc_type() -> Scored | None:
        out = component.run(item=item, text="Zorglub zorglub.", title="", lemmas=[], entities=[])
        scored: Scored | None = out["doc_type"]
        return scored

    assert doc_type() is None
    built = component._classifier
    assert doc_type() is None and component._classifier is built  # same referential: no rebuild
    target = base.concepts("doctype")[0].id
    source.referential = _with_cue(base, target, "zorglub")  # a curator adds a cue word
    found = doc_type()
    assert found is not None and found.concept_id == target and "zorglub×2" in found.evidence[0]
    assert component._classifier is not built and source.calls == 3


def test_classifier_doc_type_hints() -> None:
    component = TaxonomyClassifierComponent()
    given = IngestItem(key="a", doc_type="quote_template")
    entry = IngestItem(key="b", kind="item")
    run: dict[str, Any] = {"text": "Devis pour une mission.", "title": "", "lemmas": [], "entities": []}
    assert component.run(item=given, **run)["doc_type"] == Scored(
        "doctype:quote_template", 1.0, ["indiqué à l'ingestion"]
    )
    assert component.run(item=entry, **run)["doc_type"].concept_id == "doctype:news"


class _Regions:
    """The little of a referential the writer uses, answering one region for every country."""

    def __init__(self, region: str) -> None:
        self.region = region

    def ancestors(self, concept_id: str) -> list[str]:
        return ["naf:C"]

    def division_of(self, concept_id: str) -> str | None:
        return "naf:11"

    def regions_of(self, country_id: str) -> list[str]:
        return [self.region]


def _write(writer: RecordWriter, item: IngestItem, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "item": item,
        "metadata": ExtractedMetadata(content_hash="h" * 64, mime="application/pdf", size=3, author="A"),
        "text": "Texte.",
        "title": "Titre",
        "language": "fr",
        "sectors": [Scored("naf:11.02", 0.9, ["vin"])],
        "countries": [Scored("country:DE", 0.8, ["Allemagne"])],
        "doc_type": None,
        "passages": ["un", "deux", "trois"],
        "embeddings": np.zeros((2, 4), dtype=np.float32),
    }
    values.update(overrides)
    return writer.run(**values)


def test_writer_saves_indexes_and_asks_the_source_per_item() -> None:
    sink, backend, source = _Sink(), _Backend(), _Source(_Regions("region:150"))
    writer = RecordWriter(sink, backend, source)  # type: ignore[arg-type]
    item = IngestItem(key="k", filename="f.pdf", org_id=7)
    out = _write(writer, item)
    record: Processed = out["record"]
    assert out["target_id"] == record.target_id == "doc-1" and sink.saved == [record]
    assert (record.mime, record.author, record.content_hash, record.language) == (
        "application/pdf",
        "A",
        "h" * 64,
        "fr",
    )
    assert record.passages_written == 3 and backend.commits == 1
    assert [p.embedding is not None for p in backend.written] == [True, True, False]
    meta = backend.written[0].meta
    assert meta["sectors"] == ["naf:11.02", "naf:C"] and meta["sector_facet"] == ["naf:11"]
    assert meta["regions"] == ["region:150"] and meta["org_id"] == 7
    source.referential = _Regions("region:155")  # the taxonomy changed between two items
    _write(writer, item)
    assert backend.written[-1].meta["regions"] == ["region:155"] and source.calls == 2


def test_writer_discards_the_rows_when_indexing_fails() -> None:
    sink, backend = _Sink(), _Backend(fail=True)
    writer = RecordWriter(sink, backend, _Source(_Regions("region:150")))  # type: ignore[arg-type]
    with pytest.raises(IngestError, match=r"^indexing failed: RuntimeError: disk full$") as info:
        _write(writer, IngestItem(key="k"))
    assert info.value.step == "writer"
    assert sink.discarded == ["doc-1"] and backend.deleted == ["doc-1"]
