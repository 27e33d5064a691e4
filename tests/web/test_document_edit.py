"""Editing documents: ``PATCH /api/documents/{id}`` and the ``/documents/{id}/modifier`` page.

A module installation of its own (``make_installation``): these tests change documents, and the shared
package installation must stay as the other modules expect it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ingest.reindex import stored_passages
from taxonomy.classifications import save_classifications
from taxonomy.classifier import Scored
from tests.web.conftest import PASSWORD, Seed, make_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.models import AuditEvent
from tfe.core.security import identity

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Seed, TestClient]]:
    rt, seed = make_installation(Path(tmp_path_factory.mktemp("edit")))
    with rt.session() as session:
        alpha = identity.find_org(session, "alpha")
        cora = identity.create_user(
            session, email="cora@alpha.fr", org=alpha, role="curator", name="Cora", password=PASSWORD
        )
        seed.users["cora"] = cora.id
        seed.tokens["cora"] = identity.create_token(session, cora, name="tests")[1]
    with TestClient(create_app(rt)) as client:
        yield rt, seed, client
    rt.close()


def bearer(seed: Seed, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {seed.tokens[who]}"}


def patch(client: TestClient, seed: Seed, who: str, doc_id: str, body: dict[str, Any]) -> Any:
    return client.patch(f"/api/documents/{doc_id}", json=body, headers=bearer(seed, who))


def found(client: TestClient, seed: Seed, who: str, q: str) -> list[str]:
    body = client.get("/api/search", params={"q": q, "mode": "bm25"}, headers=bearer(seed, who)).json()
    return [h["id"] for h in body["hits"]]


def test_permissions_and_scope(env: tuple[Runtime, Seed, TestClient]) -> None:
    _rt, seed, client = env
    network, org_only = seed.ids["doc-vins-de"], seed.ids["doc-vins-it"]
    assert client.patch(f"/api/documents/{network}", json={"title": "x"}).status_code == 401
    assert patch(client, seed, "reader", network, {"title": "x"}).status_code == 403
    response = patch(client, seed, "bob", network, {"title": "x"})  # sees it (network), may not edit it
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    response = patch(client, seed, "bob", org_only, {"title": "x"})  # outside his scope: not disclosed
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert patch(client, seed, "alice", "f" * 32, {"title": "x"}).status_code == 404
    response = patch(client, seed, "alice", network, {"countries": {"add": ["Italie"]}})
    assert response.status_code == 403  # classifications need the curator role


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "x" * 501},
        {"visibility": "everyone"},
        {"colour": "red"},
        {"sectors": {"add": ["zzz-inconnu"]}},
        {"countries": {"add": ["Atlantide"]}},
        {"countries": {"add": ["DE"], "remove": ["Allemagne"]}},
        {"doc_type": "naf:11"},
        {"sectors": {"add": "11.02"}},
        {"status": "published"},
        {"status": ""},
    ],
)
def test_validation_errors(env: tuple[Runtime, Seed, TestClient], body: dict[str, Any]) -> None:
    _rt, seed, client = env
    response = patch(client, seed, "cora", seed.ids["doc-machines-de"], body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid"


def test_curator_edit_is_kept_and_indexed(env: tuple[Runtime, Seed, TestClient]) -> None:
    rt, seed, client = env
    doc_id = seed.ids["doc-machines-de"]  # public, naf:28, country:DE
    body = {"sectors": {"add": ["11.02"]}, "countries": {"add": ["Autriche"], "remove": ["Allemagne"]}}
    response = patch(client, seed, "cora", doc_id, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["changed"]["countries_removed"] == ["country:DE"]
    methods = {c["id"]: c["method"] for c in answer["classifications"]}
    assert methods["naf:11.02"] == "curator" and methods["country:AT"] == "curator"
    assert "country:DE" not in methods and methods["naf:28"] == "rule"

    with rt.session() as session:  # reclassification must not bring Germany back
        save_classifications(session, "document", doc_id, [Scored("country:DE", 0.95)], replace=True)
    read = client.get(f"/api/documents/{doc_id}", headers=bearer(seed, "bob")).json()
    assert "country:DE" not in {c["id"] for c in read["classifications"]}

    facets = client.get(
        "/api/search", params={"q": "machines agricoles", "country": "AT"}, headers=bearer(seed, "bob")
    ).json()
    assert doc_id in [h["id"] for h in facets["hits"]]
    hit = next(h for h in facets["hits"] if h["id"] == doc_id)
    assert "country:AT" in {c["id"] for c in hit["countries"]}
    assert "country:DE" not in {c["id"] for c in hit["countries"]}


def test_visibility_edit_opens_and_closes_the_index(env: tuple[Runtime, Seed, TestClient]) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-vins-it"]  # alpha, organisation, a draft
    assert doc_id not in found(client, seed, "bob", "concurrence italienne")
    response = patch(client, seed, "alice", doc_id, {"visibility": "network", "title": "Vins italiens"})
    assert response.status_code == 200, response.text
    assert response.json()["changed"]["visibility"] == ["organisation", "network"]
    # a network draft stays within its organisation: other organisations see validated documents only
    assert doc_id not in found(client, seed, "bob", "concurrence italienne")
    assert client.get(f"/api/documents/{doc_id}", headers=bearer(seed, "bob")).status_code == 404
    assert patch(client, seed, "alice", doc_id, {"visibility": "organisation"}).status_code == 200

    open_id = seed.ids["doc-vins-de"]  # alpha, network, validated
    assert open_id in found(client, seed, "bob", "ProWein")
    assert patch(client, seed, "alice", open_id, {"visibility": "organisation"}).status_code == 200
    assert open_id not in found(client, seed, "bob", "ProWein")
    assert client.get(f"/api/documents/{open_id}", headers=bearer(seed, "bob")).status_code == 404
    response = patch(client, seed, "alice", open_id, {"visibility": "network", "title": "Vins en Allemagne"})
    assert response.status_code == 200, response.text
    assert open_id in found(client, seed, "bob", "ProWein")
    read = client.get(f"/api/documents/{open_id}", headers=bearer(seed, "bob")).json()
    assert read["title"] == "Vins en Allemagne"


def _passage_meta(rt: Runtime, doc_id: str) -> list[dict[str, Any]]:
    passages = stored_passages(rt.backend, doc_id)  # type: ignore[arg-type]  # the embedded backend
    assert passages, "the document has no passages"
    return [p.meta for p in passages]


def test_curator_validates_a_document_and_its_passages_follow(env: tuple[Runtime, Seed, TestClient]) -> None:
    rt, seed, client = env
    doc_id = seed.ids["doc-vins-it"]  # alpha, organisation, a draft as uploaded
    before = _passage_meta(rt, doc_id)
    assert {m["status"] for m in before} == {"draft"}
    first_indexed = {m["indexed_at"] for m in before}

    refused = patch(client, seed, "alice", doc_id, {"status": "validated"})  # a contributor of alpha
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    same = patch(client, seed, "alice", doc_id, {"status": "draft", "title": "Vins : concurrence italienne"})
    assert same.status_code == 200 and "status" not in same.json()["changed"]  # unchanged: no change
    assert {m["status"] for m in _passage_meta(rt, doc_id)} == {"draft"}

    response = patch(client, seed, "cora", doc_id, {"status": "validated"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "validated" and answer["changed"] == {"status": ["draft", "validated"]}
    after = _passage_meta(rt, doc_id)
    assert {m["status"] for m in after} == {"validated"}
    stamps = {dt.datetime.fromisoformat(m["indexed_at"]) for m in after}
    assert max(dt.datetime.fromisoformat(s) for s in first_indexed) < min(stamps)
    read = client.get(f"/api/documents/{doc_id}", headers=bearer(seed, "alice")).json()
    assert read["status"] == "validated"
    with rt.session() as session:
        event = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "document.update", AuditEvent.target_id == doc_id)
            .order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None and event.detail["status"] == ["draft", "validated"]
        assert event.actor_user_id == seed.users["cora"]

    # another edit keeps the status and the time it entered the index (alerts do not send it again)
    assert patch(client, seed, "alice", doc_id, {"title": "Vins et spiritueux : l'Italie"}).status_code == 200
    kept = _passage_meta(rt, doc_id)
    assert {m["status"] for m in kept} == {"validated"}
    assert {m["indexed_at"] for m in kept} == {m["indexed_at"] for m in after}
    back = patch(client, seed, "alice", doc_id, {"status": "draft"})  # not a move of the lifecycle
    assert back.status_code == 409 and back.json()["error"]["code"] == "conflict"
    # the owner archives; un-archiving is the curators'
    assert patch(client, seed, "alice", doc_id, {"status": "archived"}).json()["status"] == "archived"
    assert {m["status"] for m in _passage_meta(rt, doc_id)} == {"archived"}
    assert patch(client, seed, "alice", doc_id, {"status": "validated"}).status_code == 403


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field"
    return match.group(1)


def _sign_in(client: TestClient, email: str) -> str:
    client.cookies.clear()
    token = _csrf(client.get("/login").text)
    data = {"email": email, "password": PASSWORD, "csrf": token, "next": "/"}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303
    return _csrf(client.get("/deposer" if "reader" not in email else "/logout").text)


def test_cookie_session_needs_the_csrf_header(env: tuple[Runtime, Seed, TestClient]) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-vins-de"]
    token = _sign_in(client, "alice@alpha.fr")
    assert client.patch(f"/api/documents/{doc_id}", json={"title": "Sans jeton"}).status_code == 403
    response = client.patch(
        f"/api/documents/{doc_id}", json={"title": "Vins en Allemagne"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 200 and response.json()["title"] == "Vins en Allemagne"
    client.cookies.clear()


def test_edit_page(env: tuple[Runtime, Seed, TestClient]) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-vins-de"]
    _sign_in(client, "cora@alpha.fr")
    assert 'href="/documents/' + doc_id + '/modifier"' in client.get(f"/documents/{doc_id}").text
    page = client.get(f"/documents/{doc_id}/modifier")
    assert page.status_code == 200 and "Modifier le document" in page.text and "Ajouter" in page.text
    form = {
        "csrf": _csrf(page.text),
        "title": "Le marché du vin en Allemagne",
        "doc_type": "doctype:sector_analysis",
        "visibility": "network",
        "add_countries": "Autriche, Suisse",
        "remove_countries": "country:DE",
    }
    bad = client.post(f"/documents/{doc_id}/modifier", data={**form, "add_sectors": "zzz-inconnu"})
    assert bad.status_code == 400 and "Secteur inconnu : « zzz-inconnu »" in bad.text
    done = client.post(f"/documents/{doc_id}/modifier", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/documents/{doc_id}"
    shown = client.get(f"/documents/{doc_id}").text
    assert "Le marché du vin en Allemagne" in shown and "Autriche" in shown and "Suisse" in shown

    _sign_in(client, "bob@beta.fr")
    assert client.get(f"/documents/{doc_id}", headers=HTML).status_code == 200
    assert "/modifier" not in client.get(f"/documents/{doc_id}").text
    assert client.get(f"/documents/{doc_id}/modifier", headers=HTML).status_code == 403
    assert client.get(f"/documents/{seed.ids['doc-vins-it']}/modifier", headers=HTML).status_code == 404
    client.cookies.clear()


def test_status_select_is_for_curators_only(env: tuple[Runtime, Seed, TestClient]) -> None:
    rt, seed, client = env
    doc_id = seed.ids["doc-machines-de"]  # alpha, public, validated
    _sign_in(client, "alice@alpha.fr")  # contributor: may edit; moves from the document page
    page = client.get(f"/documents/{doc_id}/modifier")
    assert page.status_code == 200 and 'name="status"' not in page.text
    form = {"csrf": _csrf(page.text), "title": "Machines agricoles en Allemagne", "visibility": "public"}
    crafted = client.post(f"/documents/{doc_id}/modifier", data={**form, "status": "draft"}, headers=HTML)
    assert crafted.status_code == 400 and "pas possible depuis le statut actuel" in crafted.text
    assert "<dd>Validé</dd>" in client.get(f"/documents/{doc_id}").text

    _sign_in(client, "cora@alpha.fr")
    page = client.get(f"/documents/{doc_id}/modifier")
    assert '<select id="status" name="status"' in page.text
    assert '<option value="validated" selected>Validé</option>' in page.text
    assert '<option value="archived">Archivé</option>' in page.text
    assert '<option value="draft"' not in page.text  # only the moves the curator may make
    form["csrf"] = _csrf(page.text)
    done = client.post(
        f"/documents/{doc_id}/modifier", data={**form, "status": "archived"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert "<dt>Statut</dt><dd>Archivé</dd>" in client.get(f"/documents/{doc_id}").text
    assert {m["status"] for m in _passage_meta(rt, doc_id)} == {"archived"}
    again = client.get(f"/documents/{doc_id}/modifier").text
    assert '<option value="archived" selected>Archivé</option>' in again
    assert '<option value="validated">Validé</option>' in again  # un-archiving
    form["csrf"] = _csrf(again)
    assert (
        client.post(
            f"/documents/{doc_id}/modifier", data={**form, "status": "validated"}, follow_redirects=False
        ).status_code
        == 303
    )
    assert {m["status"] for m in _passage_meta(rt, doc_id)} == {"validated"}
    client.cookies.clear()
