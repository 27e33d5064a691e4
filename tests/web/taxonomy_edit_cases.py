"""The API contract walk's cases for the taxonomy editing routes (``tests/web/test_api_contract.py``).

Every documented status of every route, in an order that makes each one true: concepts of their own
(``naf:11.9x``, labels no seeded text contains) are added, edited, moved, merged, split and deprecated;
the revert cases undo an ``add`` made here through the domain, so the seeded taxonomy stays as it was.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from taxonomy.editing import add_concept
from tests.web.conftest import Installation

Case = tuple[str, str, str, dict[str, Any]]
CONCEPTS = "/api/taxonomy/concepts"
ONE = "/api/taxonomy/concepts/{concept_id}"
LABEL = "Zzcontrat"  # matches no seeded text: the reclassification after each write has nothing to do


def _new(notation: str) -> dict[str, Any]:
    return {
        "scheme": "naf",
        "notation": notation,
        "pref_label_fr": f"{LABEL} {notation}",
        "broader_id": "naf:11.0",
    }


def _write(
    template: str,
    url: str,
    ok: dict[str, Any],
    bad: list[dict[str, Any]],
    curator: dict[str, str],
    alice: dict[str, str],
    browser: TestClient,
) -> list[Case]:
    """200 (or 201), then each refusal of ``bad`` (400/404/409 bodies as curator), 401, 403 (role, CSRF)."""
    method = "patch" if template == ONE else "post"
    return [
        (method, template, url, {"json": ok, "headers": curator}),
        *[(method, template, b.pop("url", url), {"json": b.pop("json"), "headers": curator}) for b in bad],
        (method, template, url, {"json": ok}),
        (method, template, url, {"json": ok, "headers": alice}),
        (method, template, url, {"json": ok, "client": browser}),
    ]


def taxonomy_edit_cases(
    installation: Installation, curator: dict[str, str], alice: dict[str, str], browser: TestClient
) -> list[Case]:
    with installation.rt.session() as session:
        added = add_concept(
            session,
            scheme_id="naf",
            notation="11.90",
            pref_label_fr=f"{LABEL} 11.90",
            broader_id="naf:11.0",
            user_id=installation.users["carol"],
            reason="contrat",
        )
        change = added.id
    zz = f"{CONCEPTS}/naf:zz"
    cases: list[Case] = [
        *[
            ("get", ONE, url, kwargs)
            for url, kwargs in (
                (f"{CONCEPTS}/naf:11", {"headers": alice}),
                (f"{CONCEPTS}/a%20b", {"headers": alice}),
                (f"{CONCEPTS}/naf:11", {}),
                (zz, {"headers": alice}),
            )
        ],
    ]
    for notation in ("11.91", "11.92", "11.93"):  # 11.91 edited and moved, 11.92 deprecated, 11.93 split
        cases.append(("post", CONCEPTS, CONCEPTS, {"json": _new(notation), "headers": curator}))
    cases += _write(
        CONCEPTS,
        CONCEPTS,
        _new("11.94"),
        [
            {"json": _new("x y")},  # 400 notation
            {"json": {**_new("11.95"), "scheme": "zzz"}},  # 404 scheme
            {"json": _new("11.91")},  # 409 exists
        ],
        curator,
        alice,
        browser,
    )
    cases += _write(
        ONE,
        f"{CONCEPTS}/naf:11.91",
        {"pref_label_fr": f"{LABEL} renommé"},
        [
            {"json": {"colour": "rouge"}},
            {"json": {"pref_label_fr": "x"}, "url": zz},
        ],
        curator,
        alice,
        browser,
    )
    deprecate = f"{ONE}/deprecate"
    cases += _write(
        deprecate,
        f"{CONCEPTS}/naf:11.92/deprecate",
        {},
        [
            {"json": {"replaced_by": "naf:11.91"}, "url": f"{CONCEPTS}/naf:11.91/deprecate"},  # 400 itself
            {"json": {}, "url": f"{zz}/deprecate"},
            {"json": {}},  # 409 already deprecated
        ],
        curator,
        alice,
        browser,
    )
    cases += _write(
        f"{ONE}/move",
        f"{CONCEPTS}/naf:11.91/move",
        {"broader_id": "naf:11"},
        [
            {"json": {"broader_id": "naf:11.02"}, "url": f"{CONCEPTS}/naf:11/move"},  # 400 cycle
            {"json": {"broader_id": "naf:11"}, "url": f"{zz}/move"},
            {"json": {"broader_id": "naf:11.92"}},  # 409 deprecated parent
        ],
        curator,
        alice,
        browser,
    )
    cases += _write(
        f"{ONE}/merge",
        f"{CONCEPTS}/naf:11.94/merge",
        {"target_id": "naf:11.91"},
        [
            {"json": {"target_id": "naf:11.02"}, "url": f"{CONCEPTS}/naf:11/merge"},  # 400 descendant
            {"json": {"target_id": "naf:11"}, "url": f"{zz}/merge"},
            {"json": {"target_id": "naf:11.91"}},  # 409 already merged
        ],
        curator,
        alice,
        browser,
    )
    parts = [
        {"notation": "11.96", "pref_label_fr": f"{LABEL} a"},
        {"notation": "11.97", "pref_label_fr": f"{LABEL} b"},
    ]
    cases += _write(
        f"{ONE}/split",
        f"{CONCEPTS}/naf:11.93/split",
        {"parts": parts},
        [
            {"json": {"parts": parts[:1]}, "url": f"{CONCEPTS}/naf:11.91/split"},  # 400 one part
            {"json": {"parts": parts}, "url": f"{zz}/split"},
            {"json": {"parts": parts}},  # 409 deprecated by the split
        ],
        curator,
        alice,
        browser,
    )
    changes = "/api/taxonomy/changes"
    cases += [
        ("get", changes, changes, {"params": {"concept": "naf:11.91"}, "headers": alice}),
        ("get", changes, changes, {"params": {"limit": 0}, "headers": alice}),
        ("get", changes, changes, {}),
        ("get", f"{changes}/{{change_id}}", f"{changes}/{change}", {"headers": alice}),
        ("get", f"{changes}/{{change_id}}", f"{changes}/abc", {"headers": alice}),
        ("get", f"{changes}/{{change_id}}", f"{changes}/{change}", {}),
        ("get", f"{changes}/{{change_id}}", f"{changes}/{2**31 - 1}", {"headers": alice}),
    ]
    revert = f"{changes}/{{change_id}}/revert"
    url = f"{changes}/{change}/revert"
    cases += [
        (method, revert, u, kwargs)
        for method, u, kwargs in (
            ("post", url, {"json": {"reason": "contrat"}, "headers": curator}),
            ("post", url, {"json": {}, "headers": curator}),  # 409 already reverted
            ("post", f"{changes}/abc/revert", {"headers": curator}),
            ("post", f"{changes}/{2**31 - 1}/revert", {"headers": curator}),
            ("post", url, {}),
            ("post", url, {"headers": alice}),
            ("post", url, {"client": browser}),
        )
    ]
    return cases
