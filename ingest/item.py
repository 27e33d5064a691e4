"""What flows through the ingestion pipeline.

``IngestItem`` is one source-agnostic input (a file's bytes or a feed entry's text, plus ownership
metadata). ``ExtractedMetadata`` is what the extractor learns about the input besides its text (MIME,
size, content hash, author, dates, the raw Tika metadata); it travels unchanged to the writer. The other
components exchange plain typed values (text, title, language, lemmas, concepts, passages, embeddings:
see each component's ``run()``). ``Processed`` is the record the writer assembles from all of them, hands
to the ``ContentSink`` and returns. Concepts are ``taxonomy.classifier.Scored`` everywhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from taxonomy.classifier import Scored

__all__ = ["ExtractedMetadata", "IngestItem", "Kind", "Processed"]

Kind = Literal["document", "item"]


@dataclass
class IngestItem:
    """One input: ``key`` is the absolute path of a file or ``"feed-url#guid"`` for a feed entry.

    Files carry ``data`` (the original bytes); feed entries carry ``text`` (title and summary, HTML
    stripped). ``meta`` holds source-specific extras (``feed_url``, ``feed_title``, ``summary``, ...).
    """

    key: str
    kind: Kind = "document"
    filename: str = ""
    data: bytes | None = None
    text: str | None = None
    title: str = ""
    url: str | None = None
    published_at: dt.datetime | None = None
    author: str | None = None
    org_id: int | None = None
    owner_user_id: int | None = None
    visibility: str = "organisation"
    doc_type: str | None = None  # concept id hint, e.g. "doctype:quote_template"
    source_id: int | None = None
    guid: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A small summary (no bytes, no text) used when Haystack snapshots a failed pipeline run."""
        return {"key": self.key, "kind": self.kind, "filename": self.filename, "guid": self.guid}

    def content_hash(self) -> str:
        """SHA-256 of the original bytes (files) or of the title and text (feed entries)."""
        if self.data is not None:
            return hashlib.sha256(self.data).hexdigest()
        payload = f"{self.title.strip()}\n{(self.text or '').strip()}"
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass
class ExtractedMetadata:
    """What extraction learns about an input besides its text, title and declared language."""

    content_hash: str
    mime: str = "application/octet-stream"
    size: int = 0
    author: str | None = None
    created_at: dt.datetime | None = None
    modified_at: dt.datetime | None = None
    tika_meta: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A small summary used when Haystack snapshots a failed pipeline run."""
        return {"content_hash": self.content_hash, "mime": self.mime, "size": self.size}


@dataclass
class Processed:
    """The saved record of one ``IngestItem``: what the writer hands to the sink and the pipeline returns."""

    item: IngestItem
    content_hash: str
    mime: str = "application/octet-stream"
    size: int = 0
    text: str = ""
    title: str = ""
    author: str | None = None
    created_at: dt.datetime | None = None
    modified_at: dt.datetime | None = None
    language: str | None = None
    tika_meta: dict[str, str] = field(default_factory=dict)
    sectors: list[Scored] = field(default_factory=list)
    countries: list[Scored] = field(default_factory=list)
    doc_type: Scored | None = None
    filieres: list[Scored] = field(default_factory=list)  # the network's filières (scheme filiere)
    signals: list[Scored] = field(default_factory=list)  # watch signals (scheme signal)
    passages: list[str] = field(default_factory=list)
    embeddings: np.ndarray | None = None  # (<= len(passages), dim) float32, or None when deferred
    target_id: str | None = None  # the document or item id, once the sink has saved it
    passages_written: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A small summary used when Haystack traces or snapshots a pipeline run."""
        return {
            "item": self.item.to_dict(),
            "content_hash": self.content_hash,
            "mime": self.mime,
            "chars": len(self.text),
            "passages": len(self.passages),
            "target_id": self.target_id,
        }

    @property
    def date(self) -> dt.datetime | None:
        """The date shown and filtered on: publication, else last modification, else creation."""
        return self.item.published_at or self.modified_at or self.created_at

    @property
    def display_title(self) -> str:
        return self.title or self.item.title or self.item.filename or self.item.key
