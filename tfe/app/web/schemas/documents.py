"""``/api/documents``: the upload form, the upload result and a document with its versions."""

from __future__ import annotations

from typing import Literal

from fastapi import UploadFile
from pydantic import BaseModel, Field

from tfe.app.web.schemas.common import ClassificationPublic, IsoDateTime, Visibility

__all__ = [
    "DocumentCreate",
    "DocumentPublic",
    "DocumentTypePublic",
    "DocumentUploadPublic",
    "DocumentVersionPublic",
    "SimilarDocumentPublic",
    "SimilarityListPublic",
    "SimilarityPublic",
]


class DocumentCreate(BaseModel):
    """The multipart form of an upload."""

    file: UploadFile = Field(description="The document (PDF, office, text, HTML, e-mail)")
    visibility: Visibility = Field("organisation", description="Who may see the document")
    doc_type: str | None = Field(None, max_length=64, description="Document type concept id")


class SimilarDocumentPublic(BaseModel):
    """A document the caller may see that the upload resembles (« ressemble à 92 % à … »)."""

    id: str
    title: str
    score: float = Field(description="Estimated Jaccard similarity of word 5-grams, 0..1", examples=[0.92])
    url: str = Field(description="Page of the document", examples=["/documents/3f2a..."])


class DocumentUploadPublic(BaseModel):
    """What became of an upload: a new document (``ok``, 201) or an existing one (``duplicate``, 200)."""

    status: Literal["ok", "duplicate"]
    id: str | None = Field(description="The new document, or the one with the same content")
    title: str | None
    reason: str | None = Field(description="Why it was not added (duplicate), else null")
    url: str | None = Field(description="API URL of the document")
    similar: list[SimilarDocumentPublic] = Field(
        description="Near-duplicates among the documents the uploader may see, best first (never merged)",
    )


class SimilarityPublic(BaseModel):
    """One recorded near-duplicate: ``document`` (uploaded later, at ``version``) resembles ``similar``."""

    document: SimilarDocumentPublic
    similar: SimilarDocumentPublic
    version: int
    score: float = Field(description="Estimated Jaccard similarity of word 5-grams, 0..1")
    created_at: IsoDateTime | None


class SimilarityListPublic(BaseModel):
    """Near-duplicates whose two documents the caller may see, newest first."""

    total: int
    items: list[SimilarityPublic]


class DocumentTypePublic(BaseModel):
    """The document type concept; the label is null when the concept is not in the taxonomy."""

    id: str = Field(examples=["doctype:sector_analysis"])
    label: str | None = Field(examples=["Analyse sectorielle"])


class DocumentVersionPublic(BaseModel):
    """One stored version of the original file (``GET .../content?version=N``)."""

    number: int = Field(description="1 for the first version")
    filename: str
    mime: str
    size: int = Field(description="Bytes")
    sha256: str = Field(description="Hex digest of the original bytes")
    created_at: IsoDateTime | None
    comment: str | None = Field(description="The uploader's comment (« Restauration de la version N » …)")
    author_id: int | None = Field(description="Who uploaded this version")
    author: str | None = Field(description="Their name (or e-mail)")


class DocumentPublic(BaseModel):
    """A document's metadata, its versions (oldest first) and classifications (best score first)."""

    id: str
    title: str
    type: DocumentTypePublic | None
    visibility: Visibility
    status: str = Field(examples=["active"])
    language: str | None = Field(examples=["fr"])
    author: str | None
    org_id: int | None = Field(description="Owning organisation")
    owner_user_id: int | None
    source_uri: str | None
    valid_from: IsoDateTime | None
    valid_until: IsoDateTime | None
    created_at: IsoDateTime | None
    updated_at: IsoDateTime | None
    versions: list[DocumentVersionPublic]
    classifications: list[ClassificationPublic]
    content_url: str = Field(description="API URL of the latest original file")
