"""Lifecycle transitions, the trash and the retention review list (``tfe.app.web.api.lifecycle``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tfe.app.web.schemas.common import IsoDateTime

__all__ = [
    "AllowedMovePublic",
    "ReviewConfirmedPublic",
    "ReviewEntryPublic",
    "ReviewListPublic",
    "TransitionCreate",
    "TransitionHistoryPublic",
    "TransitionPublic",
    "TrashEntryPublic",
    "TrashListPublic",
]

LifecycleStatus = Literal["draft", "in_review", "validated", "archived"]


class TransitionCreate(BaseModel):
    """A lifecycle move: the status to reach and, to send back to draft, a comment (required then)."""

    model_config = ConfigDict(extra="forbid")

    to: str = Field(
        min_length=1,
        max_length=32,
        description="draft, in_review, validated or archived (an unknown one is a 400)",
        examples=["in_review"],
    )
    comment: str | None = Field(None, max_length=2000, examples=["Ajouter les chiffres 2026"])


class TransitionPublic(BaseModel):
    """One recorded move, oldest first in a history."""

    from_: LifecycleStatus = Field(alias="from", examples=["draft"])
    to: LifecycleStatus = Field(examples=["in_review"])
    user_id: int | None
    user_name: str | None = Field(description="Who made the move (name, else e-mail)")
    comment: str | None
    created_at: IsoDateTime | None

    model_config = ConfigDict(populate_by_name=True)


class AllowedMovePublic(BaseModel):
    """A move the caller may make now (a button on the document page)."""

    to: LifecycleStatus
    action: Literal["submit", "validate", "send_back", "archive", "unarchive"]
    label: str = Field(examples=["Soumettre pour relecture"])
    comment_required: bool


class TransitionHistoryPublic(BaseModel):
    """The document's status, the moves the caller may make and the history of moves."""

    id: str
    status: LifecycleStatus
    allowed: list[AllowedMovePublic]
    transitions: list[TransitionPublic]


class TrashEntryPublic(BaseModel):
    """A document in the trash, restorable until ``purge_at``."""

    id: str
    title: str
    org_id: int | None
    deleted_at: IsoDateTime
    deleted_by_user_id: int | None
    deleted_by: str | None
    purge_at: IsoDateTime = Field(description="When the purge job erases it for good")


class TrashListPublic(BaseModel):
    documents: list[TrashEntryPublic]


class ReviewEntryPublic(BaseModel):
    """A document due for its retention review."""

    id: str
    title: str
    doc_type: str | None
    status: LifecycleStatus
    review_due_at: IsoDateTime
    owner_user_id: int | None
    url: str


class ReviewListPublic(BaseModel):
    documents: list[ReviewEntryPublic]


class ReviewConfirmedPublic(BaseModel):
    """The review was confirmed: the next one is due at ``review_due_at``."""

    id: str
    review_due_at: IsoDateTime
