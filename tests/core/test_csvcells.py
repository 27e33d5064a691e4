"""CSV cells that a spreadsheet would run as formulas are written as text; numbers are unchanged."""

from __future__ import annotations

import csv
import io

import pytest

from tfe.core.csvcells import safe_cell, safe_row


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("https://x.example","clic")', '\'=HYPERLINK("https://x.example","clic")'),
        ("+33 1 23", "'+33 1 23"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("Vins en Allemagne", "Vins en Allemagne"),
        ("-20.5", "-20.5"),
        ("+3", "+3"),
        ("", ""),
        (7, 7),
        (None, None),
    ],
)
def test_safe_cell(value: object, written: object) -> None:
    assert safe_cell(value) == written


def test_a_row_round_trips_through_csv_as_text() -> None:
    out = io.StringIO()
    csv.writer(out).writerow(safe_row(["=1+1", "titre", "-3"]))
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'=1+1", "titre", "-3"]
