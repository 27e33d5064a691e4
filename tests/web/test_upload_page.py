"""``/deposer``: the upload page (roles, form), its plain-form fallback and the API call its script makes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import DOCS, PASSWORD, Seed, make_installation
from tfe.app.web.app import create_app

HTML = {"Accept": "text/html"}
NEW_TEXT = "Note de synthèse sur la quincaillerie zorglub en Patagonie : acteurs, prix et circuits.\n"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Seed, TestClient]]:
    rt, seed = make_installation(Path(tmp_path_factory.mktemp("upload-page")))
    with TestClient(create_app(rt)) as client:
        yield seed, client
    rt.close()


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field"
    return match.group(1)


def _sign_in(client: TestClient, email: str) -> None:
    client.cookies.clear()
    token = _csrf(client.get("/login").text)
    data = {"email": email, "password": PASSWORD, "csrf": token, "next": "/"}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def test_page_for_contributors_only(env: tuple[Seed, TestClient]) -> None:
    _seed, client = env
    _sign_in(client, "reader@alpha.fr")
    assert 'href="/deposer"' not in client.get("/").text
    refused = client.get("/deposer", headers=HTML)
    assert refused.status_code == 403 and "réservé aux contributeurs" in refused.text

    _sign_in(client, "alice@alpha.fr")
    assert 'href="/deposer"' in client.get("/").text
    page = client.get("/deposer")
    assert page.status_code == 200
    assert "Glissez-déposez vos fichiers ici" in page.text and 'type="file" multiple' in page.text
    assert "Analyse sectorielle" in page.text and "CCI Alpha" in page.text
    assert f'data-csrf="{_csrf(page.text)}"' in page.text and "/static/upload.js" in page.text
    assert client.get("/static/upload.js").status_code == 200


def test_plain_form_shows_each_outcome(env: tuple[Seed, TestClient]) -> None:
    seed, client = env
    _sign_in(client, "alice@alpha.fr")
    token = _csrf(client.get("/deposer").text)
    files = [
        ("files", ("zorglub.txt", NEW_TEXT.encode(), "text/plain")),
        ("files", ("copie.txt", DOCS[0].data, "text/plain")),  # the bytes of doc-vins-de
        ("files", ("outil.exe", b"MZ\x90\x00binary", "application/octet-stream")),
    ]
    data = {"csrf": token, "visibility": "organisation", "doc_type": "doctype:country_note"}
    response = client.post("/deposer", files=files, data=data)
    assert response.status_code == 200, response.text
    items = re.findall(r'<li class="upload-item upload-(\w+)">(.*?)</li>', response.text, flags=re.S)
    assert [status for status, _ in items] == ["ok", "duplicate", "failed"]
    new_id = re.search(r'href="/documents/(\w+)"', items[0][1])
    assert new_id and new_id.group(1) != seed.ids["doc-vins-de"]
    assert f'href="/documents/{seed.ids["doc-vins-de"]}"' in items[1][1] and "Déjà présent" in items[1][1]
    assert "Fichier refusé" in items[2][1]
    doc = client.get(f"/api/documents/{new_id.group(1)}", headers={"Accept": "application/json"}).json()
    assert doc["type"]["id"] == "doctype:country_note" and doc["visibility"] == "organisation"

    again = client.post("/deposer", files=files[:1], data={**data, "csrf": "forged"})
    assert again.status_code == 400 and "session a expiré" in again.text
    empty = client.post("/deposer", data=data)
    assert empty.status_code == 400 and "au moins un fichier" in empty.text


def test_the_script_path_is_the_api_with_the_session_and_csrf_header(env: tuple[Seed, TestClient]) -> None:
    _seed, client = env
    _sign_in(client, "alice@alpha.fr")
    token = _csrf(client.get("/deposer").text)
    files = {"file": ("copie.txt", DOCS[0].data, "text/plain")}
    assert client.post("/api/documents", files=files).status_code == 403  # no X-CSRF-Token
    response = client.post("/api/documents", files=files, headers={"X-CSRF-Token": token})
    assert response.status_code == 200 and response.json()["status"] == "duplicate"
    client.cookies.clear()
