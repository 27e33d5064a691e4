"""Pages answer bad parameters in French (the API keeps its English validator text); the favicon exists."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.test_pages import HTML, _sign_in


def test_page_validation_errors_are_french(client: TestClient) -> None:
    _sign_in(client)
    page = client.get("/recherche", params={"q": "v" * 501}, headers=HTML)
    assert page.status_code == 400
    assert "« q » : 500 caractères au plus" in page.text and "String should have" not in page.text
    page = client.get("/recherche", params={"q": "vins", "page": "zéro"}, headers=HTML)
    assert page.status_code == 400 and "« page » : un nombre entier est attendu" in page.text
    api = client.get("/api/search", params={"q": "v" * 501})
    assert api.status_code == 400 and "at most 500 characters" in api.json()["error"]["message"]


def test_favicon(client: TestClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert 'rel="icon"' in client.get("/login").text
