"""The shipped sector keywords as matching rules of the NAF concepts (taxonomy build time).

``data/sector_keywords_fr.csv`` (``keyword, targets, weight``: ``vin`` → ``naf:11.02`` weight 2) is
hand-written project data; ``Referential.from_files`` turns each row into one rule on each target
concept (``any`` for one word, ``phrase`` for several, French), so the seeded ``concepts.rules`` carry
them and curators edit them like any other rule. The sector matcher reads the rules, never the file.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

__all__ = ["KEYWORDS_FILE", "keyword_rule", "keyword_rules"]

KEYWORDS_FILE = Path(__file__).parent / "data" / "sector_keywords_fr.csv"


def keyword_rule(keyword: str, weight: float = 1.0) -> dict[str, Any]:
    """The rule of one curated keyword."""
    keyword = " ".join(keyword.split())
    kind = "phrase" if len(keyword.split()) > 1 else "any"
    return {"kind": kind, "pattern": keyword, "language": "fr", "negative": [], "weight": float(weight)}


def keyword_rules(path: Path = KEYWORDS_FILE) -> dict[str, list[dict[str, Any]]]:
    """Rules per target concept id, in file order."""
    out: dict[str, list[dict[str, Any]]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rule = keyword_rule(row["keyword"], float(row.get("weight") or 1))
            for target in row["targets"].split():
                out.setdefault(target, []).append(dict(rule))
    return out
