"""The one store of throttles and guard counters: a ``limits`` storage from ``TFE_RATELIMIT_URL`` (else
``TFE_REDIS_URL``, else process memory), shared by the sign-in throttle, the bad-token throttle and the
exfiltration guard, so several server processes on one Redis agree.

Written by the lead as the shared entry point; the throttle helper extended it with
:class:`SharedLimiter` (moving windows that fall back to process memory, with a logged warning, while the
shared store is unreachable: a throttle must never answer 500 because Redis is down) and
:func:`namespace_for` (the key prefix of one installation).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from limits.util import WindowStats

from tfe.core.settings import Settings

__all__ = ["SharedLimiter", "limiter_for", "namespace_for", "parse_limit", "shared_limiter", "storage_for"]

log = logging.getLogger(__name__)

#: While the shared store is unreachable, it is tried again after this many seconds (meanwhile: memory).
RETRY_AFTER_OUTAGE_S = 15.0
#: Connection and command timeouts given to a Redis store unless its URL sets them: a slow Redis must
#: not hold sign-ins for minutes.
REDIS_TIMEOUT_S = 1.0

_lock = threading.Lock()
_storages: dict[str, Storage] = {}
_fallbacks: dict[str, MemoryStorage] = {}
_down_until: dict[str, float] = {}

T = TypeVar("T")


def _options_for(uri: str) -> dict[str, float]:
    if uri.split("://", 1)[0] in ("redis", "rediss", "redis+unix"):
        return {"socket_connect_timeout": REDIS_TIMEOUT_S, "socket_timeout": REDIS_TIMEOUT_S}
    return {}


def storage_for(settings: Settings) -> Storage:
    """The process's storage for ``settings.resolved_ratelimit_url`` (one per URI, created once)."""
    uri = settings.resolved_ratelimit_url
    with _lock:
        if uri not in _storages:
            made = storage_from_string(uri, **_options_for(uri))
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


def namespace_for(settings: Settings) -> str:
    """``tfe:<installation>``: the prefix of every key of one installation, so that two installations on
    one Redis (or two in one test process) never count each other's failures, while every process of one
    installation (same database) shares the same keys. The installation is a short hash of its database
    URL (never the URL itself: it may hold a password)."""
    return "tfe:" + hashlib.sha256(settings.sqlalchemy_url.encode()).hexdigest()[:12]


def _redacted(uri: str) -> str:
    """The URI without its credentials, for the logs."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class SharedLimiter:
    """Moving windows in the shared store; while it is unreachable, in this process's memory instead.

    Failing over rather than failing closed (refusing every sign-in) or open (counting nothing): the
    limits still hold per process during an outage, and sign-ins go on. The outage is logged once per
    retry period (the URI without credentials); counts made in memory are not copied back to Redis."""

    def __init__(self, storage: Storage, uri: str) -> None:
        self.uri = uri
        self.primary = MovingWindowRateLimiter(storage)
        with _lock:
            fallback = _fallbacks.setdefault(uri, MemoryStorage())
        self.fallback = MovingWindowRateLimiter(fallback)
        self._errors: tuple[type[BaseException], ...] = (
            () if isinstance(storage, MemoryStorage) else (StorageError, OSError, *_as_tuple(storage))
        )

    @property
    def degraded(self) -> bool:
        """Whether the shared store is currently considered unreachable (counting in memory)."""
        return time.monotonic() < _down_until.get(self.uri, 0.0)

    def _run(self, call: Callable[[MovingWindowRateLimiter], T]) -> T:
        if not self.degraded:
            try:
                return call(self.primary)
            except self._errors as exc:
                with _lock:
                    _down_until[self.uri] = time.monotonic() + RETRY_AFTER_OUTAGE_S
                log.warning(
                    "rate-limit store %s unreachable (%s); counting in process memory for %.0f s",
                    _redacted(self.uri),
                    type(exc).__name__,
                    RETRY_AFTER_OUTAGE_S,
                )
        return call(self.fallback)

    def hit(self, item: RateLimitItem, key: str) -> bool:
        """Count one event under ``key``; False (and nothing counted) when the window is full."""
        return self._run(lambda limiter: limiter.hit(item, key))

    def window(self, item: RateLimitItem, key: str) -> WindowStats:
        """``(reset_time, remaining)`` of ``key``'s window (reset: epoch seconds when a slot frees)."""
        return self._run(lambda limiter: limiter.get_window_stats(item, key))

    def clear(self, item: RateLimitItem, key: str) -> None:
        self._run(lambda limiter: limiter.clear(item, key))

    def count(self, item: RateLimitItem, key: str) -> int:
        """Events of ``key`` within the window (at most ``item.amount``)."""
        return item.amount - self.window(item, key).remaining

    def wait_s(self, item: RateLimitItem, key: str) -> float:
        """Seconds until ``key`` may count one more event (0 while its window has room)."""
        stats = self.window(item, key)
        if stats.remaining > 0:
            return 0.0
        return max(stats.reset_time - time.time(), 0.01)


def _as_tuple(storage: Storage) -> tuple[type[BaseException], ...]:
    errors = storage.base_exceptions
    return errors if isinstance(errors, tuple) else (errors,)


def shared_limiter(settings: Settings) -> SharedLimiter:
    """A :class:`SharedLimiter` over the process's storage for ``settings``."""
    return SharedLimiter(storage_for(settings), settings.resolved_ratelimit_url)
