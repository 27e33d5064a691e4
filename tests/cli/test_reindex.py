"""``tfe reindex``: the index under the data dir stores no text and is rebuilt from the sealed passages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tfe.app.cli import app

MARKER = "Quetzalcoatlisme"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli-reindex")
    values = {
        "TFE_DATA_DIR": str(root / "data"),
        "TFE_ADMIN_PASSWORD": "admin-password-123",
        "TFE_DATABASE_URL": "",
    }
    assert tfe(values, "init", "--json").exit_code == 0
    note = root / "note.txt"
    note.write_text(
        f"Note pays : le {MARKER} des exportateurs de fromages vers le Japon.\n\n"
        "Les droits de douane baissent depuis l'accord de partenariat économique.",
        encoding="utf-8",
    )
    done = tfe(
        values, "ingest", str(note), "--visibility", "public", "--defer-embeddings", "--no-progress", "--json"
    )
    assert done.exit_code == 0 and json.loads(done.stdout)["ok"] == 1, done.output
    return values


def tfe(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def _search(env: dict[str, str], query: str) -> dict[str, object]:
    found = tfe(env, "search", query, "--json")
    assert found.exit_code == 0, found.output
    return json.loads(found.stdout)  # type: ignore[no-any-return]


def test_the_index_dir_holds_no_text(env: dict[str, str]) -> None:
    hits = _search(env, MARKER.lower())["hits"]
    assert isinstance(hits, list) and len(hits) == 1 and f"<mark>{MARKER}</mark>" in hits[0]["snippet"]
    index_dir = Path(env["TFE_DATA_DIR"]) / "index"
    for f in index_dir.rglob("*"):
        if f.is_file():
            data = f.read_bytes().lower()
            for needle in (MARKER.lower(), "exportateurs de fromages", "droits de douane"):
                assert needle.encode() not in data or f.suffix == ".term", (f, needle)


def test_reindex_rebuilds_a_dropped_index_and_embeds(env: dict[str, str]) -> None:
    index_dir = Path(env["TFE_DATA_DIR"]) / "index"
    shutil.rmtree(index_dir)  # as `tfe keys revoke` drops it, or a lost disk
    assert _search(env, MARKER.lower())["total"] == 0

    bm25 = tfe(env, "reindex", "--no-embed", "--no-progress", "--json")
    assert bm25.exit_code == 0, bm25.output
    summary = json.loads(bm25.stdout)
    assert summary["passages"] >= 1 and summary["embedded"] == 0
    assert summary["missing_vectors"] == summary["passages"]  # the index was gone: no vector to keep
    hits = _search(env, MARKER.lower())["hits"]
    assert isinstance(hits, list) and len(hits) == 1 and hits[0]["title"]  # titles from the store
    assert f"<mark>{MARKER}</mark>" in hits[0]["snippet"]

    full = tfe(env, "reindex", "--no-progress", "--json")
    assert full.exit_code == 0, full.output
    again = json.loads(full.stdout)
    assert again["passages"] == summary["passages"] and again["embedded"] == summary["passages"]
    assert again["missing_vectors"] == 0

    kept = json.loads(tfe(env, "reindex", "--no-progress", "--json").stdout)
    assert kept["vectors_kept"] == summary["passages"] and kept["embedded"] == 0


def test_reindex_refuses_contradictory_flags(env: dict[str, str]) -> None:
    bad = tfe(env, "reindex", "--no-embed", "--reembed")
    assert bad.exit_code == 2 and "exclude each other" in bad.output
