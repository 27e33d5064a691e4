"""Typed document types: the field schemas, a document's values and proposals, and their errors."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tfe.app.web.schemas.common import ConceptRef

__all__ = [
    "AcceptProposals",
    "DocTypePublic",
    "DocTypesPublic",
    "DocumentFieldsPublic",
    "FieldSchemaPublic",
    "FieldValuePublic",
    "FieldsUpdate",
    "ProposalPublic",
]

FieldKind = Literal["text", "integer", "decimal", "date", "boolean", "choice", "concept"]


class ChoicePublic(BaseModel):
    value: str = Field(examples=["EUR"])
    label: str = Field(description="French label", examples=["Euro (EUR)"])


class FieldSchemaPublic(BaseModel):
    """One field of a document type (``ged/data/doctype_fields.json``)."""

    name: str = Field(examples=["currency"])
    label: str = Field(description="French label", examples=["Devise"])
    type: FieldKind
    required: bool
    multiple: bool = Field(description="A list of values")
    choices: list[ChoicePublic] = Field(description="Allowed values (choice fields)")
    scheme: str | None = Field(description="Concept scheme of concept fields (naf, country, region)")
    min: float | None
    max: float | None
    filterable: bool = Field(description="Usable as a search filter: GET /api/search?field.<name>=<value>")


class DocTypePublic(BaseModel):
    """A document type and its fields."""

    id: str = Field(examples=["doctype:quote_template"])
    notation: str = Field(examples=["quote_template"])
    label: str = Field(description="French label", examples=["Modèle de devis"])
    fields: list[FieldSchemaPublic]


class DocTypesPublic(BaseModel):
    """Every document type of the referential in force, by notation, with its fields."""

    types: list[DocTypePublic]


class FieldValuePublic(BaseModel):
    name: str
    label: str
    type: FieldKind
    required: bool
    multiple: bool
    value: Any = Field(
        description="Stored value: text, integer, decimal as a string, ISO date, boolean, choice value, "
        "concept id, or a list of those; null when empty"
    )
    display: str | None = Field(description="The value in French (labels, JJ/MM/AAAA)")


class ProposalPublic(BaseModel):
    """A value the classifier or the text proposes; applied only when a person accepts it."""

    name: str
    label: str
    value: Any
    display: str
    origin: Literal["classification", "text"]
    evidence: str = Field(description="What the proposal rests on (concepts and scores, or a text excerpt)")


class DroppedValuePublic(BaseModel):
    name: str
    label: str = Field(description="French label in the former type")
    value: Any
    display: str


class DocumentFieldsPublic(BaseModel):
    """A document's typed fields: values, required ones still empty, pending proposals."""

    document_id: str
    doc_type: ConceptRef | None
    values: dict[str, Any]
    fields: list[FieldValuePublic]
    missing: list[str] = Field(description="Required fields without a value")
    proposals: list[ProposalPublic]
    editable: bool = Field(description="Whether the caller may change the values")
    dropped: list[DroppedValuePublic] = Field(
        description="Values the last type change removed (no field of that name in the new type), until "
        "the fields are saved again"
    )


class FieldsUpdate(BaseModel):
    """Every value of the document's fields (a full replacement; an absent or null field is cleared)."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any] = Field(
        examples=[{"service": "Prospection", "currency": "EUR", "price_min": 1500}]
    )


class AcceptProposals(BaseModel):
    """Which pending proposals to accept; all of them when ``names`` is absent or null."""

    model_config = ConfigDict(extra="forbid")

    names: list[str] | None = Field(None, max_length=100, examples=[["country", "edition_date"]])
