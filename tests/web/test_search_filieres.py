"""The filière and signal filters and facets of ``GET /api/search`` and of the search page (issue 10)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import Installation


def _search(client: TestClient, installation: Installation, **params: Any) -> Any:
    response = client.get("/api/search", params=params, headers=installation.auth("bob"))
    assert response.status_code == 200, response.text
    return response.json()


def test_api_filters_and_counts_filieres_and_signals(client: TestClient, installation: Installation) -> None:
    everything = _search(client, installation, q="")
    assert {"filiere", "signal"} <= set(everything["facets"])
    filieres = {f["id"]: f for f in everything["facets"]["filiere"]}
    for entry in filieres.values():
        assert entry["label"] != entry["id"]  # French labels, not ids
    by_name = _search(client, installation, q="", filiere="Agriculture et agroalimentaire")
    by_id = _search(client, installation, q="", filiere="filiere:agri-agro")
    assert by_name["total"] == by_id["total"] == (filieres["filiere:agri-agro"]["count"]
                                                 if "filiere:agri-agro" in filieres else 0)
    bob = installation.auth("bob")
    unknown = client.get("/api/search", params={"filiere": "pas une filière"}, headers=bob)
    assert unknown.status_code == 400 and "unknown filiere" in unknown.text
    none = _search(client, installation, q="", signal="signal:mna", filiere="filiere:sante.e-sante")
    assert none["total"] <= everything["total"]


@pytest.fixture
def signed_in(client: TestClient) -> TestClient:
    from tests.web.signin import sign_in

    sign_in(client, "alice@alpha.fr")
    return client


def test_page_shows_filiere_and_signal_facets(signed_in: TestClient) -> None:
    response = signed_in.get(
        "/recherche", params={"q": "vins", "filiere": "filiere:agri-agro.vins"},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 200, response.text
    html = response.text
    assert 'data-facet="filiere"' in html and 'data-facet="signal"' in html
    assert "Retirer le filtre Filière : Vins et spiritueux" in html
