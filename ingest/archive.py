"""Zip-bomb check for ZIP containers (OOXML, ODF, EPUB, plain ZIP), before anything decompresses them.

The central directory at the end of a ZIP file declares every member's uncompressed size; reading it with
``zipfile`` costs a few milliseconds and no decompression. A file is refused when its members add up to
more than ``max_uncompressed_mb``, or expand more than ``max_expansion_ratio`` times its own size once
they add up to more than ``RATIO_FLOOR_BYTES`` (small archives cannot hurt, and tiny XML parts compress
very well). A lying central directory gets past this check; the sandbox's memory and time caps
(``ingest.sandbox``) still hold.
"""

from __future__ import annotations

import io
import zipfile

from ingest.errors import IngestError

__all__ = ["RATIO_FLOOR_BYTES", "check_archive", "is_zip"]

RATIO_FLOOR_BYTES = 32 * 1024 * 1024
_MB = 1024 * 1024


def is_zip(data: bytes) -> bool:
    """Whether ``data`` starts like a ZIP file (local header, or an empty archive's end record)."""
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def check_archive(data: bytes, *, max_expansion_ratio: float, max_uncompressed_mb: int) -> None:
    """Raise ``IngestError("archive expands beyond ...")`` when ``data`` is a ZIP that would expand too far.

    Not a ZIP, or a ZIP whose directory cannot be read: nothing to say here (Tika reports corrupt files).
    """
    if not is_zip(data):
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(max(0, info.file_size) for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return
    if max_uncompressed_mb > 0 and total > max_uncompressed_mb * _MB:
        raise IngestError(
            f"archive expands beyond {max_uncompressed_mb} MB ({total / _MB:,.0f} MB uncompressed)",
            step="extractor",
        )
    ratio = total / max(1, len(data))
    if max_expansion_ratio > 0 and total > RATIO_FLOOR_BYTES and ratio > max_expansion_ratio:
        raise IngestError(
            f"archive expands beyond {max_expansion_ratio:g} times its size ({ratio:,.0f} times, "
            f"{total / _MB:,.0f} MB uncompressed)",
            step="extractor",
        )
