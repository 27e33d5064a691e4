"""``tfe indicators rollup``: rolls up the closed weeks and months, then nothing more; ``--rebuild`` does
them all again, with one progress bar over the audit trail's buckets and the watch's together
(``--progress``); the export is the same before and after; a bad ``--since`` is one line and exit 2."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select

from tests.cli.runner import invoke
from tfe.core.db import make_engine, make_session_factory
from tfe.core.models import AuditEvent, Organisation, User
from tfe.core.settings import Settings
from veille.models import Item


def test_rollup_command(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"TFE_DATA_DIR": str(data), "TFE_ADMIN_PASSWORD": "admin-password-123", "TFE_DATABASE_URL": None}
    assert invoke(env, "init", "--json").returncode == 0
    engine = make_engine(Settings(data_dir=data, environment="test"))
    with make_session_factory(engine).begin() as s:
        org = s.scalar(select(Organisation))
        assert org is not None
        at = dt.datetime(2026, 10, 6, 9, tzinfo=dt.UTC)
        for n in range(6):
            user = User(email=f"p{n}@na.fr", org_id=org.id, role="reader", created_at=at)
            s.add(user)
            s.flush()
            s.add(
                AuditEvent(
                    at=at + dt.timedelta(days=n * 5),
                    actor_user_id=user.id,
                    actor_org_id=org.id,
                    action="search",
                    detail={"total": n % 2},
                    hash="x" * 64,
                )
            )
        s.add(Item(id="i1", guid="g1", title="Vins", content_hash="h" * 64, fetched_at=at))  # the watch's
    engine.dispose()
    export = ("indicators", "export", "--period", "2026-Q4", "--format", "csv")
    before = invoke(env, *export)
    assert before.returncode == 0, before.stderr
    first = invoke(env, "indicators", "rollup", "--progress")  # the first build, with its bar
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["buckets"] > 0 and summary["rows"] > 0 and summary["watch"]["buckets"] > 0
    # one bar: its last state counts the audit trail's buckets and the watch's (most of a first build)
    steps = summary["buckets"] + summary["watch"]["buckets"]
    last = first.stderr.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("agrégats: 100%") and f" {steps}/{steps} " in last, first.stderr
    nothing = invoke(env, "indicators", "rollup")
    assert json.loads(nothing.stdout)["buckets"] == 0
    assert "agrégats" not in nothing.stderr  # not a terminal: no bar
    again = json.loads(invoke(env, "indicators", "rollup", "--rebuild").stdout)
    assert again["buckets"] >= summary["buckets"] and again["rows"] == summary["rows"]
    after = invoke(env, *export)
    assert after.stdout == before.stdout
    bad = invoke(env, "indicators", "rollup", "--since", "hier")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == ["tfe: error: date invalide 'hier' : attendu AAAA-MM-JJ"]
