"""The "try it" routes on a real installation: unsaved rules and a concept's own rules tried on a text,
the classifier's verdict for the concept, roles, French 400s, and the audit rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.web.conftest import Site, serve_site
from tfe.core.models import AuditEvent

RULES = "/api/taxonomy/rules/try"
TEXT = "Le vignoble bordelais exporte ses vins rouges vers l'Allemagne et lance un appel d'offres."


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve_site(tmp_path_factory.mktemp("taxonomy-rules"))


def _error(answer: Any, status: int, words: str) -> None:
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"]["message"]


def test_try_unsaved_rules(site: Site) -> None:
    body = {"rules": [{"kind": "any", "pattern": "vin", "weight": 2},
                      {"kind": "phrase", "pattern": "appel d'offres", "negative": ["cidre"]},
                      {"kind": "any", "pattern": "cidre"}], "text": TEXT, "language": "fr"}
    answer = site.client.post(RULES, json=body, headers=site.auth("carol"))
    assert answer.status_code == 200, answer.text
    hits = answer.json()["hits"]
    assert [(h["rule_index"], h["matched"], h["weight"]) for h in hits] == [(0, "vins", 2.0),
                                                                            (1, "appel d'offres", 1.0)]
    with site.rt.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "taxonomy.try")).all()
    assert any(e.actor_user_id == site.users["carol"] and e.target_kind == "rules" for e in events)


def test_bad_rules_are_french_400s(site: Site) -> None:
    base = {"text": TEXT, "language": "fr"}
    bad_regex = {**base, "rules": [{"kind": "any", "pattern": "vin"}, {"kind": "regex", "pattern": "(vin"}]}
    _error(site.client.post(RULES, json=bad_regex, headers=site.auth("carol")), 400,
           "règle 2 : expression régulière invalide")
    unknown = {**base, "rules": [{"kind": "mot", "pattern": "vin"}]}
    _error(site.client.post(RULES, json=unknown, headers=site.auth("carol")), 400, "type inconnu")
    language = {**base, "language": "de", "rules": []}
    _error(site.client.post(RULES, json=language, headers=site.auth("carol")), 400, "langue inconnue")


def test_only_curators_may_try(site: Site) -> None:
    body = {"rules": [{"kind": "any", "pattern": "vin"}], "text": TEXT}
    _error(site.client.post(RULES, json=body, headers=site.auth("alice")), 403, "curateurs")
    assert site.client.post(RULES, json=body).status_code == 401
    url = "/api/taxonomy/concepts/naf:11.02/try"
    _error(site.client.post(url, json={"text": TEXT}, headers=site.auth("alice")), 403, "curateurs")


def test_try_a_concept(site: Site) -> None:
    answer = site.client.post("/api/taxonomy/concepts/naf:11.02/try", json={"text": TEXT, "language": "fr"},
                              headers=site.auth("carol"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {h["pattern"] for h in body["hits"]} >= {"vin", "vins", "vignoble"}
    assert body["assigned"] is True and 0 < body["score"] <= 1 and body["evidence"]
    # its division is assigned through the class; an unrelated concept is not
    division = site.client.post("/api/taxonomy/concepts/naf:11/try", json={"text": TEXT},
                                headers=site.auth("carol")).json()
    assert division["assigned"] is True
    other = site.client.post("/api/taxonomy/concepts/naf:20.42/try", json={"text": TEXT},
                             headers=site.auth("carol")).json()
    assert other == {"hits": [], "assigned": False, "score": None, "evidence": []}
    tender = site.client.post("/api/taxonomy/concepts/signal:tender/try",
                              json={"text": TEXT, "language": "fr"}, headers=site.auth("carol")).json()
    assert tender["hits"] and tender["assigned"] is True
    _error(site.client.post("/api/taxonomy/concepts/naf:zz/try", json={"text": TEXT},
                            headers=site.auth("carol")), 404, "inconnu")
