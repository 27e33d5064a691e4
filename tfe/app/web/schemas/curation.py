"""The curators' queue in the API: queue lines, a decision's body and answer, bulk decisions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tfe.app.web.schemas.common import IsoDateTime

__all__ = [
    "BulkDecision",
    "BulkFailurePublic",
    "BulkResultPublic",
    "ConceptScorePublic",
    "DecisionBody",
    "DecisionPublic",
    "QueueItemPublic",
    "QueuePublic",
]

CuratorStatus = Literal["new", "accepted", "auto_accepted", "rejected"]
ConceptName = Annotated[str, Field(min_length=1, max_length=200)]
ItemIdField = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class ConceptScorePublic(BaseModel):
    id: str = Field(examples=["naf:11.02"])
    label: str = Field(examples=["Vinification"])
    score: float = Field(description="The classifier's score (1 for a curator's choice)")


class QueueSourcePublic(BaseModel):
    id: int
    title: str


class QueueItemPublic(BaseModel):
    """One watch item of the queue, with what the classifier proposed."""

    id: str
    title: str
    url: str | None
    source: QueueSourcePublic | None
    fetched_at: IsoDateTime | None
    published_at: IsoDateTime | None
    sectors: list[ConceptScorePublic]
    countries: list[ConceptScorePublic]
    type: ConceptScorePublic | None
    confidence: float | None = Field(description="The classifier's best sector score (null: no sector)")
    story_id: str | None
    curator_status: CuratorStatus


class QueuePublic(BaseModel):
    total: int = Field(description="Items matching the filters in the caller's scope")
    items: list[QueueItemPublic]


class DecisionBody(BaseModel):
    """A curator's decision; ``sectors``, ``countries``, ``type`` and ``story_id`` only with ``correct``,
    where the lists given are the item's complete new sets (ids, codes or French names)."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "reject", "correct"]
    sectors: list[ConceptName] | None = Field(None, max_length=50, examples=[["11.02"]])
    countries: list[ConceptName] | None = Field(None, max_length=50, examples=[["Allemagne"]])
    type: str | None = Field(None, min_length=1, max_length=200, examples=["doctype:news"])
    story_id: str | None = Field(None, min_length=1, max_length=32)


class DecisionPublic(BaseModel):
    item_id: str
    decision: str
    curator_status: CuratorStatus
    decided_at: IsoDateTime
    decided_by_user_id: int | None
    changes: dict[str, Any] = Field(
        description="Per corrected field: added, removed and kept concept ids; story_id: [old, new]"
    )
    item: QueueItemPublic


class BulkDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_ids: list[ItemIdField] = Field(min_length=1, max_length=200)
    decision: Literal["accept", "reject"]


class BulkFailurePublic(BaseModel):
    id: str
    reason: str


class BulkResultPublic(BaseModel):
    done: list[str]
    failed: list[BulkFailurePublic]
