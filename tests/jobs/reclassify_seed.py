"""A small world for the reclassification tests: watch items saved through the product's writer, and
taxonomy changes written the way the editing functions write them (row updated, version bumped, one
``TaxonomyChange`` with before/after snapshots)."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import inspect

from ingest.components.splitter import split_passages
from ingest.components.writer import RecordWriter
from ingest.item import ExtractedMetadata, IngestItem
from taxonomy.classifier import Scored
from taxonomy.live import StaticReferential
from taxonomy.models import Concept, TaxonomyChange
from taxonomy.version import bump_version
from tfe.app.runtime import Runtime
from veille.sink import ItemSink


def add_items(
    rt: Runtime, texts: list[tuple[str, str]], *, sector: str = "naf:46.90", countries: tuple[str, ...] = ()
) -> list[str]:
    """Watch items (title, text), network-visible, each classified in ``sector`` and ``countries``."""
    writer = RecordWriter(ItemSink(rt.session_factory), rt.backend, StaticReferential(rt.referential))
    ids = []
    for n, (title, text) in enumerate(texts):
        data = f"{title}\n{text}".encode()
        item = IngestItem(
            key=f"https://veille.example/flux#{n}-{hashlib.sha1(data).hexdigest()[:8]}",
            kind="item",
            title=title,
            url=f"https://veille.example/articles/{n}-{hashlib.sha1(data).hexdigest()[:8]}",
            published_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
            visibility="network",
            meta={"feed_url": "https://veille.example/flux"},
        )
        metadata = ExtractedMetadata(
            content_hash=hashlib.sha256(data).hexdigest(), mime="text/plain", size=len(data)
        )
        saved = writer.run(
            item=item,
            metadata=metadata,
            text=text,
            title=title,
            language="fr",
            sectors=[Scored(sector, 0.5, ["seed"])],
            countries=[Scored(c, 0.5, ["seed"]) for c in countries],
            doc_type=Scored("doctype:news", 1.0, ["seed"]),
            passages=split_passages(text),
            embeddings=None,
        )
        ids.append(saved["target_id"])
    return ids


def snapshot(row: Concept) -> dict[str, Any]:
    """Every column of the row, JSON-safe (the shape of ``taxonomy.changes.snapshot``)."""
    out: dict[str, Any] = {}
    for attr in inspect(Concept).mapper.column_attrs:
        value = getattr(row, attr.key)
        out[attr.key] = value.isoformat() if isinstance(value, dt.datetime) else value
    return out


def edit(rt: Runtime, concept_id: str, changes: dict[str, Any], *, user_id: int | None = None) -> int:
    """Apply ``changes`` to one concept as one recorded change; the change's id."""
    with rt.session() as session:
        row = session.get(Concept, concept_id)
        assert row is not None
        before = snapshot(row)
        for key, value in changes.items():
            setattr(row, key, value)
        session.flush()
        version = bump_version(session)
        change = TaxonomyChange(
            version=version,
            action="edit",
            concept_id=concept_id,
            summary=f"modification de {concept_id}",
            user_id=user_id,
            before={concept_id: before},
            after={concept_id: snapshot(row)},
        )
        session.add(change)
        session.flush()
        change_id = change.id
    rt.referential_source.refresh()  # type: ignore[attr-defined]
    return change_id
