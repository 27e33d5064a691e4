"""``GET /api/items/{id}``: one watch item (feed entry) with its source and classifications."""

from __future__ import annotations

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
