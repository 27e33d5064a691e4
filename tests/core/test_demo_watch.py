"""The demo's watch: its site served over real HTTP, its sources catalogued and polled, stories and queue.

The first tests read the demo site with a real HTTP client (fast); the module fixture then runs the
demo's watch load on a fresh installation (models load: slow) and checks what a new user sees: healthy
sources, items from every source, stories across sources and languages, the queue, automatic acceptance.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import make_settings
from tests.paths import REPO
from tfe.app.demo import DEMO_DIR, FEEDS_DIR
from tfe.app.demo.loader import demo_site, ensure_demo_accounts
from tfe.app.demo.site import DemoSite, stop_site
from tfe.app.demo.watch import DEMO_SOURCES, admin_scope, load_watch, place_sources
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.core.models import AuditEvent
from veille.curation_queue import curation_queue
from veille.models import Item, Source, Story

# -- the site (no models) -----------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Iterator[DemoSite]:
    running = DemoSite(tmp_path).start()
    yield running
    running.stop()


def test_site_serves_feeds_with_validators_listing_and_articles(site: DemoSite) -> None:
    with httpx.Client() as client:
        feed = client.get(site.url("flux/global-trade-wire.rss"))
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/rss+xml")
        assert b"<language>en-gb</language>" in feed.content
        again = client.get(
            site.url("flux/global-trade-wire.rss"), headers={"If-None-Match": feed.headers["etag"]}
        )
        assert again.status_code == 304 and again.content == b""
        atom = client.get(site.url("flux/veille-secteurs.atom"))
        assert atom.headers["content-type"].startswith("application/atom+xml")
        listing = client.get(site.url("actualites/"))
        assert listing.status_code == 200 and "<h1>Actualités de l'export</h1>" in listing.text
        links = listing.text.count('<h2><a href="/demo-site/actualites/')
        assert links == 6
        article = client.get(site.url("actualites/prowein-dusseldorf-domaines-francais.html"))
        assert article.status_code == 200 and 'class="texte"' in article.text and "Düsseldorf" in article.text
        assert client.get(f"http://127.0.0.1:{site.port}/robots.txt").text.startswith("User-agent: *")
        for missing in ("actualites/../../loader.py", "flux/../site.py", "nulle-part", "actualites/x.html"):
            assert client.get(site.url(missing)).status_code == 404, missing
        assert client.get(f"http://127.0.0.1:{site.port}/ailleurs").status_code == 404


def test_watched_page_adds_a_tender_per_request_and_remembers_across_restarts(tmp_path: Path) -> None:
    first = DemoSite(tmp_path).start()
    port = first.port
    with httpx.Client() as client:
        one = client.get(first.url("appels-d-offres")).text
        two = client.get(first.url("appels-d-offres")).text
    first.stop()
    assert one.count("<tr><td>") == 3 and two.count("<tr><td>") == 4
    assert "Signalisation de la ligne 3 du métro de Pune" in two and "Pune" not in one
    second = DemoSite(tmp_path).start()  # same data dir: same port, the count goes on
    try:
        assert second.port == port
        with httpx.Client() as client:
            pages = [client.get(second.url("appels-d-offres")).text for _ in range(3)]
        assert [p.count("<tr><td>") for p in pages] == [5, 6, 6]  # the last version stays
        assert second.tender_requests == 5
    finally:
        second.stop()


def test_bundled_feeds_and_site_are_regenerated_byte_for_byte(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from demo_corpus.feeds import build_feeds
    finally:
        sys.path.remove(str(REPO / "scripts"))
    build_feeds(tmp_path / "feeds", tmp_path / "site")
    for shipped_root, built_root in ((FEEDS_DIR, tmp_path / "feeds"), (DEMO_DIR / "site", tmp_path / "site")):
        shipped = sorted(p.relative_to(shipped_root) for p in shipped_root.rglob("*") if p.is_file())
        built = sorted(p.relative_to(built_root) for p in built_root.rglob("*") if p.is_file())
        assert shipped == built and len(shipped) >= 3
        assert [r for r in shipped if (shipped_root / r).read_bytes() != (built_root / r).read_bytes()] == []


# -- the demo's watch, loaded (models: slow) ----------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, dict]]:
    rt = Runtime(make_settings(tmp_path_factory.mktemp("demo-watch")))
    report = init_installation(rt)
    ensure_demo_accounts(rt, report.admin_password)
    result = load_watch(rt, demo_site(rt))
    yield rt, result
    stop_site(rt.settings.resolved_data_dir)
    rt.close()


def _sources(rt: Runtime) -> dict[str, Source]:
    with rt.session() as session:
        sources = list(session.scalars(select(Source)))
        session.expunge_all()
    return {s.url.split("/demo-site/", 1)[1]: s for s in sources}


@pytest.mark.slow
def test_demo_sources_are_catalogued_and_healthy_after_the_first_poll(demo: tuple[Runtime, dict]) -> None:
    rt, result = demo
    assert result["sources"] == len(DEMO_SOURCES) == 5 and result["added"] == 5 and result["failed"] == 0
    sources = _sources(rt)
    assert set(sources) == {d.path for d in DEMO_SOURCES}
    assert sorted(s.kind for s in sources.values()) == ["feed", "feed", "feed", "page", "watch"]
    for path, source in sources.items():
        assert source.health == "ok" and source.last_status == 200 and source.last_error is None, path
        assert source.url.startswith("http://127.0.0.1:") and "démo" in source.tags
        assert source.next_poll_at is not None and source.visibility == "network"
    assert sources["flux/global-trade-wire.rss"].language == "en"
    assert sources["actualites/"].config["links"] == "ul.actualites h2 a"
    assert sources["flux/veille-secteurs.atom"].auto_accept_threshold == 0.5
    with rt.session() as session:
        adds = session.scalars(select(AuditEvent).where(AuditEvent.action == "source.add")).all()
        assert len(adds) == 5 and {e.detail["channel"] for e in adds} == {"demo"}


@pytest.mark.slow
def test_every_source_brought_items(demo: tuple[Runtime, dict]) -> None:
    rt, result = demo
    sources = _sources(rt)
    with rt.session() as session:
        counts = dict(
            session.execute(select(Item.source_id, func.count(Item.id)).group_by(Item.source_id)).all()
        )
        origins = {
            path: set(session.scalars(select(Item.content_origin).where(Item.source_id == s.id)))
            for path, s in sources.items()
        }
    assert counts[sources["flux/veille-marches.rss"].id] == 13
    assert counts[sources["flux/veille-secteurs.atom"].id] == 13
    assert counts[sources["flux/global-trade-wire.rss"].id] == 6
    assert counts[sources["actualites/"].id] == 6 and origins["actualites/"] == {"page"}
    assert counts[sources["appels-d-offres"].id] == 1 and origins["appels-d-offres"] == {"diff"}
    assert result["new_items"] == sum(counts.values()) == 39
    with rt.session() as session:
        change = session.scalar(select(Item).where(Item.source_id == sources["appels-d-offres"].id))
        assert change is not None and "Pune" in change.text  # the tender added by the page's next version


@pytest.mark.slow
def test_stories_group_the_same_events_across_sources_and_languages(demo: tuple[Runtime, dict]) -> None:
    rt, _ = demo
    with rt.session() as session:
        rows = session.execute(
            select(Item.story_id, Item.source_id, Item.language, Item.title).where(Item.story_id.is_not(None))
        ).all()
        multi = session.scalars(select(Story).where(Story.source_count >= 2)).all()
    members: dict[str | None, list[tuple[int | None, str | None, str]]] = {}
    for story_id, source_id, language, title in rows:
        members.setdefault(story_id, []).append((source_id, language, title))
    across = [m for m in members.values() if len({s for s, _, _ in m}) >= 2]
    assert len(across) >= 2 and len(multi) >= 2
    bilingual = [m for m in across if {"fr", "en"} <= {lang for _, lang, _ in m}]
    assert len(bilingual) >= 2
    events = {"Vietnam": False, "ProWein": False, "Souss-Massa": False}
    for story in bilingual:
        for event in events:
            if sum(event in title for _, _, title in story) >= 2:
                events[event] = True
    assert sum(events.values()) >= 2, (events, bilingual)


@pytest.mark.slow
def test_queue_has_new_items_and_the_confident_ones_of_the_threshold_source_are_accepted(
    demo: tuple[Runtime, dict],
) -> None:
    rt, _ = demo
    scope = admin_scope(rt)
    atom = _sources(rt)["flux/veille-secteurs.atom"]
    with rt.session() as session:
        waiting = curation_queue(session, scope, referential=rt.referential, limit=100)
        assert waiting.total >= 20 and all(i.curator_status == "new" for i in waiting.items)
        own = curation_queue(
            session, scope, referential=rt.referential, source_id=atom.id, status="all", limit=100
        )
    assert own.total == 13
    accepted = [i for i in own.items if i.curator_status == "auto_accepted"]
    assert accepted and len(accepted) < own.total  # some clear enough, some left to the curators
    for item in own.items:
        confident = item.confidence is not None and item.confidence >= 0.5
        assert (item.curator_status == "auto_accepted") == confident, item.as_dict()
    others = {i.curator_status for i in waiting.items if i.source and i.source["id"] != atom.id}
    assert others == {"new"}  # the other sources have no threshold


@pytest.mark.slow
def test_reloading_adds_nothing_and_a_new_port_moves_the_sources(demo: tuple[Runtime, dict]) -> None:
    rt, _ = demo
    again = load_watch(rt, demo_site(rt))
    assert again["added"] == 0 and again["moved"] == 0 and again["new_items"] == 0 and again["sources"] == 5
    data_dir = rt.settings.resolved_data_dir
    old = demo_site(rt).port
    stop_site(data_dir)
    with socket.socket() as blocker:  # the next run finds its port taken
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", old))
        blocker.listen()
        site = demo_site(rt)
    assert site.port != old
    placed = place_sources(rt, site, add=False)
    assert placed["moved"] == 5 and placed["added"] == 0
    sources = _sources(rt)
    assert all(s.url.startswith(site.base_url + "/") for s in sources.values())
    outcome = rt.poller.poll(sources["flux/veille-marches.rss"].id)
    assert outcome.status == "ok" and outcome.new == 0 and outcome.url.startswith(site.base_url)
