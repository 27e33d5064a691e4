"""The curators' queue API: roles and scope, filters as query params, decisions, bulk, search exclusion."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import make_settings
from tests.veille.test_curation import World, seed_world
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.models import User
from tfe.core.security import identity


@dataclass
class Site:
    world: World
    client: TestClient
    tokens: dict[str, str]  # user key -> bearer token

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def item(self, key: str) -> str:
        return self.world.items[key]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from make_site(tmp_path_factory.mktemp("curation"))


def make_site(tmp: Path) -> Iterator[Site]:
    """A fresh installation with the curation world, its web app and a token per user."""
    rt = Runtime(make_settings(tmp, secret_key="test-secret-key"))
    init_installation(rt)
    world = seed_world(rt)
    tokens: dict[str, str] = {}
    with rt.session() as session:
        for key, scope in world.scopes.items():
            user = session.scalar(select(User).where(User.id == scope.user_id))
            assert user is not None
            tokens[key] = identity.create_token(session, user, name="tests")[1]
    with TestClient(create_app(rt)) as client:
        yield Site(world=world, client=client, tokens=tokens)
    rt.close()


def test_queue_roles_filters_and_errors(site: Site) -> None:
    client = site.client
    body = client.get("/api/curation/queue", headers=site.auth("curator")).json()
    assert body["total"] == 3
    line = next(i for i in body["items"] if i["id"] == site.item("vin-de"))
    assert line["confidence"] == pytest.approx(0.92) and line["curator_status"] == "new"
    assert line["sectors"][0]["id"] == "naf:11.02" and line["source"]["title"] == "Veille réseau"
    one = client.get("/api/curation/queue?sector=11&country=DE", headers=site.auth("curator")).json()
    assert [i["id"] for i in one["items"]] == [site.item("vin-de")]
    low = client.get("/api/curation/queue?max_confidence=0.5", headers=site.auth("curator")).json()
    assert [i["id"] for i in low["items"]] == [site.item("bois-jp")]
    bad = client.get("/api/curation/queue?min_confidence=2", headers=site.auth("curator"))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    unknown = client.get("/api/curation/queue?sector=zzz-inconnu", headers=site.auth("curator"))
    assert unknown.status_code == 400 and "unknown sector" in unknown.json()["error"]["message"]
    denied = client.get("/api/curation/queue", headers=site.auth("reader"))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    assert client.get("/api/curation/queue").status_code == 401


def test_decisions_and_search_exclusion(site: Site) -> None:
    client = site.client
    search = "/api/search?q=cosm%C3%A9tiques+salon&mode=bm25"
    assert client.get(search, headers=site.auth("reader")).json()["total"] == 1
    url = f"/api/items/{site.item('alpha-cosm')}/decision"
    denied = client.post(url, json={"decision": "reject"}, headers=site.auth("reader"))
    assert denied.status_code == 403
    bad = client.post(url, json={"decision": "maybe"}, headers=site.auth("curator"))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    wrong = client.post(url, json={"decision": "accept", "sectors": ["11"]}, headers=site.auth("curator"))
    assert wrong.status_code == 400
    done = client.post(url, json={"decision": "reject"}, headers=site.auth("curator"))
    assert done.status_code == 200, done.text
    assert done.json()["curator_status"] == "rejected" and done.json()["item"]["id"] == site.item(
        "alpha-cosm"
    )
    assert client.get(search, headers=site.auth("reader")).json()["total"] == 0
    assert client.get(search, headers=site.auth("curator")).json()["total"] == 1
    other = f"/api/items/{site.item('beta-banque')}/decision"
    hidden = client.post(other, json={"decision": "accept"}, headers=site.auth("curator"))
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"


def test_correct_and_bulk(site: Site) -> None:
    client = site.client
    url = f"/api/items/{site.item('bois-jp')}/decision"
    body = {"decision": "correct", "sectors": ["16"], "countries": ["Japon"], "type": "doctype:news"}
    fixed = client.post(url, json=body, headers=site.auth("admin"))
    assert fixed.status_code == 200, fixed.text
    assert [s["id"] for s in fixed.json()["item"]["sectors"]] == ["naf:16"]
    assert fixed.json()["changes"]["sectors"]["removed"] == ["naf:31"]
    unknown = client.post(
        url, json={"decision": "correct", "sectors": ["pas un code"]}, headers=site.auth("admin")
    )
    assert unknown.status_code == 400 and "unknown sector" in unknown.json()["error"]["message"]
    bulk = client.post(
        "/api/curation/decisions",
        json={"item_ids": [site.item("vin-de"), site.item("beta-banque")], "decision": "accept"},
        headers=site.auth("curator"),
    )
    assert bulk.status_code == 200, bulk.text
    assert bulk.json()["done"] == [site.item("vin-de")]
    assert bulk.json()["failed"][0]["id"] == site.item("beta-banque")
    empty = client.post(
        "/api/curation/decisions", json={"item_ids": [], "decision": "accept"}, headers=site.auth("curator")
    )
    assert empty.status_code == 400
    accepted = client.get("/api/curation/queue?status=accepted", headers=site.auth("curator")).json()
    assert {i["id"] for i in accepted["items"]} == {site.item("vin-de"), site.item("bois-jp")}


def test_cookie_session_needs_csrf(site: Site) -> None:
    client = site.client
    client.cookies.clear()
    login = client.get("/login")
    csrf = login.text.split('name="csrf" value="')[1].split('"')[0]
    client.post(
        "/login", data={"email": "curator@alpha.fr", "password": "motdepasse-solide-42", "csrf": csrf}
    )
    url = f"/api/items/{site.item('vin-de')}/decision"
    refused = client.post(url, json={"decision": "reject"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
    assert client.get("/api/curation/queue?status=all").json()["total"] == 3
    client.cookies.clear()
