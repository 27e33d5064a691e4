"""Near-duplicate and preview benchmark: the upload-time cost of ``ged.neardup.record_similar`` at N
documents, and the cost of a first-page thumbnail (``ged.previews``).

``python bench/neardup_previews.py [--docs 1000,10000] [--postgres URL]`` prints one JSON document:

- ``signature``: time to compute the MinHash of a 5,000-word text and of the longest text shingled
  (``MAX_WORDS``), after a first call that imports datasketch;
- ``scan``: per database and N, the median time of ``record_similar`` for a new version against N
  visible documents with signatures (one SQL query in the uploader's scope, then numpy), 5 runs;
- ``thumbnail``: the demo corpus PDF drawn 300 px wide in the child process (first view), the same read
  back from the blob cache, and PDFium in-process (what the child process costs on top).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, text

import ged.models  # noqa: F401
import ingest.models  # noqa: F401
import taxonomy.models  # noqa: F401
import tfe.core.models  # noqa: F401
from ged import neardup
from ged.models import Document, DocumentVersion
from tfe.app.demo import CORPUS_DIR
from tfe.app.runtime import Runtime
from tfe.core.db import Base
from tfe.core.models import Organisation
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings

WORDS = [
    "marché",
    "export",
    "vins",
    "allemagne",
    "japon",
    "salon",
    "distribution",
    "prix",
    "importateur",
    "réglementation",
    "étiquetage",
    "conseiller",
    "client",
    "devis",
    "prestation",
    "accompagnement",
    "secteur",
    "pays",
    "note",
    "analyse",
    "filière",
    "croissance",
    "cosmétiques",
    "machines",
    "agricoles",
    "énergie",
    "renouvelable",
    "logiciel",
    "aéronautique",
    "laitier",
    "brésil",
    "canada",
]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(
        rng.choice(WORDS) + (str(rng.randint(0, 99)) if rng.random() < 0.3 else "") for _ in range(n)
    )


def _scan(settings: Settings, n: int, sigs: list[bytes]) -> dict[str, Any]:
    rt = Runtime(settings)
    Base.metadata.create_all(rt.engine)
    with rt.session() as session:
        session.add(Organisation(id=1, slug="a", name="A"))
    docs = [
        {"id": f"{i:032x}", "title": f"doc {i}", "org_id": 1, "visibility": "organisation"} for i in range(n)
    ]
    versions = [
        {
            "document_id": f"{i:032x}",
            "number": 1,
            "content_hash": f"{i:064x}",
            "filename": "x.txt",
            "mime": "text/plain",
            "size": 1,
            "blob_key": "0" * 64,
            "text": "",
            "meta": {},
            "minhash": sigs[i % len(sigs)],
        }
        for i in range(n)
    ]
    with rt.session() as session:
        for start in range(0, n, 2000):
            session.execute(insert(Document), docs[start : start + 2000])
            session.execute(insert(DocumentVersion), versions[start : start + 2000])
    new_id = "f" * 32
    rng = random.Random(7)
    with rt.session() as session:
        session.add(Document(id=new_id, title="nouveau", org_id=1, visibility="organisation"))
        session.flush()
        session.add(
            DocumentVersion(
                document_id=new_id,
                number=1,
                content_hash="e" * 64,
                filename="n.txt",
                size=1,
                blob_key="0" * 64,
                text=_text(rng, 3000),
            )
        )
    times = []
    for _ in range(5):
        with rt.session() as session:
            started = time.perf_counter()
            neardup.record_similar(session, new_id, 1, AccessScope.member(1, 1), backfill=0)
            times.append(time.perf_counter() - started)
    rt.close()
    return {"docs": n, "median_s": round(statistics.median(times), 4), "max_s": round(max(times), 4)}


def _thumbnail(settings: Settings) -> dict[str, Any]:
    import pypdfium2 as pdfium

    rt = Runtime(settings)
    data = (CORPUS_DIR / "analyse-sectorielle-vins-allemagne.pdf").read_bytes()
    child = []
    for _ in range(5):
        started = time.perf_counter()
        png = rt.previewer.pdf_thumbnail(data)
        child.append(time.perf_counter() - started)
    key = rt.blob_store.put(png, owner="b" * 32)
    cached = []
    for _ in range(5):
        started = time.perf_counter()
        rt.blob_store.get(key)
        cached.append(time.perf_counter() - started)
    inproc = []
    for _ in range(5):
        started = time.perf_counter()
        page = pdfium.PdfDocument(data)[0]
        page.render(scale=300 / page.get_size()[0])
        inproc.append(time.perf_counter() - started)
    rt.close()
    return {
        "pdf_bytes": len(data),
        "png_bytes": len(png),
        "child_process_median_s": round(statistics.median(child), 4),
        "cached_blob_read_median_s": round(statistics.median(cached), 5),
        "in_process_render_median_s": round(statistics.median(inproc), 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", default="1000,10000")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    rng = random.Random(1)
    started = time.perf_counter()
    neardup.signature(_text(rng, 50))  # the first call imports datasketch
    first_s = time.perf_counter() - started
    signature_s = {}
    for words in (5000, neardup.MAX_WORDS):
        sample = _text(rng, words)
        started = time.perf_counter()
        neardup.signature(sample)
        signature_s[str(words)] = round(time.perf_counter() - started, 4)
    sigs = [s for s in (neardup.signature(_text(rng, 400)) for _ in range(300)) if s]
    result: dict[str, Any] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "first_signature_s": round(first_s, 4),
        "signature_s_by_words": signature_s,
        "scan": {},
    }
    for n in (int(x) for x in args.docs.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = Settings(data_dir=Path(tmp) / "data", environment="test")  # type: ignore[call-arg]
            sqlite.resolved_data_dir.mkdir(parents=True)
            result["scan"].setdefault("sqlite", []).append(_scan(sqlite, n, sigs))
        schema = f"bench_{os.getpid()}_{n}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            with tempfile.TemporaryDirectory() as tmp:
                url = f"{args.postgres}?options=-csearch_path%3D{schema}"
                pg = Settings(data_dir=Path(tmp) / "data", environment="test", database_url=url)  # type: ignore[call-arg]
                pg.resolved_data_dir.mkdir(parents=True)
                result["scan"].setdefault("postgresql", []).append(_scan(pg, n, sigs))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", environment="test")  # type: ignore[call-arg]
        settings.resolved_data_dir.mkdir(parents=True)
        Base.metadata.create_all(Runtime(settings).engine)
        result["thumbnail"] = _thumbnail(settings)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
