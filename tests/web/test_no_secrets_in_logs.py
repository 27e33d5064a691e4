"""Secrets never reach the logs nor the audit trail: a realistic run with every logger at DEBUG into a file.

Signed in with a password (a wrong one first), an API token created in the session and used, a wrong
token, an upload (the whole ingest pipeline), an expiry reminder sent to an SMTP relay whose URL holds a
password (the relay is down: the failure is logged), sign-out. Then the log file and every audit event are
searched for the passwords, the clear tokens, the session cookie, the secret key, the SMTP password and
the key-encryption key file's key material: none may appear.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ged.expiry import send_expiry_reminders
from tests.web.conftest import MAX_UPLOAD, PASSWORD, _seed_accounts
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.models import AuditEvent
from tfe.core.settings import Settings

SECRET_KEY = "cle-de-session-9f3a7c41e2b8"
SMTP_PASSWORD = "mdp-relais-smtp-5d1e"
ADMIN_PASSWORD = "admin-password-4b7e91"
WRONG_TOKEN = "tfe_0badc0de_" + "Zq" * 21
HTML = {"accept": "text/html"}


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    """Every logger at DEBUG into one file (loggers that do not propagate get the handler too)."""
    path = tmp_path / "run.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    loggers = [root] + [
        logging.getLogger(name)
        for name, obj in logging.root.manager.loggerDict.items()
        if isinstance(obj, logging.Logger)
    ]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        if logger is root or not logger.propagate:
            logger.addHandler(handler)
    try:
        yield path
    finally:
        for logger, level in saved:
            logger.setLevel(level)
            logger.removeHandler(handler)
        handler.close()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _key_material(key_file: Path) -> list[str]:
    """The keys of the key-encryption key file, as stored (base64) and as raw hex."""
    keys = json.loads(key_file.read_text(encoding="utf-8"))["keys"].values()
    return [form for key in keys for form in (key, base64.b64decode(key).hex())]


def test_a_full_run_logs_no_secret(tmp_path: Path, debug_log: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        environment="test",
        max_upload_bytes=MAX_UPLOAD,
        admin_password=ADMIN_PASSWORD,
        secret_key=SECRET_KEY,
        smtp_url=f"smtp://relais:{SMTP_PASSWORD}@127.0.0.1:1",
        smtp_timeout_s=2.0,
        guard_enabled=True,
    )
    rt = Runtime(settings)
    init_installation(rt)
    tokens, _, _ = _seed_accounts(rt)
    secrets = [PASSWORD, ADMIN_PASSWORD, SECRET_KEY, SMTP_PASSWORD, WRONG_TOKEN, *tokens.values()]
    secrets += _key_material(settings.keys_dir / "master.key")
    with TestClient(create_app(rt)) as client:
        # sign in: a wrong password, then the right one
        wrong = client.post(
            "/login",
            data={
                "email": "alice@alpha.fr",
                "password": PASSWORD + "x",
                "csrf": _csrf(client.get("/login").text),
            },
        )
        assert wrong.status_code == 401
        signed = client.post(
            "/login",
            data={"email": "alice@alpha.fr", "password": PASSWORD, "csrf": _csrf(client.get("/login").text)},
            follow_redirects=False,
        )
        assert signed.status_code == 303
        secrets.append(client.cookies["tfe_session"])
        csrf = _csrf(client.get("/mes-recherches", headers=HTML).text)
        # a token created in the session (X-CSRF-Token), then used as a bearer token
        created = client.post(
            "/api/me/tokens",
            json={"name": "script", "scopes": ["read", "write"]},
            headers={"X-CSRF-Token": csrf},
        )
        assert created.status_code == 201, created.text
        token = created.json()["secret"]
        secrets.append(token)
        bearer = {"Authorization": f"Bearer {token}"}
        client.cookies.clear()
        assert client.get("/api/search", params={"q": "vins"}, headers=bearer).status_code == 200
        refused = client.get(
            "/api/search", params={"q": "vins"}, headers={"Authorization": f"Bearer {WRONG_TOKEN}"}
        )
        assert refused.status_code == 401
        # an upload through the whole pipeline, then an expiry soon: the reminder fails on the dead relay
        note = "Note export Chili : vins, cuivre et salons professionnels à Santiago.\n".encode()
        uploaded = client.post(
            "/api/documents", files={"file": ("note-chili.txt", note, "text/plain")}, headers=bearer
        )
        assert uploaded.status_code == 201, uploaded.text
        doc_id = uploaded.json()["id"]
        soon = (dt.date.today() + dt.timedelta(days=3)).isoformat()
        patched = client.patch(f"/api/documents/{doc_id}", json={"valid_until": soon}, headers=bearer)
        assert patched.status_code == 200, patched.text
        report = send_expiry_reminders(rt.session_factory, rt.settings)
        assert doc_id in report.failed and SMTP_PASSWORD not in report.failed[doc_id]
        assert client.get(f"/api/documents/{doc_id}/content", headers=bearer).content == note
    with rt.session() as session:
        events = session.scalars(select(AuditEvent)).all()
        trail = "\n".join(
            json.dumps([e.action, e.target_kind, e.target_id, e.detail], ensure_ascii=False, default=str)
            for e in events
        )
    rt.close()
    log = debug_log.read_text(encoding="utf-8")
    assert "expiry reminder for document=" in log and "auth.login" in trail  # both were really written
    for action in ("auth.login_failed", "auth.token_failed", "token.create", "document.upload"):
        assert f'"{action}"' in trail, action
    assert len(log) > 100_000 and "DEBUG sqlalchemy" in log  # really everything at DEBUG
    leaked = {
        s[:12] + "…": where for s in secrets for where, text in (("log", log), ("audit", trail)) if s in text
    }
    print(f"\nno secret in {len(log):,} bytes of DEBUG log and {len(events)} audit events")
    assert not leaked, f"secrets found: {leaked}"
