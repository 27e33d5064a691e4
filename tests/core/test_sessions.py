"""Server-side sessions and scoped, expiring API tokens on SQLite and PostgreSQL (tfe.core.security)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.core.accounts_world import NATIONAL, World, build_world
from tfe.core.db import session_scope, utcnow
from tfe.core.errors import AuthenticationError, NotFoundError, SuspendedError, ValidationError
from tfe.core.models import ApiToken, AuditEvent, User
from tfe.core.security import administration as adm
from tfe.core.security import credentials, identity, sessions
from tfe.core.security.models import UserSession
from tfe.core.settings import Settings

PASSWORD = "mot-de-passe-assez-long"


@pytest.fixture
def world(db_settings: Settings) -> Iterator[World]:
    yield from build_world(
        db_settings,
        [NATIONAL, ("cci", "cci-sud", "CCI Sud", "regional_chamber")],
        [("admin", "bf", "admin"), ("ana", "cci", "contributor"), ("ben", "cci", "reader")],
        password=PASSWORD,
    )


def _start(s: Session, user: User, max_age_s: int = 3600) -> tuple[UserSession, str]:
    return sessions.start(s, user, address="198.51.100.7", user_agent="x" * 500, max_age_s=max_age_s)


def test_sessions_start_lookup_revoke(world: World) -> None:
    with session_scope(world.factory) as s:
        ana = world.user(s, "ana")
        row, secret = _start(s, ana)
        other, _ = _start(s, ana)
        assert row.id == hashlib.sha256(secret.encode()).hexdigest() and secret not in row.id
        assert len(row.user_agent) == 300 and row.address == "198.51.100.7"
        row_id, other_id = row.id, other.id
    with session_scope(world.factory) as s:
        found = sessions.lookup(s, secret)
        assert found is not None and found.id == row_id and sessions.state(found) == "active"
        assert sessions.lookup(s, secret + "x") is None and sessions.lookup(s, "") is None
        assert not sessions.touch(found)  # seen less than a minute ago: no write
        assert sessions.touch(found, utcnow() + dt.timedelta(minutes=2))
        public = sessions.public_id(found)
        assert len(public) == 16 and public not in secret
        assert sessions.find_for_user(s, world.ids["ana"], public) is found
        assert sessions.find_for_user(s, world.ids["ben"], public) is None  # not someone else's
        assert sessions.find_for_user(s, world.ids["ana"], "not-hex") is None
        sessions.revoke(s, found, "logout")
        sessions.revoke(s, found, "again")  # idempotent: the first reason stays
    with session_scope(world.factory) as s:
        again = sessions.lookup(s, secret)
        assert again is not None and sessions.state(again) == "revoked" and again.revoked_reason == "logout"
        assert sessions.revoke_all(s, world.ids["ana"], "admin") == 1  # only the other one was open
        listed = sessions.list_for_user(s, world.ids["ana"])
        assert {r.id for r in listed} == {row_id, other_id}
        assert all(sessions.state(r) == "revoked" for r in listed)


def test_expired_and_suspended_sessions(world: World) -> None:
    with session_scope(world.factory) as s:
        row, _ = _start(s, world.user(s, "ana"), max_age_s=60)
        assert sessions.state(row, utcnow() + dt.timedelta(seconds=61)) == "expired"
        row.suspended_at = utcnow()
        assert sessions.state(row) == "suspended"


def test_password_change_deactivation_and_role_change_end_sessions(world: World) -> None:
    with session_scope(world.factory) as s:
        ana = world.user(s, "ana")
        keep, _ = _start(s, ana)
        _start(s, ana)
        assert identity.change_password(s, ana, "un-nouveau-mot-de-passe", keep_session=keep.id) == 1
        assert ana.password_changed_at is not None
        assert sessions.state(keep) == "active"
        admin = world.user(s, "admin")
        adm.change_role(s, admin, ana.id, "curator")
        s.refresh(keep)
        assert sessions.state(keep) == "revoked" and keep.revoked_reason == "role changed"
        _start(s, ana)
        adm.set_active(s, admin, ana.id, False)
        assert adm.open_sessions(s, admin, ana.org_id) == {}
        detail = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "user.deactivate")).one()
        assert detail["sessions_ended"] == 1
        adm.set_active(s, admin, ana.id, True)
        _start(s, ana)
        _start(s, world.user(s, "ben"))
        assert adm.open_sessions(s, admin, ana.org_id) == {ana.id: 1, world.ids["ben"]: 1}
        assert adm.end_sessions(s, admin, ana.id) == 1
        assert adm.open_sessions(s, admin, ana.org_id) == {world.ids["ben"]: 1}
        with pytest.raises(ValidationError):
            identity.change_password(s, ana, "court")


def test_token_scopes_and_expiry_are_validated(world: World) -> None:
    with session_scope(world.factory) as s:
        ana, admin = world.user(s, "ana"), world.user(s, "admin")
        token, raw = identity.create_token(s, ana, "ci")
        assert identity.token_scopes(token) == ("read", "write")
        assert token.expires_at is not None
        days = (token.expires_at - utcnow()).total_seconds() / 86400
        assert 89.9 < days <= 90  # the documented default
        assert identity.public_prefix(raw) == token.prefix
        assert identity.public_prefix("garbage") is None
        for bad in (
            {"scopes": "read,delete"},
            {"scopes": ""},
            {"expires_in_days": 0},
            {"expires_in_days": 3651},
        ):
            with pytest.raises(ValidationError):
                identity.create_token(s, ana, "bad", **bad)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="administrators only"):
            identity.create_token(s, ana, "x", scopes=("admin",))
        admin_token, _ = identity.create_token(s, admin, "x", 3650, scopes="admin, READ")
        assert identity.token_scopes(admin_token) == ("read", "admin")


def test_revoked_expired_and_suspended_tokens_stop(world: World) -> None:
    with session_scope(world.factory) as s:
        ana = world.user(s, "ana")
        raws = {
            key: identity.create_token(s, ana, key)[1] for key in ("ok", "revoked", "expired", "suspended")
        }
    with session_scope(world.factory) as s:
        rows = {t.name: t for t in s.scalars(select(ApiToken).where(ApiToken.user_id == world.ids["ana"]))}
        token, user = identity.verify_token(s, raws["ok"])
        assert user.id == world.ids["ana"] and token.last_used_at is not None
        credentials.revoke_own_token(s, world.user(s, "ana"), rows["revoked"].id, channel="cli")
        rows["expired"].expires_at = utcnow() - dt.timedelta(seconds=1)
        rows["suspended"].suspended_at = utcnow()
        with pytest.raises(NotFoundError):  # someone else's token does not exist for ben
            credentials.revoke_own_token(s, world.user(s, "ben"), rows["ok"].id, channel="cli")
    with session_scope(world.factory) as s:
        for key in ("revoked", "expired"):
            with pytest.raises(AuthenticationError):
                identity.verify_token(s, raws[key])
        with pytest.raises(SuspendedError):
            identity.verify_token(s, raws["suspended"])
        states = {
            t.name: identity.token_state(t) for t in credentials.list_own_tokens(s, world.user(s, "ana"))
        }
        assert states == {
            "ok": "active",
            "revoked": "revoked",
            "expired": "expired",
            "suspended": "suspended",
        }
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
        assert actions == ["token.revoke"]
