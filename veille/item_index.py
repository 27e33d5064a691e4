"""Keep a watch item's search passages in step with its rows after a curator's decision.

The metadata is the ingest writer's own rule (``ingest.components.writer.passage_meta``) applied to the
item's current classifications, plus ``curator_status`` (what ``search.filters.visible_filter`` reads to
leave rejected items out of other people's searches). Where the backend hands back the stored passages
they are rewritten with their text and vectors unchanged; otherwise they are rebuilt from the item's
stored text (``ingest.reindex.reindex_passages``, shared with ``ged.reindex``).
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from ingest.components.writer import passage_meta
from ingest.item import IngestItem, Processed
from ingest.reindex import reindex_passages, scored
from search.backend import SearchBackend
from taxonomy.classifications import classifications_of
from taxonomy.classifier import Scored
from taxonomy.referential import Referential
from veille.models import Item

__all__ = ["ITEM_META", "reindex_item"]

log = logging.getLogger(__name__)

# The passage meta keys a decision can change; the others (date, language, url, ACL) stay as indexed.
ITEM_META = (
    "doc_type", "sectors", "sector_facet", "countries", "regions", "filieres", "signals", "curator_status"
)


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
        sectors=scored(views, "naf"),
        countries=scored(views, "country"),
        filieres=scored(views, "filiere"),
        signals=scored(views, "signal"),
        doc_type=Scored(types[0].concept_id, types[0].score) if types else None,
    )


def reindex_item(session: Session, backend: SearchBackend, referential: Referential, item: Item) -> int:
    """Rewrite the item's passages with its current classifications and status; how many were written.

    ``BackendError`` when the backend fails (the caller's transaction then rolls back the decision).
    """
    record = _record(session, item)
    fresh = {**passage_meta(record, referential), "curator_status": item.curator_status}
    written = reindex_passages(backend, record, item.id, fresh, ITEM_META, item.text, what="item")
    log.info("reindexed item=%s passages=%d status=%s", item.id, written, item.curator_status)
    return written
