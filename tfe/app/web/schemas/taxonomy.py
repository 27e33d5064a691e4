"""``/api/taxonomy``: concept schemes and concepts."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["ConceptPublic", "ConceptsPublic", "SchemePublic", "SchemesPublic"]


class SchemePublic(BaseModel):
    """One concept scheme and how many concepts it holds."""

    id: str = Field(examples=["naf"])
    uri: str
    label: str = Field(description="French label")
    label_en: str
    version: str
    concepts: int = Field(description="Number of concepts")


class SchemesPublic(BaseModel):
    """Every concept scheme."""

    total: int
    items: list[SchemePublic]


class ConceptPublic(BaseModel):
    """One concept of a scheme, with its place in the hierarchy and its replacement when retired."""

    id: str = Field(examples=["naf:11.02"])
    scheme: str
    notation: str = Field(examples=["11.02"])
    level: str = Field(description="section, division, group, class, subclass, ... (may be empty)")
    label: str = Field(description="French preferred label")
    label_en: str
    broader: str | None = Field(description="Parent concept id")
    deprecated: bool
    replaced_by: str | None = Field(description="Concept that replaces a deprecated one")


class ConceptsPublic(BaseModel):
    """One page of concepts and the number of all that match."""

    total: int
    items: list[ConceptPublic]
