"""CSV cells a spreadsheet opens as text, never as a formula.

A cell from outside (a feed's story or source title) that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return would run as a formula in Excel or LibreOffice ("CSV injection"); such a cell is written
with a leading apostrophe, which the spreadsheet shows as text (OWASP's advice). Numbers, negative ones
included, are written unchanged.
"""

from __future__ import annotations

from typing import Any

__all__ = ["safe_cell", "safe_row"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def safe_cell(value: Any) -> Any:
    """``value``, or its text behind an apostrophe when a spreadsheet would read it as a formula."""
    if isinstance(value, str) and value.startswith(_TRIGGERS) and not _is_number(value):
        return "'" + value
    return value


def safe_row(row: list[Any]) -> list[Any]:
    return [safe_cell(v) for v in row]
