"""``tfe serve`` runs the worker in-process unless ``--no-worker``, and stops it when the server stops."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.jobs.conftest import add_source, polls, wait_for
from tests.jobs.test_cli import _env
from tests.paths import REPO
from tests.veille.feedserver import Route, feed_server, rss
from tfe.app.runtime import Runtime
from tfe.core.settings import Settings

pytestmark = pytest.mark.slow  # two server starts (the web app's imports): ~10 s


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(settings: Settings, *args: str) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    command = [sys.executable, "-m", "tfe", "serve", "--port", str(port), *args]
    proc = subprocess.Popen(
        command, cwd=REPO, env=_env(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return proc, port


def _up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("jobs_settings", ["sqlite"], indirect=True)
def test_serve_polls_in_process_and_stops_its_worker(jobs_settings: Settings) -> None:
    rt = Runtime(jobs_settings)
    with feed_server() as server:
        server.routes["/feed.xml"] = Route(rss("Vide", []))
        source_id = add_source(rt, f"{server.url}/feed.xml")

        quiet, port = _serve(jobs_settings, "--no-worker")
        try:
            assert wait_for(lambda: _up(port), timeout_s=90)  # a busy CI machine starts a process slowly
            time.sleep(1.5)  # longer than a scheduler tick (TFE_POLL_TICK_S=1)
            quiet.send_signal(signal.SIGTERM)
            out, _err = quiet.communicate(timeout=15)
        finally:
            if quiet.poll() is None:
                quiet.kill()
        assert polls(rt, source_id) == 0 and "Tâches de fond" not in out

        proc, _port = _serve(jobs_settings)
        try:
            deadline = time.monotonic() + 20
            while polls(rt, source_id) == 0 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.1)
            assert polls(rt, source_id, "ok") == 1
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert "Tâches de fond : " in out and out.rstrip().endswith("Tâches de fond arrêtées"), (out, err)
    rt.close()
