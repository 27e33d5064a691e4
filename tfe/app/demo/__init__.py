"""Bundled demo content for `tfe`: a corpus of French export-support documents and the watch's demo site.

Everything under this package is written by the project itself (no third-party content) and is
regenerated deterministically by ``scripts/make_demo_corpus.py``:

- ``corpus/``: about forty documents (docx, pdf, xlsx, pptx, html, odt) plus ``corpus/manifest.json``
  giving, for each file, its title, doc_type, visibility, owning organisation and the intended NAF
  sectors / ISO countries (ground truth for checks; the classifier decides on its own).
- ``feeds/``: ``veille-marches.rss`` (RSS 2.0) and ``veille-secteurs.atom`` (Atom 1.0), French, thirteen
  items each, and ``global-trade-wire.rss`` (English, six items); some tell the same events.
- ``site/``: the demo web site that ``tfe demo`` serves on 127.0.0.1 with the feeds (``site.py``): the
  listing « Actualités de l'export » and its articles, the watched tenders page in successive versions.
- ``organisations.json``: the five demo organisations the manifest refers to by slug.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEMO_DIR: Path = Path(__file__).parent
CORPUS_DIR: Path = DEMO_DIR / "corpus"
FEEDS_DIR: Path = DEMO_DIR / "feeds"
MANIFEST: Path = CORPUS_DIR / "manifest.json"
ORGANISATIONS: Path = DEMO_DIR / "organisations.json"

RSS_FEED: Path = FEEDS_DIR / "veille-marches.rss"
ATOM_FEED: Path = FEEDS_DIR / "veille-secteurs.atom"


def _load_list(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path} must contain a JSON list")
    return [dict(entry) for entry in data]


def load_manifest(path: Path | None = None) -> list[dict[str, Any]]:
    """Return the corpus manifest: one dict per file (file, title, doc_type, visibility, org, sectors,
    countries, author, format)."""
    return _load_list(path or MANIFEST)


def load_organisations(path: Path | None = None) -> list[dict[str, Any]]:
    """Return the demo organisations: dicts with slug, name and kind."""
    return _load_list(path or ORGANISATIONS)


__all__ = [
    "ATOM_FEED",
    "CORPUS_DIR",
    "DEMO_DIR",
    "FEEDS_DIR",
    "MANIFEST",
    "ORGANISATIONS",
    "RSS_FEED",
    "load_manifest",
    "load_organisations",
]
