"""``/api/sources``: roles and scope, create with discovery, edit, remove, preview, poll, OPML, errors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tests.veille.feedserver import FeedServer, Route, feed_server, rss
from tests.veille.test_opml import OPML
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.security import identity
from veille.opml import parse_opml

USERS = (("cur-a", "alpha", "curator"), ("cur-b", "beta", "curator"), ("read-b", "beta", "reader"))


@dataclass
class Site:
    client: TestClient
    tokens: dict[str, str]
    server: FeedServer

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    rt = Runtime(make_settings(tmp_path_factory.mktemp("sources-api"), secret_key="test-secret-key"))
    init_installation(rt)
    tokens: dict[str, str] = {}
    with rt.session() as session:
        for key, slug, role in USERS:
            org = identity.get_or_create_org(session, slug, slug, "regional_chamber")
            user = identity.create_user(session, email=f"{key}@{slug}.fr", org=org, role=role)
            tokens[key] = identity.create_token(session, user)[1]
        tokens["admin"] = identity.create_token(
            session, identity.find_user(session, rt.settings.admin_email)
        )[1]
    with feed_server() as server, TestClient(create_app(rt)) as client:
        server.routes["/"] = Route(
            body=b'<html><link rel="alternate" type="application/rss+xml" href="/rss.xml"></html>',
            content_type="text/html",
        )
        server.routes["/rss.xml"] = Route(body=rss("Flux API", [("a", "Premier", "Texte")]))
        yield Site(client=client, tokens=tokens, server=server)
    rt.close()


def test_create_read_update_delete_and_scope(site: Site) -> None:
    client = site.client
    assert client.get("/api/sources").status_code == 401
    refused = client.post("/api/sources", json={"url": "https://example.org/x"}, headers=site.auth("read-b"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    created = client.post(
        "/api/sources",
        json={"url": site.server.url + "/", "visibility": "organisation", "tags": ["api"]},
        headers=site.auth("cur-a"),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    sid = body["id"]
    assert body["url"] == site.server.url + "/rss.xml" and body["title"] == "Flux API"
    assert body["org"]["slug"] == "alpha" and body["discovery"]["page_url"] == site.server.url + "/"
    # beta does not see alpha's organisation source
    assert client.get(f"/api/sources/{sid}", headers=site.auth("cur-b")).status_code == 404
    assert client.get("/api/sources", headers=site.auth("read-b")).json()["total"] == 0
    shared = client.patch(f"/api/sources/{sid}", json={"visibility": "network"}, headers=site.auth("cur-a"))
    assert shared.status_code == 200 and shared.json()["visibility"] == "network"
    assert client.get("/api/sources?tag=api", headers=site.auth("read-b")).json()["total"] == 1
    # beta's curator sees it now, but may not change it
    denied = client.patch(f"/api/sources/{sid}", json={"title": "x"}, headers=site.auth("cur-b"))
    assert denied.status_code == 403
    assert client.delete(f"/api/sources/{sid}", headers=site.auth("cur-b")).status_code == 403
    dup = client.post("/api/sources", json={"url": site.server.url + "/rss.xml"}, headers=site.auth("admin"))
    assert dup.status_code == 400 and f"(id {sid})" in dup.json()["error"]["message"]
    bad = client.patch(f"/api/sources/{sid}", json={"min_interval_s": 10}, headers=site.auth("cur-a"))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    extra = client.patch(f"/api/sources/{sid}", json={"health": "ok"}, headers=site.auth("cur-a"))
    assert extra.status_code == 400
    gone = client.delete(f"/api/sources/{sid}", headers=site.auth("admin"))
    assert gone.status_code == 200 and gone.json()["removed"] is True
    assert client.get(f"/api/sources/{sid}", headers=site.auth("admin")).status_code == 404


def test_validation_and_ssrf_errors_are_400(site: Site) -> None:
    for body in (
        {"url": "ftp://example.org/"},
        {"url": "https://example.org/", "kind": "watch", "discover": False},
        {"url": "https://example.org/", "kind": "page", "config": {"links": "a[["}},
        {"url": "https://example.org/", "visibility": "private"},
        {"url": "https://example.org/", "country_hints": ["Atlantide"], "discover": False},
    ):
        answer = site.client.post("/api/sources", json=body, headers=site.auth("cur-a"))
        assert answer.status_code == 400, (body, answer.text)
        assert set(answer.json()) == {"error"}
    assert site.client.get("/api/sources?kind=rss", headers=site.auth("cur-a")).status_code == 400


def test_preview(site: Site) -> None:
    preview = site.client.post(
        "/api/sources/preview", json={"url": site.server.url + "/"}, headers=site.auth("cur-a")
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["entries"][0]["title"] == "Premier" and preview.json()["title"] == "Flux API"
    assert (
        site.client.post(
            "/api/sources/preview", json={"url": site.server.url + "/"}, headers=site.auth("read-b")
        ).status_code
        == 403
    )
    created = site.client.post(
        "/api/sources",
        json={"url": site.server.url + "/rss.xml", "discover": False},
        headers=site.auth("cur-b"),
    ).json()
    assert (
        site.client.post(f"/api/sources/{created['id']}/poll", headers=site.auth("cur-a")).status_code == 403
    )
    polled = site.client.post(f"/api/sources/{created['id']}/poll", headers=site.auth("cur-b"))
    assert polled.status_code == 200, polled.text
    assert polled.json()["id"] == created["id"] and polled.json()["status"] == "ok"
    assert polled.json()["new"] == 1
    listed = site.client.get(f"/api/sources/{created['id']}", headers=site.auth("cur-b")).json()
    assert listed["items_total"] == 1 and listed["last_polled_at"] is not None and listed["health"] == "ok"
    site.client.delete(f"/api/sources/{created['id']}", headers=site.auth("cur-b"))


def test_opml_import_raw_and_multipart_then_export(site: Site) -> None:
    raw = site.client.post(
        "/api/sources/import?visibility=organisation",
        content=OPML,
        headers={**site.auth("cur-b"), "Content-Type": "text/x-opml"},
    )
    assert raw.status_code == 200, raw.text
    assert len(raw.json()["added"]) == 3 and len(raw.json()["failed"]) == 1
    again = site.client.post(
        "/api/sources/import", files={"file": ("s.opml", OPML, "text/x-opml")}, headers=site.auth("cur-b")
    )
    assert again.status_code == 200 and again.json()["added"] == [] and len(again.json()["existing"]) == 4
    hostile = site.client.post(
        "/api/sources/import", content=b"<!DOCTYPE x [<!ENTITY a 'b'>]><opml/>", headers=site.auth("cur-b")
    )
    assert hostile.status_code == 400 and "DOCTYPE" in hostile.json()["error"]["message"]
    assert (
        site.client.post("/api/sources/import", content=OPML, headers=site.auth("read-b")).status_code == 403
    )
    exported = site.client.get("/api/sources/export", headers=site.auth("read-b"))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/x-opml")
    urls = {f.url for f in parse_opml(exported.content)}
    assert "https://example.org/vins.xml" in urls
    assert "https://example.org/vins.xml" not in {
        f.url for f in parse_opml(site.client.get("/api/sources/export", headers=site.auth("cur-a")).content)
    }  # beta's organisation sources stay in beta
