"""Issue 12: an honest « Aucun résultat » (relevance floor, no facets, suggestions in the caller's scope),
the search box's maxlength, and watch items linked to their own page (issue 13)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD, Installation, make_installation
from tfe.app.demo import RSS_FEED
from tfe.app.web.app import create_app

EMPTY_FACETS: dict[str, list[object]] = {
    "sector": [], "country": [], "type": [], "org": [], "language": [], "filiere": [], "signal": []
}


def login(client: TestClient, email: str) -> None:
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf, "next": "/"})


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_nonsense_finds_nothing(installation: Installation, client: TestClient) -> None:
    for mode in ("hybrid", "vector", "bm25"):
        body = client.get(
            "/api/search", params={"q": "zzzqqxx", "mode": mode}, headers=installation.auth("alice")
        ).json()
        assert body["total"] == 0 and body["hits"] == [], mode
        assert body["facets"] == EMPTY_FACETS, mode
        assert body["suggestions"], mode  # something to browse instead
        for s in body["suggestions"]:
            assert s["kind"] == "browse" and s["total"] > 0 and s["facet"] == "sector"
            assert s["url"].startswith("/api/search?")
            answer = client.get(s["url"], headers=installation.auth("alice")).json()
            assert answer["total"] == s["total"]


def test_misspelt_query_gets_a_spelling_suggestion(installation: Installation, client: TestClient) -> None:
    body = client.get(
        "/api/search", params={"q": "vinz Alemagne", "mode": "bm25"}, headers=installation.auth("alice")
    ).json()
    spelt = [s for s in body["suggestions"] if s["kind"] == "spelling"]
    assert spelt and spelt[0]["q"] == "vins Allemagne" and spelt[0]["label"] == "vins Allemagne"
    assert _query(spelt[0]["url"]) == {"q": ["vins Allemagne"], "mode": ["bm25"]}
    assert (
        client.get(spelt[0]["url"], headers=installation.auth("alice")).json()["total"] == spelt[0]["total"]
    )


def test_spelling_stays_in_the_callers_scope(installation: Installation, client: TestClient) -> None:
    """« confidentielle » only appears in beta's documents: beta is told, alpha never is."""
    params = {"q": "confidantielle", "mode": "bm25"}
    bob = client.get("/api/search", params=params, headers=installation.auth("bob")).json()
    assert [s["q"] for s in bob["suggestions"] if s["kind"] == "spelling"] == ["confidentielle"]
    alice = client.get("/api/search", params=params, headers=installation.auth("alice")).json()
    assert alice["total"] == 0
    assert not [s for s in alice["suggestions"] if s["kind"] == "spelling"]
    assert "confidenti" not in str(alice).lower()


def test_filter_without_results_offers_to_remove_it(installation: Installation, client: TestClient) -> None:
    alice = installation.auth("alice")
    body = client.get("/api/search", params={"q": "vins", "country": "country:JP"}, headers=alice).json()
    assert body["total"] == 0 and body["facets"] == EMPTY_FACETS  # beta's Japanese notes are not alice's
    (removal,) = [s for s in body["suggestions"] if s["kind"] == "remove_filter"]
    assert removal["facet"] == "country" and removal["label"] == "Japon" and removal["q"] == "vins"
    assert _query(removal["url"]) == {"q": ["vins"]}
    assert client.get(removal["url"], headers=alice).json()["total"] == removal["total"] > 0
    browse = client.get("/api/search", params={"country": "country:JP"}, headers=alice).json()
    assert browse["total"] == 0
    assert [s["kind"] for s in browse["suggestions"]] == ["remove_filter"]


def test_no_results_page(installation: Installation, client: TestClient) -> None:
    login(client, "alice@alpha.fr")
    page = client.get("/recherche", params={"q": "zzzqqxx"})
    assert page.status_code == 200
    assert "Aucun résultat pour « zzzqqxx »" in page.text
    assert 'class="facet-link' not in page.text  # no facet counts for nothing
    assert 'data-kind="browse"' in page.text and "/recherche?sector=naf%3A11" in page.text
    misspelt = client.get("/recherche", params={"q": "vinz Alemagne"})
    assert "Essayez avec l&#39;orthographe" in misspelt.text or "Essayez avec l'orthographe" in misspelt.text
    assert 'href="/recherche?q=vins+Allemagne"' in misspelt.text
    filtered = client.get("/recherche", params={"q": "vins", "country": "country:JP"})
    assert "Aucun résultat pour « vins »" in filtered.text
    assert 'data-kind="remove_filter"' in filtered.text and 'href="/recherche?q=vins"' in filtered.text
    assert "Sans le filtre Pays : Japon" in " ".join(filtered.text.split())


def test_search_box_caps_the_query(installation: Installation, client: TestClient) -> None:
    login(client, "alice@alpha.fr")
    page = client.get("/recherche", params={"q": "vins"})
    assert 'maxlength="500"' in page.text.split('id="q"')[1].split(">")[0]
    assert client.get("/recherche", params={"q": "x" * 501}).status_code in (400, 422)


@pytest.fixture(scope="module")
def with_items(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    rt, seed = make_installation(tmp_path_factory.mktemp("search-items"))
    rt.watch.ingest_feed(str(RSS_FEED), visibility="network", progress=False)
    with TestClient(create_app(rt)) as client:
        yield client, seed.tokens
    rt.close()


def test_items_link_to_their_own_page(with_items: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = with_items
    body = client.get(
        "/api/search", params={"q": "", "limit": 100}, headers={"Authorization": f"Bearer {tokens['alice']}"}
    ).json()
    items = [h for h in body["hits"] if h["kind"] == "item"]
    assert items
    for hit in items:
        assert hit["url"] == f"/items/{hit['id']}"
        assert hit["source_url"].startswith("https://")
    documents = [h for h in body["hits"] if h["kind"] == "document"]
    assert documents and all(h["source_url"] is None for h in documents)
    login(client, "alice@alpha.fr")
    page = client.get("/recherche", params={"q": items[0]["title"]})
    assert f'href="/items/{items[0]["id"]}"' in page.text
    assert f'href="{items[0]["source_url"]}"' in page.text  # the source, as a secondary link
    assert client.get(f"/items/{items[0]['id']}").status_code == 200
