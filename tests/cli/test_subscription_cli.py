"""``tfe subscription add|list|remove`` against a real installation (SQLite): in this process
(``tests.cli.runner``, the real entry point), and one refusal in a real ``python -m tfe`` subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.runner import invoke

ENV_KEYS = ("TFE_DATA_DIR", "TFE_ADMIN_PASSWORD", "TFE_ENVIRONMENT")


def _env(data_dir: Path) -> dict[str, str]:
    return {
        "TFE_DATA_DIR": str(data_dir),
        "TFE_ADMIN_PASSWORD": "admin-password-123",
        "TFE_ENVIRONMENT": "test",
        "HAYSTACK_TELEMETRY_ENABLED": "False",
    }


def _tfe(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``tfe ARGS`` in this process."""
    return invoke(_env(data_dir), *args)


def _tfe_process(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m tfe ARGS`` in a real subprocess."""
    env = {**os.environ, **_env(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "tfe", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.slow
def test_add_list_remove(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _tfe(data, "init").returncode == 0
    added = _tfe(
        data,
        "subscription",
        "add",
        "--user",
        "admin@tfe.local",
        "--query",
        "vins",
        "--sector",
        "11",
        "--country",
        "Allemagne",
        "--frequency",
        "weekly",
        "--weekday",
        "0",
        "--channel",
        "atom",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    doc = json.loads(added.stdout)
    assert [s["id"] for s in doc["sectors"]] == ["naf:11"] and doc["atom_url"]
    listed = json.loads(_tfe(data, "subscription", "list", "--json").stdout)
    assert [s["id"] for s in listed["subscriptions"]] == [doc["id"]]
    bad = _tfe(
        data, "subscription", "add", "--user", "admin@tfe.local", "--query", "vins", "--sector", "99.99Z"
    )
    assert bad.returncode != 0 and "99.99Z" in bad.stderr and "Traceback" not in bad.stderr
    nobody = _tfe_process(data, "subscription", "add", "--user", "nobody@x.fr", "--query", "vins")
    assert nobody.returncode != 0 and "utilisateur inconnu" in nobody.stderr
    removed = _tfe(data, "subscription", "remove", str(doc["id"]))
    assert removed.returncode == 0, removed.stderr
    assert json.loads(_tfe(data, "subscription", "list", "--json").stdout)["total"] == 0
