"""Keep the break after ODF headings, which Tika's OpenDocument parser drops.

Tika turns ``<text:h>Le projet au Mexique</text:h><text:p>L'entreprise ...</text:p>`` into
"Le projet au MexiqueL'entreprise ...": the heading's end emits no newline, so words glue together in
snippets, passages and BM25 ("MexiqueAuteur"). ``break_headings`` rewrites ``content.xml`` of an ODF
package with a ``<text:line-break/>`` at the end of every heading (Tika turns it into a newline) and
leaves every other member as it is. The original bytes are what is stored and hashed; only Tika sees
the rewritten copy. Packages whose ``content.xml`` declares more than ``MAX_CONTENT_BYTES`` are left
alone (the zip-bomb check has already passed by then, but the rewrite must stay cheap).
"""

from __future__ import annotations

import io
import re
import zipfile

__all__ = ["MAX_CONTENT_BYTES", "break_headings"]

MAX_CONTENT_BYTES = 32 * 1024 * 1024
_HEADING_END = re.compile(rb"</text:h>")
_BREAK = b"<text:line-break/>"


def _is_odf(archive: zipfile.ZipFile) -> bool:
    try:
        with archive.open("mimetype") as member:
            return member.read(128).startswith(b"application/vnd.oasis.opendocument")
    except KeyError:
        return False


def break_headings(data: bytes) -> bytes:
    """``data`` with a line break closing every ODF heading; ``data`` itself when nothing changes."""
    if not data.startswith(b"PK\x03\x04"):
        return data
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if not _is_odf(archive):
                return data
            info = archive.getinfo("content.xml")
            if info.file_size > MAX_CONTENT_BYTES:
                return data
            with archive.open(info) as member:
                content = member.read(MAX_CONTENT_BYTES + 1)
            if len(content) > MAX_CONTENT_BYTES or b"</text:h>" not in content:
                return data
            rewritten = _HEADING_END.sub(_BREAK + b"</text:h>", content)
            return _replace_member(archive, info, rewritten)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, RuntimeError):
        return data  # encrypted, truncated or odd packages go to Tika as they are (it reports them)


def _replace_member(archive: zipfile.ZipFile, replaced: zipfile.ZipInfo, content: bytes) -> bytes:
    """A copy of ``archive`` with ``replaced`` holding ``content``; ``mimetype`` stays first and stored."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as copy:
        for info in archive.infolist():
            if info.filename == replaced.filename:
                copy.writestr(info, content, compress_type=zipfile.ZIP_DEFLATED)
            else:
                copy.writestr(info, archive.read(info), compress_type=info.compress_type)
    return out.getvalue()
