"""A Haystack ``DocumentStore`` over the embedded backend, so Haystack pipelines (ingest) can write to it.

Document <-> Passage: ``content`` -> ``text``, ``meta["parent_id"]`` (default: the document id) ->
``parent_id``, ``meta["title"]`` -> ``title``, ``meta["position"]`` -> ``position``, ``meta`` -> ``meta``
(so ``visibility``, ``sectors``... are indexed as keyword fields), a 384-dimension ``embedding`` -> the
vector matrix. The whole Haystack document is also kept in the passage meta under ``_haystack`` so that
``filter_documents`` returns documents equal to those written (blobs, other embedding sizes, scores).
Every write and delete commits: Haystack callers expect to read their writes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from haystack import Document, default_from_dict, default_to_dict
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.document_stores.types import DuplicatePolicy
from haystack.utils.filters import document_matches_filter

from search.embedded import EmbeddedBackend
from search.embeddings import DIM
from search.types import Passage

log = logging.getLogger(__name__)

HAYSTACK_KEY = "_haystack"


def document_to_passage(doc: Document) -> Passage:
    meta = dict(doc.meta)
    position = meta.get("position", 0)
    passage = Passage(
        id=doc.id,
        parent_id=str(meta.get("parent_id") or doc.id),
        title=str(meta.get("title") or ""),
        text=doc.content or "",
        position=position if isinstance(position, int) and not isinstance(position, bool) else 0,
        meta={**meta, HAYSTACK_KEY: doc.to_dict(flatten=False)},
    )
    if doc.embedding is not None and len(doc.embedding) == DIM:
        passage.embedding = doc.embedding  # type: ignore[assignment]
    return passage


def passage_to_document(passage: Passage) -> Document:
    stored = passage.meta.get(HAYSTACK_KEY)
    if isinstance(stored, dict):
        return Document.from_dict(stored)
    meta = {k: v for k, v in passage.meta.items() if k != HAYSTACK_KEY}
    meta.setdefault("parent_id", passage.parent_id)
    meta.setdefault("title", passage.title)
    embedding = None if passage.embedding is None else [float(x) for x in passage.embedding]
    return Document(id=passage.id, content=passage.text, meta=meta, embedding=embedding)


class EmbeddedDocumentStore:
    """Haystack DocumentStore protocol over ``EmbeddedBackend`` (one writer process)."""

    def __init__(self, index_dir: str | Path, backend: EmbeddedBackend | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.backend = backend or EmbeddedBackend(self.index_dir)

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, index_dir=str(self.index_dir))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbeddedDocumentStore:
        return default_from_dict(cls, data)

    def count_documents(self) -> int:
        return self.backend.count()

    def filter_documents(self, filters: dict[str, Any] | None = None) -> list[Document]:
        """Documents matching a Haystack filter (full grammar), in write order."""
        if filters and "operator" not in filters and "conditions" not in filters:
            raise ValueError("Invalid filter syntax: see the Haystack metadata-filtering documentation")
        docs = [passage_to_document(p) for p in self.backend.iter_passages()]
        if not filters:
            return docs
        return [d for d in docs if document_matches_filter(filters=filters, document=d)]

    def write_documents(
        self, documents: list[Document], policy: DuplicatePolicy = DuplicatePolicy.NONE
    ) -> int:
        """Write documents; ``NONE`` means ``FAIL`` (as in Haystack's in-memory store)."""
        if not isinstance(documents, list) or any(not isinstance(d, Document) for d in documents):
            raise ValueError("Please provide a list of Documents.")
        if policy == DuplicatePolicy.NONE:
            policy = DuplicatePolicy.FAIL
        existing = {p.id for p in self.backend.get([d.id for d in documents])}
        to_write: dict[str, Passage] = {}
        try:
            for doc in documents:
                if policy != DuplicatePolicy.OVERWRITE and (doc.id in existing or doc.id in to_write):
                    if policy == DuplicatePolicy.FAIL:
                        raise DuplicateDocumentError(f"ID '{doc.id}' already exists.")
                    log.debug("skipping existing document id=%s", doc.id)
                    continue
                to_write.pop(doc.id, None)
                to_write[doc.id] = document_to_passage(doc)
        finally:
            if to_write:
                self.backend.write(list(to_write.values()))
                self.backend.commit()
        return len(to_write)

    def delete_documents(self, document_ids: list[str]) -> None:
        if not document_ids:
            return
        self.backend.delete(list(document_ids))
        self.backend.commit()
