"""The child process of ``ingest.sandbox``: Apache Tika (iscc-tika) under a memory cap, one file at a time.

Run as a plain script (``python ingest/tika_worker.py MAX_CHARS MEMORY_MB``), so it imports nothing but the
standard library and ``iscc_tika``: the parent's models never load here. It caps its own data memory
(``RLIMIT_DATA``) before Tika starts, starts the native Tika once (warm for every later file), then
answers requests on stdin/stdout until stdin closes.

Why ``RLIMIT_DATA`` and not ``RLIMIT_AS``: the GraalVM native image behind iscc-tika reserves about 32 GiB of
address space for its heap when it starts, so any useful ``RLIMIT_AS`` stops it from starting at all;
``RLIMIT_DATA`` counts the memory actually committed (heap chunks, malloc), which is what a zip bomb grows.

Wire format, both ways: a 4-byte big-endian length, then the payload. A request is the file's bytes. An
answer is UTF-8 JSON (never pickle: the parent must not trust what a parser child sends back):
``{"ok": true, "text": ..., "meta": {...}, "recycle": bool}``, or ``{"ok": false, "error": ..., "memory":
bool}``. After a memory error the worker answers and exits (the VM may be broken); ``recycle`` asks the
parent to replace a worker whose memory has grown past half its cap.
"""

from __future__ import annotations

import json
import resource
import struct
import sys
from typing import Any, BinaryIO

_HEADER = struct.Struct(">I")
_MEMORY_MARKERS = ("OutOfMemoryError", "Could not commit", "MemoryError")


def read_frame(stream: BinaryIO) -> bytes | None:
    """One length-prefixed frame, or None at end of stream."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    payload = stream.read(size)
    return payload if len(payload) == size else None


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _data_mb() -> float:
    """The committed data memory of this process (``VmData``), in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmData:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cap_memory(memory_mb: int) -> None:
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def _answer(extractor: Any, data: bytes, memory_mb: int) -> dict[str, Any]:
    try:
        text, meta = extractor.extract_bytes_to_string(bytearray(data))
        answer: dict[str, Any] = {"ok": True, "text": str(text or ""), "meta": dict(meta or {})}
    except MemoryError as exc:
        return {"ok": False, "error": f"MemoryError: {exc}", "memory": True}
    except BaseException as exc:  # the native bridge raises anything (TypeError, PanicException, ...)
        message = str(exc)
        return {"ok": False, "error": message, "memory": any(m in message for m in _MEMORY_MARKERS)}
    answer["recycle"] = memory_mb > 0 and _data_mb() > memory_mb / 2
    return answer


def main(argv: list[str]) -> int:
    """Serve extraction requests until stdin closes (see the module docstring)."""
    max_chars, memory_mb = int(argv[1]), int(argv[2])
    _cap_memory(memory_mb)
    from iscc_tika import Extractor

    extractor = Extractor().set_extract_string_max_length(max_chars)  # returns a new configured Extractor
    extractor.extract_bytes_to_string(bytearray(b"warm-up"))  # start the native VM now, not on a user's file
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    write_frame(stdout, b'{"ready": true}')
    while (data := read_frame(stdin)) is not None:
        answer = _answer(extractor, data, memory_mb)
        try:  # "replace": a lone surrogate from a broken file must not kill the worker
            payload = json.dumps(answer, ensure_ascii=False, default=str).encode("utf-8", "replace")
        except MemoryError:
            answer = {"ok": False, "error": "MemoryError while encoding the answer", "memory": True}
            payload = json.dumps(answer).encode("utf-8")
        write_frame(stdout, payload)
        if answer.get("memory"):
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
