"""Upload screening before ingestion: refuse empty files and obviously unsupported types (HTTP 415).

The extractor (Tika) reads far more formats than we accept; the allow-list keeps to what advisers share
(office documents, PDF, text, web pages, e-mails) and the magic-number checks catch executables and
archives hiding behind a document extension.
"""

from __future__ import annotations

from pathlib import PurePath

from tfe.core.errors import UnsupportedInputError

ALLOWED_EXTENSIONS = frozenset(
    {
        ".pdf",
        ".doc",
        ".docx",
        ".dot",
        ".dotx",
        ".odt",
        ".ott",
        ".rtf",
        ".txt",
        ".md",
        ".csv",
        ".tsv",
        ".xls",
        ".xlsx",
        ".xlsm",
        ".ods",
        ".ppt",
        ".pptx",
        ".odp",
        ".html",
        ".htm",
        ".xhtml",
        ".xml",
        ".json",
        ".eml",
        ".msg",
        ".epub",
    }
)
# Containers that are legitimately ZIP files (OOXML, OpenDocument, EPUB).
_ZIP_BASED = frozenset({".docx", ".dotx", ".xlsx", ".xlsm", ".pptx", ".odt", ".ott", ".ods", ".odp", ".epub"})
_OLE_BASED = frozenset({".doc", ".dot", ".xls", ".ppt", ".msg"})
_EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"BZh", b"\xfd7zXZ")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


def check_upload(filename: str, head: bytes, size: int) -> str:
    """Return the cleaned file name, or raise ``UnsupportedInputError`` with the reason."""
    name = PurePath(filename.replace("\\", "/")).name.strip()
    if not name or name in (".", ".."):
        raise UnsupportedInputError("the uploaded file has no name")
    if size == 0:
        raise UnsupportedInputError(f"{name}: empty file")
    ext = PurePath(name).suffix.lower()
    if ext not in ALLOWED_EXTENSIONS:
        allowed = ", ".join(sorted(ALLOWED_EXTENSIONS))
        raise UnsupportedInputError(f"{name}: unsupported file type {ext or '(none)'!r}; accepted: {allowed}")
    if head.startswith(_EXECUTABLE_MAGIC):
        raise UnsupportedInputError(f"{name}: executable content is not accepted")
    if head.startswith(_ARCHIVE_MAGIC[0]) and ext not in _ZIP_BASED:
        raise UnsupportedInputError(f"{name}: archive content does not match the {ext} extension")
    if head.startswith(_ARCHIVE_MAGIC[1:]):
        raise UnsupportedInputError(f"{name}: compressed archives are not accepted")
    if ext == ".pdf" and b"%PDF-" not in head[:1024]:
        raise UnsupportedInputError(f"{name}: not a PDF file")
    if ext in _ZIP_BASED and not head.startswith(_ARCHIVE_MAGIC[0]):
        raise UnsupportedInputError(f"{name}: not a valid {ext} file")
    if ext in _OLE_BASED and not head.startswith(_OLE_MAGIC):
        raise UnsupportedInputError(f"{name}: not a valid {ext} file")
    return name
