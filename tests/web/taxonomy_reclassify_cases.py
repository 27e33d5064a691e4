"""The API contract walk's cases for the reclassification routes (``tests/web/test_api_contract.py``).

A concept of its own (``naf:11.89``, a label no seeded text contains) is added through the domain, so the
preview and the run touch nothing the other cases rely on.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from taxonomy.editing import add_concept
from tests.web.conftest import Installation

Case = tuple[str, str, str, dict[str, Any]]
ONE = "/api/taxonomy/changes/{change_id}/reclassify"
RUN = "/api/taxonomy/reclassify/{run_id}"


def taxonomy_reclassify_cases(
    installation: Installation, curator: dict[str, str], alice: dict[str, str], browser: TestClient
) -> list[Case]:
    with installation.rt.session() as session:
        change = add_concept(
            session,
            scheme_id="naf",
            notation="11.89",
            pref_label_fr="Zzreclassement 11.89",
            broader_id="naf:11.0",
            user_id=installation.users["carol"],
            reason="contrat",
        ).id
    url = f"/api/taxonomy/changes/{change}/reclassify"
    cases: list[Case] = []
    for method in ("get", "post"):
        cases += [
            (method, ONE, url, {"headers": curator}),
            (method, ONE, "/api/taxonomy/changes/0/reclassify", {"headers": curator}),
            (method, ONE, "/api/taxonomy/changes/999999/reclassify", {"headers": curator}),
            (method, ONE, url, {}),
            (method, ONE, url, {"headers": alice}),
        ]
    cases.append(("post", ONE, url, {"client": browser}))  # a cookie session without the CSRF header
    with installation.rt.session() as session:
        from taxonomy.models import ReclassifyRun

        run = ReclassifyRun(change_id=change, status="preview")
        session.add(run)
        session.flush()
        run_id = run.id
    cases += [
        ("get", RUN, f"/api/taxonomy/reclassify/{run_id}", {"headers": curator}),
        ("get", RUN, "/api/taxonomy/reclassify/0", {"headers": curator}),
        ("get", RUN, "/api/taxonomy/reclassify/999999", {"headers": curator}),
        ("get", RUN, f"/api/taxonomy/reclassify/{run_id}", {}),
        ("get", RUN, f"/api/taxonomy/reclassify/{run_id}", {"headers": alice}),
    ]
    return cases
