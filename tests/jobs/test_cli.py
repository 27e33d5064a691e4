"""``tfe poll --once`` against a local feed server, and ``tfe worker`` (``--once``, and until SIGTERM).

The polls with the pipeline run in this process (``tests.cli.runner``: the real entry point, the models
loaded once); the one-line refusal of ``tfe poll`` and the workers run as real ``python -m tfe`` processes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.cli.runner import invoke
from tests.conftest import make_settings
from tests.jobs.conftest import FAST, add_source, polls
from tests.paths import REPO
from tests.veille.feedserver import Route, feed_server, rss
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.core.settings import Settings
from veille.models import Source


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TFE_")}
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


def tfe(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tfe", *args]
    return subprocess.run(command, cwd=REPO, env=_env(settings), capture_output=True, text=True, timeout=300)


def tfe_here(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """``tfe ARGS`` in this process, with the environment ``tfe`` gives the subprocess (no other TFE_*)."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("TFE_")}
    env.update(_env(settings))
    return invoke(env, *args)


@pytest.fixture
def installation(tmp_path: Path) -> Runtime:
    rt = Runtime(make_settings(tmp_path, **FAST))
    init_installation(rt)
    return rt


def test_poll_needs_once(installation: Runtime) -> None:
    result = tfe(installation.settings, "poll")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "tfe: error: précisez --once (l'interrogation continue est le rôle de `tfe worker`)"
    ]


@pytest.mark.slow  # the first poll stores two items through the whole pipeline (models loaded: ~12 s)
def test_poll_once_json_then_not_modified(installation: Runtime) -> None:
    rt = installation
    entries = [
        ("vins-de", "Les vins français en Allemagne", "Le marché allemand des vins de Bordeaux."),
        ("fromages-jp", "Export de fromages au Japon", "Les fromages français au Japon."),
    ]
    with feed_server() as server:
        server.routes["/news.xml"] = Route(rss("Actualités", entries), etag='"v1"')
        server.routes["/broken.xml"] = Route(b"oops", status=500)
        news = add_source(rt, f"{server.url}/news.xml")
        broken = add_source(rt, f"{server.url}/broken.xml")
        add_source(rt, f"{server.url}/later.xml", due=False)

        first = tfe_here(rt.settings, "poll", "--once", "--json")
        assert first.returncode == 0, first.stderr
        doc = json.loads(first.stdout)
        assert set(doc) == {"polled", "not_modified", "new_items", "failed", "sources"}
        assert (doc["polled"], doc["new_items"], doc["not_modified"], doc["failed"]) == (2, 2, 0, 1)
        by_id = {s["id"]: s for s in doc["sources"]}
        assert set(by_id) == {news, broken}
        assert (by_id[news]["status"], by_id[news]["new"], by_id[news]["http_status"]) == ("ok", 2, 200)
        assert by_id[broken]["status"] == "failed" and by_id[broken]["error"]
        assert server.count("/later.xml") == 0

        _make_due(rt, news, broken)
        second = tfe_here(rt.settings, "poll", "--once", "--json")
        assert second.returncode == 0, second.stderr
        doc = json.loads(second.stdout)
        assert (doc["polled"], doc["new_items"], doc["not_modified"], doc["failed"]) == (2, 0, 1, 1)
        assert server.last("/news.xml").headers.get("if-none-match") == '"v1"'

        _make_due(rt, news)
        text = tfe_here(rt.settings, "poll", "--once")
        assert text.returncode == 0, text.stderr
        assert "1 source(s) interrogée(s) : 0 nouvel(s) article(s), 1 inchangée(s), 0 en échec" in text.stdout
        assert polls(rt, news) == 3 and polls(rt, news, "not_modified") == 2


def _make_due(rt: Runtime, *ids: int) -> None:
    with rt.session() as session:
        session.execute(update(Source).where(Source.id.in_(ids)).values(next_poll_at=dt.datetime.now(dt.UTC)))


def test_worker_once_polls_the_due_sources(jobs_settings: Settings) -> None:
    rt = Runtime(jobs_settings)
    with feed_server() as server:
        server.routes["/feed.xml"] = Route(rss("Vide", []))
        source_id = add_source(rt, f"{server.url}/feed.xml")
        result = tfe(jobs_settings, "worker", "--once", "--threads", "2")
        assert result.returncode == 0, result.stderr
        assert "1 source(s) mise(s) en file, 1 tâche(s) exécutée(s)" in result.stdout
        assert f"poll source={source_id} status=ok http=200 new=0" in result.stderr
        assert polls(rt, source_id, "ok") == 1
    rt.close()


def test_worker_runs_until_sigterm_and_logs_each_poll(jobs_settings: Settings) -> None:
    rt = Runtime(jobs_settings)
    with feed_server() as server:
        server.routes["/feed.xml?token=s3cret"] = Route(rss("Vide", []))
        source_id = add_source(rt, f"{server.url}/feed.xml?token=s3cret")
        proc = subprocess.Popen(
            [sys.executable, "-m", "tfe", "worker", "--threads", "1"],
            cwd=REPO,
            env=_env(jobs_settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 15
            while polls(rt, source_id) == 0 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.1)
            assert polls(rt, source_id, "ok") == 1
            proc.send_signal(signal.SIGTERM)
            _out, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        assert f"poll source={source_id} status=ok http=200 new=0" in err
        assert "s3cret" not in err
        assert "arrêt" in err
    rt.close()
