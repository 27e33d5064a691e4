"""Versions over HTTP: ``/api/documents/{id}/versions`` (upload, history, restore, diff), the lock, and the
document page's version forms (CSRF, notices, the diff page's escaping). A module installation of its
own: these tests add versions to the seeded documents."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import DOCS, MAX_UPLOAD, PASSWORD, Seed, make_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app

NEW = "Le marché des vins français en Allemagne : édition 2026, wombat, salons et importateurs.\n".encode()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Seed, TestClient]]:
    rt, seed = make_installation(Path(tmp_path_factory.mktemp("versions-api")))
    with TestClient(create_app(rt)) as client:
        yield rt, seed, client
    rt.close()


def bearer(seed: Seed, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {seed.tokens[who]}"}


def upload(client: TestClient, seed: Seed, who: str, doc_id: str, name: str, data: bytes, **form: str) -> Any:
    return client.post(
        f"/api/documents/{doc_id}/versions",
        files={"file": (name, data, "application/octet-stream")},
        data=form,
        headers=bearer(seed, who),
    )


def found(client: TestClient, seed: Seed, q: str) -> list[str]:
    body = client.get("/api/search", params={"q": q, "mode": "bm25"}, headers=bearer(seed, "alice")).json()
    return [h["id"] for h in body["hits"]]


def test_upload_history_download_restore_diff(env: tuple[Runtime, Seed, TestClient]) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-vins-de"]
    created = upload(client, seed, "alice", doc_id, "vins-2026.txt", NEW, comment="Édition 2026")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["number"] == 2 and body["version"]["comment"] == "Édition 2026"
    assert body["version"]["author"] == "Alice" and body["version"]["content_url"].endswith("version=2")

    history = client.get(f"/api/documents/{doc_id}/versions", headers=bearer(seed, "reader")).json()
    assert history["current"] == 2 and [v["number"] for v in history["versions"]] == [2, 1]
    assert history["versions"][0]["size"] == len(NEW) and history["lock"] is None
    old = client.get(
        f"/api/documents/{doc_id}/content", params={"version": 1}, headers=bearer(seed, "reader")
    )
    assert old.status_code == 200 and old.content == DOCS[0].data
    assert found(client, seed, "wombat") == [doc_id] and doc_id not in found(client, seed, "cavistes")

    diff = client.get(
        f"/api/documents/{doc_id}/versions/diff", params={"a": 2, "b": 1}, headers=bearer(seed, "reader")
    )
    assert diff.status_code == 200, diff.text
    rows = diff.json()["rows"]
    assert diff.json()["a"]["number"] == 1 and not diff.json()["identical"]
    inserted = "".join(s["text"] for r in rows for s in r["right"] if s["changed"])
    assert "wombat" in inserted

    restored = client.post(
        f"/api/documents/{doc_id}/versions/1/restore",
        json={"comment": "retour"},
        headers=bearer(seed, "alice"),
    )
    assert restored.status_code == 201, restored.text
    assert restored.json()["version"]["comment"] == "Restauration de la version 1 : retour"
    assert restored.json()["number"] == 3 and restored.json()["restored_from"] == 1
    assert doc_id not in found(client, seed, "wombat") and doc_id in found(client, seed, "cavistes")
    again = client.post(f"/api/documents/{doc_id}/versions/1/restore", headers=bearer(seed, "alice"))
    assert again.status_code == 409 and "identique" in again.json()["error"]["message"]


def test_bad_input(env: tuple[Runtime, Seed, TestClient]) -> None:
    _rt, seed, client = env
    doc_id, org_only = seed.ids["doc-machines-de"], seed.ids["doc-vins-it"]
    url = f"/api/documents/{doc_id}/versions"
    assert client.post(url, files={"file": ("a.txt", b"x", "text/plain")}).status_code == 401
    assert upload(client, seed, "reader", doc_id, "a.txt", b"texte du lecteur").status_code == 403
    missing = upload(client, seed, "bob", org_only, "a.txt", b"texte de bob")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    same = upload(client, seed, "alice", doc_id, "copie.txt", DOCS[2].data)
    assert same.status_code == 409 and "identique à la version courante" in same.json()["error"]["message"]
    other = upload(client, seed, "alice", doc_id, "tableau.xlsx", b"PK\x03\x04" + b"\0" * 200)
    assert other.status_code == 415 and "même type" in other.json()["error"]["message"]
    assert upload(client, seed, "alice", doc_id, "outil.exe", b"MZ\x90\0\x03\0").status_code == 415
    big = upload(client, seed, "alice", doc_id, "gros.txt", b"a" * (MAX_UPLOAD + 1))
    assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"
    broken = upload(client, seed, "alice", doc_id, "faux.pdf", b"%PDF-1.4\nno pdf here")
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "extraction_failed"
    long = upload(client, seed, "alice", doc_id, "a.txt", b"texte", comment="x" * 1001)
    assert long.status_code == 400
    assert (
        client.get(
            url.replace("versions", "versions/diff"), params={"a": 1, "b": 9}, headers=bearer(seed, "alice")
        ).status_code
        == 404
    )
    history = client.get(url, headers=bearer(seed, "alice")).json()
    assert [v["number"] for v in history["versions"]] == [1]  # nothing stored by any refusal


def test_a_new_version_is_compared_with_the_other_documents(env: tuple[Runtime, Seed, TestClient]) -> None:
    """Near-duplicates are looked for in the new text too (« ressemble à … »), never merged."""
    _rt, seed, client = env
    doc_id, like = seed.ids["doc-machines-de"], seed.ids["doc-vins-de"]
    data = DOCS[0].data + "Mise à jour : machines agricoles.\n".encode()
    created = upload(client, seed, "alice", doc_id, "machines-2026.txt", data)
    assert created.status_code == 201, created.text
    similar = created.json()["similar"]
    assert similar and similar[0]["id"] == like and similar[0]["score"] >= 0.8
    assert similar[0]["url"] == f"/documents/{like}"
    assert created.json()["document_id"] == doc_id  # a notice, not a merge


def test_lock_over_the_api(env: tuple[Runtime, Seed, TestClient]) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-vins-it"]
    lock = client.post(f"/api/documents/{doc_id}/lock", json={"minutes": 45}, headers=bearer(seed, "alice"))
    assert lock.status_code == 200, lock.text
    assert lock.json()["lock"]["user"] == "Alice"
    refused = upload(client, seed, "carol", doc_id, "carol.txt", b"Version de Carol sur les vins italiens.")
    assert refused.status_code == 409
    message = refused.json()["error"]["message"]
    assert "Alice" in message and lock.json()["lock"]["until"][:16] in message
    assert client.post(f"/api/documents/{doc_id}/lock", headers=bearer(seed, "carol")).status_code == 409
    assert client.delete(f"/api/documents/{doc_id}/lock", headers=bearer(seed, "carol")).status_code == 403
    assert (
        client.get(f"/api/documents/{doc_id}/versions", headers=bearer(seed, "reader")).json()["lock"][
            "user_id"
        ]
        == seed.users["alice"]
    )
    released = client.delete(f"/api/documents/{doc_id}/lock", headers=bearer(seed, "alice"))
    assert released.status_code == 200 and released.json()["released"]["user"] == "Alice"
    assert released.json()["lock"] is None
    ok = upload(client, seed, "carol", doc_id, "carol.txt", b"Version de Carol sur les vins italiens.")
    assert ok.status_code == 201 and ok.json()["version"]["author"] == "Carol"
    assert (
        client.post(
            f"/api/documents/{doc_id}/lock", json={"minutes": 0}, headers=bearer(seed, "alice")
        ).status_code
        == 400
    )


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field"
    return match.group(1)


def _sign_in(client: TestClient, email: str) -> None:
    client.cookies.clear()
    token = _csrf(client.get("/login").text)
    data = {"email": email, "password": PASSWORD, "csrf": token, "next": "/"}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def test_document_page_forms_and_diff_page(env: tuple[Runtime, Seed, TestClient]) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-beta-org"]
    _sign_in(client, "bob@beta.fr")
    page = client.get(f"/documents/{doc_id}").text
    token = _csrf(page)
    assert "Déposer une nouvelle version" in page and "Verrouiller pour modification" in page
    form = f"/documents/{doc_id}/versions"
    payload = b"Cosmetiques au Japon <script>alert(1)</script> et duty free.\n"
    files = {"file": ("japon.txt", payload, "text/plain")}
    assert client.post(form, files=files, data={"comment": "v2"}, follow_redirects=False).status_code == 403
    done = client.post(
        form, files=files, data={"comment": "Révision <b>", "csrf": token}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == f"/documents/{doc_id}#versions"
    page = client.get(f"/documents/{doc_id}").text
    assert "Version 2 ajoutée" in page and "Révision &lt;b&gt;" in page and "Restaurer" in page
    again = client.post(form, files=files, data={"csrf": token}, follow_redirects=False)
    assert again.status_code == 303
    assert "identique à la version courante" in client.get(f"/documents/{doc_id}").text

    diff = client.get(f"/documents/{doc_id}/versions/diff", params={"a": 1, "b": 2})
    assert diff.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in diff.text and "<script>alert" not in diff.text
    assert "<ins>" in diff.text and "Comparer les versions 1 et 2" in diff.text

    assert (
        client.post(
            f"/documents/{doc_id}/verrou", data={"csrf": token, "minutes": "30"}, follow_redirects=False
        ).status_code
        == 303
    )
    page = client.get(f"/documents/{doc_id}").text
    assert "Verrouillé par" in page and "Bob" in page and "Déverrouiller" in page
    restore = client.post(
        f"/documents/{doc_id}/versions/1/restaurer", data={"csrf": token}, follow_redirects=False
    )
    assert restore.status_code == 303
    page = client.get(f"/documents/{doc_id}").text
    assert "Restauration de la version 1" in page and "Verrouillé par" not in page  # the holder's version
    assert (
        client.post(f"/documents/{doc_id}/verrou", data={"csrf": token}, follow_redirects=False).status_code
        == 303
    )
    unlock = client.post(f"/documents/{doc_id}/verrou/liberer", data={"csrf": token}, follow_redirects=False)
    assert unlock.status_code == 303
    page = client.get(f"/documents/{doc_id}").text
    assert "Document déverrouillé." in page and "Verrouillé par" not in page
    client.cookies.clear()
