"""Headers of a stored file served back: always an attachment, never a type a browser would run.

A document's bytes come from whoever uploaded them: an HTML page or an SVG image (inside an ``.xml`` or
``.xhtml`` file) may hold scripts. So the answer is ``Content-Disposition: attachment`` with an RFC 6266
file name (an ASCII fallback and the UTF-8 ``filename*``), ``X-Content-Type-Options: nosniff``, a
sandboxing policy, and the stored media type only when it is on a short list of passive formats (PDF,
plain text, office files...): anything else, HTML, XHTML, SVG and XML included, is
``application/octet-stream``.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

__all__ = [
    "DOWNLOAD_CONTENT",
    "OCTET_STREAM",
    "attachment_headers",
    "content_disposition",
    "safe_media_type",
]

OCTET_STREAM = "application/octet-stream"
# Formats no browser executes: shown by a viewer (PDF), as text, or handed to an office program.
_PASSIVE = frozenset(
    {
        "application/pdf",
        "text/plain",
        "text/csv",
        "text/tab-separated-values",
        "text/markdown",
        "text/x-markdown",
        "text/rtf",
        "application/rtf",
        "application/json",
        "application/msword",
        "application/epub+zip",
        "application/mbox",
        "message/rfc822",
        "application/vnd.ms-outlook",
        "application/vnd.wordperfect",
        "image/png",
        "image/jpeg",
        "image/gif",
    }
)
_PASSIVE_PREFIXES = (
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.ms-word",
    "application/vnd.apple.",
)
_UNSAFE_NAME_CHARS = frozenset('"\\;%/')
_BINARY = {"schema": {"type": "string", "format": "binary"}}
# The OpenAPI ``content`` of a download: what ``safe_media_type`` may answer (ranges for the office types).
DOWNLOAD_CONTENT = {
    media: _BINARY
    for media in (OCTET_STREAM, "application/pdf", "text/*", "application/*", "image/*", "message/rfc822")
}


def safe_media_type(mime: str | None) -> str:
    """``mime`` when it is a passive format (its parameters kept for text), else octet-stream."""
    base, _, params = (mime or "").partition(";")
    base = base.strip().lower()
    passive = base in _PASSIVE or (base.startswith(_PASSIVE_PREFIXES) and not base.endswith("+xml"))
    if not passive:
        return OCTET_STREAM
    charset = params.strip().lower()
    if base.startswith("text/") and charset.startswith("charset=") and charset[8:].replace("-", "").isalnum():
        return f"{base}; {charset}"
    return base


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name in ``filename*`` (RFC 6266, 5987)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(c for c in ascii_name if c.isprintable() and c not in _UNSAFE_NAME_CHARS)
    ascii_name = ascii_name.strip(" .") or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def attachment_headers(filename: str) -> dict[str, str]:
    """The headers of a downloaded stored file (the media type goes through ``safe_media_type``)."""
    return {
        "Content-Disposition": content_disposition(filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    }
