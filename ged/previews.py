"""Previews of a document version: a first-page thumbnail (PNG) when one can be drawn, else its text.

- PDF: PDFium (pypdfium2) draws the first page ``width`` pixels wide in a child process
  (``ged/thumbnail_worker.py``, memory-capped, killed past the time limit): an untrusted file that
  crashes or hangs the renderer costs that process only.
- Office files (Word, Excel, PowerPoint, OpenDocument, RTF): converted to PDF by LibreOffice headless
  (``soffice --headless --convert-to pdf`` in a temporary folder, with its own profile, killed past the
  time limit) when it is installed, then drawn as a PDF. ``capabilities()`` says what is installed; it is
  detected once per process and reported by ``/healthz``.
- Anything else, or a file the renderer refuses (a broken PDF), gets the text preview: the first lines
  of the version's extracted text. Never an error for a readable document.

A thumbnail is drawn once per version and cached as a blob (``BlobStore.put(png, owner=doc_id)``: sealed
with the document's data key, erased with it); its key is kept in the version's ``meta["preview_blob"]``.
A file the renderer refused is remembered (``meta["preview_failed"]``) so that it is not retried at each
view; an office file seen while no converter was installed is drawn once one is.
"""

from __future__ import annotations

import logging
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ged.documents import visible_document
from ged.models import DocumentVersion
from tfe.core.errors import NotFoundError, TfeError
from tfe.core.security.scope import AccessScope

__all__ = [
    "Capabilities",
    "Preview",
    "PreviewBlobs",
    "Previewer",
    "capabilities",
    "png_size",
    "text_preview",
]

log = logging.getLogger(__name__)

WORKER = Path(__file__).with_name("thumbnail_worker.py")
MEMORY_MB = 1024  # data-memory cap of the renderer child process
TEXT_LINES = 30
TEXT_CHARS = 2000
PDF_MIMES = frozenset({"application/pdf", "application/x-pdf"})
OFFICE_SUFFIXES = frozenset(
    {".doc", ".docx", ".docm", ".dotx", ".xls", ".xlsx", ".xlsm", ".xlsb", ".ppt", ".pptx", ".pptm"}
    | {".odt", ".ods", ".odp", ".rtf", ".wpd"}
)
OFFICE_MIME_PARTS = ("msword", "ms-excel", "ms-powerpoint", "officedocument", "opendocument", "rtf")


class PreviewBlobs(Protocol):
    """What previews need of the blob store (``ged.blobs.BlobStore`` or its encrypting wrapper)."""

    def get(self, key: str) -> bytes: ...

    def put(self, data: bytes, *, owner: str) -> str: ...


@dataclass(frozen=True)
class Capabilities:
    """What can be drawn here: PDF thumbnails (pypdfium2) and office ones (``office``: LibreOffice)."""

    pdf: bool
    office: str | None  # the converter's path

    def as_dict(self) -> dict[str, bool]:
        return {"pdf": self.pdf, "office": self.office is not None}


@lru_cache(maxsize=1)
def capabilities() -> Capabilities:
    """Detected once per process (the renderer's package, ``soffice`` or ``libreoffice`` on the PATH)."""
    try:
        import pypdfium2  # noqa: F401

        pdf = True
    except ImportError:  # pragma: no cover - a dependency; reported, not fatal
        pdf = False
    return Capabilities(pdf=pdf, office=shutil.which("soffice") or shutil.which("libreoffice"))


@dataclass(frozen=True)
class Preview:
    """A version's preview: ``kind`` ``image`` (``png``, ``width`` x ``height``), ``text``, or ``pending``
    (``draw=False``: a drawing not made yet)."""

    kind: str
    version: int
    text: str
    png: bytes | None = None
    width: int = 0
    height: int = 0


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG (its IHDR chunk)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def text_preview(text: str) -> str:
    """The first non-empty lines of a text (at most ``TEXT_LINES`` lines, ``TEXT_CHARS`` characters)."""
    lines = [line.strip() for line in text[: TEXT_CHARS * 4].splitlines() if line.strip()]
    return "\n".join(lines[:TEXT_LINES])[:TEXT_CHARS]


def is_pdf(mime: str, filename: str, head: bytes) -> bool:
    return mime in PDF_MIMES or filename.lower().endswith(".pdf") or head.startswith(b"%PDF")


def is_office(mime: str, filename: str) -> bool:
    return Path(filename.lower()).suffix in OFFICE_SUFFIXES or any(p in mime for p in OFFICE_MIME_PARTS)


class RenderError(Exception):
    """The file could not be drawn (the reason is kept in the version's meta)."""


class Previewer:
    """Draws and caches thumbnails for ``preview``; one per runtime."""

    def __init__(
        self, blobs: PreviewBlobs, *, width: int = 300, timeout_s: float = 20.0, office: str | None = None
    ) -> None:
        self.blobs = blobs
        self.width = width
        self.timeout_s = timeout_s
        self.office = office

    # drawing ---------------------------------------------------------------------------------------
    def pdf_thumbnail(self, data: bytes) -> bytes:
        """The first page of a PDF as a PNG ``width`` pixels wide; ``RenderError`` if it cannot be drawn."""
        try:
            done = subprocess.run(
                [sys.executable, "-s", str(WORKER), str(self.width), str(MEMORY_MB)],
                input=data,
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            )
        except subprocess.TimeoutExpired as exc:
            raise RenderError(f"thumbnail timed out after {self.timeout_s:g} s") from exc
        if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
            reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["renderer crashed"]
            raise RenderError(reason[0][:200])
        return done.stdout

    def office_to_pdf(self, data: bytes, filename: str) -> bytes:
        """An office file converted to PDF by LibreOffice headless (``RenderError`` if it fails)."""
        if self.office is None:
            raise RenderError("no office converter installed")
        suffix = Path(filename).suffix.lower() if Path(filename).suffix.lower() in OFFICE_SUFFIXES else ".bin"
        with tempfile.TemporaryDirectory(prefix="tfe-preview-") as tmp:
            source = Path(tmp) / f"document{suffix}"
            source.write_bytes(data)
            command = [
                self.office,
                f"-env:UserInstallation=file://{tmp}/profile",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(Path(tmp) / "out"),
                str(source),
            ]
            proc = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
            )
            try:
                proc.wait(timeout=self.timeout_s)
            except subprocess.TimeoutExpired as exc:
                os.killpg(proc.pid, 9)
                proc.wait()
                raise RenderError(f"office conversion timed out after {self.timeout_s:g} s") from exc
            out = Path(tmp) / "out" / "document.pdf"
            if proc.returncode != 0 or not out.is_file():
                raise RenderError("office conversion failed")
            return out.read_bytes()

    def thumbnail(self, data: bytes, mime: str, filename: str) -> bytes | None:
        """A PNG of the first page, ``None`` when this kind of file has no drawing here (text preview);
        ``RenderError`` when it should have one and the file could not be drawn."""
        if is_pdf(mime, filename, data[:8]):
            return self.pdf_thumbnail(data)
        if is_office(mime, filename) and self.office is not None:
            return self.pdf_thumbnail(self.office_to_pdf(data, filename))
        return None

    # the use case ----------------------------------------------------------------------------------
    def preview(
        self,
        session: Session,
        doc_id: str,
        scope: AccessScope,
        version: int | None = None,
        *,
        draw: bool = True,
    ) -> Preview:
        """The preview of a version (the latest by default) of a document ``scope`` may see.

        ``NotFoundError`` when the document is missing, out of scope or has no such version. A drawing is
        cached on first use; any failure to draw falls back to the text preview. With ``draw=False``
        nothing is drawn: a drawing not cached yet comes back as kind ``pending`` (the page links the
        image route, which draws it). Call it before any write of the session: caching the drawing
        may open the document's data key in a transaction of the vault's own (SQLite locks)."""
        visible_document(session, doc_id, scope)
        query = select(DocumentVersion).where(DocumentVersion.document_id == doc_id)
        if version is not None:
            query = query.where(DocumentVersion.number == version)
        row = session.scalars(query.order_by(DocumentVersion.number.desc()).limit(1)).first()
        if row is None:
            raise NotFoundError(f"document {doc_id!r} has no version {version}" if version else "no content")
        text = text_preview(row.text or "")
        if not draw:
            cached = self._cached(doc_id, row)
            if cached is not None:
                width, height = png_size(cached)
                return Preview("image", row.number, text, cached, width, height)
            return Preview("pending" if self._drawable(row) else "text", row.number, text)
        png = self._cached_or_drawn(session, doc_id, row)
        if png is None:
            return Preview("text", row.number, text)
        width, height = png_size(png)
        return Preview("image", row.number, text, png, width, height)

    def _drawable(self, row: DocumentVersion) -> bool:
        """Whether drawing this version may succeed (a kind drawn here, not refused before)."""
        if (row.meta or {}).get("preview_failed"):
            return False
        mime, name = row.mime or "", row.filename or ""
        return is_pdf(mime, name, b"") or (is_office(mime, name) and self.office is not None)

    def _cached(self, doc_id: str, row: DocumentVersion) -> bytes | None:
        meta = row.meta or {}
        key = meta.get("preview_blob")
        if isinstance(key, str) and meta.get("preview_width") == self.width:
            try:
                return self.blobs.get(key)
            except TfeError as exc:  # a missing or unreadable cached drawing is drawn again
                log.warning("preview cache unreadable doc=%s error=%s", doc_id, type(exc).__name__)
        return None

    def _cached_or_drawn(self, session: Session, doc_id: str, row: DocumentVersion) -> bytes | None:
        cached = self._cached(doc_id, row)
        if cached is not None:
            return cached
        meta = dict(row.meta or {})
        if meta.get("preview_failed"):
            return None
        try:
            data = self.blobs.get(row.blob_key)
        except TfeError as exc:  # missing or unreadable original: the download reports it, not this
            log.warning("preview without original doc=%s error=%s", doc_id, type(exc).__name__)
            return None
        try:
            png = self.thumbnail(data, row.mime or "", row.filename or "")
        except RenderError as exc:
            log.info("preview falls back to text doc=%s reason=%s", doc_id, exc)
            meta["preview_failed"] = str(exc)
            row.meta = meta
            return None
        if png is None:  # no drawing for this kind of file here (retried once a converter is installed)
            return None
        meta.pop("preview_failed", None)
        meta.update(preview_blob=self.blobs.put(png, owner=doc_id), preview_width=self.width)
        row.meta = meta
        return png
