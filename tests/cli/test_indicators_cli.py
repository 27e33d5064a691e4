"""``tfe indicators export``: the CSV holds the JSON's values (suppressed cells empty); a bad period,
scope or format is one French line on stderr and exit 2; ``tfe org add --region/--country``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.cli.runner import invoke
from tfe.core.db import make_engine, make_session_factory
from tfe.core.models import AuditEvent, Organisation, User
from tfe.core.settings import Settings


def _env(data: Path) -> dict[str, str | None]:
    return {"TFE_DATA_DIR": str(data), "TFE_ADMIN_PASSWORD": "admin-password-123", "TFE_DATABASE_URL": None}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli-indicators") / "data"
    env = _env(data)
    assert invoke(env, "init", "--json").returncode == 0
    added = invoke(env, "org", "add", "cci-na", "--region", "75", "--json")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["region"] == "75"
    abroad = invoke(env, "org", "add", "cci-japon", "--kind", "partner_abroad", "--country", "jp", "--json")
    assert json.loads(abroad.stdout)["country"] == "JP"
    engine = make_engine(Settings(data_dir=data, environment="test"))
    with make_session_factory(engine).begin() as s:
        org = s.scalar(select(Organisation).where(Organisation.slug == "cci-na"))
        assert org is not None
        at = dt.datetime(2026, 11, 3, 9, tzinfo=dt.UTC)
        for n in range(6):  # six people search in November; four of them read a document
            user = User(email=f"p{n}@na.fr", org_id=org.id, role="reader", created_at=at)
            s.add(user)
            s.flush()
            s.add(
                AuditEvent(
                    at=at,
                    actor_user_id=user.id,
                    actor_org_id=org.id,
                    action="search",
                    detail={"total": n},
                    hash="x" * 64,
                )
            )
            if n < 4:
                s.add(
                    AuditEvent(
                        at=at,
                        actor_user_id=user.id,
                        actor_org_id=org.id,
                        action="document.read",
                        detail={},
                        hash="x" * 64,
                    )
                )
    engine.dispose()
    return data


def test_csv_equals_json(data: Path, tmp_path: Path) -> None:
    env = _env(data)
    as_json = invoke(
        env, "indicators", "export", "--period", "2026-Q4", "--scope", "region:75", "--format", "json"
    )
    assert as_json.returncode == 0, as_json.stderr
    doc = json.loads(as_json.stdout)
    out = tmp_path / "t4.csv"
    as_csv = invoke(
        env, "indicators", "export", "--period", "2026-Q4", "--scope", "region:75", "--output", str(out)
    )
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    cells = [(name, c) for name, cells in doc["sections"].items() for c in cells]
    assert len(rows) == len(cells)
    for row, (name, cell) in zip(rows, cells, strict=True):
        dims = ";".join(f"{k}={v}" for k, v in sorted(cell["dims"].items()))
        assert (row["section"], row["metric"], row["dimensions"]) == (name, cell["metric"], dims)
        assert row["bucket"] == (cell["bucket"] or "") and row["grain"] == (cell["grain"] or "period")
        assert row["value"] == ("" if cell["value"] is None else str(cell["value"]))
        assert row["suppressed"] == str(cell["suppressed"]).lower()
    by_key = {(r["metric"], r["dimensions"], r["bucket"]): r for r in rows}
    assert by_key[("searches", "", "2026-11")]["value"] == "6"  # six people: shown
    reads = by_key[("document_reads", "", "2026-11")]
    assert reads["value"] == "" and reads["suppressed"] == "true"  # four people: suppressed
    assert by_key[("searches_no_result", "", "2026-11")]["suppressed"] == "true"  # one person


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--period", "2026-Q7"), "période invalide"),
        (("--period", "2026-Q4", "--scope", "galaxie"), "périmètre invalide"),
        (("--period", "2026-Q4", "--scope", "region:99"), "région inconnue"),
        (("--period", "2026-Q4", "--format", "xml"), "format inconnu"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(data: Path, args: tuple[str, ...], needle: str) -> None:
    result = invoke(_env(data), "indicators", "export", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and needle in result.stderr, result.stderr


def test_an_unknown_region_is_refused_by_org_add(data: Path) -> None:
    result = invoke(_env(data), "org", "add", "cci-x", "--region", "99")
    assert result.returncode == 2 and "région inconnue" in result.stderr
