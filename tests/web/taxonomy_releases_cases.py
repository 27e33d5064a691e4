"""The API contract walk's cases for the taxonomy releases and SKOS import routes
(``tests/web/test_api_contract.py``); the applied import adds a concept of its own (``naf:11.88``)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

Case = tuple[str, str, str, dict[str, Any]]
RELEASES = "/api/taxonomy/releases"
SKOS_OF = "/api/taxonomy/releases/{name}/skos"
IMPORT = "/api/taxonomy/import"
NAF = "https://tfe.example.org/taxonomy/naf"
TURTLE = (
    "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
    f'<{NAF}/11.88> a skos:Concept ; skos:inScheme <{NAF}> ; skos:notation "11.88" ;'
    f' skos:prefLabel "Zzimport 11.88"@fr ; skos:broader <{NAF}/11.0> .\n'
).encode()


def taxonomy_releases_cases(
    curator: dict[str, str], alice: dict[str, str], browser: TestClient
) -> list[Case]:
    def upload(body: bytes = TURTLE, name: str = "t.ttl", kind: str = "text/turtle") -> dict[str, Any]:
        return {"file": (name, body, kind)}

    return [
        ("get", RELEASES, RELEASES, {"headers": alice}),
        ("get", RELEASES, RELEASES, {}),  # 401
        ("post", RELEASES, RELEASES, {"json": {"name": "contrat", "note": "w"}, "headers": curator}),  # 201
        ("post", RELEASES, RELEASES, {"json": {"name": "contrat"}, "headers": curator}),  # 409 taken
        ("post", RELEASES, RELEASES, {"json": {"name": ""}, "headers": curator}),  # 400
        ("post", RELEASES, RELEASES, {"json": {"name": "x"}}),  # 401
        ("post", RELEASES, RELEASES, {"json": {"name": "x"}, "headers": alice}),  # 403 not a curator
        ("post", RELEASES, RELEASES, {"json": {"name": "x"}, "client": browser}),  # cookie without CSRF
        ("get", SKOS_OF, "/api/taxonomy/releases/initial/skos", {"headers": alice}),
        ("get", SKOS_OF, "/api/taxonomy/releases/absente/skos", {"headers": alice}),  # 404
        ("get", SKOS_OF, "/api/taxonomy/releases/" + "r" * 65 + "/skos", {"headers": alice}),  # 400 too long
        ("get", SKOS_OF, "/api/taxonomy/releases/initial/skos", {}),  # 401
        ("post", IMPORT, IMPORT, {"files": upload(), "headers": curator}),  # the plan
        ("post", IMPORT, IMPORT, {"files": upload(), "data": {"apply": "true"}, "headers": curator}),
        ("post", IMPORT, IMPORT, {"files": upload(b"pas du turtle {"), "headers": curator}),  # 400
        ("post", IMPORT, IMPORT, {"files": upload(name="t.pdf", kind="application/pdf"), "headers": curator}),
        ("post", IMPORT, IMPORT, {"files": upload(b"#" * 70_000), "headers": curator}),  # 413 over the cap
        ("post", IMPORT, IMPORT, {"files": upload()}),  # 401
        ("post", IMPORT, IMPORT, {"files": upload(), "headers": alice}),  # 403
    ]
