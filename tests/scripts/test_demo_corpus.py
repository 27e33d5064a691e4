"""scripts/make_demo_corpus.py regenerates the demo files shipped under tfe/app/demo byte for byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO

DEMO = REPO / "tfe" / "app" / "demo"
SCRIPT = REPO / "scripts" / "make_demo_corpus.py"
# the optional writer packages of the demo-build extra (fpdf2, odfpy, openpyxl, python-docx, python-pptx)
WRITER_MODULES = ("fpdf", "odf", "openpyxl", "docx", "pptx")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _files(root: Path) -> list[str]:
    paths = [*(root / "corpus").iterdir(), *(root / "feeds").iterdir(), root / "organisations.json"]
    return sorted(str(p.relative_to(root)) for p in paths if p.is_file())


@pytest.mark.slow
def test_regenerated_demo_is_byte_identical_to_the_shipped_one(tmp_path: Path) -> None:
    for module in WRITER_MODULES:
        pytest.importorskip(module)
    subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "corpus"), "--feeds-dir", str(tmp_path / "feeds"),
         "--organisations", str(tmp_path / "organisations.json")],
        check=True, capture_output=True, timeout=300,
    )
    shipped = _files(DEMO)
    assert len(shipped) > 40
    assert _files(tmp_path) == shipped
    differing = [rel for rel in shipped if (tmp_path / rel).read_bytes() != (DEMO / rel).read_bytes()]
    hint = "" if DEJAVU.exists() else f" (the PDFs are written with {DEJAVU}: install fonts-dejavu-core)"
    assert differing == [], f"regenerated files differ from tfe/app/demo{hint}"
