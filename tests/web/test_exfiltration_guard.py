"""The exfiltration guard end to end: one token downloads every document in a loop and is stopped.

An installation of its own (two organisations, their admins and readers, 40 small documents of ``alpha``
saved without embeddings), a real SMTP server on loopback, the reader budget set low through the admin
API (20 per minute). One token downloads every document in a loop, ignoring ``Retry-After``: it gets 20
files, then 429s, then 403 ``suspended``; an alert exists, alpha's admin (and the national admin) got an
e-mail, beta's admin neither sees nor may review it, the admin page lists it, lifting it lets the token
work again. Meanwhile a colleague of the same organisation reads and searches normally without a single
error. The loop's figures (documents obtained, time to detection) are printed for docs/benchmarks.md.
The loop is run again with the guard counting in a real Redis (127.0.0.1:6379), its requests shared
between two guards over two connections (two server processes); the test removes its Redis keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from limits.storage import Storage, storage_from_string
from sqlalchemy import event, select

from ged.sink import DocumentSink
from ingest.components.splitter import split_passages
from ingest.components.writer import RecordWriter
from ingest.item import ExtractedMetadata, IngestItem
from taxonomy.classifier import Scored
from taxonomy.live import StaticReferential
from tests.veille.smtpserver import Collecting, closed_port, smtp_server
from tests.web.signin import csrf_of, sign_in
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.app.web.guard import COUNTED_ROUTES, guard_of
from tfe.core.models import ApiToken, AuditEvent, User
from tfe.core.security import identity, security_alerts
from tfe.core.security.guard import Guard, Use
from tfe.core.security.models import SecurityAlert
from tfe.core.security.ratelimit import SharedLimiter
from tfe.core.settings import Settings

PASSWORD = "motdepasse-solide-42"
NATIONAL = ("admin@tfe.local", "admin-password-123")
DOCUMENTS = 40
BUDGET = 20  # reader per minute, for this test
HTML = {"Accept": "text/html"}
REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Guarded:
    rt: Runtime
    client: TestClient
    smtp: Collecting
    tokens: dict[str, str]
    token_ids: dict[str, int]
    users: dict[str, int]
    docs: list[str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _seed(rt: Runtime) -> tuple[dict[str, str], dict[str, int], dict[str, int], list[str]]:
    tokens: dict[str, str] = {}
    token_ids: dict[str, int] = {}
    users: dict[str, int] = {}
    with rt.session() as s:
        alpha = identity.get_or_create_org(s, "alpha", "CCI Alpha", "regional_chamber")
        beta = identity.get_or_create_org(s, "beta", "Banque Beta", "bank")
        national = s.scalar(select(User).where(User.email == NATIONAL[0]))
        assert national is not None
        for key, org, role in (
            ("owner", alpha, "contributor"),
            ("thief", alpha, "reader"),
            ("colleague", alpha, "reader"),
            ("second", alpha, "reader"),
            ("redis", alpha, "reader"),
            ("alpha-admin", alpha, "admin"),
            ("beta-admin", beta, "admin"),
        ):
            user = identity.create_user(
                s, email=f"{key}@{org.slug}.fr", org=org, role=role, password=PASSWORD
            )
            users[key] = user.id
        for key in [*users, "national"]:
            user = national if key == "national" else s.get(User, users[key])
            assert user is not None
            scopes = "read,write,admin" if user.role == "admin" else "read,write"
            row, tokens[key] = identity.create_token(s, user, name="guard-tests", scopes=scopes)
            token_ids[key] = row.id
        users["national"] = national.id
    writer = RecordWriter(
        DocumentSink(rt.session_factory, rt.blob_store),
        rt.backend,
        StaticReferential(rt.referential),
        commit=False,
    )
    docs = []
    for n in range(DOCUMENTS):
        text = f"Note export numéro {n} : marché des vins en Allemagne, fiche {n}."
        data = f"Fiche {n}\n\n{text}\n".encode()
        item = IngestItem(
            key=f"upload:{users['owner']}:fiche-{n}.txt",
            kind="document",
            filename=f"fiche-{n}.txt",
            data=data,
            org_id=alpha.id,
            owner_user_id=users["owner"],
            visibility="organisation",
            meta={"uploaded_by": users["owner"], "status": "validated"},
        )
        metadata = ExtractedMetadata(
            content_hash=hashlib.sha256(data).hexdigest(),
            mime="text/plain",
            size=len(data),
            modified_at=dt.datetime(2025, 1, 15),
        )
        passages = split_passages(text)
        saved = writer.run(
            item=item,
            metadata=metadata,
            text=text,
            title=f"Fiche {n}",
            language="fr",
            sectors=[Scored("naf:11", 0.9, ["vins"])],
            countries=[Scored("country:DE", 0.9, ["vins"])],
            doc_type=Scored("doctype:market_study", 0.9, ["vins"]),
            passages=passages,
            embeddings=None,
        )
        docs.append(saved["target_id"])
    rt.backend.commit()
    return tokens, token_ids, users, docs


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guarded]:
    smtp = Collecting()
    with smtp_server(smtp) as port:
        settings = Settings(
            data_dir=Path(tmp_path_factory.mktemp("tfe-guard")),
            environment="test",
            admin_password=NATIONAL[1],
            secret_key="guard-secret-key",
            smtp_url=f"smtp://127.0.0.1:{port}",
            public_url="http://tfe.test",
        )
        rt = Runtime(settings)
        init_installation(rt)
        tokens, token_ids, users, docs = _seed(rt)
        with TestClient(create_app(rt)) as client:
            yield Guarded(rt, client, smtp, tokens, token_ids, users, docs)
        rt.close()


def _sign_in(client: TestClient, email: str) -> str:
    client.cookies.clear()
    token = sign_in(client, email)
    return csrf_of(client.get("/admin/securite", headers=HTML).text) if "admin" in email else token


def _mails_to(smtp: Collecting, address: str, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [str(m["Subject"]) for m in smtp.messages if address in str(m["To"])]
        if found:
            return found
        time.sleep(0.05)
    return []


def _set_reader_budget(g: Guarded, per_minute: int) -> None:
    body = {
        "budgets": [
            {
                "role": "reader",
                "per_minute": per_minute,
                "per_hour": 10 * per_minute,
                "per_day": 50 * per_minute,
            }
        ]
    }
    answer = g.client.put("/api/admin/guard-budgets", json=body, headers=g.auth("national"))
    assert answer.status_code == 200, answer.text
    assert {
        "role": "reader",
        "per_minute": per_minute,
        "per_hour": 10 * per_minute,
        "per_day": 50 * per_minute,
    } in answer.json()["budgets"]


def _loop(
    g: Guarded, who: str, *, colleague: bool, guards: tuple[Guard, ...] = ()
) -> tuple[int, list[int], float, list[int]]:
    """Download every document with ``who``'s token until refused with 403; (got, statuses, seconds,
    the colleague's statuses). ``guards``: the app's guard, in turn, for each request (processes)."""
    got, statuses, theirs = 0, [], []
    started = time.perf_counter()
    for n in range(3 * DOCUMENTS):  # bounded: the guard must stop it long before
        if guards:
            g.client.app.state.guard = guards[n % len(guards)]  # type: ignore[attr-defined]
        doc = g.docs[n % DOCUMENTS]
        answer = g.client.get(f"/api/documents/{doc}/content", headers=g.auth(who))
        statuses.append(answer.status_code)
        if answer.status_code == 200:
            got += 1
        elif answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) >= 1
            assert answer.json()["error"]["code"] == "rate_limited"
        else:
            assert answer.status_code == 403, answer.text
            assert answer.json()["error"]["code"] == "suspended"
            break
        if colleague and n % 4 == 0:  # a colleague working normally meanwhile: reads and a search
            theirs.append(
                g.client.get(f"/api/documents/{g.docs[n // 4]}", headers=g.auth("colleague")).status_code
            )
            if n % 12 == 0:
                theirs.append(g.client.get("/api/search?q=vins", headers=g.auth("colleague")).status_code)
    return got, statuses, time.perf_counter() - started, theirs


def test_a_token_downloading_everything_is_stopped_and_admins_are_alerted(guarded: Guarded) -> None:
    g = guarded
    _set_reader_budget(g, BUDGET)
    got, statuses, seconds, theirs = _loop(g, "thief", colleague=True)
    throttled = statuses.count(429)
    print(
        f"\nexfiltration loop: {got} of {DOCUMENTS} documents obtained (budget {BUDGET}/min), {throttled} "
        f"answered 429, suspended after {len(statuses)} requests in {seconds:.2f} s "
        f"({1000 * seconds / len(statuses):.1f} ms per request)"
    )
    assert got <= BUDGET
    assert got == BUDGET  # the budget itself is served: normal use is not refused
    assert statuses[:BUDGET] == [200] * BUDGET
    assert throttled >= 1 and statuses[-1] == 403
    assert theirs and set(theirs) == {200}, theirs  # the colleague never saw an error

    # every later request with the token is refused, whatever the route
    again = g.client.get("/api/search?q=vins", headers=g.auth("thief"))
    assert again.status_code == 403 and again.json()["error"]["code"] == "suspended"
    assert g.client.get(f"/api/documents/{g.docs[0]}", headers=g.auth("colleague")).status_code == 200

    # the alert, seen by alpha's admin and the national admin, not by beta's
    alerts = g.client.get("/api/admin/security-alerts", headers=g.auth("alpha-admin")).json()["alerts"]
    mine = [a for a in alerts if a["user_id"] == g.users["thief"]]
    assert len(mine) == 1, alerts
    alert = mine[0]
    assert alert["response"] == "suspended" and alert["status"] == "open" and alert["rule"] == "budget_minute"
    assert alert["token_prefix"] and g.tokens["thief"].startswith(f"tfe_{alert['token_prefix']}_")
    assert alert["detail"]["counts"]["token"]["minute"] == BUDGET and alert["explanation"]
    national = g.client.get("/api/admin/security-alerts", headers=g.auth("national")).json()["alerts"]
    assert alert["id"] in {a["id"] for a in national}
    beta = g.client.get("/api/admin/security-alerts", headers=g.auth("beta-admin")).json()["alerts"]
    assert alert["id"] not in {a["id"] for a in beta}
    refused = g.client.post(
        f"/api/admin/security-alerts/{alert['id']}/review",
        json={"decision": "lift"},
        headers=g.auth("beta-admin"),
    )
    assert refused.status_code == 404

    # e-mails: alpha's admin and the national admin, never beta's admin nor the thief
    assert any("Alerte de sécurité" in s for s in _mails_to(g.smtp, "alpha-admin@alpha.fr"))
    assert _mails_to(g.smtp, NATIONAL[0])
    assert not _mails_to(g.smtp, "beta-admin@beta.fr", timeout=0.2)
    assert not _mails_to(g.smtp, "thief@alpha.fr", timeout=0.2)
    with g.rt.session() as s:
        row = s.get(SecurityAlert, alert["id"])
        assert row is not None and row.detail["mail"]["sent"]
        actions = set(
            s.scalars(select(AuditEvent.action).where(AuditEvent.actor_user_id == g.users["thief"]))
        )
        assert {"guard.throttled", "guard.suspended"} <= actions
        token = s.get(ApiToken, g.token_ids["thief"])
        assert token is not None and token.suspended_at is not None

    # the admin page lists it; lifting it there lets the token work again
    csrf = _sign_in(g.client, "alpha-admin@alpha.fr")
    page = g.client.get("/admin/securite", headers=HTML)
    assert page.status_code == 200 and f'data-alert="{alert["id"]}"' in page.text
    assert "thief@alpha.fr" in page.text and "Lever" in page.text and "Confirmer" in page.text
    detected = time.perf_counter()
    lifted = g.client.post(
        f"/admin/securite/alertes/{alert['id']}/lever",
        data={"csrf": csrf, "note": "test de charge"},
        follow_redirects=False,
    )
    assert lifted.status_code == 303
    g.client.cookies.clear()
    assert g.client.get(f"/api/documents/{g.docs[0]}/content", headers=g.auth("thief")).status_code == 200
    with g.rt.session() as s:
        row = s.get(SecurityAlert, alert["id"])
        assert row is not None and row.status == "lifted" and row.review_note == "test de charge"
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.action == "guard.alert_lifted")) is not None
    assert time.perf_counter() - detected < 5


def test_confirming_an_alert_revokes_the_token_and_may_deactivate(guarded: Guarded) -> None:
    g = guarded
    got, statuses, _, _ = _loop(g, "second", colleague=False)
    assert got <= BUDGET and statuses[-1] == 403
    alerts = g.client.get("/api/admin/security-alerts", headers=g.auth("national")).json()["alerts"]
    alert = next(a for a in alerts if a["user_id"] == g.users["second"])
    bad = g.client.post(
        f"/api/admin/security-alerts/{alert['id']}/review",
        json={"decision": "maybe"},
        headers=g.auth("national"),
    )
    assert bad.status_code == 400
    done = g.client.post(
        f"/api/admin/security-alerts/{alert['id']}/review",
        json={"decision": "confirm", "note": "exfiltration avérée", "deactivate": True},
        headers=g.auth("national"),
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "confirmed"
    twice = g.client.post(
        f"/api/admin/security-alerts/{alert['id']}/review",
        json={"decision": "lift"},
        headers=g.auth("national"),
    )
    assert twice.status_code == 409
    assert g.client.get(f"/api/documents/{g.docs[0]}", headers=g.auth("second")).status_code == 401
    with g.rt.session() as s:
        token = s.get(ApiToken, g.token_ids["second"])
        user = s.get(User, g.users["second"])
        assert token is not None and token.revoked_at is not None and user is not None and not user.active
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.action == "guard.alert_confirmed")) is not None


def _redis_guard(g: Guarded) -> Guard:
    """A guard counting in Redis over a connection of its own: another server process."""
    settings = g.rt.settings.model_copy(update={"ratelimit_url": REDIS_URL})
    storage = storage_from_string(REDIS_URL)
    assert isinstance(storage, Storage)
    return Guard(settings, limiter=SharedLimiter(storage, REDIS_URL))


def test_on_redis_two_processes_stop_the_loop_together(guarded: Guarded) -> None:
    g = guarded
    app = g.client.app
    embedded = app.state.guard  # type: ignore[attr-defined]
    one, two = _redis_guard(g), _redis_guard(g)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        _set_reader_budget(g, BUDGET)
        got, statuses, _, theirs = _loop(g, "redis", colleague=True, guards=(one, two))
        assert got == BUDGET and statuses[:BUDGET] == [200] * BUDGET  # 10 served by each, counted as 20
        assert 429 in statuses and statuses[-1] == 403
        assert theirs and set(theirs) == {200}, theirs
        assert not one.limiter.degraded and not two.limiter.degraded  # counted in Redis, not in memory
        assert client.keys(f"LIMITS:LIMITER/{one.ns}:token:{g.token_ids['redis']}/*")
        with g.rt.session() as s:
            user, budget = s.get(User, g.users["redis"]), one.budgets.get(s, "reader")
            assert user is not None
            counts = one.counts(user, g.token_ids["redis"], budget)
            assert counts == two.counts(user, g.token_ids["redis"], budget)
            assert counts["token"]["minute"] == BUDGET
        alerts = g.client.get("/api/admin/security-alerts", headers=g.auth("national")).json()["alerts"]
        alert = next(a for a in alerts if a["user_id"] == g.users["redis"])
        assert alert["rule"] == "budget_minute" and alert["detail"]["counts"]["token"]["minute"] == BUDGET
        lifted = g.client.post(
            f"/api/admin/security-alerts/{alert['id']}/review",
            json={"decision": "lift"},
            headers=g.auth("national"),
        )
        assert lifted.status_code == 200, lifted.text  # the counters are cleared in Redis ...
        app.state.guard = one  # type: ignore[attr-defined]
        answer = g.client.get(f"/api/documents/{g.docs[0]}/content", headers=g.auth("redis"))
        assert answer.status_code == 200  # ... for both processes
        with g.rt.session() as s:
            user = s.get(User, g.users["redis"])
            assert user is not None
            assert two.counts(user, g.token_ids["redis"], budget)["token"]["minute"] == 1
    finally:
        app.state.guard = embedded  # type: ignore[attr-defined]
        keys = list(client.scan_iter(match=f"LIMITS:LIMITER/{one.ns}:*"))
        if keys:
            client.delete(*keys)


def test_the_admin_api_refuses_bad_input_and_non_admins(guarded: Guarded) -> None:
    g = guarded
    assert g.client.get("/api/admin/security-alerts", headers=g.auth("colleague")).status_code == 403
    assert g.client.get("/api/admin/guard-budgets", headers=g.auth("colleague")).status_code == 403
    assert (
        g.client.get("/api/admin/security-alerts?status=nope", headers=g.auth("national")).status_code == 400
    )
    assert (
        g.client.post(
            "/api/admin/security-alerts/999999/review", json={"decision": "lift"}, headers=g.auth("national")
        ).status_code
        == 404
    )
    upside_down = {"budgets": [{"role": "reader", "per_minute": 50, "per_hour": 10, "per_day": 100}]}
    answer = g.client.put("/api/admin/guard-budgets", json=upside_down, headers=g.auth("national"))
    assert answer.status_code == 400 and "per_minute <= per_hour" in answer.json()["error"]["message"]
    unknown = {"budgets": [{"role": "boss", "per_minute": 1, "per_hour": 1, "per_day": 1}]}
    assert (
        g.client.put("/api/admin/guard-budgets", json=unknown, headers=g.auth("national")).status_code == 400
    )
    ordinary = {"budgets": [{"role": "reader", "per_minute": 500, "per_hour": 5000, "per_day": 50000}]}
    answer = g.client.put("/api/admin/guard-budgets", json=ordinary, headers=g.auth("alpha-admin"))
    assert answer.status_code == 403  # an organisation's admin does not set everyone's budgets
    budgets = g.client.get("/api/admin/guard-budgets", headers=g.auth("alpha-admin")).json()["budgets"]
    assert {b["role"] for b in budgets} == {"reader", "contributor", "curator", "admin"}
    assert next(b for b in budgets if b["role"] == "reader")["per_minute"] == BUDGET


def test_a_mail_failure_is_recorded_never_raised(guarded: Guarded) -> None:
    g = guarded
    settings = g.rt.settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{closed_port()}"})
    with g.rt.session() as s:
        user = s.get(User, g.users["colleague"])
        assert user is not None
        alert = security_alerts.raise_alert(
            s,
            user=user,
            token_id=None,
            session_id=None,
            rule="off_hours",
            response="notified",
            detail={"explanation": "test"},
        )
        alert_id = alert.id
    outcome = security_alerts.notify_admins(settings, g.rt.session_factory, alert_id)
    assert outcome["failed"] and not outcome["sent"]
    with g.rt.session() as s:
        row = s.get(SecurityAlert, alert_id)
        assert row is not None and "alpha-admin@alpha.fr" in row.detail["mail"]["failed"]
        assert s.scalar(
            select(AuditEvent.id).where(
                AuditEvent.action == "guard.mail_failed", AuditEvent.target_id == str(alert_id)
            )
        )
        row.status = "lifted"  # out of the way of the page tests


def test_the_common_path_reads_no_table_and_a_disabled_guard_counts_nothing(guarded: Guarded) -> None:
    g = guarded
    guard = guard_of(g.client.app)  # type: ignore[arg-type]
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    with g.rt.session() as s:
        user = s.get(User, g.users["colleague"])
        token = s.get(ApiToken, g.token_ids["colleague"])  # loaded, as authentication does
        assert user is not None and token is not None
        use = Use(
            kind="read", target=f"document:{g.docs[1]}", address="192.0.2.7", route="/api/documents/{doc_id}"
        )
        guard.check(s, user, use, token_id=token.id, session_id=None)  # warms the budgets' cache
        event.listen(g.rt.engine, "before_cursor_execute", count)
        try:
            for _ in range(3):
                guard.check(
                    s, user, Use(kind="search", route="/api/search"), token_id=token.id, session_id=None
                )
                guard.check(s, user, use, token_id=token.id, session_id=None)
        finally:
            event.remove(g.rt.engine, "before_cursor_execute", count)
    assert statements == []

    off = type(guard)(g.rt.settings.model_copy(update={"guard_enabled": False}))
    with g.rt.session() as s:
        user = s.get(User, g.users["colleague"])
        assert user is not None
        for _ in range(BUDGET * 3):  # far over the budget: nothing counted, nothing refused
            off.check(
                s, user, Use(kind="download", target="document:x", route="r"), token_id=None, session_id=None
            )


def _get_routes(app: object) -> set[str]:
    paths: set[str] = set()
    for route in app.router.routes:  # type: ignore[attr-defined]
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for ctx in contexts:
            if "GET" in (getattr(ctx, "methods", None) or set()):
                paths.add(ctx.path_format)
    return paths


def test_the_counted_routes_table_names_only_existing_get_routes(guarded: Guarded) -> None:
    routes = _get_routes(guarded.client.app)
    assert set(COUNTED_ROUTES) <= routes, sorted(set(COUNTED_ROUTES) - routes)
    exports = {r for r in routes if "export" in r or r.endswith("/content")}
    assert exports <= set(COUNTED_ROUTES), sorted(exports - set(COUNTED_ROUTES))
    assert {c.kind for c in COUNTED_ROUTES.values()} == {"read", "download", "export", "search"}
