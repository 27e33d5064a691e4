"""Text and metadata extraction with Apache Tika (in-process via iscc-tika, or a Tika server over HTTP).

Every way a file can fail becomes an ``IngestError`` with a short, stable reason ("encrypted document",
"no text extracted", "unsupported type ...", "file too large (...)", "corrupt file: ...") so the run report
can group failures; no Tika or native error escapes as anything else. Feed entries (text already known)
pass through without Tika.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import httpx
from haystack import component

from ingest.errors import IngestError
from ingest.item import IngestItem, Processed
from tfe.core.settings import Settings

__all__ = ["TikaExtractor", "parse_date"]

log = logging.getLogger(__name__)

_ENCRYPTED_TYPES = ("protected", "encrypted")
_UNSUPPORTED_TYPES = ("application/octet-stream", "application/x-tika-", "image/", "audio/", "video/")
_TITLE_KEYS = ("dc:title", "title", "pdf:docinfo:title")
_AUTHOR_KEYS = ("dc:creator", "meta:author", "Author", "pdf:docinfo:creator", "meta:last-author")
_CREATED_KEYS = ("dcterms:created", "meta:creation-date", "Creation-Date", "pdf:docinfo:created")
_MODIFIED_KEYS = ("dcterms:modified", "meta:save-date", "Last-Modified", "pdf:docinfo:modified")
_LANGUAGE_KEYS = ("dc:language", "language", "Content-Language")


def _first(meta: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = meta.get(key)
        if isinstance(value, list):
            value = next((v for v in value if str(v).strip()), None)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def parse_date(value: str | None) -> dt.datetime | None:
    """Parse Tika's ISO 8601 dates (``2015-10-07T18:14:00Z``); naive values are taken as UTC."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _short(message: str, limit: int = 160) -> str:
    """The first meaningful line of a Tika/Java error, without the ``ParseError("...")`` wrapping."""
    text = message.strip()
    match = re.search(r"Parse error occurred\s*:\s*(.*?)(?:\"\)|$)", text, re.S)
    if match:
        text = match.group(1)
    text = re.sub(r"@[0-9a-f]{6,}", "", text.splitlines()[0] if text else "unknown error")
    return text[:limit].strip() or "unknown error"


@component
class TikaExtractor:
    """Fill ``text``, ``mime``, ``title``, ``author``, dates and the Tika metadata of a ``Processed``."""

    def __init__(self, settings: Settings) -> None:
        self.max_file_bytes = settings.max_file_bytes
        self.max_chars = settings.tika_max_chars
        self.tika_url = settings.tika_url.rstrip("/") if settings.tika_url else None
        self.timeout_s = 120.0
        self._extractor: Any = None

    def warm_up(self) -> None:
        """Start the native Tika (once); a Tika server needs nothing."""
        if self._extractor is None and self.tika_url is None:
            from iscc_tika import Extractor

            extractor = Extractor()
            extractor.set_extract_string_max_length(self.max_chars)
            self._extractor = extractor

    @component.output_types(record=Processed)
    def run(self, item: IngestItem) -> dict[str, Processed]:
        """Extract one item; raises ``IngestError`` with a clear reason when the file cannot be read."""
        record = Processed(item=item, content_hash=item.content_hash())
        if item.data is None:
            record.mime = "text/plain"
            record.text = item.text or ""
            record.title = item.title
            record.author = item.author
            record.size = len(record.text.encode("utf-8"))
            return {"record": record}
        record.size = len(item.data)
        if record.size > self.max_file_bytes:
            raise IngestError(
                f"file too large ({record.size} bytes > {self.max_file_bytes})", step="extractor"
            )
        if record.size == 0:
            raise IngestError("empty file", step="extractor")
        text, meta = self._extract(item.data)
        self._fill(record, text, meta)
        return {"record": record}

    def _extract(self, data: bytes) -> tuple[str, dict[str, Any]]:
        try:
            if self.tika_url is not None:
                return self._extract_http(data)
            self.warm_up()
            text, meta = self._extractor.extract_bytes_to_string(bytearray(data))
            return str(text or ""), dict(meta or {})
        except IngestError:
            raise
        except Exception as exc:  # Tika and the native bridge raise anything (TypeError, RuntimeError, ...)
            message = _short(str(exc))
            if "encrypt" in message.lower() or "password" in message.lower():
                raise IngestError("encrypted document", step="extractor") from exc
            raise IngestError(f"corrupt file: {message}", step="extractor") from exc

    def _extract_http(self, data: bytes) -> tuple[str, dict[str, Any]]:
        """Use a Tika server: ``PUT /tika`` for plain text, ``PUT /meta`` for metadata as JSON."""
        try:
            with httpx.Client(timeout=self.timeout_s) as client:
                text = client.put(f"{self.tika_url}/tika", content=data, headers={"Accept": "text/plain"})
                meta = client.put(
                    f"{self.tika_url}/meta", content=data, headers={"Accept": "application/json"}
                )
        except httpx.HTTPError as exc:
            raise IngestError(f"tika server unavailable: {exc}", step="extractor") from exc
        if text.status_code == 422 or meta.status_code == 422:
            raise IngestError("encrypted document", step="extractor")  # Tika server's code for encrypted
        if text.status_code >= 400:
            raise IngestError(f"corrupt file: tika server answered {text.status_code}", step="extractor")
        return text.text, (meta.json() if meta.status_code < 400 else {})

    def _fill(self, record: Processed, text: str, meta: dict[str, Any]) -> None:
        types = meta.get("Content-Type") or []
        types = [types] if isinstance(types, str) else [str(t) for t in types]
        mime = (types[-1] if types else "application/octet-stream").split(";")[0].strip()
        warnings = " ".join(str(w) for w in (meta.get("X-TIKA:warning") or []))
        record.mime = mime
        record.tika_meta = {
            k: ", ".join(map(str, v)) if isinstance(v, list) else str(v)
            for k, v in meta.items()
            if not k.startswith("X-TIKA:EXCEPTION")
        }
        if any(marker in t for t in types for marker in _ENCRYPTED_TYPES) or "EncryptedDocument" in warnings:
            raise IngestError("encrypted document", step="extractor")
        if not text.strip():
            if mime.startswith(_UNSUPPORTED_TYPES):
                raise IngestError(f"unsupported type {mime}", step="extractor")
            raise IngestError("no text extracted", step="extractor")
        record.text = text
        record.title = _first(meta, _TITLE_KEYS) or ""
        record.author = _first(meta, _AUTHOR_KEYS)
        record.created_at = parse_date(_first(meta, _CREATED_KEYS))
        record.modified_at = parse_date(_first(meta, _MODIFIED_KEYS))
        record.language = (_first(meta, _LANGUAGE_KEYS) or "")[:8] or None
