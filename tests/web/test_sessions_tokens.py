"""Revocable server-side sessions and scoped, expiring API tokens, through the real app (issue 9).

Reproduces "session replay after logout" (a cookie copied before ``POST /logout`` kept working for hours)
and "bad API tokens" (300 in 10 s neither throttled nor audited), then checks what ends a session or a
token at its next request. The tests add their own accounts (organisation ``alpha``) so the shared
installation's seeded users stay as they are.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, Installation
from tests.web.signin import csrf_of
from tfe.core.db import utcnow
from tfe.core.models import ApiToken, AuditEvent, User
from tfe.core.security import identity
from tfe.core.security.models import SecurityAlert, UserSession

HTML = {"Accept": "text/html"}
NATIONAL = ("admin@tfe.local", "admin-password-123")


@dataclass
class Person:
    id: int
    email: str


def _new_user(installation: Installation, role: str = "contributor") -> Person:
    email = f"s{uuid.uuid4().hex[:8]}@alpha.fr"
    with installation.rt.session() as s:
        user = identity.create_user(
            s, email=email, org=identity.find_org(s, "alpha"), role=role, password=PASSWORD
        )
        return Person(user.id, email)


def _token(installation: Installation, who: int | str, **kwargs: object) -> tuple[int, str]:
    with installation.rt.session() as s:
        user = identity.find_user(s, who) if isinstance(who, str) else s.get(User, who)
        assert user is not None
        token, raw = identity.create_token(s, user, "tests", **kwargs)  # type: ignore[arg-type]
        return token.id, raw


def _browser(installation: Installation, email: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    """A fresh browser signed in through the login form; returns it and its session's CSRF token."""
    browser = TestClient(installation.client.app)
    login = browser.post(
        "/login",
        data={"email": email, "password": password, "csrf": csrf_of(browser.get("/login").text)},
        follow_redirects=False,
    )
    assert login.status_code == 303, login.text
    return browser, csrf_of(browser.get("/compte", headers=HTML).text)


def _copy(installation: Installation, browser: TestClient) -> TestClient:
    """Another client holding a copy of ``browser``'s session cookie (what a thief would replay)."""
    thief = TestClient(installation.client.app)
    thief.cookies.set("tfe_session", browser.cookies["tfe_session"])
    return thief


def _events(installation: Installation, action: str) -> list[AuditEvent]:
    with installation.rt.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _signed_out(installation: Installation, client: TestClient) -> None:
    """``client``'s cookie no longer works: the API answers 401 and a page redirects to ``/login``."""
    assert client.get("/api/me").status_code == 401
    page = client.get("/compte", headers=HTML, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_a_copied_cookie_stops_working_at_logout(installation: Installation) -> None:
    person = _new_user(installation)
    browser, csrf = _browser(installation, person.email)
    thief = _copy(installation, browser)
    assert thief.get("/api/me").json()["email"] == person.email  # the replay works while signed in
    assert thief.get("/compte", headers=HTML).status_code == 200
    logout = browser.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert logout.status_code == 303 and logout.headers["location"] == "/login"
    _signed_out(installation, thief)
    _signed_out(installation, browser)
    with installation.rt.session() as s:
        row = s.scalars(select(UserSession).where(UserSession.user_id == person.id)).one()
        assert row.revoked_reason == "logout" and row.auth_method == "password"
        assert row.address == "testclient" and row.user_agent.startswith("testclient")
    login = next(e for e in reversed(_events(installation, "auth.login")) if e.target_id == str(person.id))
    assert login.detail["method"] == "password" and len(login.detail["session"]) == 16


def test_admin_deactivation_role_change_and_password_change_end_sessions(installation: Installation) -> None:
    person = _new_user(installation)
    admin, admin_csrf = _browser(installation, *NATIONAL)
    for action, data in (
        ("sessions/fermer", {}),
        ("role", {"role": "reader"}),
        ("desactiver", {}),
    ):
        browser, _ = _browser(installation, person.email)
        users_page = admin.get(f"/admin/organisations/{installation.orgs['alpha']}", headers=HTML).text
        assert f"Fermer les sessions de {person.email}" in users_page
        done = admin.post(
            f"/admin/utilisateurs/{person.id}/{action}", data={"csrf": admin_csrf, **data}, headers=HTML
        )
        assert done.status_code == 200, done.text
        _signed_out(installation, browser)
        if action == "sessions/fermer":
            assert f"1 session(s) de {person.email} fermée(s)" in done.text
            event = _events(installation, "session.revoke")[-1]
            assert event.target_id == str(person.id) and event.detail["count"] == 1
    assert _events(installation, "user.deactivate")[-1].detail["sessions_ended"] == 1
    admin.post(f"/admin/utilisateurs/{person.id}/reactiver", data={"csrf": admin_csrf}, headers=HTML)
    # a password change on /compte keeps this browser and ends every other one
    first, csrf = _browser(installation, person.email)
    second, _ = _browser(installation, person.email)
    new_password = "un-tout-nouveau-secret"
    changed = first.post(
        "/compte/mot-de-passe",
        data={"csrf": csrf, "current": PASSWORD, "password": new_password, "confirm": new_password},
        headers=HTML,
    )
    assert changed.status_code == 200 and "Mot de passe modifié : 1 autre(s) session(s)" in changed.text
    assert first.get("/api/me").status_code == 200
    _signed_out(installation, second)
    _browser(installation, person.email, new_password)


def test_token_scopes_are_enforced(installation: Installation, client: TestClient) -> None:
    person = _new_user(installation)
    _, read_only = _token(installation, person.id, scopes=("read",))
    _, write_only = _token(installation, person.id, scopes=("write",))
    reading = {"Authorization": f"Bearer {read_only}"}
    assert client.get("/api/me", headers=reading).json()["scopes"] == ["read"]
    refused = client.post("/api/me/tokens", json={"name": "x"}, headers=reading)
    assert (
        refused.status_code == 403 and refused.json()["error"]["message"] == "token lacks the 'write' scope"
    )
    refused = client.get("/api/me", headers={"Authorization": f"Bearer {write_only}"})
    assert refused.status_code == 403 and refused.json()["error"]["message"] == "token lacks the 'read' scope"
    assert _events(installation, "auth.token_scope")[-1].detail["scope"] == "read"
    # /api/admin needs the admin scope, and the admin role behind it
    _, plain_admin = _token(installation, NATIONAL[0])
    _, full_admin = _token(installation, NATIONAL[0], scopes="read,write,admin")
    refused = client.get("/api/admin/erasures", headers={"Authorization": f"Bearer {plain_admin}"})
    assert refused.status_code == 403 and "'admin' scope" in refused.json()["error"]["message"]
    assert (
        client.get("/api/admin/erasures", headers={"Authorization": f"Bearer {full_admin}"}).status_code
        == 200
    )
    # a token may only grant what it holds; a non-administrator never gets the admin scope
    writer = {"Authorization": f"Bearer {_token(installation, person.id)[1]}"}
    assert (
        client.post("/api/me/tokens", json={"scopes": ["read", "admin"]}, headers=writer).status_code == 403
    )
    created = client.post("/api/me/tokens", json={"scopes": ["read"], "expires_days": 1}, headers=writer)
    assert created.status_code == 201 and created.json()["token"]["scopes"] == ["read"]
    for bad in (
        {"scopes": ["delete"]},
        {"expires_days": 0},
        {"expires_days": 3651},
        {"scopes": []},
        {"x": 1},
    ):
        answer = client.post("/api/me/tokens", json=bad, headers=writer)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid", bad


def test_revoked_expired_and_suspended_credentials_stop_at_the_next_request(
    installation: Installation, client: TestClient
) -> None:
    person = _new_user(installation)
    token_id, raw = _token(installation, person.id)
    bearer = {"Authorization": f"Bearer {raw}"}
    other_id, other = _token(installation, person.id)
    assert client.get("/api/me/tokens", headers=bearer).status_code == 200
    revoked = client.delete(f"/api/me/tokens/{token_id}", headers={"Authorization": f"Bearer {other}"})
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert client.get("/api/me", headers=bearer).status_code == 401
    assert _events(installation, "token.revoke")[-1].detail == {
        "name": "tests",
        "by": "owner",
        "channel": "api",
    }
    with installation.rt.session() as s:  # un-revoke but expire the first, suspend the other (as the guard)
        first, second = s.get(ApiToken, token_id), s.get(ApiToken, other_id)
        assert first is not None and second is not None
        first.revoked_at, first.expires_at = None, utcnow() - dt.timedelta(seconds=1)
        second.suspended_at = utcnow()
    assert client.get("/api/me", headers=bearer).status_code == 401  # expired
    suspended = client.get("/api/me", headers={"Authorization": f"Bearer {other}"})
    assert suspended.status_code == 403 and suspended.json()["error"]["code"] == "suspended"
    # a suspended session: 403 on the API, a French page on the pages, and it may still sign out
    browser, csrf = _browser(installation, person.email)
    with installation.rt.session() as s:
        for row in s.scalars(select(UserSession).where(UserSession.user_id == person.id)):
            row.suspended_at = utcnow()
    assert browser.get("/api/me").json()["error"]["code"] == "suspended"
    page = browser.get("/compte", headers=HTML)
    assert page.status_code == 403 and "Votre session est suspendue" in page.text
    assert (
        browser.post("/logout", data={"csrf": csrf}, follow_redirects=False).headers["location"] == "/login"
    )


def test_own_sessions_are_listed_and_ended_through_the_api(installation: Installation) -> None:
    person, stranger = _new_user(installation), _new_user(installation)
    first, csrf = _browser(installation, person.email)
    second, _ = _browser(installation, person.email)
    other, _ = _browser(installation, stranger.email)
    listed = first.get("/api/me/sessions").json()
    assert listed["total"] == 2 and [s["current"] for s in listed["sessions"]].count(True) == 1
    secret = first.cookies["tfe_session"]
    assert all(s["id"] not in secret for s in listed["sessions"])
    theirs = other.get("/api/me/sessions").json()["sessions"][0]["id"]
    assert first.delete(f"/api/me/sessions/{theirs}", headers={"X-CSRF-Token": csrf}).status_code == 404
    assert first.delete("/api/me/sessions/not-an-id", headers={"X-CSRF-Token": csrf}).status_code == 400
    assert first.delete(f"/api/me/sessions/{theirs}").status_code == 403  # a cookie without the CSRF header
    mine = next(s["id"] for s in listed["sessions"] if not s["current"])
    ended = first.delete(f"/api/me/sessions/{mine}", headers={"X-CSRF-Token": csrf})
    assert ended.status_code == 200 and ended.json()["state"] == "revoked"
    _signed_out(installation, second)
    assert other.get("/api/me").status_code == 200  # the stranger's session is untouched
    assert _events(installation, "session.revoke")[-1].target_id == mine


def test_bad_tokens_are_throttled_and_audited(installation: Installation, client: TestClient) -> None:
    address = f"203.0.113.{uuid.uuid4().int % 200 + 20}"
    attacker = TestClient(installation.client.app, client=(address, 40000))
    statuses: list[int] = []
    for n in range(300):  # how fast is bench/guard.py's business, not a test's (no timed assertion)
        answer = attacker.get("/api/me", headers={"Authorization": f"Bearer tfe_{n:08x}_guessed-secret-{n}"})
        statuses.append(answer.status_code)
    failed = statuses.index(429)
    assert 1 <= failed <= 100 and set(statuses[:failed]) == {401} and set(statuses[failed:]) == {429}
    assert int(answer.headers["Retry-After"]) >= 1 and answer.json()["error"]["code"] == "rate_limited"
    recorded = [e for e in _events(installation, "auth.token_failed") if e.detail.get("address") == address]
    assert len(recorded) == failed
    assert recorded[0].detail["prefix"] == "00000000" and "guessed-secret" not in str(recorded[0].detail)
    throttled = [
        e for e in _events(installation, "auth.token_throttled") if e.detail.get("address") == address
    ]
    assert len(throttled) == 300 - failed
    # the attacker's address is refused even with a good token; everyone else carries on
    _, good = _token(installation, "alice@alpha.fr")
    assert attacker.get("/api/me", headers={"Authorization": f"Bearer {good}"}).status_code == 429
    assert client.get("/api/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200


@pytest.mark.parametrize("header", ["Basic abc", "Bearer ", "Bearer " + "x" * 300])
def test_malformed_authorization_is_a_401(client: TestClient, header: str) -> None:
    answer = client.get("/api/me", headers={"Authorization": header})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthenticated"


def test_a_session_suspended_by_the_guard_holds_new_sign_ins_until_reviewed(
    installation: Installation,
) -> None:
    person = _new_user(installation)
    browser, _csrf_token = _browser(installation, person.email)
    with installation.rt.session() as s:
        row = s.scalars(select(UserSession).where(UserSession.user_id == person.id)).one()
        row.suspended_at = utcnow()
        alert = SecurityAlert(
            user_id=person.id,
            org_id=installation.orgs["alpha"],
            session_id=row.id,
            rule="budget",
            response="suspended",
        )
        s.add(alert)
        s.flush()
        alert_id = alert.id
    assert browser.get("/api/me").status_code == 403
    fresh = TestClient(installation.client.app)
    login = fresh.post(
        "/login",
        data={"email": person.email, "password": PASSWORD, "csrf": csrf_of(fresh.get("/login").text)},
        headers=HTML,
        follow_redirects=False,
    )
    assert login.status_code == 403 and "administrateur doit lever" in login.text
    assert fresh.get("/api/me").status_code == 401  # no session was opened
    assert any(e.target_id == str(person.id) for e in _events(installation, "auth.login_held"))
    with installation.rt.session() as s:
        held = s.get(SecurityAlert, alert_id)
        assert held is not None
        held.status = "lifted"
    browser2, _ = _browser(installation, person.email)  # once reviewed, signing in works again
    assert browser2.get("/api/me").json()["email"] == person.email
