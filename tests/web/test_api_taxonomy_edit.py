"""The taxonomy editing API on a real installation: a concept in full (counts in the caller's scope), the
curators' writes (roles, French errors, nothing half-applied), history, diff, revert, audit rows, and the
edit reaching the running referential at once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from taxonomy.models import Concept
from tests.web.conftest import Site, serve_site
from tfe.core.models import AuditEvent, User
from veille.alerts.subscriptions import SubscriptionSpec

CONCEPTS = "/api/taxonomy/concepts"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve_site(tmp_path_factory.mktemp("taxonomy-edit"))


def _audited(site: Site, action: str, target: str | None, who: str) -> list[AuditEvent]:
    with site.rt.session() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == action,
                    AuditEvent.target_id == target,
                    AuditEvent.actor_user_id == site.users[who],
                )
            )
        )


def _error(answer: Any, status: int, words: str) -> None:
    assert answer.status_code == status, answer.text
    message = answer.json()["error"]["message"]
    assert words in message, message


def _row(site: Site, concept_id: str) -> Concept:
    with site.rt.session() as session:
        row = session.get(Concept, concept_id)
        assert row is not None
        session.expunge(row)
        return row


def test_a_concept_in_full_counts_what_the_caller_may_see(site: Site) -> None:
    client = site.client
    body = client.get(f"{CONCEPTS}/naf:11", headers=site.auth("alice")).json()
    assert (body["id"], body["label"], body["broader"]["id"]) == (
        "naf:11",
        "Fabrication de boissons",
        "naf:C",
    )
    assert [n["id"] for n in body["narrower"]] == ["naf:11.0"]
    assert body["counts"] == {"documents": 2, "items": 0}  # alpha's vins-de and vins-it
    # the section holds three of alpha's documents (and its public one); beta sees four others' and its own
    assert client.get(f"{CONCEPTS}/naf:C", headers=site.auth("alice")).json()["counts"]["documents"] == 3
    assert client.get(f"{CONCEPTS}/naf:C", headers=site.auth("bob")).json()["counts"]["documents"] == 4
    assert _audited(site, "taxonomy.read", "naf:11", "alice")
    _error(client.get(f"{CONCEPTS}/naf:zz", headers=site.auth("alice")), 404, "concept inconnu")
    assert client.get(f"{CONCEPTS}/naf:11").status_code == 401
    assert client.get(f"{CONCEPTS}/a%20b", headers=site.auth("alice")).status_code == 400


def test_writes_are_for_curators_and_admins(site: Site) -> None:
    for who in ("reader", "alice"):
        answer = site.client.patch(f"{CONCEPTS}/naf:11", json={"pref_label_fr": "X"}, headers=site.auth(who))
        _error(answer, 403, "curateurs")
        _error(site.client.post("/api/taxonomy/changes/1/revert", headers=site.auth(who)), 403, "curateurs")
    assert site.client.patch(f"{CONCEPTS}/naf:11", json={"pref_label_fr": "X"}).status_code == 401
    assert _row(site, "naf:11").pref_label_fr == "Fabrication de boissons"


def test_rename_is_recorded_audited_diffed_and_live(site: Site) -> None:
    client, carol = site.client, site.auth("carol")
    answer = client.patch(
        f"{CONCEPTS}/naf:11.02",
        json={"pref_label_fr": "Vinification et chais", "reason": "usage"},
        headers=carol,
    )
    assert answer.status_code == 200, answer.text
    change = answer.json()["change"]
    assert (change["action"], change["reason"], change["concepts"]) == ("rename", "usage", ["naf:11.02"])
    run = answer.json()["reclassify"]  # the reclassification started after the commit (when installed)
    assert run is None or run.get("change_id") == change["id"], run
    # the running referential, no restart: at most one check interval late (the reclassification started
    # above may be rebuilding it in its thread, and meanwhile the previous one answers)
    deadline = time.monotonic() + 10
    live = site.rt.referential.get("naf:11.02")
    while (live is None or live.label_fr != "Vinification et chais") and time.monotonic() < deadline:
        time.sleep(0.2)
        live = site.rt.referential.get("naf:11.02")
    assert live is not None and live.label_fr == "Vinification et chais"
    assert _audited(site, "taxonomy.change", "naf:11.02", "carol")
    detail = client.get(f"/api/taxonomy/changes/{change['id']}", headers=site.auth("reader")).json()
    assert {
        "concept_id": "naf:11.02",
        "field": "pref_label_fr",
        "before": "Production de vin (de raisin)",
        "after": "Vinification et chais",
    } in detail["diff"]
    listed = client.get("/api/taxonomy/changes", params={"concept": "naf:11.02"}, headers=carol).json()
    assert [c["id"] for c in listed["items"]] == [change["id"]]
    full = client.get(f"{CONCEPTS}/naf:11.02", headers=carol).json()
    assert full["history"][0]["id"] == change["id"] and full["updated_at"]
    _error(client.get("/api/taxonomy/changes/999999", headers=carol), 404, "modification inconnue")
    reverted = client.post(
        f"/api/taxonomy/changes/{change['id']}/revert", json={"reason": "non"}, headers=carol
    )
    assert reverted.status_code == 200, reverted.text
    assert reverted.json()["change"]["revert_of"] == change["id"]
    assert _row(site, "naf:11.02").pref_label_fr == "Production de vin (de raisin)"
    _error(
        client.post(f"/api/taxonomy/changes/{change['id']}/revert", headers=carol), 409, "déjà été annulée"
    )


def test_refusals_answer_french_4xx_and_change_nothing(site: Site) -> None:
    client, carol = site.client, site.auth("carol")
    before = _row(site, "naf:11")
    _error(
        client.post(f"{CONCEPTS}/naf:11/move", json={"broader_id": "naf:11.02"}, headers=carol), 400, "boucle"
    )
    _error(
        client.post(f"{CONCEPTS}/naf:11/merge", json={"target_id": "naf:11.01"}, headers=carol),
        400,
        "descendant",
    )
    bad = {"rules": [{"kind": "regex", "pattern": "vin(s"}]}
    _error(client.patch(f"{CONCEPTS}/naf:11", json=bad, headers=carol), 400, "règle")
    _error(
        client.post(f"{CONCEPTS}/naf:11/move", json={"broader_id": "country:DE"}, headers=carol),
        400,
        "schéma",
    )
    _error(
        client.post(f"{CONCEPTS}/naf:zz/merge", json={"target_id": "naf:11"}, headers=carol), 404, "inconnu"
    )
    duplicate = {"scheme": "naf", "notation": "11", "pref_label_fr": "Boissons"}
    _error(client.post(CONCEPTS, json=duplicate, headers=carol), 409, "existe déjà")
    assert client.patch(f"{CONCEPTS}/naf:11", json={"colour": "red"}, headers=carol).status_code == 400
    after = _row(site, "naf:11")
    assert (after.broader_id, after.rules, after.deprecated) == (before.broader_id, before.rules, False)


def test_add_merge_split_and_deprecate_through_the_api(site: Site) -> None:
    client, carol = site.client, site.auth("carol")
    new = {
        "scheme": "naf",
        "notation": "11.99",
        "pref_label_fr": "Boissons nouvelles",
        "broader_id": "naf:11.0",
        "alt_labels": {"fr": ["kombucha"]},
        "reason": "marché émergent",
    }
    added = client.post(CONCEPTS, json=new, headers=carol)
    assert added.status_code == 201, added.text
    assert _row(site, "naf:11.99").alt_labels == {"fr": ["kombucha"]}
    merged = client.post(f"{CONCEPTS}/naf:11.99/merge", json={"target_id": "naf:11.07"}, headers=carol)
    assert merged.status_code == 200, merged.text
    assert (_row(site, "naf:11.99").replaced_by_id, _row(site, "naf:11.99").deprecated) == ("naf:11.07", True)
    assert "Boissons nouvelles" in _row(site, "naf:11.07").hidden_labels["fr"]
    _error(
        client.post(f"{CONCEPTS}/naf:11.99/merge", json={"target_id": "naf:11.07"}, headers=carol),
        409,
        "obsolète",
    )
    parts = [
        {"notation": "11.06a", "pref_label_fr": "Malt d'orge"},
        {"notation": "11.06b", "pref_label_fr": "Malt de blé"},
    ]
    split = client.post(f"{CONCEPTS}/naf:11.06/split", json={"parts": parts}, headers=carol)
    assert split.status_code == 200, split.text
    assert _row(site, "naf:11.06").replaced_by_id == "naf:11.06a"
    with site.rt.session() as session:
        owner = session.get(User, site.users["carol"])
        assert owner is not None
        site.rt.subscriptions.create(session, owner, SubscriptionSpec(query="vins", sectors=["naf:11.05"]))
    url = f"{CONCEPTS}/naf:11.05/deprecate"
    _error(client.post(url, json={}, headers=carol), 409, "abonnement")
    assert not _row(site, "naf:11.05").deprecated
    done = client.post(url, json={"replaced_by": "naf:11.04", "reason": "fusion"}, headers=site.auth("carol"))
    assert done.status_code == 200, done.text
    assert _row(site, "naf:11.05").replaced_by_id == "naf:11.04"
