"""``tfe ingest`` under the one acceptance policy and the document-type check (issue 12 defects 2, 7, 21).

What the API refuses with 415 the CLI records as ``failed`` with the same reason; an unknown ``--type``
is a one-line error before any run. The commands run in this process (``tests.cli.runner``: the real entry
point, the models loaded once), one unknown type in a real ``python -m tfe`` subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.runner import invoke
from tests.paths import SHARED_DATA

pytestmark = pytest.mark.slow

DOCS = SHARED_DATA / "fixtures" / "documents"


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``tfe ARGS`` in this process."""
    env = {
        "TFE_DATA_DIR": str(data_dir),
        "TFE_ADMIN_PASSWORD": "admin-password-123",
        "TFE_DATABASE_URL": None,
    }
    return invoke(env, *args)


def run_process(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m tfe ARGS`` in a real subprocess."""
    env = {**os.environ, "TFE_DATA_DIR": str(data_dir), "TFE_ADMIN_PASSWORD": "admin-password-123"}
    env.pop("TFE_DATABASE_URL", None)
    command = [sys.executable, "-m", "tfe", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-policy") / "data"
    out = run(path, "init", "--json")
    assert out.returncode == 0, out.stderr
    return path


@pytest.mark.parametrize("value", ["banane", "naf:11"])
def test_unknown_type_is_a_one_line_error(data_dir: Path, tmp_path: Path, value: str) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Modèle de devis pour un salon.\n", encoding="utf-8")
    tfe = run_process if value == "banane" else run  # one real process: its stderr line and exit code
    out = tfe(data_dir, "ingest", str(note), "--type", value, "--json")
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tfe: error: unknown document type {value!r}")
    assert "quote_template" in lines[0]


def test_refused_files_are_failed_with_the_api_reasons(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "serveur.key").write_bytes(b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n")
    (folder / "archive.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    (folder / "page.pdf").write_bytes(b"<!DOCTYPE html><html><body>page</body></html>")
    out = run(data_dir, "ingest", str(folder), "--type", "doctype:quote_template", "--json", "--no-progress")
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    assert (report["ok"], report["duplicate"], report["failed"]) == (0, 0, 3)
    reasons = {Path(i["input"]).suffix: i["reason"] for i in report["items"]}
    assert reasons[".key"] == "a private key or certificate (PEM) is not accepted"
    assert reasons[".zip"].startswith("unsupported file type '.zip'; accepted: ")
    assert reasons[".pdf"] == "content does not match the .pdf extension: it is an HTML page"
