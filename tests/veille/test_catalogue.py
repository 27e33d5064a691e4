"""SourceService on SQLite and PostgreSQL: roles, scope, validation, SSRF, stats, removal, audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import ged.models
import ingest.models
import taxonomy.models
import tfe.core.models
import veille.models
from taxonomy.referential import Referential
from tests.conftest import tables
from tests.veille.feedserver import Route, feed_server, rss
from tfe.core.db import utcnow
from tfe.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tfe.core.models import AuditEvent
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings
from veille.catalogue import SourceService
from veille.models import Item, Source, SourcePoll
from veille.source_rules import SourceSpec, normalise_url

_TABLES = (tfe.core.models, taxonomy.models, ingest.models, ged.models, veille.models)


@dataclass
class Catalogue:
    service: SourceService
    sessions: sessionmaker[Session]
    orgs: dict[str, int]

    def curator(self, org: str) -> AccessScope:
        return AccessScope(user_id=10, org_id=self.orgs[org], roles=frozenset({"curator"}))

    def reader(self, org: str) -> AccessScope:
        return AccessScope(user_id=11, org_id=self.orgs[org], roles=frozenset({"reader"}))

    def admin(self) -> AccessScope:
        """An administrator of the national agency (network-wide catalogue rights)."""
        return AccessScope(user_id=12, org_id=self.orgs["alpha"], roles=frozenset({"admin"}), national=True)

    def org_admin(self, org: str) -> AccessScope:
        """An administrator of one organisation only."""
        return AccessScope(user_id=13, org_id=self.orgs[org], roles=frozenset({"admin"}))


def _catalogue(settings: Settings) -> Iterator[Catalogue]:
    with tables(settings) as factory:
        orgs = {}
        with factory.begin() as session:
            for slug in ("alpha", "beta"):
                org = tfe.core.models.Organisation(slug=slug, name=slug.capitalize(), kind="regional_chamber")
                session.add(org)
                session.flush()
                orgs[slug] = org.id
        referential = Referential.load()
        yield Catalogue(SourceService(factory, settings, lambda: referential), factory, orgs)


@pytest.fixture
def cat(db_settings: Settings) -> Iterator[Catalogue]:
    yield from _catalogue(db_settings.model_copy(update={"fetch_allow_private": True}))


def spec(url: str, **kw: object) -> SourceSpec:
    return SourceSpec(url=url, discover=False, **kw)  # type: ignore[arg-type]


def test_add_list_get_with_defaults_and_audit(cat: Catalogue) -> None:
    before = utcnow()
    view = cat.service.add(
        cat.curator("alpha"),
        spec(
            " HTTPS://Example.ORG:443/flux.xml#x ",
            title="Vins",
            tags=["vins", "vins", "/Secteurs/Agro"],
            sector_hints=["11"],
            country_hints=["Allemagne", "Europe"],
            language="FR",
        ),
        "api",
    )
    assert view.url == "https://example.org/flux.xml"
    assert view.org_slug == "alpha" and view.visibility == "network" and view.health == "unknown"
    assert view.tags == ["vins", "/Secteurs/Agro"] and view.language == "fr"
    assert view.sector_hints == ["naf:11"] and view.country_hints[0] == "country:DE"
    assert view.country_hints[1].startswith("region:")
    assert (view.min_interval_s, view.max_interval_s) == (900, 86400)
    assert view.next_poll_at is not None and view.next_poll_at.replace(tzinfo=dt.UTC) >= before.replace(
        microsecond=0
    ) - dt.timedelta(seconds=1)
    # any member of the network sees it; filters work
    listed = cat.service.list(cat.reader("beta"))
    assert [v.id for v in listed] == [view.id]
    assert cat.service.list(cat.reader("beta"), tag="vins")[0].id == view.id
    assert cat.service.list(cat.reader("beta"), tag="vin") == []
    assert cat.service.list(cat.reader("beta"), kind="page") == []
    assert cat.service.get(cat.reader("beta"), view.id).title == "Vins"
    with cat.sessions() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        added = session.scalar(select(AuditEvent).where(AuditEvent.action == "source.add"))
    assert actions[0] == "source.add" and "source.list" in actions and "source.read" in actions
    assert added is not None and added.detail["channel"] == "api" and added.actor_user_id == 10


def test_roles_and_scope(cat: Catalogue) -> None:
    with pytest.raises(PermissionDeniedError):
        cat.service.add(cat.reader("alpha"), spec("https://example.org/a.xml"), "api")
    own = cat.service.add(
        cat.curator("alpha"), spec("https://example.org/own.xml", visibility="organisation"), "api"
    )
    shared = cat.service.add(cat.curator("alpha"), spec("https://example.org/shared.xml"), "api")
    # org B neither sees nor reaches org A's organisation source
    assert [v.id for v in cat.service.list(cat.reader("beta"))] == [shared.id]
    with pytest.raises(NotFoundError):
        cat.service.get(cat.curator("beta"), own.id)
    with pytest.raises(NotFoundError):
        cat.service.update(cat.curator("beta"), own.id, {"title": "x"}, "api")
    # org B's curator sees org A's network source but cannot edit or remove it
    with pytest.raises(PermissionDeniedError):
        cat.service.update(cat.curator("beta"), shared.id, {"title": "x"}, "api")
    with pytest.raises(PermissionDeniedError):
        cat.service.remove(cat.curator("beta"), shared.id, "api")
    # an organisation's administrator is like its curators: another organisation's own source is hidden,
    # its network source cannot be changed, and nothing is catalogued for another organisation
    with pytest.raises(NotFoundError):
        cat.service.get(cat.org_admin("beta"), own.id)
    with pytest.raises(NotFoundError):
        cat.service.update(cat.org_admin("beta"), own.id, {"title": "x"}, "api")
    with pytest.raises(PermissionDeniedError):
        cat.service.remove(cat.org_admin("beta"), shared.id, "api")
    with pytest.raises(PermissionDeniedError):
        cat.service.add(cat.org_admin("beta"), spec("https://example.org/c.xml", org="alpha"), "api")
    # a curator cannot catalogue for another organisation; the national agency's admin can, and manages all
    with pytest.raises(PermissionDeniedError):
        cat.service.add(cat.curator("beta"), spec("https://example.org/b.xml", org="alpha"), "api")
    theirs = cat.service.add(cat.admin(), spec("https://example.org/b.xml", org="beta"), "api")
    assert theirs.org_slug == "beta"
    assert cat.service.update(cat.admin(), own.id, {"title": "Renommée"}, "api").title == "Renommée"
    assert len(cat.service.list(cat.admin())) == 3
    assert cat.service.update(cat.curator("beta"), theirs.id, {"paused": True}, "api").paused is True


def test_validation_errors_are_clear(cat: Catalogue) -> None:
    curator = cat.curator("alpha")
    cases: list[tuple[SourceSpec, str]] = [
        (spec("ftp://example.org/feed"), "http(s)"),
        (spec("https://user:pw@example.org/feed"), "identifiants"),
        (spec("https://example.org/a", kind="page"), "links"),
        (spec("https://example.org/a", kind="page", config={"links": "a[["}), "invalide"),
        (
            spec(
                "https://example.org/a", kind="watch", config={"selector": "//div[", "selector_type": "xpath"}
            ),
            "xpath",
        ),
        (spec("https://example.org/a", kind="watch", config={"selector": "p", "bogus": 1}), "bogus"),
        (spec("https://example.org/a", visibility="private"), "visibilité"),
        (spec("https://example.org/a", min_interval_s=30), "min_interval_s"),
        (spec("https://example.org/a", max_interval_s=8 * 86400), "max_interval_s"),
        (spec("https://example.org/a", min_interval_s=7200, max_interval_s=3600), "supérieur"),
        (spec("https://example.org/a", auto_accept_threshold=1.5), "entre 0 et 1"),
        (spec("https://example.org/a", country_hints=["Atlantide"]), "Atlantide"),
        (spec("https://example.org/a", sector_hints=["zzz"]), "secteur"),
        (spec("https://example.org/a", tags=["a,b"]), "virgule"),
        (spec("https://example.org/a", kind="rss"), "type de source"),
        (spec("https://example.org/a", org="nowhere"), "organisation inconnue"),
    ]
    for bad, needle in cases:
        with pytest.raises(ValidationError) as err:
            cat.service.add(curator, bad, "cli")
        assert needle in err.value.message, (bad, err.value.message)
    page = cat.service.add(
        curator,
        spec(
            "https://example.org/list",
            kind="page",
            config={"links": "article a::attr(href)", "max_articles": 5},
        ),
        "cli",
    )
    assert page.config["links"] == "article a::attr(href)" and page.config["max_articles"] == 5
    with pytest.raises(ValidationError) as dup:
        cat.service.add(curator, spec("https://EXAMPLE.org/list"), "cli")
    assert f"source déjà au catalogue (id {page.id})" in dup.value.message
    assert cat.service.list(curator)[0].id == page.id  # nothing else was saved


def test_ssrf_guard_without_allow_private(db_settings: Settings) -> None:
    cat = next(_catalogue(db_settings.model_copy(update={"fetch_allow_private": False})))
    for url in ("http://127.0.0.1/", "http://10.0.0.1/feed", "http://[::1]:8080/x"):
        with pytest.raises(ValidationError) as err:
            cat.service.add(cat.curator("alpha"), spec(url), "api")
        assert "adresse refusée" in err.value.message
    with pytest.raises(ValidationError):
        cat.service.preview(cat.curator("alpha"), SourceSpec(url="http://127.0.0.1:9/feed"))


def test_update_pause_resume_and_bounds(cat: Catalogue) -> None:
    curator = cat.curator("alpha")
    view = cat.service.add(curator, spec("https://example.org/f.xml"), "web")
    with cat.sessions.begin() as session:
        row = session.get(Source, view.id)
        assert row is not None
        row.etag, row.health, row.next_poll_at = '"v1"', "failing", utcnow() + dt.timedelta(days=1)
    paused = cat.service.pause(curator, view.id, "web")
    assert paused.paused is True
    resumed = cat.service.resume(curator, view.id, "web")
    assert resumed.paused is False and resumed.next_poll_at is not None
    assert resumed.next_poll_at.replace(tzinfo=dt.UTC) < utcnow() + dt.timedelta(minutes=1)
    changed = cat.service.update(
        curator, view.id, {"min_interval_s": 3600, "max_interval_s": 7200, "tags": ["x"]}, "web"
    )
    assert (changed.min_interval_s, changed.max_interval_s, changed.interval_s) == (3600, 7200, 3600)
    with pytest.raises(ValidationError):
        cat.service.update(curator, view.id, {"min_interval_s": 9000}, "web")  # above max
    with pytest.raises(ValidationError):
        cat.service.update(curator, view.id, {"health": "ok"}, "web")  # not a field a caller sets
    moved = cat.service.update(curator, view.id, {"url": "https://example.org/g.xml"}, "web")
    assert moved.url == "https://example.org/g.xml" and moved.health == "unknown"
    with cat.sessions() as session:
        row = session.get(Source, view.id)
        assert row is not None and row.etag is None
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "source.update").order_by(AuditEvent.id.desc())
        ).first()
    assert event is not None and event.detail["changed"]["url"][1] == "https://example.org/g.xml"


def test_stats_and_remove_keeps_items_detached(cat: Catalogue) -> None:
    curator = cat.curator("alpha")
    a = cat.service.add(curator, spec("https://example.org/a.xml", title="A"), "api")
    b = cat.service.add(curator, spec("https://example.org/b.xml", title="B"), "api")
    now = utcnow()
    with cat.sessions.begin() as session:
        for i, (source_id, age_days) in enumerate([(a.id, 1), (a.id, 2), (a.id, 30), (b.id, 3)]):
            session.add(
                Item(
                    id=f"item{i}",
                    source_id=source_id,
                    guid=f"g{i}",
                    content_hash=f"h{i}",
                    fetched_at=now - dt.timedelta(days=age_days),
                )
            )
        session.add(SourcePoll(source_id=a.id, status="ok"))
    views = {v.title: v for v in cat.service.list(curator)}
    assert (views["A"].items_total, views["A"].items_per_day) == (3, round(2 / 7, 2))
    assert (views["B"].items_total, views["B"].items_per_day) == (1, round(1 / 7, 2))
    done = cat.service.remove(curator, a.id, "cli")
    assert done["items_detached"] == 3
    with cat.sessions() as session:
        assert session.get(Source, a.id) is None
        assert session.scalar(select(SourcePoll).where(SourcePoll.source_id == a.id)) is None
        kept = list(session.scalars(select(Item).where(Item.source_id.is_(None))))
        removal = session.scalar(select(AuditEvent).where(AuditEvent.action == "source.remove"))
    assert len(kept) == 3 and removal is not None and removal.detail["items_detached"] == 3
    with pytest.raises(NotFoundError):
        cat.service.get(curator, a.id)


def test_add_discovers_the_feed_of_an_html_page_and_takes_its_title(cat: Catalogue) -> None:
    with feed_server() as server:
        server.routes["/"] = Route(
            body=b'<html><head><link rel="alternate" type="application/atom+xml" href="/atom.xml">'
            b'<link rel="alternate" type="application/rss+xml" href="/rss.xml" title="RSS"></head></html>',
            content_type="text/html; charset=utf-8",
        )
        server.routes["/atom.xml"] = Route(
            body=b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom du site</title>'
            b"<entry><id>e1</id><title>Un</title><link href='https://example.org/1'/>"
            b"<updated>2026-01-01T00:00:00Z</updated></entry></feed>",
            content_type="application/atom+xml",
        )
        server.routes["/plain"] = Route(body=b"<html><body>rien</body></html>", content_type="text/html")
        view = cat.service.add(cat.curator("alpha"), SourceSpec(url=server.url + "/"), "api")
        assert view.url == server.url + "/atom.xml" and view.title == "Atom du site"
        assert (
            view.discovery is not None and view.discovery["alternatives"][0]["url"] == server.url + "/rss.xml"
        )
        with pytest.raises(ValidationError) as err:
            cat.service.add(cat.curator("alpha"), SourceSpec(url=server.url + "/plain"), "api")
        assert "aucun flux" in err.value.message
        server.routes["/rss"] = Route(body=rss("Flux", [("g1", "Titre un", "Texte")]))
        preview = cat.service.preview(cat.curator("alpha"), SourceSpec(url=server.url + "/rss"))
        assert preview.title == "Flux" and preview.entries[0]["title"] == "Titre un"
        assert preview.entries[0]["url"] == "https://example.org/g1"
    with cat.sessions() as session:
        assert session.scalar(select(Source).where(Source.url == server.url + "/rss")) is None  # not saved


def test_preview_needs_a_manager(cat: Catalogue) -> None:
    with pytest.raises(PermissionDeniedError):
        cat.service.preview(cat.reader("alpha"), SourceSpec(url="https://example.org/feed"))


def test_normalise_url() -> None:
    assert normalise_url("http://Example.org") == "http://example.org/"
    assert normalise_url("http://example.org:8080/a?b=1#c") == "http://example.org:8080/a?b=1"
    with pytest.raises(ValidationError):
        normalise_url("")


def test_preview_of_a_watched_region(cat: Catalogue) -> None:
    with feed_server() as server:
        server.routes["/prix"] = Route(
            body="<html><head><title>Tarifs</title></head><div id='p'>Prix : 12 €</div></html>".encode(),
            content_type="text/html; charset=utf-8",
        )
        preview = cat.service.preview(
            cat.curator("alpha"),
            SourceSpec(url=server.url + "/prix", kind="watch", config={"selector": "#p"}),
        )
    assert preview.kind == "watch" and preview.changed is False
    assert preview.entries[0]["text"] == "Prix : 12 €"


@pytest.mark.slow
def test_preview_of_a_listing_page(cat: Catalogue) -> None:  # Scrapy runs in a child process
    with feed_server() as server:
        server.routes["/robots.txt"] = Route(body=b"User-agent: *\nAllow: /\n", content_type="text/plain")
        server.routes["/liste"] = Route(
            body=b"<html><body><article><a href='/a1'>Un</a></article></body></html>",
            content_type="text/html",
        )
        server.routes["/a1"] = Route(
            body=b"<html><head><title>Article un</title></head><h1>Article un</h1><p>Texte.</p></html>",
            content_type="text/html",
        )
        preview = cat.service.preview(
            cat.curator("alpha"),
            SourceSpec(
                url=server.url + "/liste",
                kind="page",
                config={"links": "article a::attr(href)", "title": "h1"},
            ),
        )
    assert [e["url"] for e in preview.entries] == [server.url + "/a1"], preview.errors
    assert preview.entries[0]["title"] == "Article un"
