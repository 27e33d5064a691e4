"""Zip bombs built in memory for the tests (never committed): a valid OOXML package plus one huge member.

Deflating gigabytes takes a minute; these are built in about a second instead. A repeated 1 MiB block is
deflated once with a full flush (which resets the compressor's history and byte-aligns its output), so
its compressed form can simply be repeated, and a final empty block (``03 00``) ends the stream; the
CRC-32 is combined by doubling (zlib's ``crc32_combine``). The ZIP structure (local headers, central
directory, ZIP64 fields when a member reaches 4 GiB) is written by hand.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

__all__ = ["attribute_bomb", "paragraph_bomb", "repeat_member", "zero_bomb"]

_BLOCK = 1 << 20
_FINAL_EMPTY_BLOCK = b"\x03\x00"
_ZIP64 = 0xFFFFFFFF


def _deflate_flushed(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """CRC-32 of ``a + b`` from ``crc(a)``, ``crc(b)`` and ``len(b)`` (zlib's ``crc32_combine``)."""
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # the operator for one zero bit
    even = [_gf2_times(odd, odd[n]) for n in range(32)]  # two zero bits
    odd = [_gf2_times(even, even[n]) for n in range(32)]  # four zero bits
    while length2:
        even = [_gf2_times(odd, odd[n]) for n in range(32)]
        if length2 & 1:
            crc1 = _gf2_times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = [_gf2_times(even, even[n]) for n in range(32)]
        if length2 & 1:
            crc1 = _gf2_times(odd, crc1)
        length2 >>= 1
    return crc1 ^ crc2


def _crc32_repeated(block: bytes, count: int) -> int:
    """CRC-32 of ``block * count`` by doubling, without reading ``count`` blocks."""
    crc, result, length, size = zlib.crc32(block), 0, len(block), 0
    while count:
        if count & 1:
            result = _crc32_combine(result, crc, length) if size else crc
            size += length
        crc = _crc32_combine(crc, crc, length)
        length *= 2
        count >>= 1
    return result


def _repeated_stream(head: bytes, unit: bytes, blocks: int, tail: bytes) -> tuple[bytes, int, int]:
    """Raw deflate of ``head + block * blocks + tail`` (``block``: ``unit`` repeated to 1 MiB), its CRC-32
    and its size."""
    block = unit * max(1, _BLOCK // len(unit))
    packed = _deflate_flushed(head) + _deflate_flushed(block) * blocks + _deflate_flushed(tail)
    crc = zlib.crc32(head)
    if blocks:
        crc = _crc32_combine(crc, _crc32_repeated(block, blocks), len(block) * blocks)
    crc = zlib.crc32(tail, crc)
    return packed + _FINAL_EMPTY_BLOCK, crc, len(head) + len(block) * blocks + len(tail)


def repeat_member(base: bytes, name: str, head: bytes, unit: bytes, blocks: int, tail: bytes) -> bytes:
    """``base`` (a ZIP) with member ``name`` replaced by ``head``, ``blocks`` MiB of ``unit``, ``tail``."""
    members: list[tuple[str, bytes, int, int]] = []
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        for info in archive.infolist():
            if info.filename != name:
                data = archive.read(info)
                members.append(
                    (info.filename, _deflate_flushed(data) + _FINAL_EMPTY_BLOCK, zlib.crc32(data), len(data))
                )
    members.append((name, *_repeated_stream(head, unit, blocks, tail)))
    return _write_zip(members)


def _write_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    out = io.BytesIO()
    central = io.BytesIO()
    for name, packed, crc, size in members:
        offset = out.tell()
        raw = name.encode("utf-8")
        big = size >= _ZIP64 or len(packed) >= _ZIP64
        extra = struct.pack("<HHQQ", 1, 16, size, len(packed)) if big else b""
        sizes = (_ZIP64, _ZIP64) if big else (len(packed), size)
        version = 45 if big else 20
        out.write(
            struct.pack("<IHHHHHIIIHH", 0x04034B50, version, 0, 8, 0, 0x21, crc, *sizes, len(raw), len(extra))
        )
        out.write(raw + extra + packed)
        central_extra = struct.pack("<HHQQ", 1, 16, size, len(packed)) if big else b""
        central.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                version,
                version,
                0,
                8,
                0,
                0x21,
                crc,
                *sizes,
                len(raw),
                len(central_extra),
                0,
                0,
                0,
                0,
                offset,
            )
        )
        central.write(raw + central_extra)
    start, directory = out.tell(), central.getvalue()
    out.write(directory)
    out.write(
        struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), start, 0)
    )
    return out.getvalue()


def zero_bomb(docx: Path, mib: int) -> bytes:
    """``docx`` with ``mib`` MiB of zeros as an extra part: the classic bomb (about 1,000 times)."""
    return repeat_member(docx.read_bytes(), "word/media/image1.bin", b"", b"\x00", mib, b"")


_DOCUMENT_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
)


def attribute_bomb(docx: Path, mib: int) -> bytes:
    """``docx`` whose body is one paragraph with a ``mib`` MiB attribute: Tika needs ~10 times that."""
    head = _DOCUMENT_HEAD + b'<w:p w:rsidR="'
    return repeat_member(
        docx.read_bytes(), "word/document.xml", head, b"abcdefgh", mib, b'"/></w:body></w:document>'
    )


def paragraph_bomb(docx: Path, mib: int) -> bytes:
    """``docx`` whose body is ``mib`` MiB of empty paragraphs: little memory, many seconds of parsing."""
    return repeat_member(
        docx.read_bytes(), "word/document.xml", _DOCUMENT_HEAD, b"<w:p/>", mib, b"</w:body></w:document>"
    )
