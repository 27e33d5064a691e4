"""``/api/subscriptions``: the alert subscriptions' bodies and answers (create, update, view, history)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tfe.app.web.schemas.common import ConceptRef, IsoDateTime

__all__ = [
    "AtomTokenPublic",
    "HistoryEntryPublic",
    "HistoryPublic",
    "SubscriptionCreate",
    "SubscriptionCreatedPublic",
    "SubscriptionExportPublic",
    "SubscriptionListPublic",
    "SubscriptionPreviewPublic",
    "SubscriptionPublic",
    "SubscriptionUpdate",
    "SubscriptionsDeletedPublic",
]

Scope = Literal["items", "documents", "both"]
Frequency = Literal["instant", "daily", "weekly"]
ChannelName = Literal["email", "atom", "webhook"]
Facet = str
SourceId = Annotated[int, Field(ge=1, le=2_147_483_647)]  # a database id: never past a 32-bit integer
_TIME = r"^([01]\d|2[0-3]):[0-5]\d$"


def _email_only() -> list[ChannelName]:
    return ["email"]


class SubscriptionCreate(BaseModel):
    """A new alert: text (search syntax) and/or facet filters, schedule and channels."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        "", max_length=500, description="Search text, same syntax as search", examples=["vins"]
    )
    name: str = Field("", max_length=240, description="Shown name (the query when empty)")
    sectors: list[Facet] = Field(
        default_factory=list,
        max_length=20,
        description="NAF codes at any level, names or ids",
        examples=[["11"]],
    )
    countries: list[Facet] = Field(
        default_factory=list, max_length=20, description="Countries or M49 zones", examples=[["Allemagne"]]
    )
    types: list[Facet] = Field(default_factory=list, max_length=20, description="Document types")
    filieres: list[Facet] = Field(
        default_factory=list, max_length=20, description="Filières or sous-filières", examples=[["vins"]]
    )
    signals: list[Facet] = Field(
        default_factory=list, max_length=20, description="Watch signals (call for tenders, ...)"
    )
    sources: list[SourceId] = Field(default_factory=list, max_length=50, description="Watch source ids")
    scope: Scope = Field("items", description="items: watch news; documents: GED documents; both")
    frequency: Frequency = "daily"
    send_time: str = Field("08:00", pattern=_TIME, description="Local time of daily and weekly digests")
    weekday: int | None = Field(None, ge=0, le=6, description="Weekly digests: 0 = Monday … 6 = Sunday")
    timezone: str = Field("Europe/Paris", max_length=64, description="IANA time zone")
    channels: list[ChannelName] = Field(default_factory=_email_only, min_length=1, max_length=3)
    webhook_url: str | None = Field(None, max_length=2000, description="Required with the webhook channel")
    paused: bool = False


class SubscriptionUpdate(BaseModel):
    """Fields to change; an absent field stays as it is."""

    model_config = ConfigDict(extra="forbid")

    query: str | None = Field(None, max_length=500)
    name: str | None = Field(None, max_length=240)
    sectors: list[Facet] | None = Field(None, max_length=20)
    countries: list[Facet] | None = Field(None, max_length=20)
    types: list[Facet] | None = Field(None, max_length=20)
    filieres: list[Facet] | None = Field(None, max_length=20)
    signals: list[Facet] | None = Field(None, max_length=20)
    sources: list[SourceId] | None = Field(None, max_length=50)
    scope: Scope | None = None
    frequency: Frequency | None = None
    send_time: str | None = Field(None, pattern=_TIME)
    weekday: int | None = Field(None, ge=0, le=6)
    timezone: str | None = Field(None, max_length=64)
    channels: list[ChannelName] | None = Field(None, min_length=1, max_length=3)
    webhook_url: str | None = Field(None, max_length=2000)
    paused: bool | None = None


class SubscriptionPublic(BaseModel):
    """A subscription as its owner sees it (secrets never appear here)."""

    id: int
    name: str
    query: str
    sectors: list[ConceptRef]
    countries: list[ConceptRef]
    types: list[ConceptRef]
    filieres: list[ConceptRef]
    signals: list[ConceptRef]
    sources: list[int]
    scope: Scope
    frequency: Frequency
    send_time: str
    weekday: int | None
    timezone: str
    channels: list[ChannelName]
    webhook_url: str | None
    atom_enabled: bool = Field(description="Whether a private Atom feed address exists")
    channel_state: dict[str, Any] = Field(description="Per channel: failures, disabled reason")
    paused: bool
    user_id: int
    user_email: str
    saved_search_id: int
    watermark: IsoDateTime | None = Field(description="Matched up to this instant")
    next_run_at: IsoDateTime | None
    last_sent_at: IsoDateTime | None
    created_at: IsoDateTime | None
    updated_at: IsoDateTime | None


class SubscriptionCreatedPublic(SubscriptionPublic):
    """A created or edited subscription with the secrets shown this once (null when none is new)."""

    atom_url: str | None = Field(description="Private Atom feed address (keep it secret; shown once)")
    webhook_secret: str | None = Field(description="HMAC-SHA256 signing secret of the webhook (shown once)")


class SubscriptionListPublic(BaseModel):
    total: int
    subscriptions: list[SubscriptionPublic]


class AtomTokenPublic(BaseModel):
    """The new private feed address; the previous one no longer works."""

    atom_url: str


class HistoryEntryPublic(BaseModel):
    """One digest prepared for one channel."""

    id: int
    channel: ChannelName
    status: Literal["pending", "sent", "retrying", "failed"]
    attempts: int
    recipient: str | None
    subject: str
    error: str | None
    created_at: IsoDateTime | None
    sent_at: IsoDateTime | None
    entries: int = Field(description="Stories and documents in the digest")


class HistoryPublic(BaseModel):
    total: int
    messages: list[HistoryEntryPublic]


class SubscriptionPreviewPublic(BaseModel):
    """What the subscription would have sent over the last days (``available`` false: no matcher yet)."""

    available: bool
    days: int
    message: str | None
    total: int
    entries: list[dict[str, Any]] = Field(
        description="Digest entries: kind, id, title, url, snippet, sources..."
    )


class ExportedSubscriptionPublic(SubscriptionPublic):
    history: list[HistoryEntryPublic]


class SubscriptionExportPublic(BaseModel):
    """Everything kept about the caller's alerts (GDPR access)."""

    user: dict[str, Any]
    exported_at: IsoDateTime
    subscriptions: list[ExportedSubscriptionPublic]


class SubscriptionsDeletedPublic(BaseModel):
    deleted: int
