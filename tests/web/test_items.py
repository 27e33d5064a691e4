"""Watch items through the API and their page: scope, classifications, audit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, make_installation
from tfe.app.demo import ATOM_FEED, RSS_FEED
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.models import AuditEvent


@pytest.fixture(scope="module")
def watch(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Runtime, TestClient, dict[str, str], dict]]:
    rt, seed = make_installation(tmp_path_factory.mktemp("items"))
    network = rt.watch.ingest_feed(str(RSS_FEED), visibility="network", progress=False)
    private = rt.watch.ingest_feed(
        str(ATOM_FEED), org_slug="alpha", visibility="organisation", progress=False
    )
    with TestClient(create_app(rt)) as client:
        yield rt, client, seed.tokens, {"network": network, "organisation": private}
    rt.close()


def bearer(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


def test_item_api_applies_scope(watch: tuple[Runtime, TestClient, dict[str, str], dict]) -> None:
    rt, client, tokens, reports = watch
    shared = reports["network"]["items"][0]["id"]
    own = reports["organisation"]["items"][0]["id"]
    body = client.get(f"/api/items/{shared}", headers=bearer(tokens, "bob")).json()
    assert body["id"] == shared and body["url"].startswith("https://veille.example.org/")
    assert body["source"]["title"] and any(c["id"] == "doctype:news" for c in body["classifications"])
    assert client.get(f"/api/items/{own}", headers=bearer(tokens, "alice")).status_code == 200
    hidden = client.get(f"/api/items/{own}", headers=bearer(tokens, "bob"))
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/items/{shared}").status_code == 401
    with rt.session() as session:
        reads = session.scalars(select(AuditEvent).where(AuditEvent.action == "item.read")).all()
        assert {e.target_id for e in reads} >= {shared, own}


def test_item_page(watch: tuple[Runtime, TestClient, dict[str, str], dict]) -> None:
    _rt, client, _tokens, reports = watch
    item = reports["network"]["items"][0]
    login = client.get("/login")
    csrf = login.text.split('name="csrf" value="')[1].split('"')[0]
    client.post("/login", data={"email": "bob@beta.fr", "password": PASSWORD, "csrf": csrf, "next": "/"})
    page = client.get(f"/items/{item['id']}")
    assert page.status_code == 200 and "Lire à la source" in page.text and item["title"] in page.text
