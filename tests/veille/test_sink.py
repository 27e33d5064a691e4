"""ItemSink: one Source per feed URL, Item rows deduplicated by content hash and by (source, guid)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

import ged.models
import ingest.models
import taxonomy.models
import tfe.core.models
import veille.models
from ingest.item import IngestItem, Processed
from taxonomy.classifier import Scored
from taxonomy.models import Classification, Concept, ConceptScheme
from tests.conftest import make_settings
from tfe.core.db import Base, make_engine, make_session_factory
from veille.models import Item, Source
from veille.sink import ItemSink

_TABLES = (tfe.core.models, taxonomy.models, ingest.models, ged.models, veille.models)


def _entry(guid: str, text: str) -> IngestItem:
    feed = "https://example.org/feed.xml"
    return IngestItem(
        key=f"{feed}#{guid}",
        kind="item",
        text=text,
        title=text.split("\n")[0],
        guid=guid,
        url=f"https://example.org/{guid}",
        visibility="network",
        meta={"feed_url": feed, "feed_title": "Exemple", "summary": text},
    )


def test_item_sink(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings.resolved_data_dir.mkdir(parents=True)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        session.add(ConceptScheme(id="doctype", uri="u", label_fr="Types", label_en="Types"))
        session.flush()  # no ORM relationship orders these two inserts
        session.add(
            Concept(id="doctype:news", scheme_id="doctype", notation="news", pref_label_fr="Actualité")
        )
    sink = ItemSink(factory)
    entry = _entry("a1", "Vin\n\nLes exportations de vin progressent.")
    record = Processed(
        item=entry,
        content_hash=entry.content_hash(),
        text=entry.text or "",
        title=entry.title,
        language="fr",
        doc_type=Scored("doctype:news", 1.0, ["feed entry"]),
        countries=[Scored("country:ZZ", 0.5, ["unknown concept"])],
    )
    assert sink.find_duplicate(entry, record.content_hash) is None
    item_id = sink.save(entry, record)
    assert sink.find_by_hash(record.content_hash) == item_id
    edited = _entry("a1", "Vin\n\nLes exportations de vin progressent fortement.")
    assert sink.find_duplicate(edited, edited.content_hash()) == item_id  # same (source, guid)
    assert sink.find_duplicate(_entry("b2", "Autre"), _entry("b2", "Autre").content_hash()) is None
    with factory() as session:
        source = session.scalar(select(Source))
        assert source is not None and source.title == "Exemple" and source.kind == "feed"
        row = session.get(Item, item_id)
        assert row is not None and row.source_id == source.id and row.guid == "a1" and row.language == "fr"
        concepts = list(session.scalars(select(Classification.concept_id)))
        assert concepts == ["doctype:news"]  # the unknown concept is skipped, not a foreign-key failure
    sink.discard(item_id)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 0
