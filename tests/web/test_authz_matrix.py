"""The authorisation matrix (``tfe.app.web.authz_matrix``) against the real app, route by route.

One installation of its own (module scope: the checks change its state), its users and organisation
alpha's objects (``tests/web/authz_world.py``). Every route of ``/openapi.json`` is called by anonymous and by
each role of alpha (``own``) and of beta (``other``) with alpha's objects in the path, and the status class
must be the matrix's. Requests that change state use a fresh object per check (documents and sources are
cheap without embeddings). The exfiltration guard is off here (``guard_enabled=False``): hundreds of
requests from a few tokens are the point of this test, not of the guard's.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.veille.feedserver import feed_server
from tests.web.authz_world import COLUMNS, Req, Who, World
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.app.web.authz_matrix import (
    END,
    MATRIX,
    OK,
    ORGS,
    ROLES,
    START,
    check_routes,
    docs_section,
    markdown_table,
)
from tfe.core.models import User
from tfe.core.security import identity
from tfe.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _upload(w: World, who: Who) -> Req:
    n = w.next()
    body = f"Note d'export numéro {n} : vins en Allemagne.\n".encode()
    return Req(files={"file": (f"note-{n}.txt", body, "text/plain")}, data={"visibility": "organisation"})


def _new_version(w: World, who: Who) -> Req:
    body = f"Version {w.next()} : vins en Allemagne.\n".encode()
    files = {"file": ("etude.txt", body, "text/plain")}
    return Req({"doc_id": w.versioned}, files=files, data={"comment": "matrice"})


def _restore_version(w: World, who: Who) -> Req:
    return Req(
        {"doc_id": w.versioned, "number": w.restorable_version(w.versioned)}, json={"comment": "matrice"}
    )


def _opml(w: World, who: Who) -> Req:
    url = w.feed_url()
    body = (
        '<?xml version="1.0"?><opml version="2.0"><head><title>m</title></head><body>'
        f'<outline type="rss" text="Flux" xmlUrl="{url}"/></body></opml>'
    ).encode()
    return Req(content=body, headers={"Content-Type": "text/x-opml"})


Recipe = Callable[[World, Who], Req]


def _skos_upload(w: World) -> Req:
    """A one-concept SKOS file (a new NAF class under naf:11.0), previewed and applied."""
    naf = "https://tfe.example.org/taxonomy/naf"
    notation = f"11.6{w.next()}"
    body = (
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        f'<{naf}/{notation}> a skos:Concept ; skos:inScheme <{naf}> ; skos:notation "{notation}" ;'
        f' skos:prefLabel "Matrice {notation}"@fr ; skos:broader <{naf}/11.0> .\n'
    ).encode()
    return Req(files={"file": ("matrice.ttl", body, "text/turtle")}, data={"apply": "true"})


# What each route is sent besides the defaults (alpha's objects by parameter name, no body).
RECIPES: dict[tuple[str, str], Recipe] = {
    ("GET", "/api/search"): lambda w, a: Req(query={"q": "vins", "mode": "bm25"}),
    ("GET", "/api/taxonomy/concepts"): lambda w, a: Req(query={"scheme": "country", "q": "Allemagne"}),
    ("POST", "/api/taxonomy/concepts"): lambda w, a: Req(
        json={
            "scheme": "naf",
            "notation": f"11.8{w.next()}",
            "pref_label_fr": "Matrice",
            "broader_id": "naf:11.0",
        }
    ),
    ("PATCH", "/api/taxonomy/concepts/{concept_id}"): lambda w, a: Req(
        {"concept_id": w.fresh_concept()}, json={"pref_label_fr": "Matrice renommée"}
    ),
    ("POST", "/api/taxonomy/concepts/{concept_id}/move"): lambda w, a: Req(
        {"concept_id": w.fresh_concept()}, json={"broader_id": "naf:11"}
    ),
    ("POST", "/api/taxonomy/concepts/{concept_id}/merge"): lambda w, a: Req(
        {"concept_id": w.fresh_concept()}, json={"target_id": "naf:11.07"}
    ),
    ("POST", "/api/taxonomy/concepts/{concept_id}/split"): lambda w, a: Req(
        {"concept_id": w.fresh_concept()},
        json={"parts": [{"notation": f"11.7{w.next()}", "pref_label_fr": "Matrice"}], "keep_original": True},
    ),
    ("POST", "/api/taxonomy/concepts/{concept_id}/deprecate"): lambda w, a: Req(
        {"concept_id": w.fresh_concept()}, json={}
    ),
    ("POST", "/api/taxonomy/rules/try"): lambda w, a: Req(
        json={"rules": [{"kind": "any", "pattern": "vin"}], "text": "Des vins.", "language": "fr"}
    ),
    ("POST", "/api/taxonomy/concepts/{concept_id}/try"): lambda w, a: Req(
        {"concept_id": "naf:11.02"}, json={"text": "Des vins.", "language": "fr"}
    ),
    ("POST", "/api/taxonomy/releases"): lambda w, a: Req(json={"name": f"matrice-{w.next()}"}),
    ("POST", "/api/taxonomy/import"): lambda w, a: _skos_upload(w),
    ("POST", "/api/documents"): _upload,
    ("PATCH", "/api/documents/{doc_id}"): lambda w, a: Req(json={"title": "Étude de marché (matrice)"}),
    ("DELETE", "/api/documents/{doc_id}"): lambda w, a: Req({"doc_id": w.fresh_doc()}),
    ("POST", "/api/documents/{doc_id}/transitions"): lambda w, a: Req(
        {"doc_id": w.fresh_doc()}, json={"to": "in_review"}
    ),
    ("POST", "/api/documents/{doc_id}/restore"): lambda w, a: Req({"doc_id": w.trashed_doc()}),
    ("GET", "/api/documents/{doc_id}/versions"): lambda w, a: Req({"doc_id": w.versioned}),
    ("POST", "/api/documents/{doc_id}/versions"): _new_version,
    ("POST", "/api/documents/{doc_id}/versions/{number}/restore"): _restore_version,
    ("GET", "/api/documents/{doc_id}/versions/diff"): lambda w, a: Req(
        {"doc_id": w.versioned}, query={"a": 1, "b": 2}
    ),
    ("POST", "/api/documents/{doc_id}/lock"): lambda w, a: Req(
        {"doc_id": w.fresh_doc()}, json={"minutes": 5}
    ),
    ("PUT", "/api/documents/{doc_id}/fields"): lambda w, a: Req(json={"values": {}}),
    ("POST", "/api/documents/{doc_id}/fields/accept"): lambda w, a: Req(
        {"doc_id": w.fresh_doc()}, json={"names": None}
    ),
    ("POST", "/api/items/{item_id}/decision"): lambda w, a: Req(json={"decision": "accept"}),
    ("POST", "/api/curation/decisions"): lambda w, a: Req(json={"item_ids": [w.item], "decision": "accept"}),
    ("POST", "/api/sources"): lambda w, a: Req(
        json={"url": w.feed_url(), "title": "Flux", "visibility": "organisation", "discover": False}
    ),
    ("POST", "/api/sources/preview"): lambda w, a: Req(json={"url": w.feed_url()}),
    ("POST", "/api/sources/import"): _opml,
    ("PATCH", "/api/sources/{source_id}"): lambda w, a: Req(json={"title": "Veille alpha (matrice)"}),
    ("DELETE", "/api/sources/{source_id}"): lambda w, a: Req({"source_id": w.fresh_source()}),
    ("POST", "/api/subscriptions"): lambda w, a: Req(json={"query": "vins", "name": f"Alerte {w.next()}"}),
    ("PATCH", "/api/subscriptions/{subscription_id}"): lambda w, a: Req(json={"paused": True}),
    ("GET", "/api/subscriptions/{subscription_id}/preview"): lambda w, a: Req(query={"days": 7}),
    ("POST", "/api/me/tokens"): lambda w, a: Req(
        json={"name": "matrice", "scopes": ["read"], "expires_days": 1}
    ),
    ("POST", "/api/survey"): lambda w, a: Req(json={"score": 8, "comment": "matrice"}),
    ("POST", "/api/admin/erasures"): lambda w, a: Req(json={"document": w.fresh_doc(), "reason": "matrice"}),
    ("POST", "/api/admin/erasures/verify"): lambda w, a: Req(json=w.receipt),
    ("GET", "/api/admin/audit"): lambda w, a: Req(query={"action": "document", "limit": 5}),
    ("POST", "/api/admin/security-alerts/{alert_id}/review"): lambda w, a: Req(
        json={"decision": "lift", "note": "matrice"}
    ),
    ("PUT", "/api/admin/guard-budgets"): lambda w, a: Req(
        json={"budgets": [{"role": "reader", "per_minute": 600, "per_hour": 6000, "per_day": 60000}]}
    ),
}


@dataclass
class Site:
    world: World
    client: TestClient
    spec: dict[str, Any]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("authz-matrix"),
        environment="test",
        admin_password="admin-password-123",
        secret_key="test-secret-key",
        fetch_allow_private=True,  # the feed server is on loopback
        poll_host_delay_s=0,  # every feed is on one host here
        guard_enabled=False,  # hundreds of requests from a few tokens: not the guard's test
    )
    rt = Runtime(settings)
    init_installation(rt)
    with feed_server() as feeds, TestClient(create_app(rt)) as client:
        world = World(rt, feeds)
        spec = client.get("/openapi.json").json()
        yield Site(world=world, client=client, spec=spec)
    rt.close()


# Path parameters naming nothing: an outsider must get the same answer as for alpha's object.
UNKNOWN: dict[str, object] = {
    "doc_id": "0" * 32,
    "item_id": "0" * 32,
    "story_id": "story-unknown",
    "source_id": 2**31 - 1,
    "receipt_id": "0" * 32,
    "subscription_id": 2**31 - 1,
    "token_id": 2**31 - 1,
    "session_id": "0" * 16,
    "alert_id": 2**31 - 1,
    "notation": "unknown",
    "number": 1,
}


def _names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _send(site: Site, method: str, path: str, who: Who, *, unknown: bool = False) -> Any:
    """One check's request; ``unknown``: every path parameter names nothing."""
    w = site.world
    recipe = RECIPES.get((method, path))
    req = recipe(w, who) if recipe else Req()
    names = _names(path)
    params = {n: req.params[n] if n in req.params else w.default(n, who) for n in names}
    if unknown:
        params = {n: UNKNOWN[n] for n in names}
    url = path.format(**params)
    return site.client.request(
        method,
        url,
        params=req.query,
        json=req.json,
        files=req.files,
        data=req.data,
        content=req.content,
        headers={**w.headers(who), **req.headers},
    )


def _code(answer: Any) -> str | None:
    """The error code of an error answer (``error.code``), if any."""
    try:
        body = answer.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def _outcome(status: int) -> int:
    return OK if 200 <= status < 300 else status


def test_the_matrix_names_every_route_of_openapi_and_no_other(site: Site) -> None:
    missing, stale = check_routes(site.spec)
    assert not missing, f"routes of /openapi.json missing from tfe.app.web.authz_matrix.MATRIX: {missing}"
    assert not stale, f"MATRIX names routes /openapi.json no longer has: {stale}"
    assert set(RECIPES) <= set(MATRIX), sorted(set(RECIPES) - set(MATRIX))


def _check(site: Site, method: str, path: str, who: Who) -> tuple[int, list[str]]:
    """One cell of the matrix: the requests sent and what was wrong (status class, existence leaks)."""
    rule, w = MATRIX[(method, path)], site.world
    answer = _send(site, method, path, who)
    wrong: list[str] = []
    expected, got = rule.expect(who.actor, who.org), _outcome(answer.status_code)
    if got != expected:
        wrong.append(
            f"{method} {path} as {who.actor} ({who.org}): expected {expected}, got "
            f"{answer.status_code} {answer.text[:160]}"
        )
    if who.org != "other" or who.actor in rule.other:
        return 1, wrong
    if rule.scoped and _names(path):
        nothing = _send(site, method, path, who, unknown=True)  # the same answer as for no object
        if (nothing.status_code, _code(nothing)) != (answer.status_code, _code(answer)):
            wrong.append(
                f"{method} {path} as {who.actor} ({who.org}) leaks existence: "
                f"{answer.status_code} {_code(answer)} for alpha's object, "
                f"{nothing.status_code} {_code(nothing)} for none"
            )
        return 2, wrong
    if method == "GET" and got == OK:  # a list in beta's scope names nothing of alpha's
        shown = [m for m in w.markers(admin=who.actor == "admin") if m in answer.text]
        if shown:
            wrong.append(f"{method} {path} as {who.actor} ({who.org}) shows alpha's {shown}")
    return 1, wrong


def test_every_route_answers_as_the_matrix_says(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    wrong: list[str] = []
    requests = 0
    paths = site.spec["paths"]
    routes = sorted(r for r in MATRIX if r[1] in paths and r[0].lower() in paths[r[1]])
    for (method, path), who in itertools.product(routes, COLUMNS):
        sent, problems = _check(site, method, path, who)
        requests, wrong = requests + sent, wrong + problems
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\nauthorisation matrix: {len(routes)} routes × {len(COLUMNS)} actor-organisations "
            f"(anonymous + {len(ROLES)} roles × {len(ORGS)} organisations) = {len(routes) * len(COLUMNS)} "
            f"checks, {requests} requests (with the unknown-id twins) in {elapsed:.1f} s, {len(wrong)} wrong"
        )
    assert not wrong, "\n".join(wrong)


PER_USER = ("{subscription_id}", "{token_id}", "{session_id}")


def test_a_colleagues_own_objects_are_not_found(site: Site) -> None:
    """Subscriptions, tokens and sessions are per user: a colleague of the same organisation (here an
    administrator) gets 404 as an outsider does."""
    w, colleague = site.world, Who("admin", "own")
    routes = sorted(r for r in MATRIX if any(p in r[1] for p in PER_USER))
    assert len(routes) >= 8, routes
    made: dict[str, Callable[[], object]] = {
        "subscription_id": lambda: w.subscription(colleague, owner="alpha-reader"),
        "token_id": lambda: w.token(colleague, owner="alpha-reader"),
        "session_id": lambda: w.browser_session(colleague, owner="alpha-reader"),
    }
    for method, path in routes:
        recipe = RECIPES.get((method, path))
        req = recipe(w, colleague) if recipe else Req()
        url = path.format(**{n: made[n]() for n in _names(path)})
        answer = site.client.request(
            method, url, params=req.query, json=req.json, headers=w.headers(colleague)
        )
        assert answer.status_code == 404, (method, path, answer.status_code, answer.text[:200])


def test_an_administrator_token_without_the_admin_scope_stays_out_of_admin_routes(site: Site) -> None:
    """The matrix's administrators hold the ``admin`` scope; the same account's read-write token gets 403
    on every ``/api/admin`` route, as a reader would."""
    w = site.world
    with w.rt.session() as session:
        admin = session.get(User, w.users["alpha-admin"])
        assert admin is not None
        raw = identity.create_token(session, admin, name="no-admin-scope", scopes="read,write")[1]
    routes = sorted(r for r in MATRIX if r[1].startswith("/api/admin/"))
    assert len(routes) >= 4, routes
    who = Who("admin", "own")
    for method, path in routes:
        recipe = RECIPES.get((method, path))
        req = recipe(w, who) if recipe else Req()
        url = path.format(**{n: req.params.get(n) or w.default(n, who) for n in _names(path)})
        headers = {"Authorization": f"Bearer {raw}"}
        answer = site.client.request(method, url, params=req.query, json=req.json, headers=headers)
        assert answer.status_code == 403, (method, path, answer.status_code, answer.text[:200])


def test_the_national_agencys_administrator_administers_every_organisation_but_reads_in_scope(
    site: Site,
) -> None:
    """Not a column of the matrix: the installation's administrator (organisation business-france)
    manages alpha's receipts and alerts and sets the guard's budgets, yet alpha's own draft is 404."""
    w = site.world
    with w.rt.session() as session:
        national = session.scalar(select(User).where(User.email == w.rt.settings.admin_email.lower()))
        assert national is not None
        raw = identity.create_token(session, national, name="national", scopes="read,write,admin")[1]
    client, headers = site.client, {"Authorization": f"Bearer {raw}"}
    budgets = RECIPES[("PUT", "/api/admin/guard-budgets")](w, Who("admin", "other")).json
    assert client.put("/api/admin/guard-budgets", json=budgets, headers=headers).status_code == 200
    assert client.get(f"/api/admin/erasures/{w.receipt_id}", headers=headers).status_code == 200
    review = client.post(
        f"/api/admin/security-alerts/{w.alert()}/review", json={"decision": "lift"}, headers=headers
    )
    assert review.status_code == 200, review.text
    events = client.get("/api/admin/audit", params={"user": "reader@alpha.fr"}, headers=headers)
    assert events.status_code == 200 and events.json()["total"] > 0, events.text
    assert client.get(f"/api/documents/{w.doc}", headers=headers).status_code == 404


def test_the_docs_show_the_matrix_of_the_code() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert START in text and END in text, "docs/security.md lacks the authorisation matrix markers"
    shown = text.split(START, 1)[1].split(END, 1)[0]
    assert shown.strip() == docs_section().strip(), "run: .venv/bin/python scripts/authz_table.py --write"
    assert markdown_table() in docs_section()
