"""Real answers of every route, on a real installation, match what ``/openapi.json`` documents for them.

Each case calls a route and validates the body against the schema documented for that operation and
status (JSON Schema 2020-12, with undocumented keys refused); together the cases answer every documented
status. The typed answers also keep the keys and values of the domain views they come from.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from ged import documents as ged_documents
from ged.service import UploadResult
from ged.versions import VersionResult
from search.service import with_org_names
from taxonomy.models import Classification
from tests.veille.feedserver import FeedServer, Route, feed_server, rss
from tests.web.conftest import DOCS, MAX_UPLOAD, PASSWORD, Installation
from tests.web.taxonomy_edit_cases import taxonomy_edit_cases
from tests.web.taxonomy_reclassify_cases import taxonomy_reclassify_cases
from tests.web.taxonomy_releases_cases import taxonomy_releases_cases
from tests.web.taxonomy_rules_cases import taxonomy_rules_cases
from tfe.app import erasure
from tfe.core.errors import ExtractionError
from tfe.core.models import User
from tfe.core.security import identity, security_alerts, sessions
from tfe.core.security.audit import Actor
from tfe.core.security.guard_policy import list_budgets
from tfe.core.security.scope import AccessScope
from veille.alerts.subscriptions import MAX_PER_USER, SubscriptionService, SubscriptionSpec
from veille.catalogue import SourceService
from veille.items import read_item
from veille.models import Item, Source, Story
from veille.source_rules import SourceSpec
from veille.stories import read_story

ITEM_ID = "item-contract"
STORY_ID = "story-contract"
DECIDED_ID = "item-contract-decided"
OPML = (
    '<?xml version="1.0" encoding="utf-8"?><opml version="2.0"><head><title>Contrat</title></head><body>'
    '<outline type="rss" text="Contrat OPML" xmlUrl="https://93.184.216.34/contrat-opml.xml"/></body></opml>'
)
BIG = 2**63  # one past SQLite's largest integer (issue 12 defect 18)
UNKNOWN = 2**31 - 1  # the largest source id accepted, never given here


@pytest.fixture(scope="module")
def spec(installation: Installation) -> dict[str, Any]:
    body: dict[str, Any] = installation.client.get("/openapi.json").json()
    return body


@pytest.fixture(scope="module")
def item_id(installation: Installation) -> str:
    """One watch item of alpha's organisation, written straight into the tables (no feed fetch)."""
    with installation.rt.session() as session:
        source = Source(url="https://veille.example.org/contract.xml", title="Veille contrat")
        session.add(source)
        session.flush()
        session.add(
            Item(
                id=ITEM_ID,
                source_id=source.id,
                url="https://veille.example.org/vins",
                guid="contract-1",
                title="Les vins français progressent en Allemagne",
                summary="Export de vins vers l'Allemagne.",
                text="Export de vins vers l'Allemagne.",
                published_at=dt.datetime(2025, 1, 15, 8, 30),
                language="fr",
                content_hash="0" * 64,
                org_id=installation.orgs["alpha"],
                visibility="organisation",
            )
        )
        session.add(
            Classification(
                target_kind="item",
                target_id=ITEM_ID,
                concept_id="country:DE",
                score=0.8,
                method="rule",
                explanation={"evidence": ["Allemagne"]},
            )
        )
    return ITEM_ID


@pytest.fixture(scope="module")
def story_id(installation: Installation, item_id: str) -> str:
    """A story holding the contract item (alpha's organisation only: beta gets 404)."""
    with installation.rt.session() as session:
        session.add(Story(id=STORY_ID, title="Les vins français progressent en Allemagne", item_count=1))
        session.flush()
        item = session.get(Item, item_id)
        assert item is not None
        item.story_id = STORY_ID
    return STORY_ID


def _scope(installation: Installation, who: str) -> AccessScope:
    with installation.rt.session() as session:
        user = session.get(User, installation.users[who])
        assert user is not None
        return identity.scope_for(user)


@dataclass
class Watch:
    """The watch data the source, curation and subscription cases act on (all of alpha's organisation)."""

    server: FeedServer  # a local feed server: /vide.xml (no entry), /flux.xml (one entry)
    polled: int  # carol's source on the empty feed (polling it adds nothing)
    removable: int  # carol's source the DELETE case removes
    subscription: int  # carol's alert (email and Atom)
    removable_subscription: int
    admin: dict[str, str]  # the admin's bearer header; the admin holds MAX_PER_USER alerts (409)


@pytest.fixture(scope="module")
def watch(installation: Installation) -> Iterator[Watch]:
    """Sources catalogued and alerts created through the product's use cases; one item for decisions."""
    rt = installation.rt
    carol = _scope(installation, "carol")
    with feed_server() as server:
        server.routes["/vide.xml"] = Route(body=rss("Flux contrat vide", []))
        server.routes["/flux.xml"] = Route(body=rss("Flux contrat", [("c1", "Vins en Allemagne", "Texte")]))
        loopback = rt.settings.model_copy(update={"fetch_allow_private": True})  # the server is local
        sources = SourceService(rt.session_factory, loopback, lambda: rt.referential)
        polled = sources.add(
            carol, SourceSpec(url=server.url + "/vide.xml", visibility="organisation", discover=False), "api"
        )
        removable = sources.add(
            carol,
            SourceSpec(
                url="https://93.184.216.34/contrat-retrait.xml", visibility="organisation", discover=False
            ),
            "api",
        )
        alerts = SubscriptionService(rt.settings, lambda: rt.referential)
        with rt.session() as session:
            # no text: deciding on it re-indexes no passage, so the shared index stays as seeded
            session.add(
                Item(
                    id=DECIDED_ID,
                    source_id=polled.id,
                    url="https://veille.example.org/decision",
                    guid="contract-decided",
                    title="Contrat : un article à décider",
                    summary="",
                    text="",
                    language="fr",
                    content_hash="1" * 64,
                    org_id=installation.orgs["alpha"],
                    visibility="organisation",
                )
            )
            owner = session.get(User, installation.users["carol"])
            assert owner is not None
            kept = alerts.create(session, owner, SubscriptionSpec(query="vins", channels=["email", "atom"]))
            gone = alerts.create(session, owner, SubscriptionSpec(query="machines"))
            admin = identity.find_user(session, rt.settings.admin_email)
            assert admin is not None
            for n in range(MAX_PER_USER):
                alerts.create(session, admin, SubscriptionSpec(query=f"vins {n}"))
            token = identity.create_token(session, admin, name="contract", scopes="read,write,admin")[1]
            ids = (kept.view.sub.id, gone.view.sub.id)
        yield Watch(server, polled.id, removable.id, ids[0], ids[1], {"Authorization": f"Bearer {token}"})


@dataclass
class Erasures:
    """What the erasure cases act on: the national administrator's own private notes (no one else sees
    them), one erased here (its signed receipt) and one the POST case erases."""

    receipt: dict[str, Any]  # the signed receipt document of the note erased here
    erasable: str  # the note the POST case erases


@pytest.fixture(scope="module")
def erasures(installation: Installation) -> Erasures:
    rt = installation.rt
    with rt.session() as session:
        admin = identity.find_user(session, rt.settings.admin_email)
        assert admin is not None
        session.expunge(admin)
    ids = []
    for n in ("un", "deux"):
        data = f"Note contrat {n} : zqxkcbwfnrtpl{n} à effacer, aucun autre document ne la cite.\n".encode()
        result = rt.documents.upload(
            admin, filename=f"contrat-effacement-{n}.txt", data=data, visibility="private", doc_type=None
        )
        assert result.status == "ok" and result.id, result
        ids.append(result.id)
    receipt = erasure.erase_document(rt, ids[0], actor=Actor.of_user(admin, "api"), reason="contrat")
    return Erasures(receipt, ids[1])


@dataclass
class Me:
    """A user of its own for the ``/api/me`` cases: bearer headers by scope, a token and a browser session
    the DELETE cases end, and ids that are not theirs (404)."""

    full: dict[str, str]  # read and write
    read_only: dict[str, str]
    write_only: dict[str, str]
    revocable: int  # a token of theirs
    session: str  # the public id of a session of theirs
    foreign_token: int  # alice's


@pytest.fixture(scope="module")
def me(installation: Installation) -> Me:
    with installation.rt.session() as session:
        user = identity.create_user(
            session, email="dora@alpha.fr", org=identity.find_org(session, "alpha"), role="reader"
        )
        headers = {
            key: {"Authorization": f"Bearer {identity.create_token(session, user, key, scopes=scopes)[1]}"}
            for key, scopes in (("full", "read,write"), ("read", "read"), ("write", "write"))
        }
        revocable = identity.create_token(session, user, "revocable")[0].id
        row, _ = sessions.start(session, user, address="192.0.2.1", user_agent="contrat", max_age_s=3600)
        alice = session.get(User, installation.users["alice"])
        assert alice is not None
        foreign = identity.create_token(session, alice, "contract")[0].id
        return Me(
            headers["full"], headers["read"], headers["write"], revocable, sessions.public_id(row), foreign
        )


def _me_cases(me: Me) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Each ``/api/me`` route: its answer, 400 where it takes input, 401, 403 (scope) and 404."""
    token, sess = f"/api/me/tokens/{me.revocable}", f"/api/me/sessions/{me.session}"
    cases: list[tuple[str, str, str, dict[str, Any]]] = []
    for path in ("/api/me", "/api/me/tokens", "/api/me/sessions"):
        cases += [("get", path, path, {"headers": me.full}), ("get", path, path, {})]
        cases.append(("get", path, path, {"headers": me.write_only}))
    body = {"name": "contrat", "scopes": ["read"], "expires_days": 7}
    for kwargs in (
        {"json": body, "headers": me.full},
        {"json": {"expires_days": 0}, "headers": me.full},
        {"json": body},
        {"json": body, "headers": me.read_only},
    ):
        cases.append(("post", "/api/me/tokens", "/api/me/tokens", kwargs))
    for template, url, bad, unknown in (
        ("/api/me/tokens/{token_id}", token, "/api/me/tokens/abc", f"/api/me/tokens/{me.foreign_token}"),
        ("/api/me/sessions/{session_id}", sess, "/api/me/sessions/zz", "/api/me/sessions/" + "0" * 16),
    ):
        cases += [
            ("delete", template, url, {"headers": me.full}),
            ("delete", template, bad, {"headers": me.full}),
            ("delete", template, url, {}),
            ("delete", template, url, {"headers": me.read_only}),
            ("delete", template, unknown, {"headers": me.full}),
        ]
    return cases


@pytest.fixture(scope="module")
def alert_id(installation: Installation) -> int:
    """An open security alert about alpha's reader, raised as the guard raises one (throttled: lifting it
    unsuspends nothing); the review cases lift it (200), then find it reviewed (409)."""
    with installation.rt.session() as session:
        user = session.get(User, installation.users["reader"])
        assert user is not None
        return security_alerts.raise_alert(
            session,
            user=user,
            token_id=None,
            session_id=None,
            rule="volume_hour",
            response="throttled",
            detail={"explanation": "contrat", "counts": {"hour": 1}},
            channel="cli",
        ).id


def _guard_cases(
    installation: Installation, admin: dict[str, str], alice: dict[str, str], alert_id: int
) -> list[tuple[str, str, str, dict[str, Any]]]:
    """The guard's admin routes: alerts (listed, reviewed), budgets (read, set to what they are, so the
    shared installation's guard counts as seeded)."""
    with installation.rt.session() as session:
        budgets = [b.as_dict() for b in list_budgets(session)]
    alerts, review = "/api/admin/security-alerts", "/api/admin/security-alerts/{alert_id}/review"
    url = f"{alerts}/{alert_id}/review"
    lift = {"decision": "lift", "note": "contrat"}
    inverted = {**budgets[0], "per_minute": budgets[0]["per_day"] + 1}  # per_minute > per_day
    return [
        *[
            ("get", alerts, alerts, kwargs)
            for kwargs in (
                {"params": {"status": "all", "limit": 5}, "headers": admin},
                {"params": {"status": "perhaps"}, "headers": admin},
                {},
                {"headers": alice},
            )
        ],
        ("post", review, url, {"json": {"decision": "perhaps"}, "headers": admin}),
        ("post", review, f"{alerts}/abc/review", {"json": lift, "headers": admin}),
        ("post", review, url, {"json": lift}),
        ("post", review, url, {"json": lift, "headers": alice}),
        ("post", review, f"{alerts}/{UNKNOWN}/review", {"json": lift, "headers": admin}),
        ("post", review, url, {"json": lift, "headers": admin}),
        ("post", review, url, {"json": {"decision": "confirm"}, "headers": admin}),  # reviewed: 409
        *[
            ("get", "/api/admin/guard-budgets", "/api/admin/guard-budgets", kwargs)
            for kwargs in ({"headers": admin}, {}, {"headers": alice})
        ],
        *[
            ("put", "/api/admin/guard-budgets", "/api/admin/guard-budgets", kwargs)
            for kwargs in (
                {"json": {"budgets": budgets}, "headers": admin},
                {"json": {"budgets": [inverted]}, "headers": admin},
                {"json": {"budgets": []}, "headers": admin},
                {"json": {"budgets": budgets}},
                {"json": {"budgets": budgets}, "headers": alice},
            )
        ],
    ]


@contextlib.contextmanager
def _loopback(installation: Installation, allowed: bool) -> Iterator[None]:
    """Let the runtime fetch the local feed server for one request (``fetch_allow_private``, as in tests)."""
    with pytest.MonkeyPatch.context() as patch:
        if allowed:
            patch.setattr(installation.rt.settings, "fetch_allow_private", True)
        yield


def _cookie_session(installation: Installation, email: str) -> TestClient:
    """A browser-like client signed in through ``/login`` (cookie session, no CSRF header sent)."""
    browser = TestClient(installation.client.app)
    page = browser.get("/login").text
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    login = browser.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf": csrf}, follow_redirects=False
    )
    assert login.status_code == 303, login.text
    return browser


class _Answer(Protocol):
    """What ``_check`` reads of a test client response."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def json(self) -> Any: ...


def _strict(node: Any) -> Any:
    """The schema with ``additionalProperties: false`` on every object that lists its properties."""
    if isinstance(node, dict):
        out = {k: _strict(v) for k, v in node.items()}
        if "properties" in out and out.get("type") == "object":
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


def _check(spec: dict[str, Any], method: str, path: str, response: _Answer) -> None:
    status = str(response.status_code)
    responses = spec["paths"][path][method]["responses"]
    assert status in responses, f"{method.upper()} {path} answered undocumented {status}: {response.text}"
    if status == "204":
        assert "content" not in responses[status] and not response.text
        return
    content = responses[status]["content"]
    media = response.headers["content-type"].split(";")[0]
    if media != "application/json":
        if path.endswith("/content"):
            assert "application/octet-stream" in content
        else:  # one documented media type (a preview may document two: PNG or plain text)
            assert media in content, (method, path, media)
        return
    schema = {
        **content["application/json"]["schema"],
        "components": _strict(copy.deepcopy(spec["components"])),
    }
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.json())]
    assert not errors, f"{method.upper()} {path} {status}: {errors}"


def _fake_upload(duplicate_of: str) -> Callable[..., UploadResult]:
    """A stand-in for ``DocumentService.upload``: "double.txt" duplicates the document ``duplicate_of``."""

    def upload(user: Any, **kwargs: Any) -> UploadResult:
        outcomes = {
            "neuf.txt": UploadResult("ok", "doc-contract", "Neuf", None),
            "double.txt": UploadResult("duplicate", duplicate_of, "Le marché", "same content"),
        }
        failed = UploadResult("failed", None, None, "no text could be extracted")
        return outcomes.get(kwargs["filename"], failed)

    return upload


def _fake_versions(installation: Installation, monkeypatch: pytest.MonkeyPatch, doc: str) -> None:
    """Stand-ins for a new version and a restore that would change the shared installation: "neuf.txt"
    and a restore of version 1 with the comment "ok" answer a stored version (the document's current one,
    as seeded), "illisible.txt" and a restore commented "illisible" fail extraction; every other call
    runs the real checks (locks, identical content, type, size, rights), which store nothing."""
    service = installation.rt.versions
    real_add, real_restore = service.add_version, service.restore

    def stored() -> VersionResult:
        with installation.rt.session() as session:
            view = ged_documents.get_document(session, doc, AccessScope.everything())
        assert view.latest is not None
        return VersionResult(doc, view.latest.number, view.latest)

    def add_version(user: Any, doc_id: str, **kwargs: Any) -> VersionResult:
        if kwargs.get("filename") == "neuf.txt":
            return stored()
        if kwargs.get("filename") == "illisible.txt":
            raise ExtractionError("illisible.txt: no text could be extracted")
        return real_add(user, doc_id, **kwargs)

    def restore(user: Any, doc_id: str, number: int, **kwargs: Any) -> VersionResult:
        if kwargs.get("comment") == "ok":
            return stored()
        if kwargs.get("comment") == "illisible":
            raise ExtractionError("document: no text could be extracted")
        return real_restore(user, doc_id, number, **kwargs)

    monkeypatch.setattr(service, "add_version", add_version)
    monkeypatch.setattr(service, "restore", restore)


def test_every_route_answers_what_it_documents(
    installation: Installation,
    client: TestClient,
    spec: dict[str, Any],
    item_id: str,
    story_id: str,
    watch: Watch,
    erasures: Erasures,
    me: Me,
    alert_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc, secret = installation.ids["doc-vins-de"], installation.ids["doc-beta-secret"]
    monkeypatch.setattr(installation.rt.documents, "upload", _fake_upload(doc))
    _fake_versions(installation, monkeypatch, doc)
    alice, reader = installation.auth("alice"), installation.auth("reader")
    bob, carol, admin = installation.auth("bob"), installation.auth("carol"), watch.admin
    # a cookie session of carol's without the CSRF header: every unsafe call is 403
    browser = _cookie_session(installation, "carol@alpha.fr")
    source, sub = f"/api/sources/{watch.polled}", f"/api/subscriptions/{watch.subscription}"

    def upload(name: str, data: bytes, headers: dict[str, str]) -> dict[str, Any]:
        return {"files": {"file": (name, data, "text/plain")}, "headers": headers}

    cases: list[tuple[str, str, str, dict[str, Any]]] = [
        ("get", "/healthz", "/healthz", {}),
        ("get", "/api/search", "/api/search", {"params": {"q": "vins Allemagne"}, "headers": alice}),
        ("get", "/api/search", "/api/search", {"params": {"q": "", "limit": 100}, "headers": alice}),
        ("get", "/api/search", "/api/search", {"params": {"limit": 0}, "headers": alice}),
        ("get", "/api/search", "/api/search", {"params": {"offset": BIG}, "headers": alice}),
        ("get", "/api/search", "/api/search", {"params": {"sector": "naf:99.99.99"}, "headers": alice}),
        ("get", "/api/search", "/api/search", {"params": {"q": "vins"}}),
        (
            "get",
            "/api/search",
            "/api/search",
            {"params": {"q": "vins", "group": "stories", "mode": "bm25"}, "headers": alice},
        ),
        ("post", "/api/documents", "/api/documents", upload("neuf.txt", b"Vins", alice)),
        ("post", "/api/documents", "/api/documents", upload("double.txt", b"Vins", alice)),
        ("post", "/api/documents", "/api/documents", upload("illisible.txt", b"Vins", alice)),
        ("post", "/api/documents", "/api/documents", upload("a.exe", b"MZ\x90\x00", alice)),
        ("post", "/api/documents", "/api/documents", upload("big.txt", b"a" * (MAX_UPLOAD + 10), alice)),
        ("post", "/api/documents", "/api/documents", upload("a.txt", b"Vins", reader)),
        ("post", "/api/documents", "/api/documents", upload("a.txt", b"Vins", {})),
        ("post", "/api/documents", "/api/documents", {"data": {"visibility": "network"}, "headers": alice}),
        ("get", "/api/documents/{doc_id}", f"/api/documents/{doc}", {"headers": alice}),
        ("get", "/api/documents/{doc_id}", f"/api/documents/{secret}", {"headers": alice}),
        ("get", "/api/documents/{doc_id}", "/api/documents/bad id!", {"headers": alice}),
        ("get", "/api/documents/{doc_id}", f"/api/documents/{doc}", {}),
        # PATCH without a change (the shared installation stays as seeded): 200, then each refusal
        (
            "patch",
            "/api/documents/{doc_id}",
            f"/api/documents/{doc}",
            {"json": {"visibility": "network"}, "headers": alice},
        ),
        ("patch", "/api/documents/{doc_id}", f"/api/documents/{doc}", {"json": {}, "headers": alice}),
        (
            "patch",
            "/api/documents/{doc_id}",
            f"/api/documents/{doc}",
            {"json": {"title": "x"}, "headers": reader},
        ),
        (
            "patch",
            "/api/documents/{doc_id}",
            f"/api/documents/{secret}",
            {"json": {"title": "x"}, "headers": alice},
        ),
        ("patch", "/api/documents/{doc_id}", f"/api/documents/{doc}", {"json": {"title": "x"}}),
        # lifecycle: an archive and its un-archive leave the document validated; a move not in the table
        (
            "patch",
            "/api/documents/{doc_id}",
            f"/api/documents/{doc}",
            {"json": {"status": "draft"}, "headers": alice},
        ),
        (
            "post",
            "/api/documents/{doc_id}/transitions",
            f"/api/documents/{doc}/transitions",
            {"json": {"to": "archived"}, "headers": alice},
        ),
        (
            "post",
            "/api/documents/{doc_id}/transitions",
            f"/api/documents/{doc}/transitions",
            {"json": {"to": "validated"}, "headers": carol},
        ),
        *[
            ("post", "/api/documents/{doc_id}/transitions", f"/api/documents/{target}/transitions", kwargs)
            for target, kwargs in (
                (doc, {"json": {"to": "zzz"}, "headers": alice}),
                (doc, {"json": {"to": "archived"}}),
                (doc, {"json": {"to": "archived"}, "headers": reader}),
                (secret, {"json": {"to": "in_review"}, "headers": alice}),
                (doc, {"json": {"to": "draft"}, "headers": alice}),
            )
        ],
        *[
            ("get", "/api/documents/{doc_id}/transitions", f"/api/documents/{target}/transitions", kwargs)
            for target, kwargs in (
                (doc, {"headers": alice}),
                ("bad id!", {"headers": alice}),
                (doc, {}),
                (secret, {"headers": alice}),
            )
        ],
        # trash: bob's private note goes to the trash and comes back (as seeded, re-indexed from its text)
        ("delete", "/api/documents/{doc_id}", f"/api/documents/{secret}", {"headers": bob}),
        ("get", "/api/documents/trash", "/api/documents/trash", {"headers": bob}),
        ("get", "/api/documents/trash", "/api/documents/trash", {}),
        ("post", "/api/documents/{doc_id}/restore", f"/api/documents/{secret}/restore", {"headers": bob}),
        ("post", "/api/documents/{doc_id}/restore", f"/api/documents/{secret}/restore", {"headers": bob}),
        ("post", "/api/documents/{doc_id}/restore", "/api/documents/bad id!/restore", {"headers": bob}),
        ("post", "/api/documents/{doc_id}/restore", f"/api/documents/{secret}/restore", {}),
        ("delete", "/api/documents/{doc_id}", f"/api/documents/{doc}", {"headers": reader}),
        ("delete", "/api/documents/{doc_id}", f"/api/documents/{secret}", {"headers": alice}),
        ("delete", "/api/documents/{doc_id}", "/api/documents/bad id!", {"headers": alice}),
        ("delete", "/api/documents/{doc_id}", f"/api/documents/{doc}", {}),
        # retention review
        ("get", "/api/documents/review", "/api/documents/review", {"headers": carol}),
        ("get", "/api/documents/review", "/api/documents/review", {}),
        ("post", "/api/documents/{doc_id}/review", f"/api/documents/{doc}/review", {"headers": carol}),
        ("post", "/api/documents/{doc_id}/review", f"/api/documents/{doc}/review", {"headers": reader}),
        ("post", "/api/documents/{doc_id}/review", f"/api/documents/{secret}/review", {"headers": alice}),
        ("post", "/api/documents/{doc_id}/review", "/api/documents/bad id!/review", {"headers": carol}),
        ("post", "/api/documents/{doc_id}/review", f"/api/documents/{doc}/review", {}),
        ("get", "/api/documents/{doc_id}/content", f"/api/documents/{doc}/content", {"headers": alice}),
        ("get", "/api/documents/{doc_id}/content", "/api/documents/nope/content", {"headers": alice}),
        (
            "get",
            "/api/documents/{doc_id}/content",
            f"/api/documents/{doc}/content",
            {"params": {"version": BIG}, "headers": alice},
        ),
        ("get", "/api/documents/{doc_id}/content", f"/api/documents/{doc}/content", {}),
        # versions: the stand-ins answer 201 and 422; the real checks answer the refusals (nothing stored)
        *[
            ("get", "/api/documents/{doc_id}/versions", f"/api/documents/{target}/versions", kwargs)
            for target, kwargs in ((doc, {"headers": reader}), ("bad id!", {"headers": alice}), (doc, {}))
        ],
        ("get", "/api/documents/{doc_id}/versions", f"/api/documents/{secret}/versions", {"headers": alice}),
        *[
            ("post", "/api/documents/{doc_id}/versions", f"/api/documents/{target}/versions", kwargs)
            for target, kwargs in (
                (doc, upload("neuf.txt", b"Vins 2026", alice)),
                (doc, upload("illisible.txt", b"Vins 2026", alice)),
                (doc, {**upload("a.txt", b"Vins", alice), "data": {"comment": "x" * 1001}}),
                (doc, upload("a.txt", b"Vins", {})),
                (doc, upload("a.txt", b"Vins", reader)),
                (secret, upload("a.txt", b"Vins", alice)),
                (doc, upload("copie.txt", DOCS[0].data, alice)),
                (doc, upload("big.txt", b"a" * (MAX_UPLOAD + 10), alice)),
                (doc, upload("a.exe", b"MZ\x90\x00", alice)),
            )
        ],
        *[
            (
                "post",
                "/api/documents/{doc_id}/versions/{number}/restore",
                f"/api/documents/{target}/versions/{n}/restore",
                kwargs,
            )
            for target, n, kwargs in (
                (doc, 1, {"json": {"comment": "ok"}, "headers": alice}),
                (doc, 1, {"json": {"comment": "illisible"}, "headers": alice}),
                (doc, 1, {"json": {"comment": "x" * 1001}, "headers": alice}),
                (doc, 1, {}),
                (doc, 1, {"headers": reader}),
                (doc, 9, {"headers": alice}),
                (doc, 1, {"headers": alice}),  # version 1 is the current content: 409
            )
        ],
        *[
            ("get", "/api/documents/{doc_id}/versions/diff", f"/api/documents/{target}/versions/diff", kwargs)
            for target, kwargs in (
                (doc, {"params": {"a": 1, "b": 1}, "headers": reader}),
                (doc, {"params": {"a": 0, "b": 1}, "headers": alice}),
                (doc, {"params": {"a": 1, "b": 1}}),
                (doc, {"params": {"a": 1, "b": 9}, "headers": alice}),
            )
        ],
        *[
            (method, "/api/documents/{doc_id}/lock", f"/api/documents/{target}/lock", kwargs)
            for method, target, kwargs in (
                ("post", doc, {"json": {"minutes": 5}, "headers": alice}),
                ("post", doc, {"headers": carol}),  # alice holds it: 409
                ("delete", doc, {"headers": carol}),  # neither the holder nor an admin: 403
                ("delete", doc, {"headers": alice}),
                ("post", doc, {"json": {"minutes": 0}, "headers": alice}),
                ("post", doc, {}),
                ("post", doc, {"headers": reader}),
                ("post", secret, {"headers": alice}),
                ("delete", "bad id!", {"headers": alice}),
                ("delete", doc, {}),
                ("delete", doc, {"headers": reader}),
                ("delete", secret, {"headers": alice}),
            )
        ],
        ("get", "/api/documents/{doc_id}/preview", f"/api/documents/{doc}/preview", {"headers": alice}),
        ("get", "/api/documents/{doc_id}/preview", f"/api/documents/{secret}/preview", {"headers": alice}),
        ("get", "/api/documents/{doc_id}/preview", "/api/documents/bad id!/preview", {"headers": alice}),
        ("get", "/api/documents/{doc_id}/preview", f"/api/documents/{doc}/preview", {}),
        ("get", "/api/documents/similar", "/api/documents/similar", {"headers": carol}),
        ("get", "/api/documents/similar", "/api/documents/similar", {"params": {"limit": 0}, "headers": bob}),
        ("get", "/api/documents/similar", "/api/documents/similar", {"headers": alice}),
        ("get", "/api/documents/similar", "/api/documents/similar", {}),
        ("get", "/api/documents/{doc_id}/similar", f"/api/documents/{doc}/similar", {"headers": alice}),
        ("get", "/api/documents/{doc_id}/similar", f"/api/documents/{secret}/similar", {"headers": alice}),
        (
            "get",
            "/api/documents/{doc_id}/similar",
            f"/api/documents/{doc}/similar",
            {"params": {"limit": 0}, "headers": alice},
        ),
        ("get", "/api/documents/{doc_id}/similar", f"/api/documents/{doc}/similar", {}),
        # document types and typed fields: an accepted proposal, then the seeded (empty) values again
        ("get", "/api/doctypes", "/api/doctypes", {"headers": reader}),
        ("get", "/api/doctypes", "/api/doctypes", {}),
        *[
            ("get", "/api/doctypes/{notation}", f"/api/doctypes/{notation}", kwargs)
            for notation, kwargs in (
                ("sector_analysis", {"headers": reader}),
                ("x" * 81, {"headers": reader}),
                ("sector_analysis", {}),
                ("zzz", {"headers": reader}),
            )
        ],
        *[
            ("get", "/api/documents/{doc_id}/fields", f"/api/documents/{target}/fields", kwargs)
            for target, kwargs in (
                (doc, {"headers": reader}),
                ("bad id!", {"headers": alice}),
                (doc, {}),
                (secret, {"headers": alice}),
            )
        ],
        *[
            (
                "post",
                "/api/documents/{doc_id}/fields/accept",
                f"/api/documents/{target}/fields/accept",
                kwargs,
            )
            for target, kwargs in (
                (doc, {"json": {"names": ["sector"]}, "headers": alice}),
                (doc, {"json": {"names": ["zzz"]}, "headers": alice}),
                (doc, {"json": {}}),
                (doc, {"json": {}, "headers": reader}),
                (secret, {"json": {}, "headers": alice}),
            )
        ],
        *[
            ("put", "/api/documents/{doc_id}/fields", f"/api/documents/{target}/fields", kwargs)
            for target, kwargs in (
                (doc, {"json": {"values": {}}, "headers": alice}),
                (doc, {"json": {"values": {"sector": "naf:zzz"}}, "headers": alice}),
                (doc, {"json": {"values": {}}}),
                (doc, {"json": {"values": {}}, "headers": reader}),
                (secret, {"json": {"values": {}}, "headers": alice}),
            )
        ],
        ("get", "/api/items/{item_id}", f"/api/items/{item_id}", {"headers": alice}),
        ("get", "/api/items/{item_id}", f"/api/items/{item_id}", {"headers": installation.auth("bob")}),
        ("get", "/api/items/{item_id}", "/api/items/bad id!", {"headers": alice}),
        ("get", "/api/items/{item_id}", f"/api/items/{item_id}", {}),
        ("get", "/api/items/{item_id}/similar", f"/api/items/{item_id}/similar", {"headers": alice}),
        (
            "get",
            "/api/items/{item_id}/similar",
            f"/api/items/{item_id}/similar",
            {"headers": installation.auth("bob")},
        ),
        (
            "get",
            "/api/items/{item_id}/similar",
            f"/api/items/{item_id}/similar",
            {"params": {"limit": 0}, "headers": alice},
        ),
        ("get", "/api/items/{item_id}/similar", f"/api/items/{item_id}/similar", {}),
        ("get", "/api/stories", "/api/stories", {"headers": alice}),
        ("get", "/api/stories", "/api/stories", {"params": {"limit": 0}, "headers": alice}),
        ("get", "/api/stories", "/api/stories", {"params": {"include_rejected": True}, "headers": reader}),
        ("get", "/api/stories", "/api/stories", {}),
        ("get", "/api/stories/{story_id}", f"/api/stories/{story_id}", {"headers": alice}),
        ("get", "/api/stories/{story_id}", f"/api/stories/{story_id}", {"headers": installation.auth("bob")}),
        ("get", "/api/stories/{story_id}", "/api/stories/bad id!", {"headers": alice}),
        (
            "get",
            "/api/stories/{story_id}",
            f"/api/stories/{story_id}",
            {"params": {"include_rejected": True}, "headers": reader},
        ),
        ("get", "/api/stories/{story_id}", f"/api/stories/{story_id}", {}),
        # sources: members read, curators (own organisation) and admins change
        ("get", "/api/sources", "/api/sources", {"headers": alice}),
        ("get", "/api/sources", "/api/sources", {"params": {"kind": "rss"}, "headers": alice}),
        ("get", "/api/sources", "/api/sources", {}),
        (
            "post",
            "/api/sources",
            "/api/sources",
            {
                "json": {
                    "url": "https://93.184.216.34/neuf.xml",
                    "discover": False,
                    "visibility": "organisation",
                },
                "headers": carol,
            },
        ),
        ("post", "/api/sources", "/api/sources", {"json": {"url": "ftp://example.org/x"}, "headers": carol}),
        ("post", "/api/sources", "/api/sources", {"json": {"url": "https://93.184.216.34/x"}}),
        (
            "post",
            "/api/sources",
            "/api/sources",
            {"json": {"url": "https://93.184.216.34/x"}, "headers": alice},
        ),
        (
            "post",
            "/api/sources/preview",
            "/api/sources/preview",
            {"json": {"url": watch.server.url + "/flux.xml"}, "headers": carol, "loopback": True},
        ),
        (
            "post",
            "/api/sources/preview",
            "/api/sources/preview",
            {"json": {"url": "ftp://x"}, "headers": carol},
        ),
        ("post", "/api/sources/preview", "/api/sources/preview", {"json": {"url": "https://93.184.216.34/"}}),
        (
            "post",
            "/api/sources/preview",
            "/api/sources/preview",
            {"json": {"url": "https://93.184.216.34/"}, "headers": reader},
        ),
        ("get", "/api/sources/export", "/api/sources/export", {"headers": alice}),
        ("get", "/api/sources/export", "/api/sources/export", {}),
        (
            "post",
            "/api/sources/import",
            "/api/sources/import",
            {"content": OPML, "params": {"visibility": "organisation"}, "headers": carol},
        ),
        ("post", "/api/sources/import", "/api/sources/import", {"content": " ", "headers": carol}),
        ("post", "/api/sources/import", "/api/sources/import", {"content": OPML}),
        ("post", "/api/sources/import", "/api/sources/import", {"content": OPML, "headers": alice}),
        (
            "post",
            "/api/sources/import",
            "/api/sources/import",
            {"content": b" " * (installation.rt.settings.max_feed_bytes + 1), "headers": carol},
        ),
        ("get", "/api/sources/{source_id}", source, {"headers": alice}),
        ("get", "/api/sources/{source_id}", "/api/sources/0", {"headers": alice}),
        ("get", "/api/sources/{source_id}", source, {}),
        ("get", "/api/sources/{source_id}", source, {"headers": bob}),
        ("patch", "/api/sources/{source_id}", source, {"json": {"tags": ["contrat"]}, "headers": carol}),
        ("patch", "/api/sources/{source_id}", source, {"json": {"min_interval_s": 10}, "headers": carol}),
        ("patch", "/api/sources/{source_id}", source, {"json": {"tags": []}}),
        ("patch", "/api/sources/{source_id}", source, {"json": {"tags": []}, "headers": alice}),
        ("patch", "/api/sources/{source_id}", f"/api/sources/{UNKNOWN}", {"json": {}, "headers": carol}),
        ("delete", "/api/sources/{source_id}", f"/api/sources/{watch.removable}", {"headers": carol}),
        ("delete", "/api/sources/{source_id}", f"/api/sources/{BIG}", {"headers": carol}),
        ("delete", "/api/sources/{source_id}", source, {}),
        ("delete", "/api/sources/{source_id}", source, {"headers": alice}),
        ("delete", "/api/sources/{source_id}", f"/api/sources/{watch.removable}", {"headers": carol}),
        ("post", "/api/sources/{source_id}/poll", f"{source}/poll", {"headers": carol, "loopback": True}),
        ("post", "/api/sources/{source_id}/poll", "/api/sources/0/poll", {"headers": carol}),
        ("post", "/api/sources/{source_id}/poll", f"{source}/poll", {}),
        ("post", "/api/sources/{source_id}/poll", f"{source}/poll", {"headers": alice}),
        ("post", "/api/sources/{source_id}/poll", f"/api/sources/{UNKNOWN}/poll", {"headers": carol}),
        # curation: curators and admins only
        ("get", "/api/curation/queue", "/api/curation/queue", {"headers": carol}),
        ("get", "/api/curation/queue", "/api/curation/queue", {"params": {"status": "x"}, "headers": carol}),
        ("get", "/api/curation/queue", "/api/curation/queue", {}),
        ("get", "/api/curation/queue", "/api/curation/queue", {"headers": alice}),
        (
            "post",
            "/api/items/{item_id}/decision",
            f"/api/items/{DECIDED_ID}/decision",
            {"json": {"decision": "reject"}, "headers": carol},
        ),
        (
            "post",
            "/api/items/{item_id}/decision",
            f"/api/items/{DECIDED_ID}/decision",
            {"json": {"decision": "correct"}, "headers": carol},
        ),
        (
            "post",
            "/api/items/{item_id}/decision",
            f"/api/items/{DECIDED_ID}/decision",
            {"json": {"decision": "reject"}},
        ),
        (
            "post",
            "/api/items/{item_id}/decision",
            f"/api/items/{DECIDED_ID}/decision",
            {"json": {"decision": "reject"}, "headers": alice},
        ),
        (
            "post",
            "/api/items/{item_id}/decision",
            "/api/items/nope/decision",
            {"json": {"decision": "reject"}, "headers": carol},
        ),
        (
            "post",
            "/api/curation/decisions",
            "/api/curation/decisions",
            {"json": {"item_ids": [DECIDED_ID, "nope"], "decision": "reject"}, "headers": carol},
        ),
        (
            "post",
            "/api/curation/decisions",
            "/api/curation/decisions",
            {"json": {"item_ids": [], "decision": "reject"}, "headers": carol},
        ),
        (
            "post",
            "/api/curation/decisions",
            "/api/curation/decisions",
            {"json": {"item_ids": [DECIDED_ID], "decision": "reject"}},
        ),
        (
            "post",
            "/api/curation/decisions",
            "/api/curation/decisions",
            {"json": {"item_ids": [DECIDED_ID], "decision": "reject"}, "headers": alice},
        ),
        # subscriptions: the caller's own only (another user's is 404)
        ("get", "/api/subscriptions", "/api/subscriptions", {"headers": carol}),
        ("get", "/api/subscriptions", "/api/subscriptions", {}),
        ("post", "/api/subscriptions", "/api/subscriptions", {"json": {"query": "vins"}, "headers": carol}),
        ("post", "/api/subscriptions", "/api/subscriptions", {"json": {"query": '"vins'}, "headers": carol}),
        ("post", "/api/subscriptions", "/api/subscriptions", {"json": {"query": "vins"}}),
        ("post", "/api/subscriptions", "/api/subscriptions", {"json": {"query": "vins"}, "headers": admin}),
        ("get", "/api/subscriptions/export", "/api/subscriptions/export", {"headers": carol}),
        ("get", "/api/subscriptions/export", "/api/subscriptions/export", {}),
        ("get", "/api/subscriptions/{subscription_id}", sub, {"headers": carol}),
        ("get", "/api/subscriptions/{subscription_id}", "/api/subscriptions/0", {"headers": carol}),
        ("get", "/api/subscriptions/{subscription_id}", sub, {}),
        ("get", "/api/subscriptions/{subscription_id}", sub, {"headers": bob}),
        ("patch", "/api/subscriptions/{subscription_id}", sub, {"json": {"paused": False}, "headers": carol}),
        ("patch", "/api/subscriptions/{subscription_id}", sub, {"json": {"colour": "red"}, "headers": carol}),
        ("patch", "/api/subscriptions/{subscription_id}", sub, {"json": {"paused": False}}),
        ("patch", "/api/subscriptions/{subscription_id}", sub, {"json": {"paused": True}, "client": browser}),
        ("patch", "/api/subscriptions/{subscription_id}", sub, {"json": {"paused": True}, "headers": bob}),
        ("get", "/api/subscriptions/{subscription_id}/preview", f"{sub}/preview", {"headers": carol}),
        (
            "get",
            "/api/subscriptions/{subscription_id}/preview",
            f"{sub}/preview",
            {"params": {"days": 0}, "headers": carol},
        ),
        ("get", "/api/subscriptions/{subscription_id}/preview", f"{sub}/preview", {}),
        ("get", "/api/subscriptions/{subscription_id}/preview", f"{sub}/preview", {"headers": bob}),
        ("get", "/api/subscriptions/{subscription_id}/history", f"{sub}/history", {"headers": carol}),
        (
            "get",
            "/api/subscriptions/{subscription_id}/history",
            "/api/subscriptions/0/history",
            {"headers": carol},
        ),
        ("get", "/api/subscriptions/{subscription_id}/history", f"{sub}/history", {}),
        ("get", "/api/subscriptions/{subscription_id}/history", f"{sub}/history", {"headers": bob}),
        ("post", "/api/subscriptions/{subscription_id}/atom-token", f"{sub}/atom-token", {"headers": carol}),
        (
            "post",
            "/api/subscriptions/{subscription_id}/atom-token",
            f"/api/subscriptions/{watch.removable_subscription}/atom-token",  # no Atom channel
            {"headers": carol},
        ),
        ("post", "/api/subscriptions/{subscription_id}/atom-token", f"{sub}/atom-token", {}),
        ("post", "/api/subscriptions/{subscription_id}/atom-token", f"{sub}/atom-token", {"client": browser}),
        ("post", "/api/subscriptions/{subscription_id}/atom-token", f"{sub}/atom-token", {"headers": bob}),
        ("delete", "/api/subscriptions/{subscription_id}", "/api/subscriptions/0", {"headers": carol}),
        ("delete", "/api/subscriptions/{subscription_id}", sub, {}),
        ("delete", "/api/subscriptions/{subscription_id}", sub, {"client": browser}),
        ("delete", "/api/subscriptions/{subscription_id}", sub, {"headers": bob}),
        (
            "delete",
            "/api/subscriptions/{subscription_id}",
            f"/api/subscriptions/{watch.removable_subscription}",
            {"headers": carol},
        ),
        ("delete", "/api/subscriptions", "/api/subscriptions", {}),
        ("delete", "/api/subscriptions", "/api/subscriptions", {"client": browser}),
        ("delete", "/api/subscriptions", "/api/subscriptions", {"headers": admin}),  # the admin's 100 alerts
        ("get", "/api/taxonomy/schemes", "/api/taxonomy/schemes", {"headers": alice}),
        ("get", "/api/taxonomy/schemes", "/api/taxonomy/schemes", {}),
        (
            "get",
            "/api/taxonomy/concepts",
            "/api/taxonomy/concepts",
            {"params": {"limit": 5}, "headers": alice},
        ),
        (
            "get",
            "/api/taxonomy/concepts",
            "/api/taxonomy/concepts",
            {"params": {"scheme": "country", "q": "allem"}, "headers": alice},
        ),
        (
            "get",
            "/api/taxonomy/concepts",
            "/api/taxonomy/concepts",
            {"params": {"offset": BIG}, "headers": alice},
        ),
        (
            "get",
            "/api/taxonomy/concepts",
            "/api/taxonomy/concepts",
            {"params": {"scheme": "zzz"}, "headers": alice},
        ),
        ("get", "/api/taxonomy/concepts", "/api/taxonomy/concepts", {}),
        *taxonomy_edit_cases(installation, carol, alice, browser),  # add, edit, merge, ... revert
        *taxonomy_reclassify_cases(installation, carol, alice, browser),  # preview, start, progress
        *taxonomy_rules_cases(carol, alice, browser),  # try rules / a concept on a text
        *taxonomy_releases_cases(carol, alice, browser),  # releases, a release's SKOS, SKOS import
        # erasure: administrators only (the national agency's here); the POST erases the second note
        *[
            ("post", "/api/admin/erasures", "/api/admin/erasures", kwargs)
            for kwargs in (
                {"json": {"document": erasures.erasable, "reason": "contrat"}, "headers": admin},
                {"json": {"document": erasures.erasable, "organisation": "alpha"}, "headers": admin},
                {"json": {"document": erasures.erasable}},
                {"json": {"document": erasures.erasable}, "headers": alice},
                {"json": {"document": "f" * 32}, "headers": admin},
            )
        ],
        *[
            ("get", "/api/admin/erasures", "/api/admin/erasures", kwargs)
            for kwargs in (
                {"headers": admin},
                {"params": {"limit": 0}, "headers": admin},
                {},
                {"headers": alice},
            )
        ],
        *[
            ("get", "/api/admin/erasures/{receipt_id}", f"/api/admin/erasures/{receipt_id}", kwargs)
            for receipt_id, kwargs in (
                (erasures.receipt["receipt"]["id"], {"headers": admin}),
                ("bad id!", {"headers": admin}),
                (erasures.receipt["receipt"]["id"], {}),
                (erasures.receipt["receipt"]["id"], {"headers": alice}),
                ("e" * 32, {"headers": admin}),
            )
        ],
        *[
            ("post", "/api/admin/erasures/verify", "/api/admin/erasures/verify", kwargs)
            for kwargs in (
                {"json": erasures.receipt, "headers": admin},
                {"json": {"receipt": "x"}, "headers": admin},
                {"json": erasures.receipt},
                {"json": erasures.receipt, "headers": alice},
            )
        ],
        *[
            ("get", "/api/indicators", "/api/indicators", kwargs)
            for kwargs in (
                {"params": {"scope": "network", "period": "2026-Q4"}, "headers": admin},
                {"params": {"period": "2026-13"}, "headers": admin},
                {"params": {"scope": "org:nulle-part"}, "headers": admin},
                {},
                {"headers": alice},
            )
        ],
        ("get", "/api/survey", "/api/survey", {"headers": bob}),
        ("get", "/api/survey", "/api/survey", {}),
        ("post", "/api/survey", "/api/survey", {"json": {"score": 9, "comment": "Utile"}, "headers": bob}),
        ("post", "/api/survey", "/api/survey", {"json": {"score": 11}, "headers": bob}),
        ("post", "/api/survey", "/api/survey", {"json": {"score": 7}, "headers": bob}),
        ("post", "/api/survey", "/api/survey", {"json": {"score": 7}}),
        *[
            ("get", "/api/admin/audit", "/api/admin/audit", kwargs)
            for kwargs in (
                {"params": {"action": "document", "limit": 5}, "headers": admin},
                {"params": {"limit": 0}, "headers": admin},
                {},
                {"headers": alice},
            )
        ],
        *_me_cases(me),
        *_guard_cases(installation, admin, alice, alert_id),
    ]
    answered: set[tuple[str, str, str]] = set()
    for method, template, url, kwargs in cases:
        caller = kwargs.pop("client", client)
        with _loopback(installation, kwargs.pop("loopback", False)):
            response = caller.request(method.upper(), url, **kwargs)
        assert response.status_code < 500, (url, response.text)
        _check(spec, method, template, response)
        answered.add((method, template, str(response.status_code)))
    documented = {
        (method, path, status)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        for status in op["responses"]
        if status != "default" and (path, status) != ("/healthz", "503")
    }
    assert documented - answered == set()
    # the accepted proposal was undone: the shared installation's document has its seeded (no) values
    assert client.get(f"/api/documents/{doc}/fields", headers=alice).json()["values"] == {}


def test_answers_keep_the_domain_views(
    installation: Installation, client: TestClient, item_id: str, story_id: str
) -> None:
    """Backward compatibility: the typed answers are exactly the dicts the routes answered before."""
    alice, doc_id = installation.auth("alice"), installation.ids["doc-vins-de"]
    with installation.rt.session() as session:
        user = session.get(User, installation.users["alice"])
        assert user is not None
        scope = identity.scope_for(user)
        document = ged_documents.get_document(session, doc_id, scope).as_dict()
        item = read_item(session, item_id, scope, channel="api").as_dict()
        story = read_story(session, story_id, scope, channel="api").as_dict()
    document["content_url"] = f"/api/documents/{doc_id}/content"
    assert client.get(f"/api/documents/{doc_id}", headers=alice).json() == document
    assert client.get(f"/api/items/{item_id}", headers=alice).json() == item
    answered = client.get(f"/api/stories/{story_id}", headers=alice).json()
    assert answered["items"] == story["items"] and answered["sources"] == story["sources"]
    assert (answered["first_seen"], answered["last_seen"]) == (story["first_seen_at"], story["last_seen_at"])
    with installation.rt.session() as session:  # the org facet names organisations (slug, name)
        search = with_org_names(
            session, installation.rt.search_service.search("vins Allemagne", scope, country=["country:DE"])
        )
    answer = client.get(
        "/api/search", params={"q": "vins Allemagne", "country": "country:DE"}, headers=alice
    ).json()
    # hits gained their story (story_id, and story_size with group=stories) and, from the web layer
    # (ged.expiry: search never imports ged), expired (no seeded document has a valid_until): every
    # other key is as before
    assert all(h["story_size"] is None and h["expired"] is False for h in answer["hits"])
    added = ("story_id", "story_size", "expired")
    assert [{k: v for k, v in h.items() if k not in added} for h in answer["hits"]] == search["hits"]
    assert {**answer, "hits": search["hits"]} == search


def test_source_and_subscription_answers_keep_the_domain_views(
    installation: Installation, client: TestClient, watch: Watch
) -> None:
    """The typed answers are the catalogue's and the alerts' own views, a missing key answered as null."""
    carol = installation.auth("carol")
    view = installation.rt.sources.get(_scope(installation, "carol"), watch.polled, channel="api").as_dict()
    assert client.get(f"/api/sources/{watch.polled}", headers=carol).json() == {"discovery": None, **view}
    alerts = SubscriptionService(installation.rt.settings, lambda: installation.rt.referential)
    with installation.rt.session() as session:
        owner = session.get(User, installation.users["carol"])
        assert owner is not None
        alert = alerts.get(session, owner, watch.subscription).as_dict()
    assert client.get(f"/api/subscriptions/{watch.subscription}", headers=carol).json() == alert


def test_integer_overflow_is_a_400_not_a_500(installation: Installation, client: TestClient) -> None:
    """Issue 12 defect 18: ``?offset=9223372036854775808`` reached SQLite and answered 500 OverflowError."""
    alice, content = installation.auth("alice"), f"/api/documents/{installation.ids['doc-vins-de']}/content"
    for url, params in (
        ("/api/taxonomy/concepts", {"offset": BIG}),
        ("/api/taxonomy/concepts", {"limit": BIG}),
        ("/api/search", {"offset": BIG}),
        ("/api/search", {"limit": -BIG}),
        (content, {"version": BIG}),
        (content, {"version": 0}),
    ):
        response = client.get(url, params=params, headers=alice)
        assert response.status_code == 400, (url, params, response.text)
        assert response.json()["error"]["code"] == "invalid"
        assert next(iter(params)) in response.json()["error"]["message"]
