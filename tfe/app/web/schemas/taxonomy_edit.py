"""``/api/taxonomy`` editing: a concept in full, write bodies, changes with their diff."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from tfe.app.web.schemas.common import IsoDateTime

__all__ = [
    "ChangeDetailPublic",
    "ChangePublic",
    "ChangeResultPublic",
    "ChangesPublic",
    "ConceptCreate",
    "ConceptDetailPublic",
    "ConceptLinkPublic",
    "ConceptUpdate",
    "DeprecateBody",
    "DiffLinePublic",
    "MergeBody",
    "MoveBody",
    "MovedRowPublic",
    "RevertBody",
    "SplitBody",
]

ConceptIdField = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Reason = Annotated[str, Field(max_length=2000, description="Why (stored in the history)")]
Labels = Annotated[
    dict[str, list[str]], Field(description='{"fr": [...], "en": [...]}', examples=[{"fr": ["vin"]}])
]


class ConceptLinkPublic(BaseModel):
    """Another concept named by a concept (broader, narrower, related, replacement)."""

    id: str = Field(examples=["naf:11"])
    label: str = Field(examples=["Fabrication de boissons"])
    deprecated: bool


class MappingPublic(BaseModel):
    """A mapping to a concept of another scheme (SKOS exactMatch, closeMatch, broadMatch, ...)."""

    relation: str = Field(examples=["narrowMatch"])
    target: str = Field(examples=["naf:11.02"])
    label: str


class CountsPublic(BaseModel):
    """How many documents and watch items in the caller's scope hold the concept or one under it."""

    documents: int
    items: int


class ChangePublic(BaseModel):
    """One recorded taxonomy change: who, when, why, what."""

    id: int
    version: int = Field(description="Taxonomy version stamp the change produced")
    action: str = Field(examples=["merge"], description="add, edit, rename, labels, rules, move, merge, ...")
    concept_id: str | None
    summary: str = Field(description="One French line")
    reason: str
    user_id: int | None
    created_at: IsoDateTime
    concepts: list[str] = Field(description="Every concept id the change wrote")
    moved_count: int = Field(description="Classification rows the change moved or dropped")
    revert_of: int | None
    reverted_by: int | None


class DiffLinePublic(BaseModel):
    """One column of one concept that the change set from ``before`` to ``after`` (null: no row)."""

    concept_id: str
    field: str
    before: Any
    after: Any


class MovedRowPublic(BaseModel):
    """One classification row a merge moved (``to`` null: a duplicate dropped)."""

    model_config = ConfigDict(populate_by_name=True)

    id: int
    from_: str | None = Field(alias="from")
    to: str | None


class ChangeDetailPublic(ChangePublic):
    """A change with its field-by-field diff and the classification rows it moved."""

    diff: list[DiffLinePublic]
    moved: list[MovedRowPublic]


class ChangesPublic(BaseModel):
    total: int = Field(description="Number of changes listed")
    items: list[ChangePublic]


class ChangeResultPublic(BaseModel):
    """The change a write recorded, and the reclassification it started (null: none available)."""

    change: ChangePublic
    reclassify: dict[str, Any] | None


class ConceptDetailPublic(BaseModel):
    """A concept in full: labels, notes, links, rules, use in the caller's scope, latest changes."""

    id: str = Field(examples=["naf:11.02"])
    scheme: str
    notation: str
    level: str
    label: str = Field(description="French preferred label")
    label_en: str
    alt_labels: dict[str, list[str]]
    hidden_labels: dict[str, list[str]]
    definition_fr: str
    definition_en: str
    scope_note_fr: str
    broader: ConceptLinkPublic | None
    narrower: list[ConceptLinkPublic]
    related: list[ConceptLinkPublic]
    mappings: list[MappingPublic]
    rules: list[dict[str, Any]]
    deprecated: bool
    replaced_by: ConceptLinkPublic | None
    updated_at: IsoDateTime | None
    counts: CountsPublic
    history: list[ChangePublic] = Field(description="The latest changes that touched it, newest first")


class _Editable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pref_label_en: str | None = Field(None, max_length=400)
    alt_labels: Labels | None = None
    hidden_labels: Labels | None = None
    definition_fr: str | None = Field(None, max_length=20_000)
    definition_en: str | None = Field(None, max_length=20_000)
    scope_note_fr: str | None = Field(None, max_length=20_000)
    related: list[ConceptIdField] | None = Field(None, max_length=200)
    mappings: list[dict[str, str]] | None = Field(None, max_length=200)
    rules: list[dict[str, Any]] | None = Field(
        None, max_length=200, description="Matching rules (contract C1)"
    )
    level: str | None = Field(None, max_length=16)
    reason: Reason = ""


class ConceptCreate(_Editable):
    """A new concept ``scheme:notation``."""

    scheme: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$", examples=["naf"])
    notation: str = Field(min_length=1, max_length=64, examples=["01.99"])
    pref_label_fr: str = Field(min_length=1, max_length=400)
    broader_id: ConceptIdField | None = None


class ConceptUpdate(_Editable):
    """The fields to change (absent: unchanged)."""

    pref_label_fr: str | None = Field(None, min_length=1, max_length=400)


class MoveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    broader_id: ConceptIdField | None = Field(description="New parent (null: top of the scheme)")
    reason: Reason = ""


class MergeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_id: ConceptIdField
    reason: Reason = ""


class SplitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: list[dict[str, Any]] = Field(
        min_length=1, max_length=50, examples=[[{"notation": "01.21a", "pref_label_fr": "Vignes de cuve"}]]
    )
    keep_original: bool = False
    reason: Reason = ""


class DeprecateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    replaced_by: ConceptIdField | None = None
    reason: Reason = ""


class RevertBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = ""
