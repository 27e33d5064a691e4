"""``tfe document add-version|versions|restore|lock|unlock`` as a user runs them, on an installation seeded
in-process (``tests.web.conftest.make_installation``): in this process (``tests.cli.runner``, the real entry
point, the models loaded once), and a one-line refusal in a real ``python -m tfe`` subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.runner import invoke
from tests.web.conftest import DOCS, Seed, make_installation

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seed]:
    data_dir = Path(tmp_path_factory.mktemp("document-cli")) / "data"
    rt, seed = make_installation(data_dir)
    rt.close()
    return data_dir, seed


ENV = {
    "TFE_ENVIRONMENT": "test",
    "TFE_SECRET_KEY": "test-secret-key",
    "TFE_ADMIN_PASSWORD": "admin-password-123",
}


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``tfe document ...`` in a subprocess, as a user runs it."""
    env = {**os.environ, **ENV, "TFE_DATA_DIR": str(data_dir)}
    env.pop("TFE_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "tfe", "document", *args], env=env, capture_output=True, text=True, timeout=600
    )


def call(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The same command in this process (``tfe.app.cli.main``: one-line errors, exit codes), faster."""
    return invoke({**ENV, "TFE_DATA_DIR": str(data_dir), "TFE_DATABASE_URL": None}, "document", *args)


def one_line_error(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tfe: error:"), out.stderr
    return lines[0]


def test_add_version_then_the_same_file(installed: tuple[Path, Seed], tmp_path: Path) -> None:
    data_dir, seed = installed
    doc_id = seed.ids["doc-vins-it"]
    new = tmp_path / "vins-italie-2026.txt"
    new.write_text(
        "Vins italiens : mise à jour 2026, le Prosecco progresse en Allemagne.\n", encoding="utf-8"
    )
    args = ("add-version", doc_id, str(new), "--comment", "Mise à jour", "--as", "alice@alpha.fr")
    out = call(data_dir, *args, "--json")
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["number"] == 2 and body["version"]["comment"] == "Mise à jour"
    assert body["version"]["author"] == "Alice" and body["version"]["filename"] == new.name
    assert "identique à la version courante" in one_line_error(call(data_dir, *args))


def test_history_restore_lock_and_errors(installed: tuple[Path, Seed], tmp_path: Path) -> None:
    data_dir, seed = installed
    doc_id = seed.ids["doc-machines-de"]

    def tfe(*args: str) -> subprocess.CompletedProcess[str]:
        return call(data_dir, *args)

    same = tmp_path / "copie.txt"
    same.write_bytes(DOCS[2].data)
    assert "unknown document" in one_line_error(  # a real process: one line, non-zero exit
        run(data_dir, "add-version", "f" * 32, str(same), "--as", "alice@alpha.fr")
    )
    assert "not a readable file" in one_line_error(tfe("add-version", doc_id, str(tmp_path / "absent.txt")))
    assert "contributor" in one_line_error(tfe("add-version", doc_id, str(same), "--as", "reader@alpha.fr"))
    assert "version 7" in one_line_error(tfe("restore", doc_id, "7", "--as", "alice@alpha.fr"))

    out = tfe("lock", doc_id, "--minutes", "30", "--as", "alice@alpha.fr", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["lock"]["user"] == "Alice"
    other = tmp_path / "carol.txt"
    other.write_text("Machines agricoles : version de Carol.\n", encoding="utf-8")
    assert "verrouillé par Alice" in one_line_error(
        tfe("add-version", doc_id, str(other), "--as", "carol@alpha.fr")
    )
    out = tfe("versions", doc_id, "--as", "reader@alpha.fr", "--json")
    assert out.returncode == 0, out.stderr
    history = json.loads(out.stdout)
    assert [v["number"] for v in history["versions"]] == [1] and history["lock"]["user"] == "Alice"
    out = tfe("unlock", doc_id, "--as", "alice@alpha.fr")
    assert out.returncode == 0 and "déverrouillé" in out.stdout, out.stderr

    out = tfe("add-version", doc_id, str(other), "-m", "Carol", "--as", "carol@alpha.fr")
    assert out.returncode == 0 and out.stdout.startswith(f"version 2 de {doc_id}"), out.stderr
    out = tfe("restore", doc_id, "1", "--as", "carol@alpha.fr", "--json")
    assert out.returncode == 0, out.stderr
    restored = json.loads(out.stdout)
    assert restored["number"] == 3 and restored["version"]["comment"] == "Restauration de la version 1"
    out = tfe("versions", doc_id, "--as", "reader@alpha.fr")
    assert out.returncode == 0 and "Restauration de la version 1" in out.stdout.splitlines()[0]
