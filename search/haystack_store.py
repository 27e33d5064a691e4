"""A Haystack ``DocumentStore`` over the embedded backend, so Haystack pipelines (ingest) can write to it.

Document <-> Passage: ``content`` -> ``text``, ``meta["parent_id"]`` (default: the document id) ->
``parent_id``, ``meta["title"]`` -> ``title``, ``meta["position"]`` -> ``position``, ``meta`` -> ``meta``
(every value is filterable), a 384-dimension ``embedding`` -> the vector matrix. The rest of the Haystack
document is also kept in the passage meta under ``_haystack`` (private: not indexed) so that
``filter_documents`` returns documents equal to those written (blobs, other embedding sizes, scores); its
``content`` is left out there (meta is not sealed) and restored from the passage text, which the backend's
passage store keeps sealed.
Every write and delete commits: Haystack callers expect to read their writes.

``filter_documents`` is answered by the backend's own filter engines, never by filtering in Python:
``filter_engine="tantivy"`` (the default) runs the filter as the Tantivy query, ``"vectors"`` as the
vector table's row mask, so that Haystack's filter suite checks both engines searches rely on. A filter
the engines cannot evaluate raises Haystack's ``FilterError``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from haystack import Document, default_from_dict, default_to_dict
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.document_stores.types import DuplicatePolicy
from haystack.errors import FilterError

from search.embedded import EmbeddedBackend
from search.embeddings import DIM
from search.types import Passage
from tfe.core.errors import ValidationError

log = logging.getLogger(__name__)

HAYSTACK_KEY = "_haystack"
TEXT_FLAG = "content_is_passage_text"  # in the kept copy: the content was not None (it is the passage text)


def document_to_passage(doc: Document) -> Passage:
    meta = dict(doc.meta)
    has_text = doc.content is not None
    position = meta.get("position", 0)
    passage = Passage(
        id=doc.id,
        parent_id=str(meta.get("parent_id") or doc.id),
        title=str(meta.get("title") or ""),
        text=doc.content or "",
        position=position if isinstance(position, int) and not isinstance(position, bool) else 0,
        meta={**meta, HAYSTACK_KEY: {**doc.to_dict(flatten=False), "content": None, TEXT_FLAG: has_text}},
    )
    if doc.embedding is not None and len(doc.embedding) == DIM:
        passage.embedding = doc.embedding  # type: ignore[assignment]
    return passage


def passage_to_document(passage: Passage) -> Document:
    stored = passage.meta.get(HAYSTACK_KEY)
    if isinstance(stored, dict):
        fields = {k: v for k, v in stored.items() if k != TEXT_FLAG}
        fields["content"] = passage.text if stored.get(TEXT_FLAG) else None
        return Document.from_dict(fields)
    meta = {k: v for k, v in passage.meta.items() if k != HAYSTACK_KEY}
    meta.setdefault("parent_id", passage.parent_id)
    meta.setdefault("title", passage.title)
    embedding = None if passage.embedding is None else [float(x) for x in passage.embedding]
    return Document(id=passage.id, content=passage.text, meta=meta, embedding=embedding)


class EmbeddedDocumentStore:
    """Haystack DocumentStore protocol over ``EmbeddedBackend`` (one writer process)."""

    def __init__(
        self, index_dir: str | Path, backend: EmbeddedBackend | None = None, filter_engine: str = "tantivy"
    ) -> None:
        if filter_engine not in EmbeddedBackend.filter_engines:
            raise ValueError(f"unknown filter engine {filter_engine!r}")
        self.index_dir = Path(index_dir)
        self.backend = backend or EmbeddedBackend(self.index_dir)
        self.filter_engine = filter_engine

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(self, index_dir=str(self.index_dir), filter_engine=self.filter_engine)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EmbeddedDocumentStore:
        return default_from_dict(cls, data)

    def count_documents(self) -> int:
        return self.backend.count()

    def filter_documents(self, filters: dict[str, Any] | None = None) -> list[Document]:
        """Documents matching a Haystack filter (full grammar), in write order, selected by the engine."""
        if filters and "operator" not in filters and "conditions" not in filters:
            raise ValueError("Invalid filter syntax: see the Haystack metadata-filtering documentation")
        try:
            passages = self.backend.filter_passages(filters or None, engine=self.filter_engine)
        except ValidationError as e:
            raise FilterError(str(e)) from e
        return [passage_to_document(p) for p in passages]

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
