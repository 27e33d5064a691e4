"""Documents and their versions (the GED's system of record), their lifecycle, similarities and erasures.

Texts that quote a document (title, extracted text, Tika metadata, version comments, review comments) are
``SealedText``/``SealedJSON`` columns: encrypted at rest under the column data key (``tfe.core.crypto``).
Blobs are sealed per document (``ged.blobs``), so erasing a document destroys its data key.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tfe.core.crypto.columns import SealedJSON, SealedText
from tfe.core.db import Base, utcnow

STATUSES = ("draft", "in_review", "validated", "archived")


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(SealedText)
    doc_type: Mapped[str | None] = mapped_column(String(64), default=None)  # concept id "doctype:..."
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True, default=None)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    visibility: Mapped[str] = mapped_column(String(16), default="organisation")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    author: Mapped[str | None] = mapped_column(String(300), default=None)
    source_uri: Mapped[str | None] = mapped_column(Text, default=None)
    valid_from: Mapped[dt.datetime | None] = mapped_column(default=None)
    valid_until: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    # typed fields of the document type (``ged.fields``): confirmed values, and the classifier's proposals
    fields: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)
    proposed_fields: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)
    # check-out lock (``ged.versions``): who holds it and until when
    locked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    # lifecycle (``ged.lifecycle``): expiry reminder sent, retention review due
    expiry_reminded_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    review_due_at: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    # trash (``ged.trash``): deleted documents stay restorable until purged
    deleted_at: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    deleted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DocumentVersion(Base):
    __tablename__ = "document_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(500))
    mime: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    size: Mapped[int] = mapped_column(BigInteger)
    blob_key: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(SealedText, default="")
    meta: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)
    comment: Mapped[str | None] = mapped_column(SealedText, default=None)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # near-duplicate detection (``ged.neardup``): the MinHash of the text's shingles
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DocumentTransition(Base):
    """One lifecycle move (``ged.lifecycle``): who moved the document from what to what, and why."""

    __tablename__ = "document_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    comment: Mapped[str | None] = mapped_column(SealedText, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DocumentSimilarity(Base):
    """A near-duplicate found at upload (``ged.neardup``): never a merge, a notice to uploader and curator."""

    __tablename__ = "document_similarities"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    similar_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ErasureReceipt(Base):
    """A signed erasure receipt (``ged.erasure``): what was erased, its hashes, when and by whom."""

    __tablename__ = "erasure_receipts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "document" | "organisation"
    target_id: Mapped[str] = mapped_column(String(64), index=True)
    receipt: Mapped[dict[str, Any]] = mapped_column(default=dict)  # no content: ids, hashes, counts
    signature: Mapped[str] = mapped_column(String(200))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
