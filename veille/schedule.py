"""When to poll a source next: pure functions, so the rules are tested without a clock or a network.

- After a success, the interval follows the source's entry frequency (Miniflux's entry-frequency
  scheduler: a week divided by the entries published in the last week), within the source's bounds,
  and is raised (never lowered) by what the publisher asks: ``Cache-Control: max-age``, RSS ``<ttl>``,
  ``sy:updatePeriod``.
- After a failure, bounded exponential backoff with jitter (CommaFeed's back-off), never shorter than a
  ``Retry-After`` the server sent.
- Health: ``ok``; ``slow`` when the answer took long; ``failing`` after consecutive failures; ``dead``
  after ``dead_after`` of them (still retried, at the longest interval); ``gone`` on 410.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Iterable

__all__ = [
    "SLOW_S",
    "backoff_s",
    "entry_interval_s",
    "health_after_failure",
    "max_age_s",
    "success_interval_s",
]

WEEK_S = 7 * 86400
SLOW_S = 5.0  # an answer slower than this marks the source slow
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*(\d+)", re.I)


def max_age_s(cache_control: str | None) -> int | None:
    """``max-age`` of a ``Cache-Control`` header, unless ``no-cache``/``no-store`` says not to rely on it."""
    if not cache_control or re.search(r"no-store|no-cache", cache_control, re.I):
        return None
    found = _MAX_AGE.search(cache_control)
    return int(found.group(1)) if found else None


def entry_interval_s(
    published: Iterable[dt.datetime | None], now: dt.datetime, min_s: int, max_s: int
) -> int:
    """A week over the number of entries published in the last week, within ``[min_s, max_s]``."""
    since = now - dt.timedelta(seconds=WEEK_S)
    weekly = sum(1 for when in published if when is not None and since <= _aware(when) <= now)
    if weekly == 0:
        return max_s
    return max(min_s, min(max_s, WEEK_S // weekly))


def success_interval_s(
    entry_interval: int, max_s: int, *, max_age: int | None = None, publisher_interval: int | None = None
) -> int:
    """The entry-frequency interval raised by the publisher's hints, never beyond ``max_s``."""
    hints = [h for h in (max_age, publisher_interval) if h]
    return min(max_s, max([entry_interval, *hints]))


def backoff_s(
    failures: int,
    min_s: int,
    max_s: int,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> int:
    """Delay before retrying after ``failures`` consecutive failures: ``min_s·2^(n-1)`` ±20 %, capped."""
    base = min(float(max_s), min_s * 2.0 ** max(0, failures - 1))
    jittered = base * (rng or random).uniform(0.8, 1.2)
    delay = min(float(max_s), jittered)
    if retry_after is not None:
        delay = max(delay, retry_after)  # the server's word wins, even beyond our longest interval
    return max(1, int(delay))


def health_after_failure(failures: int, dead_after: int) -> str:
    return "dead" if failures >= dead_after else "failing"


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
