"""Failed sign-ins through ``POST /login`` are throttled per (account, address), per address and per
account (a soft lock the real user gets through), answered 429 with ``Retry-After``, and audited with
the client address. One installation for the module; each test builds its app on its own settings and
counts under its own key prefix. Two apps on one Redis are two server processes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, make_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.models import AuditEvent
from tfe.core.security.ratelimit import namespace_for
from tfe.core.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/0"
ALICE = "alice@alpha.fr"
WRONG = "wrong-password!"
PROXY = "10.0.0.2"

MakeApp = Callable[..., FastAPI]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    rt, _seed = make_installation(tmp_path_factory.mktemp("throttle"))
    base = rt.settings
    yield rt
    rt.settings = base
    rt.close()


@pytest.fixture
def make_app(runtime: Runtime) -> Iterator[MakeApp]:
    """``make_app(**settings)``: an app on the module's installation with those settings, counting under
    a key prefix of this test (so tests never see each other's failures)."""
    base = runtime.settings
    namespace = f"tfe-test-{uuid.uuid4().hex[:12]}"

    def make(**overrides: object) -> FastAPI:
        runtime.settings = base.model_copy(update=overrides)
        app = create_app(runtime)
        app.state.login_throttle.namespace = namespace
        return app

    yield make
    runtime.settings = base
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"LIMITS:LIMITER/{namespace}*"))
    if keys:
        client.delete(*keys)


def _login(
    client: TestClient, email: str, password: str, forwarded: str | None = None
) -> tuple[int, str | None]:
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf": csrf, "next": "/"},
        headers={"X-Forwarded-For": forwarded} if forwarded else {},
        follow_redirects=False,
    )
    client.cookies.clear()
    return response.status_code, response.headers.get("retry-after")


def _events(rt: Runtime, action: str) -> list[AuditEvent]:
    with rt.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_an_attacker_elsewhere_does_not_lock_alice_out(runtime: Runtime, make_app: MakeApp) -> None:
    app = make_app()
    attacker = TestClient(app, client=("192.0.2.66", 5000))
    alice = TestClient(app, client=("198.51.100.7", 5001))
    assert [_login(attacker, ALICE, WRONG)[0] for _ in range(5)] == [401] * 5
    status, retry_after = _login(attacker, ALICE, PASSWORD)
    assert status == 429 and retry_after is not None and 290 <= int(retry_after) <= 300
    assert _login(alice, ALICE, PASSWORD) == (303, None)  # the real user, from her own address
    attempt = {"email": ALICE, "address": "192.0.2.66"}
    throttled = _events(runtime, "auth.login_throttled")
    assert throttled and attempt.items() <= dict(throttled[-1].detail or {}).items()
    failed = [e for e in _events(runtime, "auth.login_failed") if attempt.items() <= (e.detail or {}).items()]
    assert len(failed) == 5


def test_rotating_forwarded_for_from_an_untrusted_peer_is_still_one_address(make_app: MakeApp) -> None:
    client = TestClient(make_app(login_address_max_failures=4), client=("192.0.2.70", 5000))
    codes = [_login(client, f"nobody{n}@alpha.fr", WRONG, f"203.0.113.{n}")[0] for n in range(4)]
    assert codes == [401] * 4
    assert _login(client, "carol@alpha.fr", PASSWORD, "203.0.113.99")[0] == 429  # the address is held


def test_forwarded_for_from_a_trusted_proxy_is_believed(runtime: Runtime, make_app: MakeApp) -> None:
    proxy = TestClient(make_app(trusted_proxies=[PROXY]), client=(PROXY, 5000))
    assert [_login(proxy, ALICE, WRONG, "192.0.2.80")[0] for _ in range(5)] == [401] * 5
    assert _login(proxy, ALICE, PASSWORD, "192.0.2.80")[0] == 429
    assert _login(proxy, ALICE, PASSWORD, "198.51.100.80")[0] == 303  # another client behind the proxy
    assert (_events(runtime, "auth.login_throttled")[-1].detail or {})["address"] == "192.0.2.80"


def test_soft_account_lock_lets_one_attempt_through_after_the_delay(make_app: MakeApp) -> None:
    proxy = TestClient(
        make_app(trusted_proxies=[PROXY], login_account_max_failures=3, login_account_delay_s=1),
        client=(PROXY, 5000),
    )
    for n in range(3):  # a distributed attack: one failure from each of three addresses
        assert _login(proxy, ALICE, WRONG, f"203.0.113.{n}")[0] == 401
    assert _login(proxy, ALICE, WRONG, "203.0.113.50")[0] == 401  # the attempt of this second
    status, retry_after = _login(proxy, ALICE, PASSWORD, "198.51.100.9")
    assert status == 429 and retry_after == "1"  # the account is slowed down, from everywhere
    time.sleep(1.1)
    assert _login(proxy, ALICE, PASSWORD, "198.51.100.9")[0] == 303  # never a hard lock


def test_two_processes_on_redis_agree_and_a_restart_remembers(make_app: MakeApp) -> None:
    first = TestClient(make_app(ratelimit_url=REDIS_URL), client=("192.0.2.90", 5000))
    second = TestClient(make_app(ratelimit_url=REDIS_URL), client=("192.0.2.90", 5001))
    for client in (first, second, first, second, first):
        assert _login(client, ALICE, WRONG)[0] == 401
    assert _login(second, ALICE, PASSWORD)[0] == 429
    restarted = TestClient(make_app(ratelimit_url=REDIS_URL), client=("192.0.2.90", 5002))
    assert _login(restarted, ALICE, PASSWORD)[0] == 429


def test_redis_down_still_throttles_without_an_error(make_app: MakeApp) -> None:
    client = TestClient(make_app(ratelimit_url="redis://127.0.0.1:1/0"), client=("192.0.2.91", 5000))
    assert [_login(client, ALICE, WRONG)[0] for _ in range(5)] == [401] * 5
    assert _login(client, ALICE, PASSWORD)[0] == 429
    assert _login(TestClient(client.app, client=("192.0.2.92", 5000)), ALICE, PASSWORD)[0] == 303


def test_the_app_counts_under_its_installation_prefix(runtime: Runtime) -> None:
    app = create_app(runtime)
    assert app.state.login_throttle.namespace == namespace_for(runtime.settings)
    assert app.state.token_throttle.namespace == namespace_for(runtime.settings)
    assert isinstance(runtime.settings, Settings)
