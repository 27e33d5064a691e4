"""Child process of ``ged.previews``: the first page of a PDF (stdin) as a PNG (stdout).

Run as a script (``python -s ged/thumbnail_worker.py WIDTH MEMORY_MB``), it imports nothing of the
project: PDFium parses untrusted files, so it runs here under a data-memory cap and the parent's time
limit, and a crash or a hang costs this process only. Exit 0 with the PNG on stdout, else exit 2 with one
line on stderr (the reason the parent records).
"""

from __future__ import annotations

import resource
import struct
import sys
import zlib

MAX_HEIGHT_RATIO = 4  # a very tall first page is scaled to at most this many widths high


def png(width: int, height: int, rgb: bytes, stride: int) -> bytes:
    """An 8-bit RGB PNG of rows of ``stride`` bytes (filter 0 on every row)."""
    row = width * 3
    raw = b"".join(b"\x00" + rgb[y * stride : y * stride + row] for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def render(data: bytes, width: int) -> bytes:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pdf = pdfium.PdfDocument(data)
    if len(pdf) < 1:
        raise ValueError("the PDF has no page")
    page = pdf[0]
    page_w, page_h = page.get_size()
    if page_w <= 0 or page_h <= 0:
        raise ValueError("the first page has no size")
    scale = min(width / page_w, MAX_HEIGHT_RATIO * width / page_h)
    bitmap = page.render(
        scale=scale, may_draw_forms=False, rev_byteorder=True, force_bitmap_format=pdfium_c.FPDFBitmap_BGR
    )
    return png(bitmap.width, bitmap.height, bytes(bitmap.buffer), bitmap.stride)


def main(argv: list[str]) -> int:
    width, memory_mb = int(argv[1]), int(argv[2])
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    data = sys.stdin.buffer.read()
    try:
        out = render(data, width)
    except BaseException as exc:  # PDFium raises PdfiumError, MemoryError, ...: one line for the parent
        sys.stderr.write(f"{type(exc).__name__}: {str(exc)[:200]}\n")
        return 2
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
