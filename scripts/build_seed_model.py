"""Train the NAF seed model (``taxonomy/data/naf_seed_model.npz``) on the taxonomy's own words: labels of
classes and sous-classes and the items of Eurostat's notes (``taxonomy.examples.seed_examples``), each
embedded once with e5 (``query:``). The classifier uses it when no trained model exists (zero-shot).
Texts already in the previous seed model keep their vector. Re-run after ``naf.csv`` changes:
``python scripts/build_seed_model.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    from search.embeddings import Embedder
    from taxonomy.learned import SEED_C_REG, SEED_MODEL
    from taxonomy.referential import Referential
    from taxonomy.training import train_scheme

    embedder = Embedder(threads=int(os.environ.get("TFE_EMBED_THREADS", "2")))
    model = train_scheme(Referential.from_files(), "naf", [], lambda texts: embedder.queries(texts, batch=64),
                         calibrate=False, c_reg=SEED_C_REG)
    model.save(SEED_MODEL)
    print(f"{SEED_MODEL}: {model.info}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
