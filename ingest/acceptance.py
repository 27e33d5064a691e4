"""The one acceptance policy for files, applied before extraction by the CLI runner and the upload route.

Tika reads far more formats than we take; the allow-list keeps to what advisers share (office documents,
PDF, text, web pages, e-mails). The magic-number checks refuse executables and compressed archives, and
any content that contradicts its extension (a ``.pdf`` whose bytes are HTML, a ``.txt`` that is a ZIP).

The line between the two kinds of failure (``docs/decisions.md``): a file refused here is *unsupported*
(API 415 ``unsupported``, CLI ``failed`` with the reason); a file that passes and then cannot be read by
the extractor (right header, broken or encrypted inside) is *corrupt/unreadable* (API 422
``extraction_failed``, CLI ``failed`` with the extractor's reason).

``clean_filename`` sanitises a client-given name (NUL, controls, bidirectional overrides, path parts)
before anything is stored.
"""

from __future__ import annotations

import unicodedata
from pathlib import PurePath

from tfe.core.errors import UnsupportedInputError

__all__ = [
    "ALLOWED_EXTENSIONS",
    "DEFAULT_FILENAME",
    "HEAD_BYTES",
    "RefusedInput",
    "clean_filename",
    "clean_text",
    "screen",
    "sniff",
]

HEAD_BYTES = 4096  # how much of a file the checks look at
DEFAULT_FILENAME = "document"
MAX_FILENAME_CHARS = 200

# Macro-enabled and binary-workbook variants are stored and read like the others (never executed).
_OOXML = frozenset(
    {
        ".docx",
        ".docm",
        ".dotx",
        ".dotm",
        ".xlsx",
        ".xlsm",
        ".xlsb",
        ".xltx",
        ".pptx",
        ".pptm",
        ".potx",
        ".ppsx",
    }
)
# Apple iWork files are ZIP packages; a ``.key`` that is not one (a PEM private key) is refused.
_IWORK = frozenset({".pages", ".numbers", ".key"})
_ZIP_BASED = _OOXML | _IWORK | frozenset({".odt", ".ott", ".ods", ".odp", ".epub"})
# Legacy Office compound files; password-protected OOXML files are OLE containers too.
_OLE_BASED = frozenset({".doc", ".dot", ".xls", ".ppt", ".msg"})
_TEXT_BASED = frozenset(
    {
        ".txt",
        ".md",
        ".csv",
        ".tsv",
        ".html",
        ".htm",
        ".xhtml",
        ".xml",
        ".json",
        ".eml",
        ".mbox",
        ".rss",
        ".atom",
    }
)
_OTHER = frozenset({".pdf", ".rtf", ".wpd"})
ALLOWED_EXTENSIONS = _ZIP_BASED | _OLE_BASED | _TEXT_BASED | _OTHER

# "MZ" (Windows) only counts with binary bytes after it, "#!" only as a script's "#!/": text may start so.
_EXECUTABLE_MAGIC = (b"\x7fELF", b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!/")
_COMPRESSED_MAGIC = (b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"BZh", b"\xfd7zXZ", b"\x28\xb5\x2f\xfd")
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"II*\x00", b"MM\x00*")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_WORDPERFECT_MAGIC = b"\xffWPC"
_PEM_START = b"-----BEGIN "
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe")
_UTF_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")

# What ``sniff`` found, in words, for the refusal reasons.
_KIND_WORDS = {
    "executable": "an executable program",
    "compressed": "a compressed archive",
    "image": "an image",
    "zip": "a ZIP archive",
    "ole": "an OLE container (legacy Office or Outlook file)",
    "pdf": "a PDF file",
    "rtf": "an RTF document",
    "wordperfect": "a WordPerfect document",
    "pem": "a private key or certificate (PEM)",
    "html": "an HTML page",
    "binary": "binary data",
    "xml": "an XML document",
    "text": "plain text",
}

# Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), and the marks.
_BIDI = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C))


class RefusedInput(UnsupportedInputError):
    """A file refused by the acceptance policy, before extraction; ``reason`` says why (no file name)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _strip_bom(head: bytes) -> bytes:
    for bom in _UTF_BOMS:
        if head.startswith(bom):
            return head[len(bom) :]
    return head


def sniff(head: bytes) -> str:
    """What the first bytes of a file are: one of the keys of ``_KIND_WORDS``."""
    if head.startswith(_EXECUTABLE_MAGIC) or (head.startswith(b"MZ") and b"\x00" in head[:64]):
        return "executable"
    if head.startswith(_COMPRESSED_MAGIC):
        return "compressed"
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    if head.startswith(_IMAGE_MAGIC):
        return "image"
    if head.startswith(_WORDPERFECT_MAGIC):
        return "wordperfect"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    text = _strip_bom(head)
    if text.startswith(b"{\\rtf"):
        return "rtf"
    if text.lstrip().startswith(_PEM_START):
        return "pem"
    if not utf16 and b"\x00" in text:
        return "binary"
    if text.lstrip()[:64].lower().startswith(_HTML_STARTS):
        return "html"
    if text.lstrip().startswith(b"<?xml"):
        return "xml"
    return "text"


def _expected(ext: str) -> frozenset[str]:
    """The kinds of content an extension may hold."""
    if ext == ".pdf":
        return frozenset({"pdf"})
    if ext == ".rtf":
        return frozenset({"rtf"})
    if ext == ".wpd":
        return frozenset({"wordperfect"})
    if ext in _OOXML:
        return frozenset({"zip", "ole"})  # OLE: a password-protected file (the extractor says "encrypted")
    if ext in _ZIP_BASED:
        return frozenset({"zip"})
    # Legacy formats older than OLE (BIFF4 workbooks, WordPerfect 4 under .doc) are binary data; word
    # processors also save RTF or Word 2003 XML under a .doc name.
    if ext in (".doc", ".dot"):
        return frozenset({"ole", "rtf", "binary", "xml"})
    if ext in _OLE_BASED:
        return frozenset({"ole", "binary"})
    return frozenset({"text", "html", "xml"})  # text formats: any text, a web page or XML included


def screen(filename: str, head: bytes, size: int) -> None:
    """Raise ``RefusedInput`` when the policy does not take this file; ``head`` is its first bytes.

    The order gives the most useful reason first: empty, then a type outside the allow-list, then
    dangerous content (executables, compressed archives) whatever the extension, then content that
    contradicts the extension.
    """
    if size == 0:
        raise RefusedInput("empty file")
    ext = PurePath(filename).suffix.lower()
    if ext not in ALLOWED_EXTENSIONS:
        allowed = ", ".join(sorted(ALLOWED_EXTENSIONS))
        raise RefusedInput(f"unsupported file type {ext or '(none)'!r}; accepted: {allowed}")
    kind = sniff(head)
    if kind in ("executable", "compressed", "pem"):
        raise RefusedInput(f"{_KIND_WORDS[kind]} is not accepted")
    if kind not in _expected(ext):
        if ext == ".pdf" and kind in ("text", "binary"):
            raise RefusedInput("not a PDF file (no %PDF- header)")
        raise RefusedInput(f"content does not match the {ext} extension: it is {_KIND_WORDS[kind]}")


def clean_text(text: str) -> str:
    """``text`` without NUL, control, surrogate, unassigned or bidirectional-override characters, NFC:
    safe to store (PostgreSQL refuses NUL) and to show (no right-to-left trick)."""
    kept = "".join(
        c for c in text if c not in _BIDI and unicodedata.category(c) not in ("Cc", "Cs", "Co", "Cn")
    )
    return unicodedata.normalize("NFC", kept)


def clean_filename(raw: str | None, head: bytes = b"") -> str:
    """A safe display name from a client-given one: no NUL, control or bidirectional-override characters,
    no directory parts, at most ``MAX_FILENAME_CHARS``; an empty result becomes ``document`` (with
    ``.pdf`` or ``.txt`` when ``head`` says so, so that the file can still be screened)."""
    name = clean_text(raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join(name.split()).rstrip(" .")  # whitespace runs, and Windows' trailing dots and spaces
    if name.startswith("."):  # ".pdf": an extension alone (".." and "." end up empty)
        rest = name.lstrip(".")
        name = f"{DEFAULT_FILENAME}.{rest}" if rest else ""
    if len(name) > MAX_FILENAME_CHARS:
        ext = PurePath(name).suffix[:16]
        name = name[: MAX_FILENAME_CHARS - len(ext)] + ext
    if name:
        return name
    kind = sniff(head) if head else ""
    return DEFAULT_FILENAME + {"pdf": ".pdf", "text": ".txt"}.get(kind, "")
