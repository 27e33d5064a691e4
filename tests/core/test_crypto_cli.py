"""``tfe keys status|rotate|revoke`` as the operator runs them, on a migrated data dir: in this process
(``tests.cli.runner``: the real entry point, the models loaded once), and a revocation refused on an empty
standard input in a real ``python -m tfe`` subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from ged.blobs import BlobStore
from tests.cli.runner import invoke
from tests.conftest import make_settings
from tfe.core.crypto.columns import sealer_of
from tfe.core.db import make_engine, migrate
from tfe.core.errors import KeyRevokedError


def tfe(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``tfe ARGS`` in this process."""
    env: dict[str, str | None] = {"TFE_DATA_DIR": str(data_dir), "TFE_ENVIRONMENT": "test"}
    env.update(dict.fromkeys(("TFE_DATABASE_URL", "TFE_MASTER_KEY_FILE", "TFE_KEY_PROVIDER")))
    return invoke(env, *args, stdin=stdin)


def tfe_process(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``python -m tfe ARGS`` in a real subprocess."""
    env = {**os.environ, "TFE_DATA_DIR": str(data_dir), "TFE_ENVIRONMENT": "test"}
    for name in ("TFE_DATABASE_URL", "TFE_MASTER_KEY_FILE", "TFE_KEY_PROVIDER"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "tfe", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_status_rotate_and_guarded_revoke(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine = make_engine(settings)
    migrate(engine)
    store = BlobStore(settings.blob_dir, sealer_of(engine.dialect))  # type: ignore[arg-type]
    keys = [store.put(f"pièce {i}".encode(), owner=f"doc{i}") for i in range(3)]
    with engine.begin() as conn:  # a row written before encryption at rest
        conn.execute(
            text(
                "INSERT INTO passage_texts (id, parent_id, position, title, text, meta) "
                "VALUES ('old:0', 'old', 0, 'ancien', 'texte en clair', '{}')"
            )
        )
    engine.dispose()
    data_dir = settings.resolved_data_dir

    status = tfe(data_dir, "keys", "status", "--json")
    assert status.returncode == 0, status.stderr
    before = json.loads(status.stdout)
    assert before["provider"] == "file" and before["data_keys_total"] == 3
    assert before["data_keys"] == {before["current_kek_id"]: 3}
    assert before["legacy_plaintext_rows"]["documents"] == 0
    assert before["legacy_plaintext_rows"]["passage_texts"] == 1
    sealed = tfe(data_dir, "keys", "seal", "--json")
    assert sealed.returncode == 0, sealed.stderr
    assert json.loads(sealed.stdout)["sealed_rows"]["passage_texts"] == 1
    assert (
        json.loads(tfe(data_dir, "keys", "status", "--json").stdout)["legacy_plaintext_rows"]["passage_texts"]
        == 0
    )

    rotated = tfe(data_dir, "keys", "rotate", "--json")
    assert rotated.returncode == 0, rotated.stderr
    report = json.loads(rotated.stdout)
    assert report["rewrapped"] == 3 and report["retired"] == [before["current_kek_id"]]
    after = json.loads(tfe(data_dir, "keys", "status", "--json").stdout)
    assert after["kek_ids"] == [report["new_kek_id"]] and after["data_keys"] == {report["new_kek_id"]: 3}

    (data_dir / "index").mkdir(exist_ok=True)
    (data_dir / "index" / "segment").write_bytes(b"terms")
    refusals = (tfe_process(data_dir, "keys", "revoke"), tfe(data_dir, "keys", "revoke", stdin="tfe-data\n"))
    for attempt in refusals:  # an empty standard input (a real process's), then a wrong name
        assert attempt.returncode == 1 and "Traceback" not in attempt.stderr
        assert attempt.stderr.strip().splitlines()[-1].startswith("tfe: error: revocation not confirmed")
    assert not (settings.keys_dir / "REVOKED").exists() and (data_dir / "index").exists()  # nothing done
    typed = tfe(data_dir, "keys", "revoke", stdin=f"{data_dir.name}\n")
    assert typed.returncode == 0, typed.stderr
    assert "clés révoquées le" in typed.stdout and not (data_dir / "index").exists()
    shown = tfe(data_dir, "keys", "status")
    assert shown.returncode == 0 and shown.stdout.startswith("clés révoquées le")
    again = tfe(data_dir, "keys", "revoke", "--yes-destroy-all-content")
    assert (
        again.returncode != 0
        and "revoked by the operator" in again.stderr
        and "Traceback" not in again.stderr
    )
    reopened = make_engine(settings)
    store = BlobStore(settings.blob_dir, sealer_of(reopened.dialect))  # type: ignore[arg-type]
    with pytest.raises(KeyRevokedError):
        store.get(keys[0])
    reopened.dispose()
