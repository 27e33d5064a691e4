"""Fixtures for the job tests: an initialised installation whose queue is SQLite or Redis, and helpers.

Redis runs at 127.0.0.1:6379 on dev and CI machines; each installation's queue name derives from its
temporary data dir, and the fixture flushes only that queue and its leases.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import make_settings
from tfe.app.install import init_installation
from tfe.app.jobs import Jobs
from tfe.app.runtime import Runtime
from tfe.core.settings import Settings
from veille.models import Source, SourcePoll

FAST = {"fetch_allow_private": True, "poll_host_delay_s": 0.0, "poll_tick_s": 1}


@pytest.fixture(params=["sqlite", "redis"])
def jobs_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings of an initialised installation whose jobs run on SQLite or on Redis."""
    settings = make_settings(tmp_path, jobs_backend=request.param, **FAST)
    rt = Runtime(settings)
    init_installation(rt)
    rt.close()
    return settings


@pytest.fixture
def runtimes(jobs_settings: Settings) -> Iterator[Callable[[], Runtime]]:
    """Builds runtimes on the installation (one per simulated process); closes and flushes afterwards."""
    made: list[Runtime] = []

    def make() -> Runtime:
        made.append(Runtime(jobs_settings))
        return made[-1]

    yield make
    if made:
        Jobs(made[0]).flush()
    for rt in made:
        rt.close()


def add_source(rt: Runtime, url: str, *, due: bool = True) -> int:
    """A feed source, due now (or in an hour)."""
    now = dt.datetime.now(dt.UTC)
    with rt.session() as session:
        source = Source(url=url, kind="feed", next_poll_at=now if due else now + dt.timedelta(hours=1))
        session.add(source)
        session.flush()
        return source.id


def polls(rt: Runtime, source_id: int, status: str | None = None) -> int:
    """How many polls of the source were recorded (with that status)."""
    query = select(func.count()).select_from(SourcePoll).where(SourcePoll.source_id == source_id)
    if status:
        query = query.where(SourcePoll.status == status)
    with rt.session() as session:
        return int(session.scalar(query) or 0)


def wait_for(check: Callable[[], bool], timeout_s: float = 10.0, every_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every_s)
    return check()
