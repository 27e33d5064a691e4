"""``tfe audit verify|export|anchor|seal-legacy`` as an operator runs them, and an outsider's check of an
export (``audit_export.verify_export``) that an edited export fails."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner, Result

from tfe.app.cli import app
from tfe.core.db import make_engine, make_session_factory, session_scope
from tfe.core.models import AuditEvent
from tfe.core.security import audit
from tfe.core.security.audit_export import verify_export
from tfe.core.security.models import AuditHead
from tfe.core.settings import Settings


def _env(data: Path) -> dict[str, str]:
    return {"TFE_DATA_DIR": str(data), "TFE_ADMIN_PASSWORD": "admin-password-123", "TFE_DATABASE_URL": ""}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli-audit") / "data"
    assert tfe(data, "init", "--json").exit_code == 0
    assert tfe(data, "org", "add", "cci-test", "--kind", "regional_chamber").exit_code == 0
    return data


def tfe(data: Path, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=_env(data))


def _copy(data: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    return copy


def _factory(data: Path):  # type: ignore[no-untyped-def]
    return make_session_factory(make_engine(Settings(data_dir=data, environment="test")))


def test_verify_anchor_and_seal_on_a_clean_installation(data: Path) -> None:
    out = tfe(data, "audit", "verify")
    assert out.exit_code == 0, out.output
    assert "journal intact" in out.stdout and "MAC vérifiés" in out.stdout
    signed = tfe(data, "audit", "anchor", "--json")
    assert signed.exit_code == 0, signed.output
    anchor = json.loads(signed.stdout)
    assert anchor["seq"] > 1 and len(anchor["head_hash"]) == 64
    report = json.loads(tfe(data, "audit", "verify", "--json").stdout)
    assert report["ok"] is True and report["anchors"] == 1 and report["keyed"] is True
    assert report["events"] == anchor["seq"]  # its own audit.verify event comes after the check
    sealed = tfe(data, "audit", "seal-legacy", "--json")
    assert sealed.exit_code == 0 and json.loads(sealed.stdout)["sealed"] == 0  # nothing predates the key


def test_an_export_verifies_offline_and_an_edited_one_does_not(data: Path, tmp_path: Path) -> None:
    assert tfe(data, "audit", "anchor").exit_code == 0
    public = (data / "keys" / "signing.pub").read_text().strip()
    jsonl = tmp_path / "journal.jsonl"
    out = tfe(data, "audit", "export", "--output", str(jsonl))
    assert out.exit_code == 0, out.output
    assert "exportés" in out.stdout
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["record"] == "header" and lines[0]["public_key"] == public
    events = [r for r in lines if r["record"] == "event"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert {"at", "action", "actor_user_id", "detail", "prev_hash", "hash", "mac"} <= set(events[0])
    assert any(r["record"] == "anchor" for r in lines)
    report = verify_export(jsonl, public)
    assert report.ok and report.events == len(events) and report.anchors >= 1, report.message

    edited = tmp_path / "edited.jsonl"
    events[1]["detail"]["channel"] = "web-falsifié"
    edited.write_text("\n".join(json.dumps(r) for r in lines) + "\n", encoding="utf-8")
    report = verify_export(edited, public)
    assert not report.ok and (report.reason, report.first_broken_seq) == ("hash", 2)
    other_key = "00" * 32
    assert verify_export(jsonl, other_key).reason in ("key", "anchor")

    csv_file = tmp_path / "journal.csv"
    assert tfe(data, "audit", "export", "--format", "csv", "--output", str(csv_file)).exit_code == 0
    text = csv_file.read_text(encoding="utf-8")
    assert text.startswith("record,seq,at,actor_user_id,")
    assert verify_export(csv_file, public).ok, verify_export(csv_file, public).message
    csv_edited = tmp_path / "edited.csv"
    csv_edited.write_text(text.replace("cci-test", "cci-autre", 1), encoding="utf-8")
    assert verify_export(csv_edited, public).reason == "hash"

    since = tfe(data, "audit", "export", "--since", "2000-01-01", "--until", "2000-01-02")
    assert since.exit_code == 0 and [json.loads(x)["record"] for x in since.stdout.splitlines()] == ["header"]
    with _factory(data)() as session:
        exported = session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.export")).all()
        assert {e.detail["format"] for e in exported} == {"jsonl", "csv"} and len(exported) == 3


def test_bad_options_are_one_line_errors(data: Path) -> None:
    for args in (["--since", "hier"], ["--format", "xml"]):
        out = tfe(data, "audit", "export", *args)
        assert out.exit_code == 2 and "tfe: error:" in out.output and "Traceback" not in out.output


def test_verify_names_an_edited_and_rechained_row(data: Path, tmp_path: Path) -> None:
    copy = _copy(data, tmp_path)
    with session_scope(_factory(copy)) as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        events[1].detail = {**events[1].detail, "edited": True}
        prev = events[0].hash
        for event in events[1:]:
            event.prev_hash, event.hash = prev, audit.chain_hash(prev, audit.content_of(event))
            prev = event.hash
        session.execute(update(AuditHead).values(head_hash=prev))
    out = tfe(copy, "audit", "verify")
    assert out.exit_code == 1
    assert "tfe: error: audit chain broken at event seq 2" in out.output and "MAC" in out.output
    report = tfe(copy, "audit", "verify", "--json")
    assert report.exit_code == 1 and json.loads(report.stdout)["reason"] == "mac"
    sealed = tfe(copy, "audit", "seal-legacy")
    assert sealed.exit_code == 1 and "tfe: error: not sealing: audit chain broken" in sealed.output


def test_verify_catches_a_truncated_tail_below_the_anchor(data: Path, tmp_path: Path) -> None:
    copy = _copy(data, tmp_path)
    assert tfe(copy, "audit", "anchor").exit_code == 0
    with session_scope(_factory(copy)) as session:
        head = session.get(AuditHead, 1)
        assert head is not None
        keep = head.seq - 3
        session.execute(delete(AuditEvent).where(AuditEvent.seq > keep))
        last = session.scalars(select(AuditEvent).where(AuditEvent.seq == keep)).one()
        head.seq, head.head_hash = keep, last.hash
    out = tfe(copy, "audit", "verify", "--json")
    assert out.exit_code == 1
    report = json.loads(out.stdout)
    assert report["reason"] == "truncated" and report["first_broken_seq"] == keep + 3
