"""``evaluate_stories`` on a tiny labelled file, with vectors made from the gold labels (no model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from veille.story_eval import evaluate_stories, load_headlines

ROWS = [
    # undated rows keep their file order, after the dated ones
    {"id": "u1", "title": "Sans date A", "published": None, "story": "A", "subset": "s2"},
    {"id": "u2", "title": "Sans date A bis", "published": None, "story": "A", "subset": "s2"},
    {"id": "b", "title": "Deuxieme B", "published": "2024-05-01T10:00:00Z", "story": "B", "subset": "s1"},
    {"id": "a", "title": "Premier A", "published": "2024-05-01T09:00:00", "story": "A", "subset": "s1"},
    {
        "id": "a2",
        "title": "Premier A encore",
        "published": "2024-05-01T11:00:00Z",
        "story": "A",
        "subset": "s1",
    },
    {"id": "x", "title": "", "published": None, "story": "A", "subset": "s1"},  # no title: skipped
]


def _fake_embed(texts: list[str]) -> np.ndarray:
    # "A" headlines point one way, the others another: a perfect clusterer's input
    return np.array([[1.0, 0.0] if " A" in f" {t}" else [0.0, 1.0] for t in texts], dtype=np.float32)


def test_evaluate_stories_per_subset(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n", encoding="utf-8")
    assert [h.id for h in load_headlines(path)] == ["u1", "u2", "b", "a", "a2"]
    report = evaluate_stories(path, embedder=None, embed=_fake_embed)  # type: ignore[arg-type]
    s1, s2 = report["subsets"]["s1"], report["subsets"]["s2"]
    assert (s1["items"], s1["stories"], s1["predicted_stories"]) == (3, 2, 2)
    assert s1["bcubed"]["f1"] == pytest.approx(1.0) and s1["pairwise"]["f1"] == pytest.approx(1.0)
    assert s1["baselines"]["singletons"]["bcubed"]["recall"] < 1.0
    assert s2["items"] == 2 and s2["predicted_stories"] == 1


def test_bad_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\nnot json\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.jsonl:2"):
        load_headlines(path)
