"""Text files in encodings Tika mistakes for binary (UTF-16 and UTF-32, with or without a BOM).

Tika reads a BOM-less UTF-16 text or e-mail as ``application/octet-stream`` and gives no text, and a
UTF-16 e-mail with a BOM as plain text (no subject, sender or date). ``utf8_text`` decides the encoding
with charset-normalizer (a library made for it) before anything calls the file binary, and gives the
text re-encoded as UTF-8, which Tika then parses as what it is (plain text, ``message/rfc822``, ...). It
only looks at files that cannot be UTF-8 or a single-byte encoding (a BOM of UTF-16/32, or NUL bytes in
their head) and that carry no known binary signature, so other files cost nothing.
"""

from __future__ import annotations

import codecs

__all__ = ["utf8_text"]

SAMPLE_BYTES = 64 * 1024
MIN_PRINTABLE = 0.95  # share of decoded characters that must be printable or whitespace

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BINARY_SIGNATURES = (
    b"%PDF",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\xd0\xcf\x11\xe0",  # OLE2 (doc, xls, ppt, msg)
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"\x1f\x8b",
    b"7z\xbc\xaf",
    b"Rar!",
    b"{\\rtf",
    b"\x00\x00\x01\x00",  # ICO
    b"RIFF",
    b"ID3",
    b"OggS",
    b"fLaC",
    b"\x7fELF",
    b"MZ",
)


def _bom_encoding(data: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def _printable_share(text: str) -> float:
    if not text:
        return 0.0
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\t\n\r\f\v")
    return printable / len(text)


def _detect(data: bytes) -> str | None:
    """The UTF-16/32 encoding charset-normalizer finds in the head of ``data``, if any."""
    from charset_normalizer import from_bytes

    sample = data[: SAMPLE_BYTES - SAMPLE_BYTES % 4]
    best = from_bytes(sample).best()
    if best is None:
        return None
    encoding = best.encoding.replace("_", "-").lower()
    return encoding if encoding.startswith(("utf-16", "utf-32")) else None


def utf8_text(data: bytes) -> bytes | None:
    """``data`` re-encoded as UTF-8 when it is UTF-16/32 text, else None (leave the file to Tika)."""
    head = data[:SAMPLE_BYTES]
    encoding = _bom_encoding(head)
    if encoding is None:
        if b"\x00" not in head or head.startswith(_BINARY_SIGNATURES):
            return None
        encoding = _detect(data)
        if encoding is None:
            return None
    try:
        text = data.decode(encoding, errors="replace")  # a truncated last code unit is not fatal
    except (UnicodeDecodeError, LookupError):
        return None
    text = text.removeprefix("\ufeff")
    if _printable_share(text[:SAMPLE_BYTES]) < MIN_PRINTABLE:
        return None
    return text.encode("utf-8")
