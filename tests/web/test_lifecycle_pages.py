"""Lifecycle in the pages: the document page's status badge, buttons and history, the transition forms
(CSRF, comment to send back), « Supprimer » → « Corbeille » → « Restaurer », « À revoir » → « Confirmer »,
the search page's « Inclure les archives » and « expiré » badge, the end date in the edit form.

A module installation of its own (``make_installation``): these tests change documents.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ged.models import Document
from tests.web.conftest import PASSWORD, Seed, make_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Seed, TestClient]]:
    rt, seed = make_installation(Path(tmp_path_factory.mktemp("lifecycle-pages")))
    with TestClient(create_app(rt)) as client:
        yield rt, seed, client
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


def _post(client: TestClient, url: str, page: str, **data: str) -> str:
    answer = client.post(url, data={"csrf": _csrf(page), **data}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def test_document_page_moves_and_history(env: tuple[Runtime, Seed, TestClient]) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-vins-it"]  # alpha, organisation, draft, owner alice
    url = f"/documents/{doc_id}"
    _sign_in(client, "alice@alpha.fr")
    page = client.get(url).text
    assert 'id="lifecycle-status">Brouillon<' in page
    assert "Soumettre pour relecture" in page and ">Valider<" not in page and "Supprimer" in page
    forged = client.post(f"{url}/statut", data={"to": "in_review", "csrf": "x"}, headers=HTML)
    assert forged.status_code == 403
    assert _post(client, f"{url}/statut", page, to="in_review") == url
    page = client.get(url).text
    assert "Le document est soumis pour relecture." in page and 'id="lifecycle-status">En relecture<' in page
    assert "Soumettre pour relecture" not in page  # nothing left for a contributor in review

    _sign_in(client, "carol@alpha.fr")
    page = client.get(url).text
    assert ">Valider<" in page and "Renvoyer en brouillon" in page and 'name="comment"' in page
    _post(client, f"{url}/statut", page, to="draft", comment="  ")
    page = client.get(url).text
    assert 'id="lifecycle-notice"' in page and "Indiquez en commentaire" in page
    assert 'id="lifecycle-status">En relecture<' in page
    _post(client, f"{url}/statut", page, to="draft", comment="Citer les sources 2026")
    page = client.get(url).text
    assert 'id="lifecycle-status">Brouillon<' in page and "Citer les sources 2026" in page
    assert "Brouillon → En relecture" in page and "En relecture → Brouillon" in page
    _post(client, f"{url}/statut", page, to="validated")
    assert "<dt>Statut</dt><dd>Validé</dd>" in client.get(url).text

    _sign_in(client, "bob@beta.fr")  # another organisation: no buttons, and no document in alpha's draft
    assert client.get(f"/documents/{seed.ids['doc-vins-de']}", headers=HTML).status_code == 200
    assert "lifecycle-move" not in client.get(f"/documents/{seed.ids['doc-vins-de']}").text
    client.cookies.clear()


def test_delete_trash_restore_in_pages(env: tuple[Runtime, Seed, TestClient]) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-beta-org"]  # beta, owner bob
    _sign_in(client, "bob@beta.fr")
    page = client.get(f"/documents/{doc_id}").text
    assert 'id="delete-form"' in page and "data-confirm=" in page
    assert _post(client, f"/documents/{doc_id}/supprimer", page) == "/documents/corbeille"
    trash = client.get("/documents/corbeille").text
    assert "est dans la corbeille" in trash and f'data-document="{doc_id}"' in trash and "Restaurer" in trash
    assert client.get(f"/documents/{doc_id}", headers=HTML).status_code == 404
    _sign_in(client, "alice@alpha.fr")
    assert 'id="trash-empty"' in client.get("/documents/corbeille").text
    page = client.get("/documents/corbeille").text
    refused = client.post(f"/documents/{doc_id}/restaurer", data={"csrf": _csrf(page)}, headers=HTML)
    assert refused.status_code == 404
    _sign_in(client, "bob@beta.fr")
    page = client.get("/documents/corbeille").text
    assert _post(client, f"/documents/{doc_id}/restaurer", page) == f"/documents/{doc_id}"
    assert "Le document est restauré." in client.get(f"/documents/{doc_id}").text
    client.cookies.clear()


def test_review_page_and_confirm(env: tuple[Runtime, Seed, TestClient]) -> None:
    rt, seed, client = env
    doc_id = seed.ids["doc-machines-de"]  # alpha, validated, owner alice
    with rt.session() as session:
        document = session.get(Document, doc_id)
        assert document is not None
        document.review_due_at = dt.datetime(2026, 1, 10)
    _sign_in(client, "carol@alpha.fr")
    page = client.get("/documents/a-revoir").text
    assert "Documents à revoir" in page and f'data-document="{doc_id}"' in page and "10/01/2026" in page
    assert _post(client, f"/documents/{doc_id}/revue", page) == "/documents/a-revoir"
    page = client.get("/documents/a-revoir").text
    assert "Revue confirmée" in page and 'id="review-empty"' in page
    client.cookies.clear()


def test_search_archives_and_expired_badge(env: tuple[Runtime, Seed, TestClient]) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-vins-de"]  # alpha, network, validated, owner alice
    _sign_in(client, "alice@alpha.fr")
    edit = client.get(f"/documents/{doc_id}/modifier").text
    assert 'name="valid_until"' in edit
    form = {"title": "Le marché des vins français en Allemagne", "visibility": "network", "csrf": _csrf(edit)}
    bad = client.post(f"/documents/{doc_id}/modifier", data={**form, "valid_until": "31/12/2026"})
    assert bad.status_code == 400 and "Date de fin de validité invalide" in bad.text
    past = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    done = client.post(
        f"/documents/{doc_id}/modifier", data={**form, "valid_until": past}, follow_redirects=False
    )
    assert done.status_code == 303
    page = client.get(f"/documents/{doc_id}").text
    assert 'id="lifecycle-expired">expiré<' in page
    results = client.get("/recherche", params={"q": "ProWein"}).text
    assert 'class="badge badge-expired">expiré<' in results and "Inclure les archives" in results

    page = client.get(f"/documents/{doc_id}").text
    _post(client, f"/documents/{doc_id}/statut", page, to="archived")
    assert doc_id not in client.get("/recherche", params={"q": "ProWein"}).text
    with_archives = client.get("/recherche", params={"q": "ProWein", "archives": "1"}).text
    assert f"/documents/{doc_id}" in with_archives and 'name="archives" value="1" checked' in with_archives
    client.cookies.clear()
