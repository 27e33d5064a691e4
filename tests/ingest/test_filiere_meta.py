"""Ingestion carries the classifier's filières and signals into passage meta (ancestors included) and
into Classification rows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

import taxonomy.models
import tfe.core.models
from ingest.components.writer import RecordWriter
from ingest.item import IngestItem, Processed
from ingest.sink import classification_rows
from taxonomy.classifier import Scored
from taxonomy.loader import load_taxonomy
from taxonomy.models import Classification
from taxonomy.referential import Referential
from tests.ingest.test_components import _Backend, _Sink, _Source, _write
from tfe.core.db import Base

assert tfe.core.models and taxonomy.models

VINS = Scored("filiere:agri-agro.vins", 0.8, ["naf:11.02"])
TENDER = Scored("signal:tender", 0.6, ["appel d'offres"])


def test_passage_meta_carries_filieres_with_ancestors_and_signals() -> None:
    backend = _Backend()
    writer = RecordWriter(_Sink(), backend, _Source(Referential.load()))  # type: ignore[arg-type]
    out = _write(writer, IngestItem(key="k", filename="f.pdf"), filieres=[VINS], signals=[TENDER])
    record: Processed = out["record"]
    assert record.filieres == [VINS] and record.signals == [TENDER]
    meta = backend.written[0].meta
    assert meta["filieres"] == ["filiere:agri-agro.vins", "filiere:agri-agro"]
    assert meta["signals"] == ["signal:tender"]
    bare = _write(writer, IngestItem(key="k2", filename="g.pdf"))  # older callers: no filière, no signal
    assert bare["record"].filieres == [] and backend.written[-1].meta["filieres"] == []


def test_classification_rows_include_filieres_and_signals(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    Base.metadata.create_all(engine)
    factory = sessionmaker(bind=engine)
    with factory() as session:
        load_taxonomy(session, Referential.load())
        processed = Processed(item=IngestItem(key="k"), content_hash="h", sectors=[Scored("naf:11.02", 0.9)],
                              filieres=[VINS], signals=[TENDER])
        assert classification_rows(session, "document", "doc-1", processed) == 3
        session.commit()
        rows = {r.concept_id for r in session.scalars(select(Classification))}
    assert rows == {"naf:11.02", "filiere:agri-agro.vins", "signal:tender"}
