"""The curators' taxonomy pages (« Référentiel ») through the test client: the tree with counts, a
concept in full, the forms refused without CSRF or to readers, a French notice on bad input, and a rename
shown in the history, diffed and reverted."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD, Installation

HTML = {"Accept": "text/html"}


def _sign_in(client: TestClient, email: str) -> str:
    client.cookies.clear()
    page = client.get("/login", headers=HTML).text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf": token.group(1), "next": "/"},
        headers=HTML,
    )
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/taxonomie", headers=HTML).text)
    assert found
    return found.group(1)


def test_tree_concept_forms_and_revert(installation: Installation, client: TestClient) -> None:
    csrf = _sign_in(client, "carol@alpha.fr")
    index = client.get("/taxonomie", headers=HTML)
    assert index.status_code == 200 and 'data-scheme="naf"' in index.text
    tree = client.get("/taxonomie/naf", headers=HTML)
    assert tree.status_code == 200 and 'data-concept="naf:11"' in tree.text
    found = client.get("/taxonomie/naf", params={"q": "boissons"}, headers=HTML).text
    assert "Fabrication de boissons" in found.split('id="tx-found"')[1].split("</ul>")[0]
    page = client.get("/taxonomie/concepts/naf:11", headers=HTML).text
    assert "Fabrication de boissons" in page and 'id="tx-counts">2 document(s)' in page

    url = "/taxonomie/concepts/naf:11.02/modifier"
    assert client.post(url, data={"pref_label_fr": "Chais"}, headers=HTML).status_code == 403  # no CSRF
    bad = client.post(
        "/taxonomie/concepts/naf:11.02/mots-cles",
        data={"csrf": csrf, "pattern": "(", "kind": "regex"},
        headers=HTML,
    )
    assert bad.status_code == 200 and "Modification refusée" in bad.text  # French notice, no 500
    done = client.post(
        url, data={"csrf": csrf, "pref_label_fr": "Chais et vins", "reason": "usage"}, headers=HTML
    )
    assert (
        done.status_code == 200
        and "enregistrée" in done.text
        and '<h1 id="tx-title">Chais et vins' in done.text
    )
    history = client.get("/taxonomie/historique", headers=HTML).text
    change_id = re.search(r'data-change="(\d+)"', history)
    assert change_id and "usage" in history
    detail = client.get(f"/taxonomie/historique/{change_id.group(1)}", headers=HTML).text
    assert "Production de vin (de raisin)" in detail and "Chais et vins" in detail
    reverted = client.post(
        f"/taxonomie/historique/{change_id.group(1)}/annuler",
        data={"csrf": csrf, "reason": "non"},
        headers=HTML,
    )
    assert reverted.status_code == 200 and "Annulation" in reverted.text
    assert (
        '<h1 id="tx-title">Production de vin'
        in client.get("/taxonomie/concepts/naf:11.02", headers=HTML).text
    )


def test_readers_read_but_may_not_edit(installation: Installation, client: TestClient) -> None:
    csrf = _sign_in(client, "reader@alpha.fr")
    page = client.get("/taxonomie/concepts/naf:11", headers=HTML)
    assert page.status_code == 200 and 'id="tx-edit"' not in page.text
    refused = client.post(
        "/taxonomie/concepts/naf:11/modifier", data={"csrf": csrf, "pref_label_fr": "X"}, headers=HTML
    )
    assert refused.status_code == 403 and "curateurs" in refused.text
    assert client.get("/taxonomie/concepts/naf:zz", headers=HTML).status_code == 404
