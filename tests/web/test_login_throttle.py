"""Repeated failed sign-ins are throttled (per account and per client address), then audited."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, make_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.models import AuditEvent
from tfe.core.security.throttle import LoginThrottle


@pytest.fixture
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, TestClient]]:
    rt, _seed = make_installation(tmp_path_factory.mktemp("throttle"))
    with TestClient(create_app(rt)) as client:
        yield rt, client
    rt.close()


def _login(client: TestClient, email: str, password: str) -> int:
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf": csrf, "next": "/"},
        follow_redirects=False,
    )
    client.cookies.clear()
    return response.status_code


def test_five_failures_block_even_the_right_password(app_client: tuple[Runtime, TestClient]) -> None:
    rt, client = app_client
    assert [_login(client, "alice@alpha.fr", "wrong-password!") for _ in range(5)] == [401] * 5
    assert _login(client, "alice@alpha.fr", PASSWORD) == 429
    with rt.session() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("auth.login_failed") == 5 and "auth.login_throttled" in actions


def test_throttle_window_and_reset() -> None:
    throttle = LoginThrottle(max_failures=2, window_s=0.05)
    throttle.failed("email:a")
    assert not throttle.blocked("email:a")
    throttle.failed("email:a")
    assert throttle.blocked("email:a", "ip:x")
    throttle.succeeded("email:a")
    assert not throttle.blocked("email:a")
    throttle.failed("email:b")
    throttle.failed("email:b")
    time.sleep(0.06)
    assert not throttle.blocked("email:b")  # failures older than the window no longer count
