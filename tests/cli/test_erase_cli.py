"""``tfe erase`` and ``tfe erase verify`` as an operator runs them, on a temporary data dir: in this process
(``tests.cli.runner``, the real entry point), and the refusal without a terminal in a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.runner import invoke

pytestmark = pytest.mark.slow


def run(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``tfe ARGS`` in this process."""
    env = {
        "TFE_DATA_DIR": str(data_dir),
        "TFE_ADMIN_PASSWORD": "admin-password-123",
        "TFE_DATABASE_URL": None,
    }
    return invoke(env, *args, stdin=stdin)


def run_process(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m tfe ARGS`` in a real subprocess (its stdin is not a terminal)."""
    env = {**os.environ, "TFE_DATA_DIR": str(data_dir), "TFE_ADMIN_PASSWORD": "admin-password-123"}
    env.pop("TFE_DATABASE_URL", None)
    command = [sys.executable, "-m", "tfe", *args]
    return subprocess.run(command, env=env, input="", capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("erase-cli")
    data_dir = root / "data"
    assert run(data_dir, "init", "--json").returncode == 0
    assert run(data_dir, "org", "add", "cci-test", "--name", "CCI Test").returncode == 0
    files = []
    for name, text in (("a", "Note sur les vins au Japon."), ("b", "Note sur les machines au Canada.")):
        path = root / f"note-{name}.txt"
        path.write_text(f"{text}\n\nDistribution, prix et salons professionnels.\n", encoding="utf-8")
        files.append(str(path))
    out = run(data_dir, "ingest", files[0], "--json")
    assert out.returncode == 0, out.stderr
    out_org = run(data_dir, "ingest", files[1], "--org", "cci-test", "--json")
    assert out_org.returncode == 0, out_org.stderr
    ids = [json.loads(o.stdout)["items"][0]["id"] for o in (out, out_org)]
    return data_dir, ids


def test_erase_a_document_then_verify_its_receipt(installed: tuple[Path, list[str]], tmp_path: Path) -> None:
    data_dir, (doc_id, _) = installed
    # a real process without a terminal, no --yes: refused, nothing erased
    out = run_process(data_dir, "erase", "--document", doc_id)
    assert out.returncode == 2 and "--yes" in out.stderr and "Traceback" not in out.stderr

    receipt_file = tmp_path / "recu.json"
    out = run(data_dir, "erase", "--document", doc_id, "--yes", "--json", "--output", str(receipt_file))
    assert out.returncode == 0, out.stderr
    document = json.loads(out.stdout)
    assert document["receipt"]["target"] == {"kind": "document", "id": doc_id, "org_id": 1}
    assert json.loads(receipt_file.read_text(encoding="utf-8")) == document

    out = run(data_dir, "erase", "verify", str(receipt_file))
    assert out.returncode == 0, out.stderr
    assert "ok   signature" in out.stdout and "ok   index" in out.stdout and "FAIL" not in out.stdout
    out = run(data_dir, "erase", "verify", str(receipt_file), "--json")
    report = json.loads(out.stdout)
    assert report["ok"] is True and {c["check"] for c in report["checks"]} >= {
        "blobs",
        "data_keys",
        "passages",
    }

    raw = receipt_file.read_bytes()
    tampered = tmp_path / "altere.json"
    tampered.write_bytes(raw.replace(b'"versions": 1', b'"versions": 7', 1))
    assert tampered.read_bytes() != raw
    out = run(data_dir, "erase", "verify", str(tampered))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [out.stderr.strip()] and "signature" in out.stderr

    out = run(data_dir, "erase", "--document", doc_id, "--yes")
    assert out.returncode == 2 and "déjà effacé" in out.stderr
    out = run(data_dir, "erase", "--document", "0" * 32, "--yes")
    assert out.returncode == 2 and "inconnu" in out.stderr and "Traceback" not in out.stderr
    not_json = tmp_path / "pas-un-recu.json"
    not_json.write_text("bonjour", encoding="utf-8")
    out = run(data_dir, "erase", "verify", str(not_json))
    assert out.returncode == 2 and "not a JSON receipt" in out.stderr


def test_erase_an_organisation(installed: tuple[Path, list[str]]) -> None:
    data_dir, (_, org_doc) = installed
    out = run(data_dir, "erase", "--organisation", "no-such-org", "--yes")
    assert out.returncode == 2 and "inconnue" in out.stderr
    out = run(data_dir, "erase", "--organisation", "business-france", "--yes")
    assert out.returncode == 2 and "agence nationale ne peut pas être effacée" in out.stderr
    out = run(data_dir, "erase", "--document", org_doc, "--organisation", "cci-test", "--yes")
    assert out.returncode == 2 and "exactly one" in out.stderr
    out = run(data_dir, "erase", "--organisation", "cci-test", "--yes")
    assert out.returncode == 0, out.stderr
    assert "Effacé : organisation" in out.stdout and "Reçu signé" in out.stdout
    document = json.loads(out.stdout.split("Reçu signé :\n", 1)[1])
    assert [d["id"] for d in document["receipt"]["documents"]] == [org_doc]
    out = run(data_dir, "erase", "--organisation", document["receipt"]["target"]["id"], "--yes")
    assert out.returncode == 2 and "déjà effacée" in out.stderr
