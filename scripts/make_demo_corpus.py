"""Generate the bundled demo corpus and demo watch feeds for `tfe` (all content written by the project).

Usage::

    pip install -e '.[demo-build]'
    python scripts/make_demo_corpus.py [OUT_DIR] [--feeds-dir DIR] [--organisations FILE]

OUT_DIR defaults to ``tfe/app/demo/corpus``; it receives the documents (docx, pdf, xlsx, pptx, html, odt) and
``manifest.json``. Feeds go to ``tfe/app/demo/feeds``, organisations to ``tfe/app/demo/organisations.json``
unless told otherwise. The content lives in ``scripts/demo_corpus/data`` (JSON, and one Markdown file per
document); the code in ``scripts/demo_corpus``. The output is deterministic: zip timestamps and document
dates are fixed, so a re-run produces byte-identical files (PDFs with the DejaVu fonts of fonts-dejavu-core).
`tfe demo` does not run this: it loads the files committed under ``tfe/app/demo``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from demo_corpus.content import build_docs, organisations
from demo_corpus.feeds import build_feeds
from demo_corpus.writers import write

DEMO = Path(__file__).resolve().parent.parent / "tfe" / "app" / "demo"
DEFAULT_OUT = DEMO / "corpus"
DEFAULT_FEEDS = DEMO / "feeds"
DEFAULT_ORGS = DEMO / "organisations.json"


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def build_corpus(out_dir: Path) -> list[dict[str, object]]:
    """Write every document and manifest.json into out_dir; return the manifest entries."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = []
    for doc in build_docs():
        write(doc, out_dir / doc.file)
        manifest.append(doc.manifest_entry())
    _write_json(out_dir / "manifest.json", manifest)
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--feeds-dir", type=Path, default=DEFAULT_FEEDS)
    parser.add_argument("--organisations", type=Path, default=DEFAULT_ORGS)
    parser.add_argument("--clean", action="store_true", help="remove out_dir before writing")
    args = parser.parse_args(argv)
    if args.clean and args.out_dir.exists():
        shutil.rmtree(args.out_dir)
    manifest = build_corpus(args.out_dir)
    build_feeds(args.feeds_dir)
    args.organisations.parent.mkdir(parents=True, exist_ok=True)
    _write_json(args.organisations, organisations())
    print(f"{len(manifest)} documents -> {args.out_dir}; feeds -> {args.feeds_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
