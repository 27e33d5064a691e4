"""Issue 11 §1 on the API and the page: the ``understood`` object and the « filter » suggestions."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import Installation
from tests.web.test_no_results import login


def test_api_answers_what_it_understood(installation: Installation, client: TestClient) -> None:
    alice = installation.auth("alice")
    body = client.get("/api/search", params={"q": "vins Allemagne"}, headers=alice).json()
    concepts = {(c["facet"], c["id"]): c for c in body["understood"]["concepts"]}
    assert set(concepts) == {("sector", "naf:11.02"), ("country", "country:DE")}
    assert concepts[("country", "country:DE")]["label"] == "Allemagne"
    assert concepts[("country", "country:DE")]["words"] == ["Allemagne"]
    assert body["understood"]["corrections"] == []
    offered = [s for s in body["suggestions"] if s["kind"] == "filter"]
    assert offered
    for s in offered:
        answer = client.get(s["url"], headers=alice).json()
        assert answer["total"] == s["total"] > 0
    filtered = client.get(
        "/api/search", params={"q": "vins Allemagne", "country": "DE"}, headers=alice
    ).json()
    assert "country" not in {s["facet"] for s in filtered["suggestions"] if s["kind"] == "filter"}
    typo = client.get("/api/search", params={"q": "vins Allemagen"}, headers=alice).json()
    assert typo["understood"]["corrections"] == [{"word": "Allemagen", "correction": "Allemagne"}]
    assert typo["total"] > 0


def test_page_offers_the_recognised_filters(installation: Installation, client: TestClient) -> None:
    login(client, "alice@alpha.fr")
    page = client.get("/recherche", params={"q": "vins Allemagne"})
    assert page.status_code == 200
    assert "Filtrer sur" in page.text and 'data-kind="filter"' in page.text
    typo = client.get("/recherche", params={"q": "vins Allemagen"})
    assert "Recherche étendue à" in typo.text and "« Allemagne » (pour « Allemagen »)" in typo.text
