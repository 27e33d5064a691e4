"""What a digest is, between the matcher that builds it and the channels that deliver it.

One ``DigestEntry`` per story (its best title, its sources, the newest item's snippet, sectors and
countries) or per document; ``grown_by`` > 0 marks a story already sent to this subscriber that has gained
sources since ("3 nouvelles sources"). Links are absolute (``Settings.public_url``) so they work from a
mail client or a feed reader.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["Digest", "DigestEntry"]


@dataclass(frozen=True)
class DigestEntry:
    kind: Literal["story", "document"]
    id: str  # story id or document id
    title: str
    url: str  # the story's or document's page in the platform
    snippet: str = ""
    sources: list[str] = field(default_factory=list)  # source titles (stories) or the owner org (documents)
    sectors: list[str] = field(default_factory=list)  # labels
    countries: list[str] = field(default_factory=list)  # labels
    item_count: int = 1
    grown_by: int = 0  # new sources since this story was last sent to this subscriber (0: new story)
    original_url: str | None = None  # the newest item's article, when there is one
    published_at: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["published_at"] = self.published_at.isoformat() if self.published_at else None
        return out


@dataclass(frozen=True)
class Digest:
    subscription_id: int
    name: str  # the subscription's name
    frequency: str
    recipient_email: str | None
    recipient_name: str
    entries: list[DigestEntry]
    generated_at: dt.datetime
    manage_url: str  # « Mes alertes »
    unsubscribe_url: str  # signed one-click URL for this subscription only

    def as_dict(self) -> dict[str, Any]:
        return {
            "subscription_id": self.subscription_id,
            "name": self.name,
            "frequency": self.frequency,
            "generated_at": self.generated_at.isoformat(),
            "manage_url": self.manage_url,
            "unsubscribe_url": self.unsubscribe_url,
            "entries": [e.as_dict() for e in self.entries],
        }
