"""How long a new user waits for `tfe demo`: first page, first search hits, corpus fully loaded (JSON).

Run by hand: ``.venv/bin/python bench/demo_start.py [--port 8765] [--timeout 900]``. Starts ``tfe demo`` on a
fresh temporary data dir exactly as the README says, polls ``/login`` until it answers 200, then searches
« vins Allemagne » with the demo token until hits come back, then waits for the background load's
"demo loaded" log line (BM25 first, vectors after).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="tfe-demo-bench-")) / "data"
    env = {**os.environ, "TFE_DATA_DIR": str(data), "TFE_LOG_LEVEL": "INFO", "OMP_NUM_THREADS": "1"}
    env.pop("TFE_DATABASE_URL", None)
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tfe", "demo", "--port", str(args.port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    loaded: dict[str, float] = {}

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "demo loaded" in line and "all" not in loaded:
                loaded["all"] = time.monotonic() - started
            if "demo load failed" in line:
                loaded["failed"] = time.monotonic() - started

    threading.Thread(target=watch, daemon=True).start()
    base = f"http://127.0.0.1:{args.port}"
    result: dict[str, object] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d"),
    }
    try:
        with httpx.Client(timeout=10) as client:
            while "first_page_s" not in result and time.monotonic() - started < args.timeout:
                try:
                    if client.get(f"{base}/login").status_code == 200:
                        result["first_page_s"] = round(time.monotonic() - started, 1)
                except httpx.TransportError:
                    time.sleep(0.2)
            token = json.loads((data / "demo-credentials.json").read_text(encoding="utf-8"))["token"]
            headers = {"Authorization": f"Bearer {token}"}
            while "first_hits_s" not in result and time.monotonic() - started < args.timeout:
                body = client.get(
                    f"{base}/api/search", params={"q": "vins Allemagne"}, headers=headers
                ).json()
                if body.get("total"):
                    result["first_hits_s"] = round(time.monotonic() - started, 1)
                else:
                    time.sleep(0.5)
            while not loaded and time.monotonic() - started < args.timeout:
                time.sleep(0.5)
            result["corpus_loaded_s"] = round(loaded.get("all", -1), 1)
            result["failed"] = "failed" in loaded
            final = client.get(f"{base}/api/search", params={"q": "vins Allemagne"}, headers=headers).json()
            result["hits_after_load"] = final.get("total")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
