"""Persistence: the system-of-record rows through a ``ContentSink``, then the passages in the search backend.

Rows first (the sink commits document/item, version, blob and classifications in one transaction), then
the passages with the facet/filter metadata every backend indexes (see ``search.types.Passage``), then a
backend commit so the input is searchable when the runner reports it ``ok``. If indexing fails the rows
are discarded again, so a re-run retries the input instead of reporting it as a duplicate.
"""

from __future__ import annotations

import logging
from typing import Any

from haystack import component

from ingest.errors import IngestError
from ingest.item import Processed
from ingest.sink import ContentSink
from search.backend import SearchBackend
from search.types import Passage

__all__ = ["RecordWriter", "passage_meta"]

log = logging.getLogger(__name__)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def passage_meta(record: Processed, referential: Any) -> dict[str, Any]:
    """The indexed metadata of every passage of ``record`` (sectors with ancestors, facets, regions, ACL)."""
    item = record.item
    assigned = [s.concept_id for s in record.sectors]
    sectors = _unique([a for sid in assigned for a in (sid, *referential.ancestors(sid))])
    facet = _unique([referential.division_of(sid) or "" for sid in assigned])
    countries = _unique([c.concept_id for c in record.countries])
    regions = _unique([r for cid in countries for r in referential.regions_of(cid)])
    date = record.date
    return {
        "kind": item.kind,
        "doc_type": record.doc_type.concept_id if record.doc_type else None,
        "sectors": sectors,
        "sector_facet": facet,
        "countries": countries,
        "regions": regions,
        "org_id": item.org_id,
        "owner_user_id": item.owner_user_id,
        "visibility": item.visibility,
        "language": record.language,
        "date": date.isoformat() if date else None,
        "url": item.url,
    }


@component
class RecordWriter:
    """Save ``Processed`` through the sink and index its passages; sets ``target_id``."""

    def __init__(
        self, sink: ContentSink, backend: SearchBackend, referential: Any = None, commit: bool = True
    ) -> None:
        self.sink = sink
        self.backend = backend
        self.commit = commit
        self._referential = referential

    def warm_up(self) -> None:
        if self._referential is None:
            from taxonomy.referential import Referential

            self._referential = Referential.load()

    def passages(self, record: Processed, parent_id: str) -> list[Passage]:
        """The ``Passage`` objects of a saved record (ids ``f"{parent_id}:{position}"``)."""
        self.warm_up()
        meta = passage_meta(record, self._referential)
        title = record.display_title
        out: list[Passage] = []
        for position, text in enumerate(record.chunks):
            has_vector = record.vectors is not None and position < len(record.vectors)
            vector = record.vectors[position] if has_vector else None  # type: ignore[index]
            out.append(
                Passage(
                    id=f"{parent_id}:{position}",
                    parent_id=parent_id,
                    title=title,
                    text=text,
                    position=position,
                    meta=dict(meta),
                    embedding=vector,
                )
            )
        return out

    @component.output_types(record=Processed)
    def run(self, record: Processed) -> dict[str, Processed]:
        self.warm_up()
        try:
            target_id = self.sink.save(record.item, record)
        except IngestError:
            raise
        except Exception as exc:
            raise IngestError(f"could not save: {type(exc).__name__}: {exc}"[:300], step="writer") from exc
        record.target_id = target_id
        try:
            record.passages_written = self.backend.write(self.passages(record, target_id))
            if self.commit:
                self.backend.commit()
        except Exception as exc:
            log.warning("indexing failed target=%s: %s; discarding the saved rows", target_id, exc)
            try:
                self.backend.delete_parent(target_id)
            except Exception:  # the backend is already failing; the discard below matters more
                log.exception("could not remove passages of %s", target_id)
            self.sink.discard(target_id)
            record.target_id = None
            raise IngestError(f"indexing failed: {type(exc).__name__}: {exc}"[:300], step="writer") from exc
        return {"record": record}
