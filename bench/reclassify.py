"""Reclassification benchmark (issue 10 §4): time to reclassify 10,000 watch items after a taxonomy change.

``python bench/reclassify.py [--items 10000] [--keep DIR]`` prints one JSON document. A fresh installation
(SQLite, embedded index) gets ``--items`` watch items: French headlines of the stories dev set (three per
item, one in ten naming "Zorglubie"), each classified in Viêt Nam and a NAF class as ingestion would
have saved them (``Item`` rows, ``Classification`` rows of method "rule", passages with the writer's own
metadata; written in bulk, as a corpus already ingested). The change gives Viêt Nam the alternative
label "Zorglubie", so every item holds a touched concept: all of them are affected, one in ten keeps
the country (its text names it) and the others lose it. Timed: ``preview`` (classify everything, write
nothing) and ``run`` (classify, rewrite rows, re-index every item), each with the spaCy model and the
classifier already loaded; the process is pinned to ``--cores`` cores (default 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.components.splitter import split_passages
from ingest.components.writer import index_passages, passage_meta
from ingest.item import IngestItem, Processed
from taxonomy.classifier import Scored
from taxonomy.models import Classification, Concept, TaxonomyChange
from taxonomy.version import bump_version
from tfe.app.install import init_installation
from tfe.app.jobs import reclassify
from tfe.app.runtime import Runtime
from tfe.core.settings import Settings
from veille.models import Item, Source

HEADLINES = Path(__file__).resolve().parents[2] / "shared" / "data" / "eval" / "stories" / "headlines.jsonl"
COUNTRY = "country:VN"
SECTOR = "naf:10.51"  # dairy: any class will do, it is not touched
MARK = "Zorglubie"


def _headlines() -> list[str]:
    if HEADLINES.is_file():
        rows = (json.loads(line) for line in HEADLINES.read_text(encoding="utf-8").splitlines() if line)
        found = [r["title"] for r in rows if r.get("language") == "fr" and r.get("title")]
        if len(found) > 500:
            return found
    rng = random.Random(1)
    words = [
        "vins",
        "export",
        "marché",
        "salon",
        "appel",
        "offres",
        "santé",
        "énergie",
        "solaire",
        "logistique",
        "banque",
        "textile",
    ]
    return [" ".join(rng.sample(words, 8)).capitalize() for _ in range(3000)]


def _snapshot(row: Concept) -> dict[str, Any]:
    from sqlalchemy import inspect

    out: dict[str, Any] = {}
    for attr in inspect(Concept).mapper.column_attrs:
        value = getattr(row, attr.key)
        out[attr.key] = value.isoformat() if isinstance(value, dt.datetime) else value
    return out


def seed(rt: Runtime, n: int, seed_value: int = 7) -> float:
    """``n`` items as an ingestion would have saved them; seconds taken."""
    started = time.perf_counter()
    rng = random.Random(seed_value)
    heads = _headlines()
    ref = rt.referential
    with rt.session() as s:
        source = Source(kind="feed", url="https://veille.example/flux", title="Banc", visibility="network")
        s.add(source)
        s.flush()
        source_id = source.id
    batch: list[tuple[Item, Processed]] = []

    def flush() -> None:
        with rt.session() as s:
            for item, _p in batch:
                s.add(item)
            s.flush()
            for item, _p in batch:
                for cid in (SECTOR, COUNTRY):
                    s.add(
                        Classification(
                            target_kind="item",
                            target_id=item.id,
                            concept_id=cid,
                            score=0.5,
                            method="rule",
                            explanation={"evidence": ["banc"]},
                        )
                    )
        passages = []
        for item, processed in batch:
            passages += index_passages(processed, item.id, passage_meta(processed, ref))
        rt.backend.write(passages)
        batch.clear()

    for i in range(n):
        title = rng.choice(heads)
        text = f"{title}. {rng.choice(heads)}. {rng.choice(heads)}."
        if i % 10 == 0:
            text += f" Les exportateurs visent la {MARK}."
        item_id = hashlib.sha1(f"{seed_value}:{i}".encode()).hexdigest()[:32]
        url = f"https://veille.example/articles/{i}"
        published = dt.datetime(2025, 3, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i)
        item = Item(
            id=item_id,
            source_id=source_id,
            url=url,
            guid=url,
            title=title,
            summary="",
            text=text,
            content_origin="summary",
            published_at=published,
            language="fr",
            content_hash=hashlib.sha256(text.encode()).hexdigest(),
            visibility="network",
            meta={},
        )
        processed = Processed(
            item=IngestItem(
                key=url,
                kind="item",
                title=title,
                url=url,
                published_at=published,
                visibility="network",
                source_id=source_id,
                guid=url,
            ),
            content_hash=item.content_hash,
            text=text,
            title=title,
            language="fr",
            sectors=[Scored(SECTOR, 0.5, ["banc"])],
            countries=[Scored(COUNTRY, 0.5, ["banc"])],
            doc_type=Scored("doctype:news", 1.0),
            passages=split_passages(text),
        )
        batch.append((item, processed))
        if len(batch) >= 1000:
            flush()
    if batch:
        flush()
    rt.backend.commit()
    return time.perf_counter() - started


def change(rt: Runtime) -> int:
    """Viêt Nam gains the alternative label ``MARK``: one recorded change."""
    with rt.session() as s:
        row = s.get(Concept, COUNTRY)
        assert row is not None
        before = _snapshot(row)
        alt = {k: list(v) for k, v in (row.alt_labels or {}).items()}
        alt["fr"] = [*alt.get("fr", []), MARK]
        row.alt_labels = alt
        s.flush()
        entry = TaxonomyChange(
            version=bump_version(s),
            action="labels",
            concept_id=COUNTRY,
            summary="banc",
            before={COUNTRY: before},
            after={COUNTRY: _snapshot(row)},
        )
        s.add(entry)
        s.flush()
        change_id = entry.id
    rt.referential_source.refresh()  # type: ignore[attr-defined]
    return change_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="data dir to use (kept afterwards)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.cores]))
    data = args.keep or Path(tempfile.mkdtemp(prefix="tfe-bench-reclassify-")) / "data"
    rt = Runtime(Settings(data_dir=data, environment="test", admin_password="bench-password-123"))
    init_installation(rt)
    seed_s = seed(rt, args.items)
    change_id = change(rt)
    from taxonomy.nlp import load_nlp

    load_nlp()
    reclassify._PROPOSER.classifier(rt.referential)  # models loaded before the clocks start
    t0 = time.perf_counter()
    with rt.session() as s:
        run_id = reclassify.preview(s, change_id, None, rt=rt).id
    preview_s = time.perf_counter() - t0
    t1, c1 = time.perf_counter(), time.process_time()
    body = reclassify.run(rt.session_factory, run_id, rt=rt)
    run_s, run_cpu_s = time.perf_counter() - t1, time.process_time() - c1
    counts = body["result"]["concepts"].get(COUNTRY, {})
    out = {
        "items": args.items,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, {platform.python_version()}",
        "date": dt.date.today().isoformat(),
        "seed_s": round(seed_s, 1),
        "targets": body["total"],
        "preview_s": round(preview_s, 1),
        "run_s": round(run_s, 1),
        "run_cpu_s": round(run_cpu_s, 1),  # this process's CPU time: the figure on a shared machine
        "run_items_per_s": round(body["total"] / run_s, 1) if run_s else None,
        "kept": args.items - counts.get("lose", 0),
        "lost": counts.get("lose", 0),
        "summary": body["summary"],
        "target_s": 300,
        "met": run_s < 300,
    }
    rt.close()
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
