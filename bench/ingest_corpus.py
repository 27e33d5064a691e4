"""Ingest speed on a folder of files (default: the 505-file fixture corpus), with inline embeddings (JSON).

Run by hand: ``.venv/bin/python bench/ingest_corpus.py [DIR] [--defer-embeddings] [--timeout 1800]``. Makes a
fresh temporary data dir, runs ``tfe init`` and then ``tfe ingest DIR --json`` exactly as a user would (a
new process, models loaded once), and prints one JSON document: files, ok/duplicate/failed, seconds (of
the ingest command alone, start-up included), files/s, and the failure reasons grouped.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "fixtures" / "documents"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--defer-embeddings", action="store_true", help="BM25 only; vectors by backfill")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    files = sum(1 for p in args.directory.rglob("*") if p.is_file())
    root = Path(tempfile.mkdtemp(prefix="tfe-ingest-bench-"))
    env = {
        **os.environ,
        "TFE_DATA_DIR": str(root / "data"),
        "TFE_ADMIN_PASSWORD": "bench-password-123",
        "OMP_NUM_THREADS": "1",
        "HAYSTACK_TELEMETRY_ENABLED": "False",
    }
    env.pop("TFE_DATABASE_URL", None)
    tfe = [sys.executable, "-m", "tfe"]
    try:
        subprocess.run([*tfe, "init"], env=env, check=True, capture_output=True, timeout=args.timeout)
        command = [*tfe, "ingest", str(args.directory), "--json", "--no-progress"]
        if args.defer_embeddings:
            command.append("--defer-embeddings")
        started = time.monotonic()
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=args.timeout)
        seconds = time.monotonic() - started
        report = json.loads(done.stdout)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    reasons = collections.Counter(
        str(item.get("reason", ""))[:60] for item in report.get("items", []) if item.get("status") == "failed"
    )
    print(
        json.dumps(
            {
                "directory": str(args.directory),
                "embeddings": "deferred" if args.defer_embeddings else "inline",
                "files": files,
                "ok": report.get("ok"),
                "duplicate": report.get("duplicate"),
                "failed": report.get("failed"),
                "seconds": round(seconds, 1),
                "files_per_s": round(files / seconds, 2) if seconds else None,
                "failures": dict(reasons.most_common()),
                "machine": f"{platform.machine()} {os.cpu_count()} cores",
                "date": time.strftime("%Y-%m-%d"),
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
