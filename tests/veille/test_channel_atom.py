"""The Atom channel: the conformance suite and the feed rendered from stored digests (feedparser reads it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Literal

import feedparser
import pytest

from tfe.core.settings import Settings
from veille.alerts.digest import Digest
from veille.alerts.models import AlertMessage, Subscription
from veille.channels.atom import (
    AtomChannel,
    entry_id,
    feed_token_hash,
    feed_url,
    new_feed_token,
    render_feed,
)
from veille.channels.testing import ChannelConformance, ChannelHarness, Failing, sample_digest

CREATED = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def subscription(sub_id: int = 9) -> Subscription:
    return Subscription(id=sub_id, user_id=1, saved_search_id=1, created_at=CREATED, channels=["atom"])


def message(digest: Digest, message_id: int, at: dt.datetime) -> AlertMessage:
    """The row the dispatcher keeps for a digest sent on the atom channel."""
    return AlertMessage(
        id=message_id,
        subscription_id=digest.subscription_id,
        channel="atom",
        status="sent",
        payload=digest.as_dict(),
        created_at=at,
        sent_at=at,
    )


class AtomHarness(ChannelHarness):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.channel = AtomChannel(settings)

    def digest(self) -> Digest:
        return sample_digest(9)

    def arrived(self, digest: Digest) -> list[tuple[str, str]]:
        feed = feedparser.parse(render_feed(subscription(), [message(digest, 1, CREATED)], self.settings))
        assert not feed.bozo, feed.get("bozo_exception")
        return [(entry.title, entry.link) for entry in feed.entries]

    def failing(self, kind: Literal["temporary", "permanent"]) -> Failing | None:
        return None  # nothing is pushed: the reader pulls the feed

    def unreachable(self) -> Failing | None:
        return None


class TestAtomConformance(ChannelConformance):
    @pytest.fixture
    def harness(self, settings: Settings) -> ChannelHarness:
        return AtomHarness(settings)


def test_feed_is_valid_atom_with_stable_ids_and_no_duplicates(settings: Settings) -> None:
    first = sample_digest(9)
    grown = replace(
        first,
        entries=[replace(first.entries[0], grown_by=3, item_count=5, snippet="Trois nouvelles sources.")],
        generated_at=CREATED + dt.timedelta(days=1),
    )
    messages = [message(first, 1, CREATED), message(grown, 2, CREATED + dt.timedelta(days=1))]
    raw = render_feed(subscription(), messages, settings)
    feed = feedparser.parse(raw)
    assert not feed.bozo and feed.version == "atom10"
    assert feed.feed.title == "Veille TFE : agroalimentaire × Vietnam" and feed.feed.language == "fr"
    ids = [entry.id for entry in feed.entries]
    assert len(ids) == 3 == len(set(ids))  # the grown story once, not twice
    assert ids[0] == entry_id(9, "story", "s-101")  # newest announcement first
    newest = feed.entries[0]
    assert "3 nouvelles sources" in newest.content[0].value and newest.summary == "Trois nouvelles sources."
    assert newest.updated_parsed[:3] == (2025, 3, 2) and newest.published_parsed[:3] == (2025, 3, 4)
    assert {t.term for t in newest.tags} == {"Fabrication de boissons", "Allemagne"}
    assert "Sources : Business France, Les Échos" in newest.content[0].value
    again = feedparser.parse(render_feed(subscription(), list(reversed(messages)), settings))
    assert [e.id for e in again.entries] == ids  # same ids whatever the order the rows come in
    other = feedparser.parse(render_feed(subscription(10), messages, settings))
    assert not set(ids) & {e.id for e in other.entries}  # ids are per subscription
    assert b"&lt;2025&gt;" in raw and b"<2025>" not in raw


def test_empty_feed_is_valid(settings: Settings) -> None:
    feed = feedparser.parse(render_feed(subscription(), [], settings))
    assert not feed.bozo and feed.entries == [] and feed.feed.title == "Veille TFE : alerte 9"
    assert feed.feed.updated_parsed[:3] == (2025, 3, 1)


def test_tokens_are_random_and_stored_hashed(settings: Settings) -> None:
    token, digest = new_feed_token()
    other, _ = new_feed_token()
    assert token != other and len(token) >= 40 and digest == feed_token_hash(token) and token not in digest
    assert feed_url(settings, token) == f"{settings.public_url}/alertes/atom/{token}"
