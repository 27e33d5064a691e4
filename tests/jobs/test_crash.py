"""A worker killed (SIGKILL) in the middle of a poll loses no poll: a restarted worker polls the source."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from tests.jobs.conftest import add_source, polls, wait_for
from tests.paths import REPO
from tests.veille.feedserver import Route, feed_server, rss
from tfe.app.runtime import Runtime
from tfe.core.settings import Settings

pytestmark = pytest.mark.slow

ENQUEUE_LEASE_S, RUN_LEASE_S = 2.0, 1.5


def _env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TFE_DATA_DIR=str(settings.data_dir),
        TFE_ENVIRONMENT="test",
        TFE_JOBS_BACKEND=settings.jobs_backend,
        TFE_FETCH_ALLOW_PRIVATE="true",
        TFE_POLL_HOST_DELAY_S="0",
        TFE_POLL_TICK_S="1",
        HAYSTACK_TELEMETRY_ENABLED="False",
        OMP_NUM_THREADS="1",
    )
    return env


@contextmanager
def worker_process(settings: Settings) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.worker_process", str(ENQUEUE_LEASE_S), str(RUN_LEASE_S)],
        cwd=REPO,
        env=_env(settings),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def test_killed_worker_loses_no_poll(jobs_settings: Settings, runtimes: Callable[[], Runtime]) -> None:
    rt = runtimes()
    with feed_server() as server:
        server.routes["/feed.xml"] = Route(rss("Vide", []), delay_s=60)  # the first poll stalls
        source_id = add_source(rt, f"{server.url}/feed.xml")
        with worker_process(jobs_settings) as first:
            assert wait_for(lambda: server.count("/feed.xml") == 1, timeout_s=30)
            first.send_signal(signal.SIGKILL)
            first.wait(5)
        assert polls(rt, source_id) == 0  # the killed poll recorded nothing; the source is still due
        server.routes["/feed.xml"] = Route(rss("Vide", []))
        with worker_process(jobs_settings):
            assert wait_for(lambda: polls(rt, source_id, "ok") == 1, timeout_s=30)
        assert server.count("/feed.xml") == 2
