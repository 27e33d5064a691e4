"""The server's back-fill worker gives vectors to passages indexed without one, then idles."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.web.conftest import make_installation
from tfe.app.background import BackfillWorker

pytestmark = pytest.mark.slow


def test_worker_backfills_what_ingest_deferred(tmp_path: Path) -> None:
    rt, _seed = make_installation(tmp_path / "inst")
    note = tmp_path / "note.txt"
    note.write_text(" ".join(["Les vins de Bordeaux exportés vers l'Allemagne et le Japon."] * 60), "utf-8")
    report = rt.documents.ingest_paths([note], org_slug="alpha", embed=False, progress=False)
    assert report["ok"] == 1
    missing = len(rt.backend.missing_embeddings(limit=1000))
    assert missing >= 1
    worker = BackfillWorker(rt, batch=2, idle_s=0.2).start()
    try:
        deadline = time.monotonic() + 120
        while rt.backend.missing_embeddings(limit=1) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.stop()
    assert rt.backend.missing_embeddings(limit=1) == []
    assert worker.done == missing
    rt.close()
