"""``GET /api/items/{id}``: one watch item (feed entry) with its source, classifications and story."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tfe.app.web.schemas.common import ClassificationPublic, IsoDateTime, Visibility

__all__ = ["ItemPublic", "ItemSourcePublic"]


class ItemSourcePublic(BaseModel):
    """The feed or page the item came from (both null when the source was removed)."""

    title: str | None
    url: str | None


class ItemPublic(BaseModel):
    """A watch item as the caller may see it."""

    id: str
    title: str
    summary: str = Field(description="The feed's summary, or the start of the text")
    url: str | None = Field(description="Link to the original article")
    published_at: IsoDateTime | None
    fetched_at: IsoDateTime | None
    language: str | None
    visibility: Visibility
    source: ItemSourcePublic
    classifications: list[ClassificationPublic]
    story_id: str | None = Field(description="The story the item belongs to (GET /api/stories/{id})")
    curator_status: Literal["new", "accepted", "auto_accepted", "rejected"] = Field(
        description="A curator's decision (new: none yet)"
    )
    content_origin: str = Field(
        examples=["summary"],
        description="What the item's text is: the feed's summary, the article's full text, a crawled "
        "page, or the changes of a watched page",
    )
