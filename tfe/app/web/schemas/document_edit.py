"""``PATCH /api/documents/{id}``: the edit body and its answer (the document, and what changed)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tfe.app.web.schemas.common import Visibility
from tfe.app.web.schemas.documents import DocumentPublic

__all__ = ["ConceptChanges", "DocumentStatus", "DocumentUpdate", "DocumentUpdatePublic"]

DocumentStatus = Literal["draft", "in_review", "validated", "archived"]
"""A document's lifecycle status (``ged.models.STATUSES``); alerts send validated documents only."""

ConceptName = Annotated[str, Field(min_length=1, max_length=200)]


class ConceptChanges(BaseModel):
    """Concepts to add and to remove, by id, code or French name (``naf:11.02``, ``11.02``, ``Allemagne``)."""

    model_config = ConfigDict(extra="forbid")

    add: list[ConceptName] = Field(default_factory=list, max_length=50, examples=[["11.02"]])
    remove: list[ConceptName] = Field(default_factory=list, max_length=50, examples=[["Allemagne"]])


class DocumentUpdate(BaseModel):
    """What to change; an absent (or null) field stays as it is. Classifications and the status need the
    curator or admin role."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=500)
    doc_type: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Document type concept id or name",
        examples=["doctype:market_study"],
    )
    visibility: Visibility | None = None
    status: DocumentStatus | None = Field(
        None,
        description="A lifecycle move (the rules of POST /api/documents/{id}/transitions: contributors "
        "submit, curators validate or send back, owners and curators archive); a new status re-indexes "
        "the document with a fresh indexed_at, so a validated document reaches the alerts from then",
        examples=["validated"],
    )
    status_comment: str | None = Field(
        None, max_length=2000, description="The move's comment (required to send back to draft)"
    )
    valid_until: dt.date | None = Field(
        None,
        description="Last day the document is valid (its owner is reminded before; « expiré » after); "
        "null removes it",
        examples=["2027-06-30"],
    )
    sectors: ConceptChanges | None = Field(None, description="NAF sectors to add or remove")
    countries: ConceptChanges | None = Field(None, description="Countries to add or remove")


class DocumentUpdatePublic(DocumentPublic):
    """The document after the edit, and what changed (``{}`` when the values were already those)."""

    changed: dict[str, Any] = Field(
        description="Field -> [old, new] for title, doc_type, visibility and status; sectors_added, "
        "sectors_removed, countries_added, countries_removed -> concept ids",
        examples=[{"title": ["Ancien titre", "Nouveau titre"], "countries_added": ["country:DE"]}],
    )
