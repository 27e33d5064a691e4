"""``/api/sources``: the source catalogue's bodies and answers (create, update, view, preview, import)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tfe.app.web.schemas.common import IsoDateTime

__all__ = [
    "FeedLinkPublic",
    "ImportReportPublic",
    "PollOutcomePublic",
    "SourceCreate",
    "SourceListPublic",
    "SourceOrgPublic",
    "SourcePreviewPublic",
    "SourcePreviewRequest",
    "SourcePublic",
    "SourceRemovedPublic",
    "SourceUpdate",
]

SourceKind = Literal["feed", "page", "watch"]
SourceVisibility = Literal["network", "organisation"]
Health = Literal["unknown", "ok", "slow", "failing", "dead", "gone"]
Hint = str
_CONFIG_DOC = (
    "page: {links, title?, body?, date?, selector_type: css|xpath, max_articles}; "
    "watch: {selector, selector_type}; feed: {}"
)


class SourcePreviewRequest(BaseModel):
    """What to fetch once for a preview (nothing is saved)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, examples=["https://www.example.org/actualites/rss.xml"])
    kind: SourceKind = "feed"
    config: dict[str, Any] = Field(default_factory=dict, description=_CONFIG_DOC)


class SourceCreate(SourcePreviewRequest):
    """A new catalogue entry; the owner is the caller's organisation unless ``org`` (admins only) says."""

    title: str = Field("", max_length=500, description="Shown title (the feed's own title when empty)")
    org: str | None = Field(None, max_length=64, description="Owner organisation slug or id")
    visibility: SourceVisibility = Field(
        "network", description="network: shared catalogue; organisation: own"
    )
    language: str | None = Field(None, max_length=16, examples=["fr"])
    sector_hints: list[Hint] = Field(default_factory=list, max_length=50, examples=[["11"]])
    country_hints: list[Hint] = Field(default_factory=list, max_length=50, examples=[["Allemagne"]])
    min_interval_s: int | None = Field(None, ge=60, le=7 * 86400)
    max_interval_s: int | None = Field(None, ge=60, le=7 * 86400)
    full_text: bool = False
    paused: bool = False
    tags: list[str] = Field(default_factory=list, max_length=30)
    auto_accept_threshold: float | None = Field(None, ge=0, le=1)
    discover: bool = Field(True, description="feed: fetch the URL and follow an HTML page's advertised feed")


class SourceUpdate(BaseModel):
    """Fields to change; an absent field stays as it is (``auto_accept_threshold: null`` clears it)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, min_length=1, max_length=2000)
    kind: SourceKind | None = None
    title: str | None = Field(None, max_length=500)
    org: str | None = Field(None, max_length=64)
    visibility: SourceVisibility | None = None
    language: str | None = Field(None, max_length=16)
    sector_hints: list[Hint] | None = Field(None, max_length=50)
    country_hints: list[Hint] | None = Field(None, max_length=50)
    min_interval_s: int | None = Field(None, ge=60, le=7 * 86400)
    max_interval_s: int | None = Field(None, ge=60, le=7 * 86400)
    full_text: bool | None = None
    paused: bool | None = None
    tags: list[str] | None = Field(None, max_length=30)
    auto_accept_threshold: float | None = Field(None, ge=0, le=1)
    config: dict[str, Any] | None = Field(None, description=_CONFIG_DOC)


class SourceOrgPublic(BaseModel):
    id: int
    slug: str | None


class FeedLinkPublic(BaseModel):
    url: str
    type: str
    title: str


class DiscoveryPublic(BaseModel):
    """The HTML page the feed was found on, and the page's other feeds."""

    page_url: str
    feed_url: str
    alternatives: list[FeedLinkPublic]


class SourcePublic(BaseModel):
    """A catalogue entry with its polling state, health and yield."""

    # every key is answered (null when absent): the defaults are for reading the views only
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: int
    url: str
    kind: SourceKind
    title: str
    org: SourceOrgPublic | None
    visibility: str
    language: str | None
    sector_hints: list[str]
    country_hints: list[str]
    tags: list[str]
    config: dict[str, Any]
    full_text: bool
    paused: bool
    auto_accept_threshold: float | None
    interval_s: int
    min_interval_s: int
    max_interval_s: int
    next_poll_at: IsoDateTime | None
    last_polled_at: IsoDateTime | None
    last_success_at: IsoDateTime | None
    last_status: int | None = Field(description="HTTP status of the last poll")
    last_error: str | None
    health: Health
    failures: int = Field(description="Consecutive failed polls")
    items_total: int
    items_per_day: float = Field(description="Items fetched over the last 7 days, divided by 7")
    discovery: DiscoveryPublic | None = Field(None, description="Only in the answer to the creation")


class SourceListPublic(BaseModel):
    total: int
    sources: list[SourcePublic]


class SourceRemovedPublic(BaseModel):
    """The removed source; its items are kept, detached from it."""

    id: int
    url: str
    removed: bool
    items_detached: int


class PreviewEntryPublic(BaseModel):
    title: str
    url: str | None
    published_at: IsoDateTime | None
    text: str = Field(description="Start of the text (pages, watched regions); empty for feed entries")


class SourcePreviewPublic(BaseModel):
    """What the source would yield now."""

    url: str = Field(description="The URL that was read (the discovered feed for an HTML page)")
    kind: SourceKind
    title: str
    entries: list[PreviewEntryPublic]
    discovery: DiscoveryPublic | None
    errors: list[str]
    changed: bool | None


class ImportedSourcePublic(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: int | None = Field(description="Null for an existing source outside the caller's sight")
    url: str
    title: str | None = None


class ImportFailurePublic(BaseModel):
    url: str
    reason: str


class ImportReportPublic(BaseModel):
    added: list[ImportedSourcePublic]
    existing: list[ImportedSourcePublic]
    failed: list[ImportFailurePublic]


class PollOutcomePublic(BaseModel):
    """One poll's outcome (``veille.poller.PollOutcome``)."""

    model_config = ConfigDict(extra="allow")

    id: int = Field(description="The source's id")
    url: str
    status: Literal["ok", "not_modified", "failed", "deferred"]
    http_status: int | None
    new: int
    next_poll_at: IsoDateTime | None
    error: str | None
