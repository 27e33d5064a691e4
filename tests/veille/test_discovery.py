"""Feed discovery against a real local server: advertised feeds, relative hrefs, errors, SSRF."""

from __future__ import annotations

import pytest

from tests.conftest import make_settings
from tests.veille.feedserver import Route, feed_server, rss
from tfe.core.errors import ValidationError
from veille.discovery import advertised_feeds, looks_like_html, resolve_feed

PAGE = b"""<!doctype html><html><head>
<link rel="stylesheet" href="/s.css">
<link rel="alternate" type="application/rss+xml" title="Actualites" href="news/rss.xml">
<link rel="alternate" hreflang="en" href="/en/">
<link rel="Alternate Feed" type="application/feed+json" href="/feed.json">
<link rel="alternate" type="application/rss+xml" href="news/rss.xml">
</head><body></body></html>"""


def test_advertised_feeds_resolved_against_the_page() -> None:
    feeds = advertised_feeds(PAGE.decode(), "https://example.org/fr/index.html")
    assert [(f.url, f.type, f.title) for f in feeds] == [
        ("https://example.org/fr/news/rss.xml", "application/rss+xml", "Actualites"),
        ("https://example.org/feed.json", "application/feed+json", ""),
    ]
    based = advertised_feeds(
        '<base href="https://cdn.example.org/x/">' + PAGE.decode(), "https://example.org/"
    )
    assert based[0].url == "https://cdn.example.org/x/news/rss.xml"
    assert advertised_feeds("", "https://example.org/") == []


def test_looks_like_html() -> None:
    assert looks_like_html("text/html", b"")
    assert not looks_like_html("application/rss+xml", b"<html>")
    assert looks_like_html("application/octet-stream", b"  <!DOCTYPE html><html>")
    assert not looks_like_html("", b"<?xml version='1.0'?><rss/>")


def test_resolve_feed_follows_the_first_advertised_feed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, fetch_allow_private=True)
    with feed_server() as server:
        server.routes["/site/"] = Route(body=PAGE, content_type="text/html; charset=utf-8")
        server.routes["/site/news/rss.xml"] = Route(body=rss("Actus", [("a", "Un", "Texte")]))
        server.routes["/feed.xml"] = Route(body=rss("Direct", []))
        server.routes["/empty"] = Route(body=b"<html><head></head></html>", content_type="text/html")
        server.routes["/mislabelled"] = Route(body=rss("Mal typé", []), content_type="text/html")
        server.routes["/gone"] = Route(status=404, body=b"no", content_type="text/plain")
        found = resolve_feed(server.url + "/site/", settings)
        assert found.url == server.url + "/site/news/rss.xml" and b"Actus" in found.body
        discovery = found.discovery()
        assert discovery is not None and discovery["page_url"] == server.url + "/site/"
        assert [a["url"] for a in discovery["alternatives"]] == [server.url + "/feed.json"]
        direct = resolve_feed(server.url + "/feed.xml", settings)
        assert direct.url == server.url + "/feed.xml" and direct.discovery() is None
        assert b"Mal typ" in resolve_feed(server.url + "/mislabelled", settings).body
        with pytest.raises(ValidationError, match="aucun flux"):
            resolve_feed(server.url + "/empty", settings)
        with pytest.raises(ValidationError, match="HTTP 404"):
            resolve_feed(server.url + "/gone", settings)
        with pytest.raises(ValidationError, match="adresse refusée"):
            resolve_feed(server.url + "/feed.xml", make_settings(tmp_path, fetch_allow_private=False))
