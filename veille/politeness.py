"""Per-host politeness for one worker process: at most N requests at once to a host, and a minimum delay
between the starts of two requests to it. Threads of one process share one ``HostGate``; several worker
processes each keep their own (documented in docs/decisions.md)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["HostGate"]


@dataclass
class _Host:
    slots: threading.Semaphore
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_start: float = 0.0


class HostGate:
    def __init__(self, concurrency: int, delay_s: float) -> None:
        self._concurrency = max(1, concurrency)
        self._delay = max(0.0, delay_s)
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def _host(self, name: str) -> _Host:
        with self._lock:
            if name not in self._hosts:
                self._hosts[name] = _Host(threading.Semaphore(self._concurrency))
            return self._hosts[name]

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        """Hold one of the host's slots, started no sooner than ``delay_s`` after the previous start."""
        host = self._host((urlsplit(url).hostname or "").lower())
        with host.slots:
            with host.lock:
                wait = host.last_start + self._delay - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                host.last_start = time.monotonic()
            yield
