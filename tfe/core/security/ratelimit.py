"""The one store of throttles and guard counters: a ``limits`` storage from ``TFE_RATELIMIT_URL`` (else
``TFE_REDIS_URL``, else process memory), shared by the sign-in throttle, the bad-token throttle and the
exfiltration guard, so several server processes on one Redis agree.

Written by the lead as the shared entry point; the throttle helper may extend it (keep these names).
"""

from __future__ import annotations

import threading

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from tfe.core.settings import Settings

__all__ = ["limiter_for", "parse_limit", "storage_for"]

_lock = threading.Lock()
_storages: dict[str, Storage] = {}


def storage_for(settings: Settings) -> Storage:
    """The process's storage for ``settings.resolved_ratelimit_url`` (one per URI, created once)."""
    uri = settings.resolved_ratelimit_url
    with _lock:
        if uri not in _storages:
            made = storage_from_string(uri)
            if not isinstance(made, Storage):  # an async storage URI ("async+redis://") is not for us
                raise ValueError(f"rate-limit storage {uri!r} is asynchronous; use a synchronous URI")
            _storages[uri] = made
        return _storages[uri]


def limiter_for(settings: Settings) -> MovingWindowRateLimiter:
    """A sliding-window limiter over the shared storage."""
    return MovingWindowRateLimiter(storage_for(settings))


def parse_limit(text: str) -> RateLimitItem:
    """``"5/5 minutes"`` → a limit item (the ``limits`` notation)."""
    return parse(text)
