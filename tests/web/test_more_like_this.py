"""More like this through the API and the pages: ``GET /api/documents/{id}/similar`` and
``GET /api/items/{id}/similar`` answer neighbours by meaning in the caller's scope (another organisation's
documents never), 404 for a parent the caller may not see, an empty list with a reason when the parent
has no vector yet, one audit event per call; the document and item pages show « Documents similaires »;
search hits carry their explanation and the result list shows « Pourquoi : … ». One installation with the
seeded documents (``tests.web.conftest``) and the demo feeds (network and alpha-only items)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from search.service import NO_VECTOR
from tests.web.conftest import Installation, make_installation
from tests.web.test_pages import _sign_in
from tfe.app.demo import ATOM_FEED, RSS_FEED
from tfe.app.web.app import create_app
from tfe.core.models import AuditEvent

BETA_DOCS = ("doc-beta-secret", "doc-beta-org")


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Installation, dict[str, list[str]]]]:
    runtime, seed = make_installation(tmp_path_factory.mktemp("more-like-this"))
    network = runtime.watch.ingest_feed(str(RSS_FEED), visibility="network", progress=False)
    alpha = runtime.watch.ingest_feed(
        str(ATOM_FEED), org_slug="alpha", visibility="organisation", progress=False
    )
    items = {
        "network": [i["id"] for i in network["items"] if i.get("id")],
        "alpha": [i["id"] for i in alpha["items"] if i.get("id")],
    }
    assert items["network"] and items["alpha"]
    with TestClient(create_app(runtime)) as client:
        yield Installation(runtime, client, seed.tokens, seed.users, seed.orgs, seed.ids), items
    runtime.close()


def _similar(web: Installation, kind: str, target: str, who: str, **params: Any) -> Any:
    web.client.cookies.clear()
    return web.client.get(f"/api/{kind}/{target}/similar", params=params, headers=web.auth(who))


def test_document_neighbours_in_scope(web: tuple[Installation, dict[str, list[str]]]) -> None:
    inst, _items = web
    ids = inst.ids
    answer = _similar(inst, "documents", ids["doc-vins-de"], "alice", limit=50)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    found = [h["id"] for h in body["hits"]]
    assert body["reason"] is None and body["total"] == len(found) >= 2
    assert ids["doc-vins-de"] not in found  # never the document itself
    assert ids["doc-vins-it"] in found  # alice's own organisation's draft about wine
    assert not {ids[k] for k in BETA_DOCS} & set(found)  # another organisation's, never
    sims = [h["explanation"]["similarity"] for h in body["hits"]]
    assert sims == sorted(sims, reverse=True) and all(0.5 < s <= 1.0 for s in sims)
    assert all(h["explanation"]["meaning"] and h["explanation"]["terms"] == [] for h in body["hits"])
    first = body["hits"][0]
    assert {"story_id", "expired", "url", "kind"} <= set(first)
    # bob (beta) sees the network document, and its neighbours in *his* scope: alpha's draft never
    bob = [h["id"] for h in _similar(inst, "documents", ids["doc-vins-de"], "bob", limit=50).json()["hits"]]
    assert ids["doc-vins-it"] not in bob and ids["doc-vins-de"] not in bob
    assert set(bob) & {ids[k] for k in BETA_DOCS}  # his own organisation's are neighbours for him
    assert len(_similar(inst, "documents", ids["doc-vins-de"], "alice", limit=1).json()["hits"]) == 1


def test_invisible_or_unknown_parent_is_404(web: tuple[Installation, dict[str, list[str]]]) -> None:
    inst, items = web
    for kind, target, who in (
        ("documents", inst.ids["doc-vins-it"], "bob"),  # alpha's organisation draft
        ("documents", inst.ids["doc-beta-secret"], "alice"),  # bob's private note
        ("documents", "no-such-document", "alice"),
        ("items", items["alpha"][0], "bob"),  # an alpha-only watch item
        ("items", "no-such-item", "alice"),
    ):
        answer = _similar(inst, kind, target, who)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found", (kind, who)
    inst.client.cookies.clear()
    assert inst.client.get(f"/api/documents/{inst.ids['doc-vins-de']}/similar").status_code == 401
    for limit in (0, 51, "x"):
        bad = _similar(inst, "documents", inst.ids["doc-vins-de"], "alice", limit=limit)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"


def test_item_neighbours_in_scope(web: tuple[Installation, dict[str, list[str]]]) -> None:
    inst, items = web
    item = items["network"][0]
    for who, hidden in (("bob", set(items["alpha"])), ("alice", {inst.ids[k] for k in BETA_DOCS})):
        answer = _similar(inst, "items", item, who, limit=50)
        assert answer.status_code == 200, answer.text
        found = {h["id"] for h in answer.json()["hits"]}
        assert found and item not in found and not found & hidden, who
    alpha_item = items["alpha"][0]
    assert _similar(inst, "items", alpha_item, "alice").status_code == 200


def test_calls_are_audited(web: tuple[Installation, dict[str, list[str]]]) -> None:
    inst, items = web
    doc, item = inst.ids["doc-machines-de"], items["network"][1]
    assert _similar(inst, "documents", doc, "carol", limit=3).status_code == 200
    assert _similar(inst, "items", item, "carol").status_code == 200
    with inst.rt.session() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(("document.similar", "item.similar")))
        ).all()
    by_target = {(e.action, e.target_id): e for e in events}
    assert ("document.similar", doc) in by_target and ("item.similar", item) in by_target
    event = by_target[("document.similar", doc)]
    assert event.target_kind == "document" and event.actor_user_id == inst.users["carol"]
    assert event.detail["limit"] == 3 and isinstance(event.detail["total"], int)


def test_pages_show_similar_documents(web: tuple[Installation, dict[str, list[str]]]) -> None:
    inst, items = web
    inst.client.cookies.clear()
    _sign_in(inst.client, "alice@alpha.fr")
    page = inst.client.get(f"/documents/{inst.ids['doc-vins-de']}")
    assert page.status_code == 200
    section = page.text.split('id="more-like-this-title"')[1].split("</section>")[0]
    assert "Documents similaires" in section and f'href="/documents/{inst.ids["doc-vins-it"]}"' in section
    assert "sens proche (0," in section
    assert not any(inst.ids[k] in section for k in BETA_DOCS)
    item_page = inst.client.get(f"/items/{items['network'][0]}")
    assert item_page.status_code == 200 and 'id="more-like-this-title"' in item_page.text
    assert "<li>" in item_page.text.split('id="more-like-this-title"')[1].split("</section>")[0]
    inst.client.cookies.clear()


def test_search_explains_every_hit(web: tuple[Installation, dict[str, list[str]]]) -> None:
    inst, _items = web
    inst.client.cookies.clear()
    body = inst.client.get("/api/search", params={"q": "vins Allemagne"}, headers=inst.auth("alice")).json()
    hit = next(h for h in body["hits"] if h["id"] == inst.ids["doc-vins-de"])
    assert hit["explanation"]["terms"] == ["vins", "Allemagne"] and hit["explanation"]["lexical"]
    assert all(h["explanation"] is not None for h in body["hits"])
    _sign_in(inst.client, "alice@alpha.fr")
    page = inst.client.get("/recherche", params={"q": "vins Allemagne"})
    assert page.status_code == 200 and "Pourquoi : mots « vins », « Allemagne »" in page.text
    inst.client.cookies.clear()


def test_no_vector_yet_is_a_reason_not_an_error(web: tuple[Installation, dict[str, list[str]]]) -> None:
    inst, _items = web
    backend, doc = inst.rt.backend, inst.ids["doc-machines-de"]
    passages = [p for p in backend.filter_passages(None) if p.parent_id == doc]  # type: ignore[attr-defined]
    originals = backend.get([p.id for p in passages])  # type: ignore[attr-defined]
    assert originals and all(p.embedding is not None for p in originals)
    backend.write([replace(p, embedding=None) for p in originals])
    backend.commit()
    try:
        answer = _similar(inst, "documents", doc, "alice")
        assert answer.status_code == 200
        assert answer.json() == {"total": 0, "hits": [], "reason": NO_VECTOR}
    finally:
        backend.write(originals)
        backend.commit()
    assert _similar(inst, "documents", doc, "alice").json()["reason"] is None
