"""Keep a watch item's search passages in step with its rows after a curator's decision.

The metadata is the ingest writer's own rule (``ingest.components.writer.passage_meta``) applied to the
item's current classifications, plus ``curator_status`` (what ``search.filters.visible_filter`` reads to
leave rejected items out of other people's searches). Where the backend hands back the stored passages
(its ``get``, as ``ged.reindex`` uses it for documents) they are rewritten with their text and vectors
unchanged; otherwise they are rebuilt from the item's stored text (vectors back-filled later).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from ingest.components.splitter import split_passages
from ingest.components.writer import index_passages, passage_meta
from ingest.item import IngestItem, Processed
from search.backend import SearchBackend
from search.types import Passage
from taxonomy.classifications import classifications_of
from taxonomy.classifier import Scored
from taxonomy.referential import Referential
from tfe.core.errors import BackendError
from veille.models import Item

__all__ = ["ITEM_META", "reindex_item"]

log = logging.getLogger(__name__)

# The passage meta keys a decision can change; the others (date, language, url, ACL) stay as indexed.
ITEM_META = ("doc_type", "sectors", "sector_facet", "countries", "regions", "curator_status")
_BATCH = 256


def _record(session: Session, item: Item) -> Processed:
    """The item as the writer would see it with its current rows (no text or vectors)."""
    views = classifications_of(session, "item", item.id)
    types = [c for c in views if c.scheme == "doctype"]
    return Processed(
        item=IngestItem(
            key=item.id,
            kind="item",
            title=item.title,
            url=item.url,
            published_at=item.published_at,
            org_id=item.org_id,
            visibility=item.visibility,
            source_id=item.source_id,
            guid=item.guid,
        ),
        content_hash=item.content_hash,
        title=item.title,
        language=item.language,
        modified_at=item.fetched_at,
        sectors=[Scored(c.concept_id, c.score, c.evidence) for c in views if c.scheme == "naf"],
        countries=[Scored(c.concept_id, c.score, c.evidence) for c in views if c.scheme == "country"],
        doc_type=Scored(types[0].concept_id, types[0].score) if types else None,
    )


def _stored(get: Callable[[list[str]], list[Passage]], parent_id: str) -> list[Passage]:
    out: list[Passage] = []
    start = 0
    while True:
        batch = get([f"{parent_id}:{i}" for i in range(start, start + _BATCH)])
        out.extend(batch)
        if len(batch) < _BATCH:
            return out
        start += _BATCH


def reindex_item(session: Session, backend: SearchBackend, referential: Referential, item: Item) -> int:
    """Rewrite the item's passages with its current classifications and status; how many were written.

    ``BackendError`` when the backend fails (the caller's transaction then rolls back the decision).
    """
    record = _record(session, item)
    fresh = {**passage_meta(record, referential), "curator_status": item.curator_status}
    get = getattr(backend, "get", None)
    try:
        passages = _stored(get, item.id) if callable(get) else []
        if passages:
            for p in passages:
                p.title = record.display_title
                p.meta = {**p.meta, **{k: fresh[k] for k in ITEM_META}}
        else:
            record.passages = split_passages(item.text) if item.text else []
            passages = index_passages(record, item.id, fresh)
            backend.delete_parent(item.id)
        written = backend.write(passages)
        backend.commit()
    except BackendError:
        raise
    except Exception as exc:
        raise BackendError(f"could not re-index item {item.id}: {type(exc).__name__}: {exc}") from exc
    log.info("reindexed item=%s passages=%d status=%s", item.id, written, item.curator_status)
    return written
