"""The demo's watch: its five sources catalogued (pointing at the demo site) and polled over HTTP.

The sources are registered through the catalogue (``runtime.sources``) as the installation's
administrator, on the ``demo`` channel: the French RSS and Atom feeds, the English feed, the listing page
« Actualités de l'export » (a ``page`` source with CSS selectors) and the tenders page (a ``watch``
source). Re-running adds only what is missing; when the demo site had to change port, the sources are
moved to the new address first (``place_sources``, cheap, run before the worker starts polling).

``load_watch`` then polls the new sources once, in a fixed order, so items, stories and the curators'
queue are there at once, polls the watched page a second time when it has only its baseline, so a first
change (a new tender) shows, and polls whatever else is due (``runtime.poller.poll_due``); the embedded
worker keeps polling afterwards.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update

from tfe.app.demo.site import HOST, PREFIX, DemoSite
from tfe.app.demo.vectors import use_demo_vectors
from tfe.core.db import utcnow
from tfe.core.security import identity
from tfe.core.security.scope import AccessScope
from veille.catalogue import SourceSpec, SourceView
from veille.models import Item, Source

if TYPE_CHECKING:
    from tfe.app.runtime import Runtime

__all__ = ["DEMO_SOURCES", "DemoSource", "admin_scope", "load_watch", "place_sources"]

log = logging.getLogger(__name__)
CHANNEL = "demo"
HOLD = dt.timedelta(minutes=15)  # how long new demo sources wait for the loader's first poll


@dataclass(frozen=True)
class DemoSource:
    """One demo source: its path on the demo site and how it is catalogued."""

    path: str
    kind: str
    title: str
    language: str
    tags: tuple[str, ...]
    sector_hints: tuple[str, ...] = ()
    country_hints: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    auto_accept_threshold: float | None = None
    min_interval_s: int | None = None
    max_interval_s: int | None = None

    def spec(self, site: DemoSite) -> SourceSpec:
        return SourceSpec(
            url=site.url(self.path),
            kind=self.kind,
            title=self.title,
            visibility="network",
            language=self.language,
            tags=list(self.tags),
            sector_hints=list(self.sector_hints),
            country_hints=list(self.country_hints),
            config=dict(self.config),
            auto_accept_threshold=self.auto_accept_threshold,
            min_interval_s=self.min_interval_s,
            max_interval_s=self.max_interval_s,
            discover=False,
        )


DEMO_SOURCES: tuple[DemoSource, ...] = (
    DemoSource(
        path="flux/veille-marches.rss",
        kind="feed",
        title="Veille marchés — Team France Export (démo)",
        language="fr",
        tags=("démo", "marchés"),
    ),
    DemoSource(
        path="flux/veille-secteurs.atom",
        kind="feed",
        title="Veille secteurs — Team France Export (démo)",
        language="fr",
        tags=("démo", "filières"),
        auto_accept_threshold=0.5,  # items whose sector is clear enough are accepted without a curator
    ),
    DemoSource(
        path="actualites/",
        kind="page",
        title="Actualités de l'export — portail régional (démo)",
        language="fr",
        tags=("démo", "sans flux"),
        config={
            "links": "ul.actualites h2 a",
            "title": "h1.titre",
            "body": "div.texte",
            "date": "time.publication",
            "max_articles": 10,
        },
    ),
    DemoSource(
        path="flux/global-trade-wire.rss",
        kind="feed",
        title="Global Trade Wire (démo, en anglais)",
        language="en",
        tags=("démo", "international", "anglais"),
    ),
    DemoSource(
        path="appels-d-offres",
        kind="watch",
        title="Appels d'offres internationaux — page surveillée (démo)",
        language="fr",
        tags=("démo", "appels d'offres"),
        country_hints=("MA", "VN", "CI", "IN", "BR", "MX"),
        config={"selector": "#appels-en-cours"},
        min_interval_s=120,  # the page changes at each poll until its last version: show it moving
        max_interval_s=300,
    ),
)


def admin_scope(rt: Runtime) -> AccessScope:
    """The installation administrator's scope (the demo acts as them, as the CLI does)."""
    with rt.session() as session:
        return identity.scope_for(identity.find_user(session, rt.settings.admin_email))


def _demo_path(url: str) -> str | None:
    """The demo source path of a catalogued URL on the demo host (any port), else ``None``."""
    parts = urlsplit(url)
    if parts.hostname != HOST or not parts.path.startswith(PREFIX + "/"):
        return None
    return parts.path[len(PREFIX) + 1 :]


def place_sources(rt: Runtime, site: DemoSite, *, add: bool = True) -> dict[str, Any]:
    """Catalogue the missing demo sources (``add``) and move those left on another port of the demo host.

    Returns ``{"sources": {path: id}, "added": n, "moved": n}``.
    """
    scope = admin_scope(rt)
    known: dict[str, SourceView] = {}
    for listed in rt.sources.list(scope, channel=CHANNEL):
        path = _demo_path(listed.url)
        if path is not None and path not in known:
            known[path] = listed
    ids: dict[str, int] = {}
    added = moved = 0
    for demo in DEMO_SOURCES:
        wanted = site.url(demo.path)
        view = known.get(demo.path)
        if view is not None:
            if view.url != wanted:
                rt.sources.update(scope, view.id, {"url": wanted}, CHANNEL)
                moved += 1
            ids[demo.path] = view.id
        elif add:
            ids[demo.path] = rt.sources.add(scope, demo.spec(site), CHANNEL).id
            added += 1
    if moved:
        log.info("demo sources moved to %s: %d", site.base_url, moved)
    return {"sources": ids, "added": added, "moved": moved}


def _items_of(rt: Runtime, source_id: int) -> int:
    with rt.session() as session:
        return int(session.scalar(select(func.count(Item.id)).where(Item.source_id == source_id)) or 0)


def _has_baseline(rt: Runtime, source_id: int) -> bool:
    with rt.session() as session:
        source = session.get(Source, source_id)
        return source is not None and bool((source.config or {}).get("snapshot"))


def _hold_unpolled(rt: Runtime, ids: list[int]) -> list[int]:
    """The never-polled sources among ``ids``, held back from the worker until the loader polls them."""
    with rt.session() as session:
        fresh = set(
            session.scalars(select(Source.id).where(Source.id.in_(ids), Source.last_polled_at.is_(None)))
        )
        if fresh:
            until = utcnow() + HOLD
            session.execute(update(Source).where(Source.id.in_(fresh)).values(next_poll_at=until))
    return [i for i in ids if i in fresh]


def load_watch(rt: Runtime, site: DemoSite) -> dict[str, Any]:
    """Catalogue the demo sources and poll them once; the counts the CLI and the banner report.

    Sources never polled are polled here one after the other, in catalogue order (French feeds, the
    listing page, then the English feed), so stories form the same way at every fresh start; they are
    held back from the embedded worker meanwhile (its scheduler would poll them at the same time).
    Then the watched page is polled again when it has only its baseline, and whatever else is due once.
    """
    use_demo_vectors(rt)
    placed = place_sources(rt, site)
    ids = [placed["sources"][d.path] for d in DEMO_SOURCES if d.path in placed["sources"]]
    outcomes = [rt.poller.poll(source_id).as_dict() for source_id in _hold_unpolled(rt, ids)]
    watch_id = placed["sources"].get("appels-d-offres")
    if watch_id is not None and _items_of(rt, watch_id) == 0 and _has_baseline(rt, watch_id):
        outcomes.append(rt.poller.poll(watch_id).as_dict())  # the next version: a first change
    outcomes.extend(rt.poller.poll_due()["sources"])
    for outcome in outcomes:
        if outcome["status"] == "failed":
            log.warning("demo source %s: poll failed: %s", outcome["id"], outcome["error"])
    return {
        "sources": len(placed["sources"]),
        "added": placed["added"],
        "moved": placed["moved"],
        "polled": len(outcomes),
        "new_items": sum(int(o["new"]) for o in outcomes),
        "failed": sum(o["status"] == "failed" for o in outcomes),
    }
