"""Sign-in throttling: after a few failures for one account (or one client address) within a window,
further attempts are refused for a while, whatever the password. In memory, per process."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class LoginThrottle:
    """Sliding-window failure counter keyed by e-mail and by client address."""

    def __init__(self, max_failures: int = 5, window_s: float = 300.0) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def blocked(self, *keys: str) -> bool:
        """Whether any of ``keys`` has reached the failure limit within the window."""
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.max_failures for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


class TokenThrottle:
    """Bad API tokens per client address (STUB by the lead, in memory; the throttle helper moves it to
    the shared ``limits`` store). ``retry_after`` is 0 while the address may try again."""

    def __init__(self, max_failures: int = 20, window_s: float = 60.0) -> None:
        self._inner = LoginThrottle(max_failures, window_s)

    def retry_after(self, address: str) -> float:
        return self._inner.window_s if self._inner.blocked(f"ip:{address}") else 0.0

    def failed(self, address: str) -> None:
        self._inner.failed(f"ip:{address}")
