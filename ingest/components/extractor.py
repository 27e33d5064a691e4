"""Text and metadata extraction with Apache Tika (iscc-tika in a sandboxed child process, or a Tika server).

Before Tika sees a file: a ZIP container that would expand too far is refused from its central directory
(``ingest.archive``); UTF-16/32 text is re-encoded as UTF-8 (``ingest.textfiles``), since Tika takes it
for binary; ODF headings get the line break Tika drops (``ingest.odf``). The native Tika runs in a warm
child process under a memory cap and a time limit (``ingest.sandbox``), so no file can grow or stall the
server.

Every way a file can fail becomes an ``IngestError`` with a short, stable reason so the run report can
group failures: "empty file", "encrypted document", "no text extracted", "unsupported type <mime>",
"corrupt file: <Tika's first line>", "archive expands beyond ...", "extraction exceeded the memory
limit (N MB)", "extraction timed out after N s", "tika server unavailable: ..."; no Tika or native error
escapes as anything else (``ingest.testing.ExtractorTests`` checks each). Feed entries (text already
known) pass through without Tika. The size cap is not checked here: the runner refuses oversized files
before reading them, and the web layer refuses oversized uploads before they reach the pipeline.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import httpx
from haystack import component

from ingest.archive import check_archive
from ingest.errors import IngestError
from ingest.item import ExtractedMetadata, IngestItem
from ingest.odf import break_headings
from ingest.sandbox import TikaSandbox
from ingest.textfiles import utf8_text
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
    """Extract the text, title, declared language and ``ExtractedMetadata`` of one ``IngestItem``."""

    def __init__(self, settings: Settings) -> None:
        self.max_chars = settings.tika_max_chars
        self.tika_url = settings.tika_url.rstrip("/") if settings.tika_url else None
        self.timeout_s = settings.extract_timeout_s
        self.max_expansion_ratio = settings.max_expansion_ratio
        self.max_uncompressed_mb = settings.max_uncompressed_mb
        self._sandbox = (
            TikaSandbox.shared(
                max_chars=self.max_chars, timeout_s=self.timeout_s, memory_mb=settings.extract_memory_mb
            )
            if self.tika_url is None
            else None
        )

    def warm_up(self) -> None:
        """Start the sandboxed native Tika (once); a Tika server needs nothing."""
        if self._sandbox is not None:
            self._sandbox.warm_up()

    def close(self) -> None:
        """Stop the Tika child process, shared by the process's pipelines (the next file starts a new one)."""
        if self._sandbox is not None:
            self._sandbox.close()

    @component.output_types(text=str, title=str, language=str | None, metadata=ExtractedMetadata)
    def run(self, item: IngestItem) -> dict[str, Any]:
        """Extract one item; raises ``IngestError`` with a clear reason when the file cannot be read.

        ``language`` is the one the file declares (``dc:language``, ...), if any; the normaliser detects
        the real one and falls back on it.
        """
        if item.data is None:
            text = item.text or ""
            metadata = ExtractedMetadata(
                content_hash=item.content_hash(),
                mime="text/plain",
                size=len(text.encode("utf-8")),
                author=item.author,
            )
            return {"text": text, "title": item.title, "language": None, "metadata": metadata}
        if not item.data:
            raise IngestError("empty file", step="extractor")
        text, meta = self._extract(self._prepare(item.data))
        return self._outputs(item, text, meta)

    def _prepare(self, data: bytes) -> bytes:
        """The bytes Tika gets: refused if a ZIP bomb, UTF-16/32 text as UTF-8, ODF headings broken."""
        check_archive(
            data, max_expansion_ratio=self.max_expansion_ratio, max_uncompressed_mb=self.max_uncompressed_mb
        )
        return utf8_text(data) or break_headings(data)

    def _extract(self, data: bytes) -> tuple[str, dict[str, Any]]:
        try:
            if self._sandbox is None:
                return self._extract_http(data)
            return self._sandbox.extract(data)
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

    def _outputs(self, item: IngestItem, text: str, meta: dict[str, Any]) -> dict[str, Any]:
        """The run outputs from Tika's answer; ``IngestError`` for encrypted, empty or unsupported files."""
        assert item.data is not None
        types = meta.get("Content-Type") or []
        types = [types] if isinstance(types, str) else [str(t) for t in types]
        mime = (types[-1] if types else "application/octet-stream").split(";")[0].strip()
        warnings = " ".join(str(w) for w in (meta.get("X-TIKA:warning") or []))
        if any(marker in t for t in types for marker in _ENCRYPTED_TYPES) or "EncryptedDocument" in warnings:
            raise IngestError("encrypted document", step="extractor")
        if not text.strip():
            if mime.startswith(_UNSUPPORTED_TYPES):
                raise IngestError(f"unsupported type {mime}", step="extractor")
            raise IngestError("no text extracted", step="extractor")
        metadata = ExtractedMetadata(
            content_hash=item.content_hash(),
            mime=mime,
            size=len(item.data),
            author=_first(meta, _AUTHOR_KEYS),
            created_at=parse_date(_first(meta, _CREATED_KEYS)),
            modified_at=parse_date(_first(meta, _MODIFIED_KEYS)),
            tika_meta={
                k: ", ".join(map(str, v)) if isinstance(v, list) else str(v)
                for k, v in meta.items()
                if not k.startswith("X-TIKA:EXCEPTION")
            },
        )
        language = (_first(meta, _LANGUAGE_KEYS) or "")[:8] or None
        return {
            "text": text,
            "title": _first(meta, _TITLE_KEYS) or "",
            "language": language,
            "metadata": metadata,
        }
