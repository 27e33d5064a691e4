"""``/api/stories``: watch stories (items from one or several sources reporting the same news)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from tfe.app.web.schemas.common import IsoDateTime

__all__ = ["StoriesPublic", "StoryItemPublic", "StoryPublic", "StorySourcePublic", "story_public"]

CuratorStatus = Literal["new", "accepted", "auto_accepted", "rejected"]


class StorySourcePublic(BaseModel):
    """A source with at least one item of the story in the caller's scope."""

    id: int
    title: str


class StoryItemPublic(BaseModel):
    """One item of the story (its page is ``/items/{id}``, the original article ``url``)."""

    id: str
    title: str
    url: str | None = Field(description="Link to the original article")
    source: StorySourcePublic | None = Field(description="Null when the source was removed")
    published_at: IsoDateTime | None
    curator_status: CuratorStatus


class StoryPublic(BaseModel):
    """A story as the caller sees it: computed from the items in their scope only."""

    id: str
    title: str = Field(description="The headline of a visible item that best represents the story")
    first_seen: IsoDateTime = Field(description="When the first visible item was collected")
    last_seen: IsoDateTime = Field(description="When the latest visible item was collected")
    item_count: int = Field(description="Visible items")
    source_count: int = Field(description="Sources of the visible items")
    sources: list[StorySourcePublic]
    items: list[StoryItemPublic] = Field(description="Visible items, newest collected first")


class StoriesPublic(BaseModel):
    """One page of stories, most recently seen first, and how many match over all pages."""

    total: int = Field(description="Stories matching the filters in the caller's scope")
    stories: list[StoryPublic]


def story_public(view: dict[str, Any]) -> StoryPublic:
    """The API shape of a ``veille.stories.StoryView.as_dict()``."""
    return StoryPublic.model_validate(
        {
            **{k: v for k, v in view.items() if k not in ("first_seen_at", "last_seen_at")},
            "first_seen": view["first_seen_at"],
            "last_seen": view["last_seen_at"],
            "source_count": len(view["sources"]),
        }
    )
