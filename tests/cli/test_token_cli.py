"""``tfe token create|list|revoke`` with scopes and expiry, and ``tfe user set-password`` ending sessions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tfe.app.cli import app
from tfe.core.db import make_engine, make_session_factory, session_scope
from tfe.core.errors import TfeError, ValidationError
from tfe.core.models import AuditEvent
from tfe.core.security import identity, sessions
from tfe.core.security.models import UserSession
from tfe.core.settings import Settings

ADMIN = "admin@tfe.local"


def tfe(data: Path, *args: str, stdin: str | None = None) -> Result:
    env = {"TFE_DATA_DIR": str(data), "TFE_ADMIN_PASSWORD": "admin-password-123", "TFE_DATABASE_URL": ""}
    return CliRunner().invoke(app, list(args), env=env, input=stdin)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli-tokens") / "data"
    assert tfe(data, "init", "--json").exit_code == 0
    out = tfe(
        data,
        "user",
        "add",
        "lea@cci-test.fr",
        "--org",
        "cci-test",
        "--password-stdin",
        stdin="un mot de passe long\n",
    )
    assert out.exit_code == 0, out.output
    return data


def _factory(data: Path):  # type: ignore[no-untyped-def]
    return make_session_factory(make_engine(Settings(data_dir=data, environment="test")))


def _refused(result: Result, error: type[TfeError], text: str) -> None:
    """The command failed with ``error`` (``tfe`` prints its message as one line and exits 2)."""
    assert result.exit_code != 0 and isinstance(result.exception, error), result.output
    assert text in str(result.exception)


def test_create_list_and_revoke_with_scopes_and_expiry(data: Path) -> None:
    out = tfe(
        data,
        "token",
        "create",
        ADMIN,
        "--name",
        "sauvegarde",
        "--scopes",
        "read,admin",
        "--expires-days",
        "7",
        "--json",
    )
    assert out.exit_code == 0, out.output
    made = json.loads(out.stdout)
    assert (
        made["scopes"] == ["read", "admin"] and made["state"] == "active" and made["token"].startswith("tfe_")
    )
    plain = tfe(data, "token", "create", "lea@cci-test.fr")
    assert plain.exit_code == 0 and plain.stdout.strip().startswith("tfe_")
    _refused(
        tfe(data, "token", "create", ADMIN, "--scopes", "read,delete"),
        ValidationError,
        "unknown token scope 'delete'",
    )
    _refused(tfe(data, "token", "create", ADMIN, "--expires-days", "0"), ValidationError, "1 to 3650 days")
    _refused(
        tfe(data, "token", "create", "lea@cci-test.fr", "--scopes", "admin"),
        ValidationError,
        "administrators only",
    )
    listed = json.loads(tfe(data, "token", "list", "--json").stdout)
    rows = {t["prefix"]: t for t in listed["tokens"]}
    assert rows[made["prefix"]]["expires_at"][:10] > rows[made["prefix"]]["created_at"][:10]
    assert made["token"] not in json.dumps(listed)
    lea_only = json.loads(tfe(data, "token", "list", "lea@cci-test.fr", "--json").stdout)["tokens"]
    assert [t["user"] for t in lea_only] == ["lea@cci-test.fr"] and lea_only[0]["scopes"] == ["read", "write"]
    revoked = tfe(data, "token", "revoke", f"tfe_{made['prefix']}")
    assert revoked.exit_code == 0 and made["prefix"] in revoked.stdout
    text = tfe(data, "token", "list").stdout
    assert f"tfe_{made['prefix']}…  {ADMIN}  read,admin  revoked" in text
    with session_scope(_factory(data)) as s:
        with pytest.raises(TfeError):
            identity.authenticate_token(s, made["token"])
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.target_id == made["prefix"])))
    assert actions == ["token.create", "token.revoke"]


def test_set_password_ends_the_users_sessions(data: Path) -> None:
    with session_scope(_factory(data)) as s:
        lea = identity.find_user(s, "lea@cci-test.fr")
        for _ in range(2):
            sessions.start(s, lea, address="192.0.2.9", user_agent="test", max_age_s=3600)
    refused = tfe(data, "user", "set-password", "lea@cci-test.fr")
    assert refused.exit_code == 2 and "--password-stdin" in refused.output
    _refused(
        tfe(data, "user", "set-password", "lea@cci-test.fr", "--password-stdin", stdin="court\n"),
        ValidationError,
        "too short",
    )
    out = tfe(
        data,
        "user",
        "set-password",
        "lea@cci-test.fr",
        "--password-stdin",
        "--json",
        stdin="nouveau secret assez long\n",
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == {"email": "lea@cci-test.fr", "sessions_ended": 2}
    with session_scope(_factory(data)) as s:
        rows = list(s.scalars(select(UserSession)))
        assert rows and all(r.revoked_reason == "password changed" for r in rows)
        assert (
            identity.authenticate_password(s, "lea@cci-test.fr", "nouveau secret assez long").email
            == "lea@cci-test.fr"
        )
