"""The poller against a real local server that counts requests: conditional GET, Retry-After, backoff,
410, permanent redirects, caps and broken answers; every poll recorded, nothing stored twice."""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import make_settings
from tests.veille.feedserver import FeedServer, Route, feed_server, rss
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.core.db import utcnow
from veille.models import Item, Source, SourcePoll

FEEDS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "fixtures" / "feeds"
LAST_MODIFIED = "Tue, 01 Dec 2026 08:00:00 GMT"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    settings = make_settings(
        tmp_path_factory.mktemp("poller"),
        poll_host_delay_s=0.0,
        feed_timeout_s=2.0,
        max_feed_bytes=200_000,
        poll_max_entries=4,  # the fixture feeds' hundreds of entries are not what these tests are about
    )
    rt = Runtime(settings)
    init_installation(rt)
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with feed_server() as srv:
        yield srv


def _source(rt: Runtime, url: str, **fields: object) -> int:
    with rt.session() as session:
        source = Source(url=url, kind="feed", title="", min_interval_s=900, max_interval_s=86400, **fields)
        session.add(source)
        session.flush()
        return source.id


def _get(rt: Runtime, source_id: int) -> Source:
    with rt.session() as session:
        source = session.get(Source, source_id)
        assert source is not None
        session.expunge(source)
        return source


def _next(source: Source) -> dt.datetime:
    """``next_poll_at`` as an aware UTC datetime (SQLite gives naive UTC values back)."""
    assert source.next_poll_at is not None
    return source.next_poll_at.replace(tzinfo=dt.UTC)


def _items(rt: Runtime, source_id: int) -> int:
    with rt.session() as session:
        return int(session.scalar(select(func.count(Item.id)).where(Item.source_id == source_id)) or 0)


def test_conditional_get_stores_nothing_new(runtime: Runtime, server: FeedServer) -> None:
    entries = [
        ("e1", "Exportations de vins vers l'Allemagne", "Les vins français progressent à Düsseldorf."),
        ("e2", "Le Vietnam ouvre son marché agroalimentaire", "Hanoï abaisse ses droits de douane."),
    ]
    server.routes["/cond.xml"] = Route(rss("Conditionnel", entries), etag='"v1"', last_modified=LAST_MODIFIED)
    sid = _source(runtime, f"{server.url}/cond.xml")
    first = runtime.poller.poll(sid)
    assert first.status == "ok" and first.new == 2
    assert _get(runtime, sid).etag == '"v1"'
    second = runtime.poller.poll(sid)
    assert second.status == "not_modified" and second.new == 0
    sent = server.last("/cond.xml").headers
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == LAST_MODIFIED
    assert "tfe-veille" in sent["user-agent"]
    assert _items(runtime, sid) == 2
    with runtime.session() as session:
        statuses = list(session.scalars(select(SourcePoll.status).where(SourcePoll.source_id == sid)))
    assert statuses == ["ok", "not_modified"]
    source = _get(runtime, sid)
    assert source.health == "ok" and source.next_poll_at is not None
    assert _next(source) > utcnow() + dt.timedelta(seconds=800)  # within the bounds, not at once


def test_same_entries_served_again_without_validators_are_not_stored_twice(
    runtime: Runtime, server: FeedServer
) -> None:
    server.routes["/plain.xml"] = Route(rss("Sans validateurs", [("p1", "Titre un", "Texte un du flux.")]))
    sid = _source(runtime, f"{server.url}/plain.xml")
    assert runtime.poller.poll(sid).new == 1
    again = runtime.poller.poll(sid)
    assert again.status == "ok" and again.new == 0
    assert _items(runtime, sid) == 1


def test_429_is_not_polled_before_retry_after(runtime: Runtime, server: FeedServer) -> None:
    server.routes["/busy.xml"] = Route(b"", status=429, headers={"Retry-After": "7200"})
    sid = _source(runtime, f"{server.url}/busy.xml")
    outcome = runtime.poller.poll(sid)
    assert outcome.status == "failed" and outcome.http_status == 429
    source = _get(runtime, sid)
    assert source.next_poll_at is not None
    assert _next(source) >= utcnow() + dt.timedelta(seconds=7100)
    assert sid not in runtime.poller.due_sources()
    assert sid in runtime.poller.due_sources(utcnow() + dt.timedelta(seconds=7300))
    before = server.count("/busy.xml")
    runtime.poller.poll_due()
    assert server.count("/busy.xml") == before


def test_failing_source_backs_off_and_says_why(runtime: Runtime, server: FeedServer) -> None:
    server.routes["/broken.xml"] = Route(b"oops", status=500)
    sid = _source(runtime, f"{server.url}/broken.xml")
    delays = []
    for _ in range(3):
        runtime.poller.poll(sid)
        source = _get(runtime, sid)
        assert source.next_poll_at is not None
        delays.append((_next(source) - utcnow()).total_seconds())
    assert source.failures == 3 and source.health == "failing"
    assert source.last_error == "HTTP 500"
    assert delays[0] < delays[1] < delays[2]  # 900·2^n ±20 %: strictly growing


def test_410_pauses_the_source(runtime: Runtime, server: FeedServer) -> None:
    server.routes["/gone.xml"] = Route(b"", status=410)
    sid = _source(runtime, f"{server.url}/gone.xml")
    assert runtime.poller.poll(sid).status == "failed"
    source = _get(runtime, sid)
    assert source.paused and source.health == "gone" and "410" in (source.last_error or "")
    assert runtime.poller.poll(sid).status == "deferred"


def test_permanent_redirect_updates_the_url(runtime: Runtime, server: FeedServer) -> None:
    server.routes["/moved.xml"] = Route(status=301, location="/new-home.xml")
    server.routes["/new-home.xml"] = Route(
        rss("Déménagé", [("m1", "Nouvelle adresse", "Le flux a déménagé.")])
    )
    sid = _source(runtime, f"{server.url}/moved.xml")
    assert runtime.poller.poll(sid).new == 1
    assert _get(runtime, sid).url == f"{server.url}/new-home.xml"


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (Route(gzip.compress(b"<rss>" + b" " * 50_000_000), gzip=False, content_type="application/gzip"), ""),
        (Route(b"<rss>" + b" " * 30_000_000, gzip=True), "decompressed"),
        (Route(b"x" * 300_000), "too large"),
        (Route(b"<html><body>Bonjour</body></html>", content_type="text/html"), "HTML"),
        (Route(b"\x00\x01 pas du XML"), "not an RSS"),
        (Route(drop=True), "Error"),
        (Route(rss("Lent", []), delay_s=3.0), "timeout"),
        (Route(status=302, location="/loop-b"), "redirect"),
    ],
    ids=["gzip-file", "gzip-bomb", "too-big", "html", "binary", "dropped", "slow", "loop"],
)
def test_bad_answers_end_recorded_with_a_reason(
    runtime: Runtime, server: FeedServer, route: Route, reason: str, request: pytest.FixtureRequest
) -> None:
    path = f"/bad-{request.node.callspec.id}"
    server.routes[path] = route
    if route.location == "/loop-b":
        server.routes["/loop-b"] = Route(status=302, location=path)
    sid = _source(runtime, f"{server.url}{path}")
    outcome = runtime.poller.poll(sid)
    assert outcome.status == "failed"
    assert reason in (outcome.error or "")
    source = _get(runtime, sid)
    assert source.failures == 1 and source.last_error == outcome.error
    with runtime.session() as session:
        recorded = session.scalar(select(SourcePoll).where(SourcePoll.source_id == sid))
        assert recorded is not None and recorded.status == "failed" and recorded.error


def test_fixture_feeds_each_end_recorded(runtime: Runtime, server: FeedServer) -> None:
    """Every assortment of the shared fixtures: each poll ends ok or failed with a reason, none raises."""
    files = sorted((FEEDS / "assorted").glob("*")) + sorted((FEEDS / "economic_news_en").glob("*"))
    assert len(files) > 20
    ids = []
    for path in files:
        server.routes[f"/fixture/{path.name}"] = Route(path.read_bytes(), content_type="application/xml")
        ids.append(_source(runtime, f"{server.url}/fixture/{path.name}"))
    outcomes = [runtime.poller.poll(sid) for sid in ids]
    assert all(o.status in ("ok", "failed") for o in outcomes)
    assert all(o.error for o in outcomes if o.status == "failed")
    # the fixture's 200,000-byte cap refuses the three big podcast feeds; one file is not a feed at all
    failed = [o.error or "" for o in outcomes if o.status == "failed"]
    assert all("body too large" in e or "not an RSS/Atom/JSON feed" in e for e in failed), failed
    assert len(failed) <= 4
    assert sum(o.new for o in outcomes) > 60
    assert max(o.new for o in outcomes) == 4  # TFE_POLL_MAX_ENTRIES: the newest four of each feed


def test_poll_due_report(runtime: Runtime, server: FeedServer) -> None:
    server.routes["/due.xml"] = Route(rss("Due", [("d1", "Un titre dû", "Un texte dû.")]), etag='"d"')
    sid = _source(runtime, f"{server.url}/due.xml")
    report = runtime.poller.poll_due()
    assert set(report) == {"polled", "not_modified", "new_items", "failed", "sources"}
    mine = [s for s in report["sources"] if s["id"] == sid]
    assert mine and mine[0]["status"] == "ok" and mine[0]["new"] == 1
    assert set(mine[0]) >= {"id", "url", "status", "http_status", "new", "next_poll_at", "error"}
    assert sid not in runtime.poller.due_sources()


def test_a_long_feed_keeps_its_newest_entries(runtime: Runtime, server: FeedServer) -> None:
    days = [f"0{d}" for d in range(1, 8)]
    items = "".join(
        f"<item><guid>l{d}</guid><title>Titre du {d} décembre</title><description>Texte {d}.</description>"
        f"<pubDate>{d} Dec 2026 08:00:00 GMT</pubDate></item>"
        for d in days
    )
    channel = f"<channel><title>Long</title>{items}</channel>"
    body = f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()
    server.routes["/long.xml"] = Route(body)
    sid = _source(runtime, f"{server.url}/long.xml")
    assert runtime.poller.poll(sid).new == 4
    with runtime.session() as session:
        kept = set(session.scalars(select(Item.guid).where(Item.source_id == sid)))
    assert kept == {"l04", "l05", "l06", "l07"}
