"""The Atom channel: a private feed per subscription, at a secret and revocable URL.

Nothing is pushed: ``AtomChannel.send`` only says ``sent``; the dispatcher keeps each digest as an
``AlertMessage`` (channel ``atom``, the digest in ``payload``) and ``GET /alertes/atom/{token}`` renders
the newest of them with ``render_feed`` (feedgen, Atom 1.0). One Atom entry per story or document, its id
a ``urn:uuid`` derived from the subscription and the story (or document) id, so a story that grew and is
announced again updates the reader's entry instead of duplicating it.

The feed's secret token is only stored hashed (``Subscription.atom_token_hash``, SHA-256):
``new_feed_token`` makes a token and its hash; giving the subscription a new one revokes the old URL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import secrets
import uuid
from collections.abc import Iterable
from typing import Any

from feedgen.feed import FeedGenerator

from tfe.core.settings import Settings
from veille.alerts.digest import Digest
from veille.alerts.models import AlertMessage, Subscription
from veille.channels.base import SendResult

__all__ = [
    "FEED_PATH",
    "MAX_FEED_ENTRIES",
    "AtomChannel",
    "entry_id",
    "feed_token_hash",
    "feed_url",
    "new_feed_token",
    "render_feed",
]

FEED_PATH = "/alertes/atom/"
MAX_FEED_ENTRIES = 100
_NAMESPACE = uuid.UUID("5b0c6a4e-93a1-4b8e-9f3c-2f6d1e7a0c11")  # ours: ids never depend on the public URL


def new_feed_token() -> tuple[str, str]:
    """A fresh secret token for a subscription's feed URL and the hash to store in ``atom_token_hash``."""
    token = secrets.token_urlsafe(32)
    return token, feed_token_hash(token)


def feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(settings: Settings, token: str) -> str:
    return settings.public_url.rstrip("/") + FEED_PATH + token


def entry_id(subscription_id: int, kind: str, target_id: str) -> str:
    """The stable Atom id of one story (or document) in one subscription's feed."""
    return uuid.uuid5(_NAMESPACE, f"tfe-alert:{subscription_id}:{kind}:{target_id}").urn


class AtomChannel:
    """Always available; ``send`` records nothing remote (the feed is rendered from the stored messages)."""

    name = "atom"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, digest: Digest, *, target: str | None, secret: str | None = None) -> SendResult:
        if not digest.entries:
            raise ValueError("an empty digest is never sent")
        return SendResult("sent", f"flux Atom : {len(digest.entries)} entrées")


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return _utc(dt.datetime.fromisoformat(value))
    except ValueError:
        return None


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _content(entry: dict[str, Any]) -> str:
    """The entry's HTML content (escaped here: feedgen writes it as ``type="html"``)."""
    esc = html.escape
    parts: list[str] = []
    grown = int(entry.get("grown_by") or 0)
    if grown:
        parts.append(f"<p><strong>{_plural(grown, 'nouvelle source', 'nouvelles sources')}</strong></p>")
    sources = [str(s) for s in entry.get("sources") or []]
    if sources:
        label = "Sources" if entry.get("kind") == "story" else "Organisation"
        parts.append(f"<p>{label} : {esc(', '.join(sources))}</p>")
    if entry.get("snippet"):
        parts.append(f"<p>{esc(str(entry['snippet']))}</p>")
    facets = []
    if entry.get("sectors"):
        facets.append("Secteurs : " + esc(", ".join(map(str, entry["sectors"]))))
    if entry.get("countries"):
        facets.append("Pays : " + esc(", ".join(map(str, entry["countries"]))))
    if facets:
        parts.append(f"<p>{' · '.join(facets)}</p>")
    if entry.get("original_url"):
        parts.append(f'<p><a href="{esc(str(entry["original_url"]), quote=True)}">Article d\'origine</a></p>')
    return "".join(parts)


def _newest_entries(
    subscription_id: int, messages: Iterable[AlertMessage]
) -> list[tuple[dict[str, Any], dt.datetime]]:
    """Each story or document once (its newest announcement), newest first, at most ``MAX_FEED_ENTRIES``."""
    seen: dict[str, tuple[dict[str, Any], dt.datetime]] = {}
    ordered = sorted(messages, key=lambda m: (_utc(m.sent_at or m.created_at), m.id), reverse=True)
    for message in ordered:
        when = _utc(message.sent_at or message.created_at) or dt.datetime.now(dt.UTC)
        for entry in (message.payload or {}).get("entries") or []:
            if not isinstance(entry, dict) or not entry.get("id") or not entry.get("url"):
                continue
            key = entry_id(subscription_id, str(entry.get("kind") or "story"), str(entry["id"]))
            if key not in seen:
                seen[key] = (entry, when)
    return list(seen.values())[:MAX_FEED_ENTRIES]


def render_feed(subscription: Subscription, messages: Iterable[AlertMessage], settings: Settings) -> bytes:
    """The Atom 1.0 document of ``subscription``'s delivered digests (``messages``: its atom messages)."""
    messages = sorted(messages, key=lambda m: m.id, reverse=True)  # newest first
    payloads = [m.payload for m in messages if isinstance(m.payload, dict)]
    name = next((str(p["name"]) for p in payloads if p.get("name")), f"alerte {subscription.id}")
    manage = next((str(p["manage_url"]) for p in payloads if p.get("manage_url")), settings.public_url)
    entries = _newest_entries(subscription.id, messages)
    feed = FeedGenerator()
    feed.id(uuid.uuid5(_NAMESPACE, f"tfe-alert-feed:{subscription.id}").urn)
    feed.title(f"Veille TFE : {name}")
    feed.subtitle(f"Les actualités et documents de votre alerte « {name} » (Team France Export)")
    feed.author({"name": "Veille Team France Export"})
    feed.link(href=manage, rel="alternate", type="text/html")
    feed.language("fr")
    feed.generator("tfe")
    created = _utc(subscription.created_at) or dt.datetime.now(dt.UTC)
    feed.updated(max([when for _entry, when in entries], default=created))
    for entry, when in reversed(entries):  # feedgen puts the last added first
        item = feed.add_entry()
        item.id(entry_id(subscription.id, str(entry.get("kind") or "story"), str(entry["id"])))
        title = str(entry.get("title") or "Sans titre")
        item.title(title)  # a grown story keeps its title; « 3 nouvelles sources » is in the content
        item.link(href=str(entry["url"]), rel="alternate", type="text/html")
        item.updated(when)
        published = _parse_time(entry.get("published_at"))
        if published is not None:
            item.published(published)
        if entry.get("snippet"):
            item.summary(str(entry["snippet"]))
        item.content(_content(entry), type="html")
        for label in [*(entry.get("sectors") or []), *(entry.get("countries") or [])]:
            item.category(term=str(label))
    result: bytes = feed.atom_str(pretty=True)
    return result
