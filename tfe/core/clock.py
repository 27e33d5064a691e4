"""The platform's clock: the real UTC time, or a simulated one inside ``simulated(...)``.

Every timestamp the platform takes goes through ``tfe.core.db.utcnow`` (the models' defaults, the audit
trail's ``at``, the decisions, deliveries and subscriptions), which reads ``now()`` here. Outside a
``simulated`` block, in every thread, that is ``datetime.now(UTC)``: production never sees anything else.
Inside one, the calling context (a ``ContextVar``: this thread only, not the web server's other threads)
reads the simulated time, which only moves when it is set or advanced, and never past the real time.
The demo's activity history (``tfe.app.demo.activity``) is the one user; see docs/decisions.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["SimulatedClock", "now", "simulated"]


def _real() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SimulatedClock:
    """A time in the past that the caller moves forward (``set``, ``advance``), never beyond the real now."""

    def __init__(self, at: dt.datetime) -> None:
        self._at = self._checked(at)

    @staticmethod
    def _checked(at: dt.datetime) -> dt.datetime:
        if at.tzinfo is None:
            raise ValueError("a simulated time must carry its time zone (UTC)")
        at = at.astimezone(dt.UTC)
        if at > _real():
            raise ValueError(f"a simulated time must not be in the future ({at.isoformat()})")
        return at

    @property
    def at(self) -> dt.datetime:
        return self._at

    def set(self, at: dt.datetime) -> None:
        self._at = self._checked(at)

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        self._at = self._checked(self._at + delta)
        return self._at


_current: ContextVar[SimulatedClock | None] = ContextVar("tfe_simulated_clock", default=None)


def now() -> dt.datetime:
    """The current UTC time: the simulated one inside ``simulated``, else the real one."""
    clock = _current.get()
    return clock.at if clock is not None else _real()


@contextmanager
def simulated(start: dt.datetime) -> Iterator[SimulatedClock]:
    """Run the block under a simulated clock starting at ``start`` (aware, not in the future); the real
    clock is back when the block ends, by an exception too."""
    clock = SimulatedClock(start)
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)
