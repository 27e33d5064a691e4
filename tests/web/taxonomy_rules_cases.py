"""The API contract walk's cases for the "try it" routes (``tests/web/test_api_contract.py``)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

Case = tuple[str, str, str, dict[str, Any]]
RULES = "/api/taxonomy/rules/try"
CONCEPT = "/api/taxonomy/concepts/{concept_id}/try"
TEXT = "Le vignoble bordelais exporte ses vins en Allemagne."


def taxonomy_rules_cases(curator: dict[str, str], alice: dict[str, str], browser: TestClient) -> list[Case]:
    good = {"rules": [{"kind": "any", "pattern": "vin"}], "text": TEXT, "language": "fr"}
    wine = "/api/taxonomy/concepts/naf:11.02/try"
    return [
        ("post", RULES, RULES, {"json": good, "headers": curator}),
        ("post", RULES, RULES, {"json": {**good, "rules": [{"kind": "regex", "pattern": "(vin"}]},
                                "headers": curator}),  # 400 invalid regex
        ("post", RULES, RULES, {"json": {**good, "language": "de"}, "headers": curator}),  # 400 language
        ("post", RULES, RULES, {"json": {"text": TEXT}, "headers": curator}),  # 400 no rules
        ("post", RULES, RULES, {"json": good}),  # 401
        ("post", RULES, RULES, {"json": good, "headers": alice}),  # 403 not a curator
        ("post", RULES, RULES, {"json": good, "client": browser}),  # cookie session without CSRF header
        ("post", CONCEPT, wine, {"json": {"text": TEXT, "language": "fr"}, "headers": curator}),
        ("post", CONCEPT, "/api/taxonomy/concepts/naf:zz/try", {"json": {"text": TEXT}, "headers": curator}),
        ("post", CONCEPT, wine, {"json": {"text": 5}, "headers": curator}),  # 400 bad body
        ("post", CONCEPT, wine, {"json": {"text": TEXT}}),
        ("post", CONCEPT, wine, {"json": {"text": TEXT}, "headers": alice}),
    ]
