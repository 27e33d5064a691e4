"""Encryption at rest through the service: nothing readable in the raw stores, a tampered blob answered
409 and never served, every document still served after a rotation, and 503 everywhere after revocation
(API JSON, French page) with the service saying why."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ged.models import DocumentVersion
from tests.web.conftest import make_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.errors import KeyRevokedError

MARKER = "Zorglubienne"
TEXT = (
    f"Note interne {MARKER} : tarif négocié pour le pavillon France au salon Foodex de Tokyo, "
    "marge de 18 % et remise partenaire réservée aux chambres régionales."
).encode()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, TestClient, dict[str, str]]]:
    rt, seed = make_installation(tmp_path_factory.mktemp("sealed"))
    with TestClient(create_app(rt)) as client:
        created = client.post(
            "/api/documents",
            files={"file": ("note-tokyo.txt", TEXT, "text/plain")},
            data={"visibility": "organisation"},
            headers={"Authorization": f"Bearer {seed.tokens['alice']}"},
        )
        assert created.status_code == 201, created.text
        yield rt, client, {"Authorization": f"Bearer {seed.tokens['alice']}", "doc": created.json()["id"]}
    rt.close()


def _blob_key(rt: Runtime, doc_id: str) -> str:
    with rt.session() as session:
        key = session.scalar(select(DocumentVersion.blob_key).where(DocumentVersion.document_id == doc_id))
    assert key is not None
    return key


def _blob_path(rt: Runtime, doc_id: str) -> Path:
    return rt.blob_store.path(_blob_key(rt, doc_id))


def _auth(headers: dict[str, str]) -> dict[str, str]:
    return {"Authorization": headers["Authorization"]}


def test_the_marker_is_nowhere_in_the_raw_stores(env: tuple[Runtime, TestClient, dict[str, str]]) -> None:
    rt, client, h = env
    assert client.get(f"/api/documents/{h['doc']}/content", headers=_auth(h)).content == TEXT
    data_dir = rt.settings.resolved_data_dir
    files = [p for p in data_dir.rglob("*") if p.is_file() and rt.settings.index_dir not in p.parents]
    assert any(p.name.startswith("tfe.sqlite3") for p in files) and _blob_path(rt, h["doc"]) in files
    leaks = [
        p for p in files if MARKER.encode() in p.read_bytes() or MARKER.lower().encode() in p.read_bytes()
    ]
    assert leaks == []


def test_a_tampered_blob_is_answered_409_never_served(
    env: tuple[Runtime, TestClient, dict[str, str]],
) -> None:
    rt, client, h = env
    path = _blob_path(rt, h["doc"])
    sealed = path.read_bytes()
    flipped = bytearray(sealed)
    flipped[len(sealed) // 2] ^= 0x01
    path.write_bytes(bytes(flipped))
    try:
        answer = client.get(f"/api/documents/{h['doc']}/content", headers=_auth(h))
        assert answer.status_code == 409
        assert (
            answer.json()["error"]["code"] == "tampered" and "integrity" in answer.json()["error"]["message"]
        )
        assert b"Foodex" not in answer.content
    finally:
        path.write_bytes(sealed)
    assert client.get(f"/api/documents/{h['doc']}/content", headers=_auth(h)).content == TEXT


def test_after_rotation_documents_download_and_search(
    env: tuple[Runtime, TestClient, dict[str, str]],
) -> None:
    rt, client, h = env
    operator = Runtime(rt.settings)  # tfe keys rotate: another process
    before = operator.vault.status()["current_kek_id"]
    report = operator.vault.rotate(grace_s=0)
    operator.close()
    assert report.retired == [before] and report.failed == 0 and report.rewrapped >= 6
    assert client.get(f"/api/documents/{h['doc']}/content", headers=_auth(h)).content == TEXT
    hits = client.get("/api/search", params={"q": "Foodex Tokyo"}, headers=_auth(h)).json()["hits"]
    assert h["doc"] in [hit["id"] for hit in hits]
    restarted = Runtime(rt.settings)
    assert restarted.blob_store.get(_blob_key(rt, h["doc"])) == TEXT
    restarted.close()


def test_after_revocation_everything_answers_503(env: tuple[Runtime, TestClient, dict[str, str]]) -> None:
    rt, client, h = env
    key = _blob_key(rt, h["doc"])
    operator = Runtime(rt.settings)  # tfe keys revoke: another process
    when = operator.vault.revoke()
    operator.close()
    expected = (
        f"the encryption key was revoked by the operator on {when}: stored content can no longer be read"
    )
    for url in (f"/api/documents/{h['doc']}", f"/api/documents/{h['doc']}/content", "/api/search?q=Foodex"):
        answer = client.get(url, headers=_auth(h))
        assert answer.status_code == 503, url
        assert answer.json() == {"error": {"code": "key_revoked", "message": expected}}
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503
    shown = html.unescape(page.text)
    assert f"La clé de chiffrement a été révoquée par l'opérateur le {when}" in shown
    assert "les contenus ne peuvent plus être lus" in shown
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["keys"] == "revoked"
    with pytest.raises(KeyRevokedError):  # this process still held the keys in memory: forgotten
        rt.blob_store.get(key)
