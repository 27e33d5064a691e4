"""The demo's simulated history (``tfe.app.demo.activity``): weeks of the colleagues' activity played
through the platform's use cases under a simulated clock, so the dashboards show something real.

One small installation for the module: the demo organisations and advisers, ten documents of the demo
corpus (BM25 only, no watch), then three weeks of activity. Checked: the audit trail holds the expected
actions spread over the weeks, in the simulated past, its chain intact; the network indicators over the
period show weekly active users and searches that are neither zero nor suppressed; the real clock is back
afterwards (after a failure too); a second run is refused; ``tfe demo-activity`` says so in one line.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import make_settings
from tfe.app.cli import app
from tfe.app.demo import CORPUS_DIR, load_manifest
from tfe.app.demo.activity import ActivityReport, simulate_activity
from tfe.app.demo.activity_plan import load_people, make_plan
from tfe.app.demo.loader import ensure_demo_accounts
from tfe.app.indicators.periods import parse_period
from tfe.app.indicators.scopes import resolve
from tfe.app.indicators.service import compute
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.core.db import utcnow
from tfe.core.errors import ConflictError, ValidationError
from tfe.core.models import AuditEvent, User
from tfe.core.security import audit

pytestmark = pytest.mark.slow

WEEKS = 3


def _close_to_real(value: dt.datetime) -> bool:
    return abs((value - dt.datetime.now(dt.UTC)).total_seconds()) < 5


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, ActivityReport, dt.datetime]]:
    rt = Runtime(make_settings(tmp_path_factory.mktemp("demo-activity"), smtp_url=None))
    report = init_installation(rt)
    ensure_demo_accounts(rt, report.admin_password)
    network = [e for e in load_manifest() if e["visibility"] == "network"][:10]
    for entry in network:
        done = rt.documents.ingest_paths(
            [CORPUS_DIR / entry["file"]],
            org_slug=entry["org"],
            visibility="network",
            doc_type=f"doctype:{entry['doc_type']}",
            embed=False,
            progress=False,
            channel="demo",
        )
        assert done["ok"] == 1, done
    before = dt.datetime.now(dt.UTC)
    result = simulate_activity(rt, weeks=WEEKS, seed=7)
    yield rt, result, before
    rt.close()


def _demo_events(rt: Runtime) -> list[AuditEvent]:
    with rt.session() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.actor_user_id.is_not(None))))
        session.expunge_all()
    return [e for e in rows if (e.detail or {}).get("channel") == "demo"]


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def test_the_history_records_the_expected_actions_across_the_weeks_in_the_simulated_past(
    played: tuple[Runtime, ActivityReport, dt.datetime],
) -> None:
    rt, report, before = played
    assert report.users == len(load_people()) and report.visits > 30
    assert report.searches > report.empty_searches > 0 and report.reads > 0 and report.subscriptions > 0
    events = _demo_events(rt)
    actions = Counter(e.action for e in events)
    assert actions["search"] == report.searches and actions["document.read"] == report.reads
    assert actions["document.download"] == report.downloads and actions["subscription.create"] > 0
    assert actions["document.update"] >= report.corrections
    start = dt.datetime.fromisoformat(report.start).replace(tzinfo=dt.UTC)
    end = dt.datetime.fromisoformat(report.end).replace(tzinfo=dt.UTC)
    assert end.date() == before.date()  # the history ends yesterday
    moments = [_aware(e.at) for e in events]
    assert all(start <= at < end <= before for at in moments)
    weeks = {at.isocalendar()[:2] for at in moments}
    assert len(weeks) >= WEEKS
    weekdays = sum(at.weekday() < 5 for at in moments)
    assert weekdays > 0.8 * len(moments)  # people work on weekdays
    with rt.session() as session:
        created = [
            _aware(u.created_at) for u in session.scalars(select(User).where(User.email.like("%.%@%.demo")))
        ]
        assert len(created) == len(load_people()) and all(start <= at < end for at in created)
        assert audit.verify(session).ok  # the chain holds, whatever the times it records


def test_the_network_dashboard_shows_weekly_active_users_and_searches(
    played: tuple[Runtime, ActivityReport, dt.datetime],
) -> None:
    rt, report, _ = played
    last = dt.date.fromisoformat(report.end) - dt.timedelta(days=1)
    with rt.session() as session:
        found = compute(session, resolve(session, "network"), parse_period(f"{report.start}..{last}"))
    cells = found.sections["adoption"] + found.sections["use"]
    weekly = {(c.metric, c.bucket): c for c in cells if c.grain == "week" and not c.dims}
    for metric in ("active_users", "searches", "document_reads"):
        shown = [c.value for (m, _), c in weekly.items() if m == metric and not c.suppressed and c.value]
        assert len(shown) >= 2, (metric, weekly)
        assert all(isinstance(v, int) and v >= 5 for v in shown if metric == "active_users")
    whole = {c.metric: c for c in found.sections["use"] if c.grain is None and not c.dims}
    assert whole["searches"].value == report.searches and not whole["searches"].suppressed
    assert whole["searches_no_result"].value == report.empty_searches


def test_the_real_clock_is_back_and_a_second_run_is_refused(
    played: tuple[Runtime, ActivityReport, dt.datetime],
) -> None:
    rt, _, _ = played
    assert _close_to_real(utcnow())
    count = len(_demo_events(rt))
    with pytest.raises(ConflictError, match="already simulated"):
        simulate_activity(rt, weeks=1)
    assert len(_demo_events(rt)) == count and _close_to_real(utcnow())


def test_the_cli_refuses_a_second_run_and_bad_weeks_in_one_line(
    played: tuple[Runtime, ActivityReport, dt.datetime],
) -> None:
    rt, _, _ = played
    env = {
        "TFE_DATA_DIR": str(rt.settings.resolved_data_dir),
        "TFE_DATABASE_URL": "",
        "TFE_ENVIRONMENT": "test",
    }
    again = CliRunner().invoke(app, ["demo-activity", "--weeks", "2", "--json"], env=env)
    assert again.exit_code == 2 and again.stderr.strip().count("\n") == 0
    assert "already simulated" in again.stderr
    zero = CliRunner().invoke(app, ["demo-activity", "--weeks", "0"], env=env)
    assert zero.exit_code == 2 and "--weeks must be at least 1" in zero.stderr


def test_a_failed_run_leaves_the_real_clock(tmp_path: Path) -> None:
    rt = Runtime(make_settings(tmp_path))
    init_installation(rt)  # no demo organisations: the first colleague cannot join
    try:
        with pytest.raises(ValidationError, match="demo organisation"):
            simulate_activity(rt, weeks=1)
        assert _close_to_real(utcnow())
    finally:
        rt.close()


def test_the_plan_is_deterministic_grows_and_keeps_to_weekdays() -> None:
    people = load_people()
    end = dt.date(2026, 12, 1)
    one = make_plan(people, weeks=8, seed=3, end=end)
    assert one == make_plan(people, weeks=8, seed=3, end=end)
    assert one != make_plan(people, weeks=8, seed=4, end=end)
    assert one.start == end - dt.timedelta(weeks=8) and all(v.at.date() < end for v in one.visits)
    per_week = Counter((v.at.date() - one.start).days // 7 for v in one.visits)
    assert per_week[7] > 1.5 * per_week[0]  # adoption grows
    assert sum(v.at.weekday() >= 5 for v in one.visits) < 0.05 * len(one.visits)
    assert all(v.at >= one.joins[v.email] for v in one.visits)  # nobody comes before joining
    assert any(s.country == ("IS",) for v in one.visits for s in v.searches)  # some find nothing
