"""``tfe taxonomy reclassify CHANGE_ID [--preview] [--json]`` on a real installation (its own data dir)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from taxonomy.models import Classification, Concept, ReclassifyRun
from tests.cli.runner import invoke
from tests.jobs.reclassify_seed import add_items, edit
from tests.web.conftest import make_installation
from tfe.app.runtime import Runtime
from tfe.core.settings import Settings

VN = "country:VN"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str | None], list[str], int]:
    data = tmp_path_factory.mktemp("reclassify-cli") / "data"
    rt, _seed = make_installation(data)
    ids = add_items(
        rt, [(f"Zorglubie {n}", f"Les exportations vers la Zorglubie, numéro {n}.") for n in range(3)]
    )
    with rt.session() as s:
        row = s.get(Concept, VN)
        assert row is not None
        alt = {k: list(v) for k, v in (row.alt_labels or {}).items()}
    alt["fr"] = [*alt.get("fr", []), "Zorglubie"]
    change_id = edit(rt, VN, {"alt_labels": alt})
    rt.close()
    env: dict[str, str | None] = {
        "TFE_DATA_DIR": str(data),
        "TFE_ENVIRONMENT": "test",
        "TFE_SECRET_KEY": "test-secret-key",
        "TFE_DATABASE_URL": None,
    }
    return env, ids, change_id


def _concepts(data: str, item_id: str) -> set[str]:
    rt = Runtime(Settings(data_dir=Path(data), environment="test", secret_key="test-secret-key"))
    try:
        with rt.session() as s:
            return set(
                s.scalars(select(Classification.concept_id).where(Classification.target_id == item_id))
            )
    finally:
        rt.close()


def test_preview_then_run_then_errors(installed: tuple[dict[str, str | None], list[str], int]) -> None:
    env, ids, change_id = installed
    data = str(env["TFE_DATA_DIR"])
    shown = invoke(env, "taxonomy", "reclassify", str(change_id), "--preview")
    assert shown.returncode == 0, shown.stderr
    assert "3 éléments de veille gagneraient le concept « Viêt Nam »" in shown.stdout
    assert VN not in _concepts(data, ids[0])  # a preview writes nothing

    done = invoke(env, "taxonomy", "reclassify", str(change_id), "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["status"] == "done" and body["result"]["concepts"][VN]["gain"] == 3
    assert all(VN in _concepts(data, i) for i in ids)

    missing = invoke(env, "taxonomy", "reclassify", "999999")
    assert missing.returncode != 0 and "introuvable" in missing.stderr and "Traceback" not in missing.stderr
    bad = invoke(env, "taxonomy", "reclassify", "abc")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


def test_a_failed_run_is_resumed_not_restarted(
    installed: tuple[dict[str, str | None], list[str], int],
) -> None:
    env, _ids, change_id = installed
    rt = Runtime(
        Settings(data_dir=Path(str(env["TFE_DATA_DIR"])), environment="test", secret_key="test-secret-key")
    )
    try:
        with rt.session() as s:
            s.add(ReclassifyRun(change_id=change_id, status="failed", total=9, done=0, error="panne"))
            s.flush()
            failed = s.scalar(select(ReclassifyRun.id).order_by(ReclassifyRun.id.desc()))
    finally:
        rt.close()
    out = invoke(env, "taxonomy", "reclassify", str(change_id), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["id"] == failed and json.loads(out.stdout)["status"] == "done"
