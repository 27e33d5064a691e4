"""``GET /api/search`` and the search page: sort, date range, organisation/language/status filters and the
organisation and language facets (issue 11 §4), on the shared installation (every seeded document is dated
``SEEDED_AT``); the engine's ordering by date is tested on several dates in tests/search."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import SEEDED_AT, Installation

DAY = SEEDED_AT.date().isoformat()


def _search(client: TestClient, installation: Installation, who: str, **params: Any) -> Any:
    response = client.get("/api/search", params=params, headers=installation.auth(who))
    assert response.status_code == 200, response.text
    return response.json()


def test_org_facet_only_names_visible_organisations(client: TestClient, installation: Installation) -> None:
    alice = _search(client, installation, "alice", q="")
    assert {f["id"] for f in alice["facets"]["org"]} == {"alpha"}  # beta's documents are hidden from her
    assert alice["facets"]["org"][0]["label"] == "CCI Alpha"
    bob = {f["id"]: f["count"] for f in _search(client, installation, "bob", q="")["facets"]["org"]}
    assert set(bob) == {"alpha", "beta"} and bob["beta"] == 2
    assert alice["facets"]["language"] == [{"id": "fr", "label": "français", "count": alice["total"]}]


def test_org_filter_by_slug_or_id_inside_scope(client: TestClient, installation: Installation) -> None:
    by_slug = _search(client, installation, "bob", q="", org="alpha")
    by_id = _search(client, installation, "bob", q="", org=str(installation.orgs["alpha"]))
    assert by_slug["total"] == by_id["total"] == 2  # alpha's network and public documents only
    assert {f["id"] for f in by_slug["facets"]["org"]} == {"alpha"}
    # alice sees nothing of beta: naming it is refused as a slug that exists nowhere (no probing)
    hidden = client.get("/api/search", params={"org": "beta"}, headers=installation.auth("alice"))
    assert hidden.status_code == 400 and "unknown organisation 'beta'" in hidden.text


def test_date_range_and_sort(client: TestClient, installation: Installation) -> None:
    everything = _search(client, installation, "alice", q="")["total"]
    assert everything >= 3
    assert _search(client, installation, "alice", q="", date_from=DAY, date_to=DAY)["total"] == everything
    assert _search(client, installation, "alice", q="", date_from="2099-01-01")["total"] == 0
    assert _search(client, installation, "alice", q="", date_to="2000-01-01")["total"] == 0
    newest = _search(client, installation, "alice", q="vins", sort="date", mode="bm25", limit=50)
    relevance = _search(client, installation, "alice", q="vins", mode="bm25", limit=50)
    assert {h["id"] for h in newest["hits"]} == {h["id"] for h in relevance["hits"]}
    assert all(h["date"] and h["date"].startswith(DAY) for h in newest["hits"])


def test_status_and_language_filters(client: TestClient, installation: Installation) -> None:
    validated = _search(client, installation, "bob", q="", status="validated")
    assert validated["total"] == 2
    assert _search(client, installation, "alice", q="", language="en")["total"] == 0
    french = _search(client, installation, "alice", q="", language="fr")
    assert french["total"] == _search(client, installation, "alice", q="")["total"]


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"sort": "popularity"}, "sort"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "2024-02-30"}, "date_to"),
        ({"date_from": "2024-05-01", "date_to": "2024-01-01"}, "date_from must not be after date_to"),
        ({"org": "nowhere"}, "unknown organisation"),
        ({"language": "français"}, "unknown language"),
        ({"status": "published"}, "status"),
    ],
)
def test_bad_input_is_a_clear_400(
    client: TestClient, installation: Installation, params: dict[str, str], needle: str
) -> None:
    response = client.get("/api/search", params={"q": "vins", **params}, headers=installation.auth("alice"))
    assert response.status_code == 400, response.text
    assert needle in response.json()["error"]["message"]


def test_openapi_documents_the_parameters(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    names = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert {"sort", "date_from", "date_to", "org", "language", "status"} <= names
    assert "400" in spec["paths"]["/api/search"]["get"]["responses"]


def _page(client: TestClient, **params: Any) -> Any:
    return client.get("/recherche", params=params, headers={"accept": "text/html"})


@pytest.fixture
def signed_in(client: TestClient) -> TestClient:
    from tests.web.signin import sign_in

    sign_in(client, "alice@alpha.fr")
    return client


def test_page_sort_dates_and_facets(signed_in: TestClient) -> None:
    response = _page(signed_in, q="vins", sort="date", date_from=DAY, org="alpha", language="fr")
    assert response.status_code == 200, response.text
    html = response.text
    assert '<select id="sort" name="sort"' in html and '<option value="date" selected>' in html
    assert f'name="date_from" type="date" value="{DAY}"' in html
    assert 'name="date_to" type="date" value=""' in html
    day_fr = SEEDED_AT.strftime("%d/%m/%Y")
    assert f"Depuis le {day_fr}" in html  # a chip that removes the date filter
    assert 'data-facet="org"' in html and "CCI Alpha" in html and "Banque Beta" not in html
    assert 'data-facet="language"' in html and "français" in html
    assert "sort=date" in html and "style=" not in html and "<script>" not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "demain"}, "Date de début non valide"),
        ({"date_from": "2025-02-01", "date_to": "2025-01-01"}, "La date de début doit précéder"),
        ({"org": "nulle-part"}, "Organisation inconnue"),
        ({"language": "klingon!"}, "Langue inconnue"),
        ({"sort": "hasard"}, "sort"),
    ],
)
def test_page_bad_input_is_a_french_400(signed_in: TestClient, params: dict[str, str], message: str) -> None:
    response = _page(signed_in, q="vins", **params)
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"] and message in response.text
