"""The one store of throttles and guard counters: a ``limits`` storage from ``TFE_RATELIMIT_URL`` (else
``TFE_REDIS_URL``, else process memory), shared by the sign-in throttle, the bad-token throttle and the
exfiltration guard, so several server processes on one Redis agree.

Written by the lead as the shared entry point; the throttle helper extended it with
:class:`SharedLimiter` (moving windows that fall back to process memory, with a logged warning, while the
shared store is unreachable: a throttle must never answer 500 because Redis is down) and
:func:`namespace_for` (the key prefix of one installation). :meth:`SharedLimiter.batch` runs several
:class:`Step` s of one request at once: on Redis in ONE round trip (a Lua script over the very lists that
``limits``' moving windows keep, so ``hit``/``window``/``clear`` see the same counts), elsewhere one after
the other.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple, TypeVar
from urllib.parse import urlsplit

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisClusterStorage, RedisStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from limits.util import WindowStats

from tfe.core.settings import Settings

__all__ = [
    "SKIPPED",
    "SharedLimiter",
    "Step",
    "limiter_for",
    "namespace_for",
    "parse_limit",
    "shared_limiter",
    "storage_for",
]

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


#: A :class:`Step`'s result when it did not run (its ``after`` step counted nothing, or a gate before it
#: refused).
SKIPPED = -1
_OPS = {"gate": 0, "hit": 1, "count": 2}

#: The batch on Redis. KEYS[i]: step i's moving-window list, as ``limits``' RedisStorage keeps it (newest
#: timestamp first, trimmed to the limit, expiring after the window). ARGV[1]: now (epoch seconds);
#: ARGV[2]: per step "limit window op after;" (window in s, op 0 gate / 1 hit / 2 count, after: 1-based
#: step, 0 none; one argument rather than four per step: fewer to encode and parse). Returns one integer
#: per step run: 1 counted, 0 refused (window full), the count for op 2, -1 skipped; a refused gate ends
#: the batch (the reply is shorter).
_BATCH_LUA = """
local now_text = ARGV[1]
local now = tonumber(now_text)
local out = {}
local function count(key, limit, since)
  local low, high, found = 0, math.min(redis.call('llen', key), limit) - 1, -1
  while low <= high do
    local mid = math.floor((low + high) / 2)
    local value = tonumber(redis.call('lindex', key, mid))
    if value and value >= since then found = mid; low = mid + 1 else high = mid - 1 end
  end
  return found + 1
end
local i = 0
for limit, expiry, op, after in string.gmatch(ARGV[2], '(%d+) (%d+) (%d) (%d+);') do
  i = i + 1
  limit, expiry, op, after = tonumber(limit), tonumber(expiry), tonumber(op), tonumber(after)
  local key = KEYS[i]
  if after > 0 and out[after] ~= 1 then
    out[i] = -1
  elseif op == 2 then
    out[i] = count(key, limit, now - expiry)
  else
    local oldest = redis.call('lindex', key, limit - 1)
    if oldest and tonumber(oldest) >= now - expiry then
      out[i] = 0
      if op == 0 then return out end
    else
      redis.call('lpush', key, now_text)
      redis.call('ltrim', key, 0, limit - 1)
      redis.call('expire', key, expiry)
      out[i] = 1
    end
  end
end
return out
"""


class Step(NamedTuple):
    """One operation of :meth:`SharedLimiter.batch` on ``key``'s moving window for ``item``.

    ``gate``: count one event; refused (window full), it ends the batch (later steps are SKIPPED).
    ``hit``: count one event (1) or not (0, window full). ``count``: the events in the window.
    ``after``: the index of an earlier step; this one runs only if that one counted its event (1)."""

    op: Literal["gate", "hit", "count"]
    item: RateLimitItem
    key: str
    after: int | None = None


def _apply(limiter: MovingWindowRateLimiter, steps: Sequence[Step]) -> list[int]:
    """:meth:`SharedLimiter.batch` one step after the other (memory, or a store without the script)."""
    out: list[int] = []
    for step in steps:
        if step.after is not None and out[step.after] != 1:
            out.append(SKIPPED)
        elif step.op == "count":
            out.append(step.item.amount - limiter.get_window_stats(step.item, step.key).remaining)
        elif limiter.hit(step.item, step.key):
            out.append(1)
        else:
            out.append(0)
            if step.op == "gate":
                return out + [SKIPPED] * (len(steps) - len(out))
    return out


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
        self._storage = storage
        self._key_parts: dict[RateLimitItem, tuple[str, str]] = {}
        # one script per batch on Redis (EVALSHA; loaded on first use); a cluster spreads a request's keys
        # over several nodes, where one script cannot reach them all: one operation after the other there
        self._script = (
            storage.get_connection().register_script(_BATCH_LUA.encode())
            if isinstance(storage, RedisStorage) and not isinstance(storage, RedisClusterStorage)
            else None
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
                self._went_down(exc)
        return call(self.fallback)

    def _went_down(self, exc: BaseException) -> None:
        with _lock:
            _down_until[self.uri] = time.monotonic() + RETRY_AFTER_OUTAGE_S
        log.warning(
            "rate-limit store %s unreachable (%s); counting in process memory for %.0f s",
            _redacted(self.uri),
            type(exc).__name__,
            RETRY_AFTER_OUTAGE_S,
        )

    def batch(self, steps: Sequence[Step]) -> list[int]:
        """Run ``steps`` in order, one result per step (see :class:`Step`; ``SKIPPED`` when not run). On
        Redis: one round trip, atomic; while the store is unreachable: in memory, like the other calls."""
        if self._script is not None and not self.degraded:
            try:
                return self._batch_on_redis(steps)
            except self._errors as exc:
                self._went_down(exc)
        return self._run(lambda limiter: _apply(limiter, steps))

    def _redis_key(self, item: RateLimitItem, key: str) -> str:
        """``storage.prefixed_key(item.key_for(key))``, the key ``limits`` uses, from a cached split of
        the item's key (a per-request cost otherwise: a few µs per step)."""
        split = self._key_parts.get(item)
        if split is None:
            assert isinstance(self._storage, RedisStorage)
            head, tail = self._storage.prefixed_key(item.key_for("\0")).split("\0")
            if len(self._key_parts) > 1024:  # budgets changed many times: start again
                self._key_parts.clear()
            split = self._key_parts[item] = (head, tail)
        return f"{split[0]}{key}{split[1]}"

    def _batch_on_redis(self, steps: Sequence[Step]) -> list[int]:
        assert self._script is not None and isinstance(self._storage, RedisStorage)
        keys = [self._redis_key(item, key) for _, item, key, _ in steps]
        spec = "".join(
            f"{item.amount} {item.get_expiry()} {_OPS[op]} {0 if after is None else after + 1};"
            for op, item, _, after in steps
        )
        got = [int(value) for value in self._script(keys=keys, args=[repr(time.time()), spec])]
        return got + [SKIPPED] * (len(steps) - len(got))

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
