"""Rebuild ``tfe/app/demo/vectors.npz``: the model's vector of every text a demo load embeds.

Run by hand after the demo corpus, its feeds or site, the chunking or the embedding model change
(``tests/core/test_demo.py`` fails while the file is stale):
``.venv/bin/python scripts/build_demo_vectors.py``.
Loads the demo, as ``tfe demo --no-serve`` does with its default weeks of activity, on a temporary data dir
with no known vectors, records each (kind, text) the model computes, and writes them (a few minutes).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

from search.known_vectors import KnownVectors
from tfe.app.background import backfill_batch
from tfe.app.cli.demo_activity import DEFAULT_WEEKS
from tfe.app.demo.loader import ensure_demo_accounts, load_demo
from tfe.app.demo.site import stop_site
from tfe.app.demo.vectors import VECTORS
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.core.settings import Settings


def main() -> None:
    started = time.monotonic()
    data = Path(tempfile.mkdtemp(prefix="tfe-demo-vectors-")) / "data"
    settings = Settings(
        data_dir=data, environment="test", admin_password="admin-password-123", fetch_allow_private=True
    )
    rt = Runtime(settings)
    report = init_installation(rt)
    ensure_demo_accounts(rt, report.admin_password)
    embedder = rt.embedder
    embedder.known = KnownVectors.load(data / "none.npz")  # knows nothing: every text goes to the model
    seen: dict[bytes, np.ndarray] = {}
    compute = embedder._vectors

    def recording(kind: str, texts: list[str]) -> np.ndarray:
        out = compute(kind, texts)
        for text, vector in zip(texts, out, strict=True):
            seen[KnownVectors.key(kind, text)] = vector.copy()
        return out

    embedder._vectors = recording  # type: ignore[method-assign]
    try:
        load_demo(rt, progress=True, embed=True, weeks=DEFAULT_WEEKS)
        while backfill_batch(rt, 16):  # the passages past each document's inline share
            pass
    finally:
        stop_site(rt.settings.resolved_data_dir)
        rt.close()
    count = KnownVectors.save(VECTORS, seen)
    took = round(time.monotonic() - started, 1)
    print(json.dumps({"vectors": count, "bytes": VECTORS.stat().st_size, "seconds": took}))


if __name__ == "__main__":
    main()
