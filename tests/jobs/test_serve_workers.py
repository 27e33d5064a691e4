"""``tfe serve --workers N``: several uvicorn processes on one port, the guard counted once for all of them
(a shared store is required), and a one-line refusal without one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import select

from tests.jobs.conftest import wait_for
from tests.jobs.test_serve import _free_port, _up
from tests.paths import REPO
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.core.models import User
from tfe.core.security import identity
from tfe.core.security.guard_policy import Budget, set_budget
from tfe.core.settings import Settings

pytestmark = pytest.mark.slow  # a server with two processes (each imports the web app): ~10 s

REDIS = os.environ.get("TFE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TFE_")}
    env.update(
        TFE_DATA_DIR=str(settings.data_dir),
        TFE_ENVIRONMENT="test",
        TFE_ADMIN_PASSWORD="admin-password-123",
        HAYSTACK_TELEMETRY_ENABLED="False",
        OMP_NUM_THREADS="1",
        **extra,
    )
    return env


def test_workers_need_a_shared_store(settings: Settings) -> None:
    rt = Runtime(settings)
    init_installation(rt)
    rt.close()
    cmd = [sys.executable, "-m", "tfe", "serve", "--no-worker", "--workers", "2", "--port", str(_free_port())]
    out = subprocess.run(cmd, cwd=REPO, env=_env(settings), capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "TFE_RATELIMIT_URL" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_two_processes_serve_and_share_the_guards_budget(settings: Settings) -> None:
    rt = Runtime(settings)
    init_installation(rt)
    with rt.session() as session:
        admin = session.scalar(select(User).where(User.email == settings.admin_email))
        assert admin is not None
        org = identity.get_or_create_org(session, "cci-test", "CCI test", kind="regional_chamber")
        user = identity.create_user(session, email="reader@cci-test.fr", org=org, role="reader")
        _token, raw = identity.create_token(session, user, scopes="read")
        set_budget(session, admin, Budget("reader", per_minute=4, per_hour=100, per_day=1000))
    rt.close()
    port = _free_port()
    env = _env(settings, TFE_RATELIMIT_URL=REDIS)  # keys named by the installation (namespace_for)
    cmd = [sys.executable, "-m", "tfe", "serve", "--no-worker", "--workers", "2", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert wait_for(lambda: _up(port), timeout_s=60)
        headers = {"Authorization": f"Bearer {raw}"}
        codes = []
        for _ in range(8):  # fresh connections: the kernel spreads them over both processes
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                codes.append(client.get("/api/search", params={"q": "vins"}, headers=headers).status_code)
        # one budget of 4 a minute for both processes (each counting alone would let 8 through)
        assert codes[:4] == [200] * 4 and set(codes[4:]) <= {429, 403} and codes[4] == 429, codes
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Serveur : 2 processus" in out
    assert out.count("Started server process") == 2, out
