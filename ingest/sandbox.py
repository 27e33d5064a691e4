"""Tika extraction in a warm child process under a memory cap and a time limit it cannot exceed.

A zip bomb or a pathological file used to grow the server itself (a 4 MB ``.docx`` holding 4 GiB took
4.1 GB and 17.5 s, most of it never given back). ``TikaSandbox`` runs ``ingest/tika_worker.py`` as a
child process that caps its own data memory (``RLIMIT_DATA``, see the worker for why not ``RLIMIT_AS``)
before the native Tika loads there. The child is started once and reused (starting Python and Tika costs
about half a second, too much per file); it is replaced after a time-out, a memory error, a crash, or when
its memory has grown past half the cap. Whatever a file does, the parent's memory only holds the file and
the text that comes back.

``extract`` returns ``(text, Tika metadata)``, raises ``IngestError`` for the limits ("extraction timed
out after N s", "extraction exceeded the memory limit (N MB)") and for a file that crashes the child
twice ("corrupt file: the extractor crashed"), and ``TikaFailure`` (Tika's own error message) for the
extractor to classify (encrypted, corrupt).
"""

from __future__ import annotations

import json
import logging
import os
import selectors
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import IO, Any, ClassVar

from ingest.errors import IngestError

__all__ = ["TikaFailure", "TikaSandbox"]

log = logging.getLogger(__name__)

WORKER = Path(__file__).with_name("tika_worker.py")
START_TIMEOUT_S = 60.0
STDERR_KEEP_BYTES = 1 << 20
_HEADER = struct.Struct(">I")
_MEMORY_MARKERS = ("OutOfMemoryError", "Could not commit", "MemoryError", "NoMemory")


class TikaFailure(Exception):
    """Tika refused the file; the message is Tika's (the extractor turns it into a reason)."""


class _Worker:
    """One child process and its pipes; ``stderr`` is a file the parent reads after a failure."""

    def __init__(self, max_chars: int, memory_mb: int) -> None:
        # append mode: the child writes through the same open file, and the parent may empty it
        self.stderr: IO[bytes] = tempfile.TemporaryFile(mode="a+b", prefix="tfe-tika-")  # noqa: SIM115
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-s", str(WORKER), str(max_chars), str(memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=env,
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout

    def request(self, payload: bytes, timeout_s: float) -> bytes | None:
        """Send one frame and wait for the answer; None if the child died; ``TimeoutError`` past the limit."""
        if payload:
            try:
                self.stdin.write(_HEADER.pack(len(payload)) + payload)
                self.stdin.flush()
            except (BrokenPipeError, OSError):
                return None
        return self._read_frame(time.monotonic() + timeout_s)

    def _read_frame(self, deadline: float) -> bytes | None:
        fd = self.stdout.fileno()
        buffer = bytearray()
        needed: int | None = None
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while needed is None or len(buffer) < needed:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise TimeoutError
                chunk = os.read(fd, 1 << 20 if needed is None else min(1 << 22, needed - len(buffer)))
                if not chunk:
                    return None
                buffer += chunk
                if needed is None and len(buffer) >= _HEADER.size:
                    needed = _HEADER.size + _HEADER.unpack_from(buffer)[0]
        return bytes(buffer[_HEADER.size :])

    def error_output(self, since: int) -> str:
        """What the child wrote on stderr since offset ``since`` (the native VM reports OOM there).

        ``pread``/``fstat`` leave the file offset alone: the child writes through the same open file."""
        try:
            fd = self.stderr.fileno()
            start = max(since, os.fstat(fd).st_size - 64 * 1024)
            return os.pread(fd, 64 * 1024, start).decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def stderr_offset(self) -> int:
        """Where the child's next error output will start; empties the file once it passes 1 MiB."""
        try:
            fd = self.stderr.fileno()
            size = os.fstat(fd).st_size
            if size > STDERR_KEEP_BYTES:
                os.ftruncate(fd, 0)
                return 0
            return size
        except (OSError, ValueError):
            return 0

    def stop(self) -> int | None:
        """Kill the child (it holds no state worth saving) and return its exit status."""
        _stop(self.proc, self.stderr)
        return self.proc.returncode


def _stop(proc: subprocess.Popen[bytes], stderr: IO[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - a killed process always goes
        log.warning("tika worker pid=%s did not exit", proc.pid)
    stderr.close()


class TikaSandbox:
    """Extract with Tika in a reused child process, under ``memory_mb`` (0 = no cap) and ``timeout_s``.

    ``TikaSandbox.shared(...)`` gives the one sandbox of a process for given limits: the document and
    watch pipelines (with and without embeddings) then share one child instead of starting one each.
    """

    _shared: ClassVar[dict[tuple[int, float, int], TikaSandbox]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def shared(cls, *, max_chars: int, timeout_s: float, memory_mb: int) -> TikaSandbox:
        """The process-wide sandbox for these limits (created on first use)."""
        key = (max_chars, timeout_s, memory_mb)
        with cls._shared_lock:
            if key not in cls._shared:
                cls._shared[key] = cls(max_chars=max_chars, timeout_s=timeout_s, memory_mb=memory_mb)
            return cls._shared[key]

    def __init__(self, *, max_chars: int, timeout_s: float, memory_mb: int) -> None:
        self.max_chars = max_chars
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._worker: _Worker | None = None
        self._lock = threading.Lock()
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def warm_up(self) -> None:
        """Start the child (once) and wait until its Tika is ready."""
        with self._lock:
            self._ensure()

    def close(self) -> None:
        """Stop the child; the next ``extract`` starts a new one."""
        with self._lock:
            self._discard()

    @property
    def pid(self) -> int | None:
        """The child's process id (None when none runs); for tests and diagnostics."""
        return self._worker.proc.pid if self._worker is not None else None

    def extract(self, data: bytes) -> tuple[str, dict[str, Any]]:
        """Tika's text and metadata of ``data`` (see the module docstring for the failures).

        A child that dies without a memory error gets one more try with a fresh child, so a child that
        was already gone (killed by an operator, say) does not fail an innocent file."""
        with self._lock:
            for attempt in (1, 2):
                answer = self._attempt(data or b" ", last=attempt == 2)
                if answer is not None:
                    return answer
            raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, data: bytes, *, last: bool) -> tuple[str, dict[str, Any]] | None:
        """One request to a live child; None when it crashed and ``last`` is false (the caller retries)."""
        worker = self._ensure()
        since = worker.stderr_offset()
        try:
            payload = worker.request(data, self.timeout_s)
        except TimeoutError:
            self._discard()
            reason = f"extraction timed out after {self.timeout_s:g} s"
            raise IngestError(reason, step="extractor") from None
        if payload is None:
            errors = worker.error_output(since)
            self._discard()
            if any(marker in errors for marker in _MEMORY_MARKERS):
                raise self._memory_error()
            if not last:
                return None
            raise IngestError("corrupt file: the extractor crashed", step="extractor")
        answer = json.loads(payload)
        if not answer.get("ok"):
            memory = bool(answer.get("memory")) or any(
                marker in worker.error_output(since) for marker in _MEMORY_MARKERS
            )
            if memory:
                self._discard()
                raise self._memory_error()
            raise TikaFailure(str(answer.get("error") or "unknown error"))
        if answer.get("recycle"):
            self._discard()
        return str(answer.get("text") or ""), dict(answer.get("meta") or {})

    def _memory_error(self) -> IngestError:
        return IngestError(f"extraction exceeded the memory limit ({self.memory_mb} MB)", step="extractor")

    def _ensure(self) -> _Worker:
        if self._worker is not None and self._worker.proc.poll() is None:
            return self._worker
        self._discard()
        worker = _Worker(self.max_chars, self.memory_mb)
        try:
            ready = worker.request(b"", START_TIMEOUT_S)
        except TimeoutError:
            ready = None
        if ready is None:
            errors = worker.error_output(0).strip().splitlines()
            worker.stop()
            raise IngestError(
                f"extractor unavailable: {errors[-1][:160] if errors else 'worker did not start'}",
                step="extractor",
            )
        self._worker = worker
        self._finalizer = weakref.finalize(self, _stop, worker.proc, worker.stderr)
        return worker

    def _discard(self) -> None:
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
