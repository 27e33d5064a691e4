"""Cost of encryption at rest (JSON): ingest with and without it, downloads, key rotation under load.

Run by hand: ``.venv/bin/python bench/encryption.py [--files 60] [--owners 10000] [--json-only]``.

- ``ingest``: the same fixture files (BM25 only: embeddings would hide the cost) ingested into two fresh
  installations, one as shipped (sealed columns, sealed blobs) and one with the vault detached from the
  engine and the blob store (plain text, the layout before encryption at rest); files/s and the slowdown.
- ``download``: a 10 MB blob read back through ``BlobStore.get`` (open + GCM check) and over HTTP
  (``GET /api/documents/{id}/content`` on a live uvicorn), MB/s.
- ``rotate``: ``--owners`` data keys (one sealed blob each) and the ingested corpus; while ``tfe keys
  rotate``'s code rewraps them, four threads search and download over HTTP; seconds, requests sent during
  the rotation, failed requests (target 0), and a check that every blob still opens afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import uvicorn

from ged.blobs import BlobStore
from ged.models import Document, DocumentVersion
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.crypto.columns import attach
from tfe.core.models import Organisation, User
from tfe.core.security import identity
from tfe.core.settings import load_settings

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "data" / "fixtures" / "documents"
SUFFIXES = {".pdf", ".docx", ".odt", ".txt", ".html", ".xlsx", ".pptx", ".rtf", ".md", ".csv"}
MB = 1024 * 1024


def _runtime(root: Path) -> Runtime:
    settings = load_settings(
        data_dir=root, admin_password="bench-password-123", database_url=None, embedded_worker=False
    )
    rt = Runtime(settings)
    init_installation(rt)
    return rt


def _files(n: int) -> list[Path]:
    found = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    return found[:n]


def _plain(rt: Runtime) -> None:
    """Detach the vault: columns stored as text, blobs unsealed (before the pipeline is built)."""
    attach(rt.engine, None)  # type: ignore[arg-type]
    rt.__dict__["blob_store"] = BlobStore(rt.settings.blob_dir, None)


def bench_ingest(files: list[Path], base: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"files": len(files)}
    for label in ("plain", "sealed", "plain_again", "sealed_again"):
        rt = _runtime(base / f"ingest-{label}")
        if label.startswith("plain"):
            _plain(rt)
        started = time.perf_counter()
        report = rt.documents.ingest_paths(files, embed=False, progress=False)
        seconds = time.perf_counter() - started
        out[label] = {
            "seconds": round(seconds, 2),
            "ok": report["ok"],
            "files_per_s": round(len(files) / seconds, 2),
        }
        rt.close()
    plain = min(out["plain"]["seconds"], out["plain_again"]["seconds"])
    sealed = min(out["sealed"]["seconds"], out["sealed_again"]["seconds"])
    out["slowdown_pct"] = round(100 * (sealed - plain) / plain, 1)
    return out


def _serve(rt: Runtime) -> tuple[str, uvicorn.Server, threading.Thread]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def _token(rt: Runtime) -> str:
    with rt.session() as session:
        admin = identity.find_user(session, rt.settings.admin_email)
        return identity.create_token(session, admin, "bench")[1]


def _big_document(rt: Runtime, size: int) -> str:
    """A document row whose only version is a ``size``-byte sealed blob (no extraction: a raw download)."""
    doc_id = uuid.uuid4().hex
    data = os.urandom(size)
    key = rt.blob_store.put(data, owner=doc_id)
    with rt.session() as session:
        admin = session.query(User).filter(User.email == rt.settings.admin_email).one()
        org = session.get(Organisation, admin.org_id)
        session.add(Document(id=doc_id, title="bench 10 MB", org_id=org.id if org else None))
        session.flush()
        session.add(
            DocumentVersion(
                document_id=doc_id,
                number=1,
                content_hash="0" * 64,
                filename="bench.bin",
                mime="application/octet-stream",
                size=size,
                blob_key=key,
            )
        )
    return doc_id


def bench_download(rt: Runtime, base_url: str, token: str, rounds: int) -> dict[str, Any]:
    doc_id = _big_document(rt, 10 * MB)
    key = None
    with rt.session() as session:
        key = session.query(DocumentVersion.blob_key).filter(DocumentVersion.document_id == doc_id).scalar()
    started = time.perf_counter()
    for _ in range(rounds):
        assert len(rt.blob_store.get(key)) == 10 * MB
    store_s = time.perf_counter() - started
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        client.get(f"/api/documents/{doc_id}/content").raise_for_status()  # warm
        started = time.perf_counter()
        for _ in range(rounds):
            response = client.get(f"/api/documents/{doc_id}/content")
            response.raise_for_status()
            assert len(response.content) == 10 * MB
        http_s = time.perf_counter() - started
    return {
        "file_mb": 10,
        "rounds": rounds,
        "blob_store_mb_per_s": round(10 * rounds / store_s, 1),
        "http_mb_per_s": round(10 * rounds / http_s, 1),
    }


def bench_rotate(rt: Runtime, base_url: str, token: str, owners: int) -> dict[str, Any]:
    keys: list[str] = []
    started = time.perf_counter()
    for i in range(owners):
        keys.append(rt.blob_store.put(f"blob {i}".encode(), owner=f"bench{i:06d}"))
    setup_s = time.perf_counter() - started
    with rt.session() as session:
        doc_ids = [d for (d,) in session.query(Document.id).limit(20)]
    stop = threading.Event()
    counts = {"requests": 0, "failed": 0}
    failures: list[str] = []
    lock = threading.Lock()

    def load(worker: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        queries = ("export", "marché", "devis", "Vietnam", "agroalimentaire")
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
            i = worker
            while not stop.is_set():
                i += 1
                try:
                    if i % 2:
                        r = client.get("/api/search", params={"q": queries[i % len(queries)], "mode": "bm25"})
                    else:
                        r = client.get(f"/api/documents/{doc_ids[i % len(doc_ids)]}/content")
                    ok = r.status_code == 200
                except httpx.HTTPError as exc:
                    ok, r = False, None
                    failures.append(type(exc).__name__)
                with lock:
                    counts["requests"] += 1
                    if not ok:
                        counts["failed"] += 1
                        if r is not None and len(failures) < 5:
                            failures.append(f"{r.status_code} {r.text[:100]}")

    threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    before = dict(counts)
    started = time.perf_counter()
    report = rt.vault.rotate()
    rotate_s = time.perf_counter() - started
    during = {k: counts[k] - before[k] for k in counts}
    stop.set()
    for thread in threads:
        thread.join()
    fresh = Runtime(rt.settings)  # a new process's view: no cached data keys
    reopened = sum(1 for key in keys if fresh.blob_store.get(key))
    fresh.close()
    return {
        "data_keys": owners,
        "setup_seconds": round(setup_s, 1),
        "rotate_seconds": round(rotate_s, 2),
        "report": report.as_dict(),
        "requests_during_rotation": during["requests"],
        "failed_during_rotation": during["failed"],
        "failed_total": counts["failed"],
        "failures_sample": failures[:5],
        "blobs_reopened_after": reopened,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--owners", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="tfe-crypto-bench-"))
    try:
        files = _files(args.files)
        result: dict[str, Any] = {
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
            "python": platform.python_version(),
            "ingest": bench_ingest(files, base),
        }
        rt = _runtime(base / "serve")
        rt.documents.ingest_paths(files[:20], embed=False, progress=False)
        base_url, server, thread = _serve(rt)
        token = _token(rt)
        result["download"] = bench_download(rt, base_url, token, args.rounds)
        result["rotate"] = bench_rotate(rt, base_url, token, args.owners)
        server.should_exit = True
        thread.join(10)
        rt.close()
        print(json.dumps(result, indent=2, ensure_ascii=False))
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
