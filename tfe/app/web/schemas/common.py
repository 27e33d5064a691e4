"""Pieces shared by several resources: visibility, timestamps, concept references, classifications."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

__all__ = ["ClassificationPublic", "ConceptRef", "IsoDateTime", "Visibility"]

Visibility = Literal["private", "organisation", "network", "public"]
"""Who may see a document or an item (``tfe.core.models.VISIBILITIES``)."""

IsoDateTime = Annotated[
    str,
    Field(
        description="ISO 8601 timestamp in UTC (the +00:00 offset is absent on SQLite)",
        examples=["2025-01-15T08:30:00"],
    ),
]
"""A timestamp kept as the string the domain view wrote: no re-formatting on the way out.

Not declared ``format: date-time``: RFC 3339 needs an offset, and SQLite hands datetimes back without one.
"""


class ConceptRef(BaseModel):
    """A taxonomy concept named by its id and its French label."""

    id: str = Field(examples=["naf:11"])
    label: str = Field(examples=["Fabrication de boissons"])


class ClassificationPublic(BaseModel):
    """One concept assigned to a document or an item, with the reason it was assigned."""

    id: str = Field(description="Concept id", examples=["country:DE"])
    scheme: str = Field(description="Concept scheme id (naf, country, region, doctype)", examples=["country"])
    label: str = Field(examples=["Allemagne"])
    score: float = Field(description="Confidence, 0..1")
    method: str = Field(description="How it was assigned (rule, model, manual, ...)", examples=["rule"])
    evidence: list[str] = Field(description="What matched in the text")
