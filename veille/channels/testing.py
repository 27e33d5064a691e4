"""The conformance suite every delivery channel's tests inherit (``ChannelConformance``).

A channel's test class inherits ``ChannelConformance`` and supplies one fixture, ``harness``: a
``ChannelHarness`` that holds the channel under test, a target that works, a way to read what the
receiving end got (``arrived``: the title and link of each entry, as the receiver sees them), and
channels or targets that fail temporarily, permanently, or on an unreachable network. A case that has no
meaning for a channel (the Atom feed pushes nothing, so it cannot fail on the network) returns ``None``
and the case is skipped with that reason.

The suite checks: a digest is delivered with every entry's title and link (French accents, « », &, <
included); an empty digest is refused with ``ValueError`` (the dispatcher never sends one); a temporary
failure is reported ``temporary`` and a permanent one ``permanent``, each with a reason; a network
problem never raises; the channel's name is one of ``veille.alerts.models.CHANNELS``.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import replace
from typing import Literal

import pytest

from veille.alerts.digest import Digest, DigestEntry
from veille.alerts.models import CHANNELS
from veille.channels.base import Channel

__all__ = ["ChannelConformance", "ChannelHarness", "Failing", "sample_digest"]

Failing = tuple[Channel, str | None]  # a channel and a target that together fail in the asked way


def sample_digest(subscription_id: int = 1, base_url: str = "http://127.0.0.1:8000") -> Digest:
    """Three entries: a new story, a story that grew (2 new sources) and a document, with tricky text."""
    at = dt.datetime(2025, 3, 4, 7, 30, tzinfo=dt.UTC)
    return Digest(
        subscription_id=subscription_id,
        name="agroalimentaire × Vietnam",
        frequency="daily",
        recipient_email="alice@alpha.fr",
        recipient_name="Alice Martin",
        entries=[
            DigestEntry(
                kind="story",
                id="s-101",
                title="Vins & spiritueux : l'Allemagne relève ses droits « bio » <2025>",
                url=f"{base_url}/veille/histoires/s-101",
                snippet="Berlin annonce une hausse des droits d'accise sur les vins importés dès juin.",
                sources=["Business France", "Les Échos"],
                sectors=["Fabrication de boissons"],
                countries=["Allemagne"],
                item_count=2,
                original_url="https://www.example.org/articles/droits-accise?id=7&lang=fr",
                published_at=at,
            ),
            DigestEntry(
                kind="story",
                id="s-102",
                title="Hô Chi Minh-Ville : un salon agroalimentaire en septembre",
                url=f"{base_url}/veille/histoires/s-102",
                snippet="Le salon Vietnam Foodexpo accueillera un pavillon France.",
                sources=["Ambassade de France au Vietnam", "VnExpress", "Agence TFE"],
                sectors=["Industries alimentaires"],
                countries=["Viêt Nam"],
                item_count=5,
                grown_by=2,
            ),
            DigestEntry(
                kind="document",
                id="d-7f3a",
                title="Analyse sectorielle : agroalimentaire au Viêt Nam (2025)",
                url=f"{base_url}/documents/d-7f3a",
                snippet="Synthèse du marché vietnamien des produits laitiers et des vins.",
                sources=["CCI Alpha"],
                sectors=["Industries alimentaires"],
                countries=["Viêt Nam"],
            ),
        ],
        generated_at=at,
        manage_url=f"{base_url}/mes-alertes",
        unsubscribe_url=f"{base_url}/alertes/desabonnement/1.c2lnbmF0dXJlLWZvci10ZXN0cy1vbmx5",
    )


class ChannelHarness(ABC):
    """What a channel's tests give the suite: the channel, its target, and the receiving end."""

    channel: Channel
    target: str | None = None
    secret: str | None = None

    def digest(self) -> Digest:
        """The digest the suite sends (override to point it at a real subscription row)."""
        return sample_digest()

    @abstractmethod
    def arrived(self, digest: Digest) -> list[tuple[str, str]]:
        """``(title, link)`` of every entry the receiving end got for ``digest``, as the receiver reads it."""

    @abstractmethod
    def failing(self, kind: Literal["temporary", "permanent"]) -> Failing | None:
        """A channel and target that fail with ``kind``, or ``None`` if the channel cannot fail so."""

    @abstractmethod
    def unreachable(self) -> Failing | None:
        """A channel and target whose far end is not there (closed port), or ``None`` if nothing is remote."""


class ChannelConformance:
    """Mixin: inherit it and provide the ``harness`` fixture."""

    @pytest.fixture
    def harness(self) -> ChannelHarness:
        raise NotImplementedError("a channel's test class provides the harness fixture")

    def test_name_is_a_known_channel(self, harness: ChannelHarness) -> None:
        assert harness.channel.name in CHANNELS

    def test_delivers_every_entry_with_title_and_link(self, harness: ChannelHarness) -> None:
        digest = harness.digest()
        result = harness.channel.send(digest, target=harness.target, secret=harness.secret)
        assert result.outcome == "sent", result.detail
        arrived = harness.arrived(digest)
        for entry in digest.entries:
            assert (entry.title, entry.url) in arrived, (entry.title, arrived)

    def test_empty_digest_is_refused(self, harness: ChannelHarness) -> None:
        empty = replace(harness.digest(), entries=[])
        with pytest.raises(ValueError):
            harness.channel.send(empty, target=harness.target, secret=harness.secret)

    @pytest.mark.parametrize("kind", ["temporary", "permanent"])
    def test_failures_are_classified(
        self, harness: ChannelHarness, kind: Literal["temporary", "permanent"]
    ) -> None:
        failing = harness.failing(kind)
        if failing is None:
            pytest.skip(f"{harness.channel.name}: no {kind} failure is possible")
        channel, target = failing
        result = channel.send(harness.digest(), target=target, secret=harness.secret)
        assert result.outcome == kind, result
        assert result.detail.strip()

    def test_network_problem_does_not_raise(self, harness: ChannelHarness) -> None:
        failing = harness.unreachable()
        if failing is None:
            pytest.skip(f"{harness.channel.name}: nothing remote to reach")
        channel, target = failing
        result = channel.send(harness.digest(), target=target, secret=harness.secret)
        assert result.outcome == "temporary", result
        assert result.detail.strip()
