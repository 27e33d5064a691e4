"""The platform's clock: real by default, simulated inside ``tfe.core.clock.simulated`` for the calling
context only, never in the future, and real again when the block ends (by an exception too)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from tfe.core import clock
from tfe.core.db import utcnow


def _close_to_real(value: dt.datetime) -> bool:
    return abs((value - dt.datetime.now(dt.UTC)).total_seconds()) < 5


def test_the_default_clock_is_the_real_one() -> None:
    assert _close_to_real(utcnow()) and utcnow().tzinfo is not None


def test_a_simulated_clock_is_read_by_utcnow_moves_forward_and_is_left_at_the_end() -> None:
    start = dt.datetime(2026, 10, 5, 9, 30, tzinfo=dt.UTC)
    with clock.simulated(start) as sim:
        assert utcnow() == start
        sim.advance(dt.timedelta(minutes=5))
        assert utcnow() == start + dt.timedelta(minutes=5)
        sim.set(start + dt.timedelta(days=3))
        assert utcnow() == start + dt.timedelta(days=3)
    assert _close_to_real(utcnow())


def test_the_real_clock_is_back_after_an_exception() -> None:
    with pytest.raises(RuntimeError, match="boom"), clock.simulated(dt.datetime(2026, 1, 5, tzinfo=dt.UTC)):
        assert utcnow().year == 2026 and utcnow().month == 1
        raise RuntimeError("boom")
    assert _close_to_real(utcnow())


def test_other_threads_keep_the_real_clock_meanwhile() -> None:
    seen: list[dt.datetime] = []
    with clock.simulated(dt.datetime(2026, 2, 2, tzinfo=dt.UTC)):
        worker = threading.Thread(target=lambda: seen.append(utcnow()))
        worker.start()
        worker.join()
        assert utcnow().month == 2
    assert _close_to_real(seen[0])


def test_a_simulated_clock_refuses_the_future_and_naive_times() -> None:
    with pytest.raises(ValueError, match="future"):
        clock.SimulatedClock(dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    with pytest.raises(ValueError, match="time zone"):
        clock.SimulatedClock(dt.datetime(2026, 1, 1))
    with clock.simulated(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)) as sim:
        with pytest.raises(ValueError, match="future"):
            sim.advance(dt.timedelta(hours=2))
        assert utcnow() < dt.datetime.now(dt.UTC)  # the refused move left it where it was
    assert _close_to_real(utcnow())
