"""Subscriptions: the schedule of digests (pure, across DST) and the subscription use cases."""

from __future__ import annotations

import datetime as dt

import pytest

from tfe.core.errors import ValidationError
from veille.alerts.schedule import next_run

UTC = dt.UTC


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# --- schedule -----------------------------------------------------------------------------------------


def test_instant_is_due_at_once() -> None:
    now = _utc(2026, 1, 5, 10, 0)
    assert next_run("instant", "08:00", None, "Europe/Paris", now) == now


def test_daily_later_today_then_tomorrow() -> None:
    # 06:00 UTC = 07:00 Paris (winter): 08:00 Paris is still ahead today
    assert next_run("daily", "08:00", None, "Europe/Paris", _utc(2026, 1, 5, 6, 0)) == _utc(2026, 1, 5, 7, 0)
    # exactly at send time: strictly after, so tomorrow
    assert next_run("daily", "08:00", None, "Europe/Paris", _utc(2026, 1, 5, 7, 0)) == _utc(2026, 1, 6, 7, 0)


def test_daily_keeps_local_wall_clock_across_spring_forward() -> None:
    # Paris switches to summer time on Sunday 29 March 2026 at 02:00 → 03:00
    before = next_run("daily", "08:00", None, "Europe/Paris", _utc(2026, 3, 28, 8, 0))
    assert before == _utc(2026, 3, 29, 6, 0)  # 08:00 CEST = 06:00 UTC
    winter = next_run("daily", "08:00", None, "Europe/Paris", _utc(2026, 3, 27, 8, 0))
    assert winter == _utc(2026, 3, 28, 7, 0)


def test_nonexistent_local_time_is_shifted_forward() -> None:
    # 02:30 does not exist in Paris on 29 March 2026: sent at 01:30 UTC (03:30 local)
    got = next_run("daily", "02:30", None, "Europe/Paris", _utc(2026, 3, 29, 0, 0))
    assert got == _utc(2026, 3, 29, 1, 30)


def test_repeated_local_time_is_its_first_occurrence() -> None:
    # Paris falls back on Sunday 25 October 2026 at 03:00 → 02:00: 02:30 happens twice
    got = next_run("daily", "02:30", None, "Europe/Paris", _utc(2026, 10, 24, 23, 0))
    assert got == _utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    after_first = next_run("daily", "02:30", None, "Europe/Paris", got)
    assert after_first == _utc(2026, 10, 26, 1, 30)  # next day, 02:30 CET, not the repeated 02:30


def test_daily_across_fall_back_keeps_wall_clock() -> None:
    got = next_run("daily", "08:00", None, "Europe/Paris", _utc(2026, 10, 24, 7, 0))
    assert got == _utc(2026, 10, 25, 7, 0)  # 08:00 CET


def test_weekly_next_weekday_and_time() -> None:
    # Monday 5 January 2026, 10:00 UTC; weekly on Friday (4) at 09:15 Paris = 08:15 UTC
    assert next_run("weekly", "09:15", 4, "Europe/Paris", _utc(2026, 1, 5, 10, 0)) == _utc(2026, 1, 9, 8, 15)
    # same weekday, time already passed: one week later
    assert next_run("weekly", "09:00", 0, "Europe/Paris", _utc(2026, 1, 5, 10, 0)) == _utc(2026, 1, 12, 8, 0)


def test_weekly_across_dst_change() -> None:
    # Friday 27 March 2026 08:00 Paris (07:00 UTC) → next Friday 3 April 08:00 CEST = 06:00 UTC
    got = next_run("weekly", "08:00", 4, "Europe/Paris", _utc(2026, 3, 27, 7, 0))
    assert got == _utc(2026, 4, 3, 6, 0)


def test_other_timezone_and_naive_after() -> None:
    got = next_run("daily", "08:00", None, "Asia/Ho_Chi_Minh", dt.datetime(2026, 1, 5, 2, 0))
    assert got == _utc(2026, 1, 6, 1, 0)  # 08:00 in Vietnam (UTC+7); 09:00 local already passed
    assert got.tzinfo is not None


@pytest.mark.parametrize(
    ("frequency", "send_time", "weekday", "timezone"),
    [
        ("hourly", "08:00", None, "Europe/Paris"),
        ("daily", "8h", None, "Europe/Paris"),
        ("daily", "24:00", None, "Europe/Paris"),
        ("daily", "08:00", None, "Mars/Olympus"),
        ("weekly", "08:00", None, "Europe/Paris"),
        ("weekly", "08:00", 7, "Europe/Paris"),
    ],
)
def test_bad_schedule_is_refused(frequency: str, send_time: str, weekday: int | None, timezone: str) -> None:
    with pytest.raises(ValidationError):
        next_run(frequency, send_time, weekday, timezone, _utc(2026, 1, 5, 10, 0))
