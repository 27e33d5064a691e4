"""Lifecycle over HTTP: ``POST/GET /api/documents/{id}/transitions``, ``DELETE /api/documents/{id}``,
``/restore``, ``/api/documents/trash``, ``/api/documents/review`` and ``/review``, the search's
``include_archived`` and its ``expired`` hits, ``valid_until`` through ``PATCH``; clear 4xx for bad input.

A module installation of its own (``make_installation``): these tests change documents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ged.models import Document
from tests.web.conftest import Seed, make_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Seed, TestClient]]:
    rt, seed = make_installation(Path(tmp_path_factory.mktemp("lifecycle-api")))
    with TestClient(create_app(rt)) as client:
        yield rt, seed, client
    rt.close()


def auth(seed: Seed, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {seed.tokens[who]}"}


def move(client: TestClient, seed: Seed, who: str, doc_id: str, to: str, comment: str | None = None) -> Any:
    body: dict[str, Any] = {"to": to} if comment is None else {"to": to, "comment": comment}
    return client.post(f"/api/documents/{doc_id}/transitions", json=body, headers=auth(seed, who))


def hits(client: TestClient, seed: Seed, who: str, q: str, **params: Any) -> dict[str, dict[str, Any]]:
    answer = client.get("/api/search", params={"q": q, "mode": "bm25", **params}, headers=auth(seed, who))
    assert answer.status_code == 200, answer.text
    return {h["id"]: h for h in answer.json()["hits"]}


def test_transitions_rights_and_errors(env: tuple[Runtime, Seed, TestClient]) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-vins-it"]  # alpha, organisation, draft, owner alice
    assert client.post(f"/api/documents/{doc_id}/transitions", json={"to": "in_review"}).status_code == 401
    assert move(client, seed, "bob", doc_id, "in_review").status_code == 404  # not visible to beta
    refused = move(client, seed, "reader", doc_id, "in_review")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert "in_review" in refused.json()["error"]["message"]
    unknown = move(client, seed, "carol", doc_id, "published")
    assert unknown.status_code == 400 and "unknown status" in unknown.json()["error"]["message"]
    assert move(client, seed, "carol", doc_id, "archived").status_code == 409
    extra = client.post(
        f"/api/documents/{doc_id}/transitions", json={"to": "in_review", "x": 1}, headers=auth(seed, "alice")
    )
    assert extra.status_code == 400

    submitted = move(client, seed, "alice", doc_id, "in_review")
    assert submitted.status_code == 200 and submitted.json()["status"] == "in_review"
    no_comment = move(client, seed, "carol", doc_id, "draft")
    assert no_comment.status_code == 400 and "comment" in no_comment.json()["error"]["message"]
    back = move(client, seed, "carol", doc_id, "draft", "Sources à citer")
    assert back.status_code == 200 and back.json()["status"] == "draft"

    history = client.get(f"/api/documents/{doc_id}/transitions", headers=auth(seed, "carol"))
    assert history.status_code == 200
    body = history.json()
    assert body["status"] == "draft"
    assert [(t["from"], t["to"]) for t in body["transitions"]] == [
        ("draft", "in_review"),
        ("in_review", "draft"),
    ]
    assert (
        body["transitions"][1]["comment"] == "Sources à citer"
        and body["transitions"][1]["user_name"] == "Carol"
    )
    assert [a["action"] for a in body["allowed"]] == ["submit", "validate"]
    alice_view = client.get(f"/api/documents/{doc_id}/transitions", headers=auth(seed, "alice")).json()
    assert [a["action"] for a in alice_view["allowed"]] == ["submit"]
    assert client.get(f"/api/documents/{doc_id}/transitions", headers=auth(seed, "bob")).status_code == 404


def test_archived_documents_leave_default_search(env: tuple[Runtime, Seed, TestClient]) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-vins-de"]  # alpha, network, validated
    assert doc_id in hits(client, seed, "bob", "ProWein")
    assert move(client, seed, "alice", doc_id, "archived").status_code == 200  # the owner archives
    assert doc_id not in hits(client, seed, "bob", "ProWein")
    assert doc_id not in hits(client, seed, "alice", "ProWein")
    assert doc_id in hits(client, seed, "bob", "ProWein", include_archived="true")
    read = client.get(f"/api/documents/{doc_id}", headers=auth(seed, "bob"))
    assert read.status_code == 200 and read.json()["status"] == "archived"  # still readable by id
    assert move(client, seed, "carol", doc_id, "validated").status_code == 200
    assert doc_id in hits(client, seed, "bob", "ProWein")


def test_valid_until_and_the_expired_flag(env: tuple[Runtime, Seed, TestClient]) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-machines-de"]  # alpha, public, validated
    path = f"/api/documents/{doc_id}"
    bad = client.patch(path, json={"valid_until": "2026-13-40"}, headers=auth(seed, "alice"))
    assert bad.status_code == 400
    past = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    done = client.patch(path, json={"valid_until": past}, headers=auth(seed, "alice"))
    assert done.status_code == 200 and done.json()["changed"] == {"valid_until": [None, past]}
    assert done.json()["valid_until"].startswith(past)
    assert hits(client, seed, "bob", "machines agricoles")[doc_id]["expired"] is True
    assert all(h["expired"] is False for i, h in hits(client, seed, "bob", "vins").items() if i != doc_id)
    future = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    assert client.patch(path, json={"valid_until": future}, headers=auth(seed, "alice")).status_code == 200
    assert hits(client, seed, "bob", "machines agricoles")[doc_id]["expired"] is False
    cleared = client.patch(path, json={"valid_until": None}, headers=auth(seed, "alice"))
    assert cleared.status_code == 200 and cleared.json()["valid_until"] is None


def test_trash_restore_over_http(env: tuple[Runtime, Seed, TestClient]) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-beta-org"]  # beta, organisation, owner bob
    assert client.delete(f"/api/documents/{doc_id}", headers=auth(seed, "alice")).status_code == 404
    assert client.delete(f"/api/documents/{doc_id}").status_code == 401
    deleted = client.delete(f"/api/documents/{doc_id}", headers=auth(seed, "bob"))
    assert deleted.status_code == 200, deleted.text
    entry = deleted.json()
    purge = dt.datetime.fromisoformat(entry["purge_at"]) - dt.datetime.fromisoformat(entry["deleted_at"])
    assert purge == dt.timedelta(days=30) and entry["deleted_by"] == "Bob"
    assert client.get(f"/api/documents/{doc_id}", headers=auth(seed, "bob")).status_code == 404
    assert client.get(f"/api/documents/{doc_id}/content", headers=auth(seed, "bob")).status_code == 404
    assert doc_id not in hits(client, seed, "bob", "Cosmétiques Japon")
    listed = client.get("/api/documents/trash", headers=auth(seed, "bob")).json()["documents"]
    assert [d["id"] for d in listed] == [doc_id] and listed[0]["title"].startswith("Cosmétiques")
    assert client.get("/api/documents/trash", headers=auth(seed, "alice")).json()["documents"] == []
    assert client.post(f"/api/documents/{doc_id}/restore", headers=auth(seed, "alice")).status_code == 404
    restored = client.post(f"/api/documents/{doc_id}/restore", headers=auth(seed, "bob"))
    assert restored.status_code == 200 and restored.json()["id"] == doc_id
    assert doc_id in hits(client, seed, "bob", "Cosmétiques Japon")
    assert client.post(f"/api/documents/{doc_id}/restore", headers=auth(seed, "bob")).status_code == 404


def test_review_list_and_confirm(env: tuple[Runtime, Seed, TestClient]) -> None:
    rt, seed, client = env
    doc_id = seed.ids["doc-vins-it"]  # alpha, market study, a draft: validate it, then age its review date
    assert move(client, seed, "carol", doc_id, "validated").status_code == 200
    with rt.session() as session:
        document = session.get(Document, doc_id)
        assert document is not None and document.review_due_at is not None
        assert document.review_due_at > dt.datetime.now() + dt.timedelta(days=700)  # 24 months
        document.review_due_at = dt.datetime.now() - dt.timedelta(days=1)
    listed = client.get("/api/documents/review", headers=auth(seed, "carol")).json()["documents"]
    assert [d["id"] for d in listed] == [doc_id]
    assert [
        d["id"] for d in client.get("/api/documents/review", headers=auth(seed, "alice")).json()["documents"]
    ] == [doc_id]  # the owner
    assert client.get("/api/documents/review", headers=auth(seed, "bob")).json()["documents"] == []
    assert client.post(f"/api/documents/{doc_id}/review", headers=auth(seed, "reader")).status_code == 403
    confirmed = client.post(f"/api/documents/{doc_id}/review", headers=auth(seed, "carol"))
    assert confirmed.status_code == 200
    due = dt.datetime.fromisoformat(confirmed.json()["review_due_at"])
    assert due.year == dt.date.today().year + 2
    assert client.get("/api/documents/review", headers=auth(seed, "carol")).json()["documents"] == []
    assert client.post(f"/api/documents/{'0' * 32}/review", headers=auth(seed, "carol")).status_code == 404
