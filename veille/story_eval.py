"""Story clustering quality on a labelled JSON-lines file (``tfe eval stories``).

Each line is one headline: ``{id, title, text, source, published, language, story, subset}``. Every
subset is fed, on its own, through the clusterer the poller uses (``veille.clustering``, with the same
features as ``veille.stories``), in time order (undated items keep their file order, after the dated
ones), and scored against the gold ``story`` labels (B-cubed and pairwise, ``veille.story_metrics``).
Two batch-free reference points are given for comparison: every headline alone, and near-duplicates
only (the MinHash fast path without vectors).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from veille.clustering import ClusterParams, StoryCandidate, StoryClusterer, as_utc, candidate, feature_text
from veille.story_metrics import bcubed, pairwise

if TYPE_CHECKING:
    from search.embeddings import Embedder

__all__ = ["Headline", "evaluate_stories", "load_headlines", "score_subset"]


@dataclass(frozen=True)
class Headline:
    id: str
    text: str  # the feature text: headline and lead
    story: str
    subset: str
    at: dt.datetime | None


def _date(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return as_utc(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


def load_headlines(path: Path) -> list[Headline]:
    """The labelled headlines of ``path`` (lines without a title or a story label are skipped)."""
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not JSON ({e})") from e
            title, story = row.get("title") or "", row.get("story")
            if not title or story is None:
                continue
            rows.append(
                Headline(
                    id=str(row.get("id") or n),
                    text=feature_text(title, row.get("text") or ""),
                    story=str(story),
                    subset=str(row.get("subset") or "all"),
                    at=_date(row.get("published")),
                )
            )
    return rows


def _time_order(items: list[Headline]) -> list[Headline]:
    order = sorted(range(len(items)), key=lambda i: (items[i].at is None, items[i].at or dt.datetime.min, i))
    return [items[i] for i in order]


def _scores(predicted: list[str], gold: list[str]) -> dict[str, Any]:
    return {"bcubed": bcubed(predicted, gold).as_dict(), "pairwise": pairwise(predicted, gold).as_dict()}


def score_subset(
    items: list[Headline],
    vectors: np.ndarray,
    params: ClusterParams | None = None,
    *,
    baselines: bool = True,
) -> dict[str, Any]:
    """Cluster ``items`` (already in time order, ``vectors`` row-aligned) and score the result."""
    params = params or ClusterParams()
    start = time.perf_counter()
    clusterer = StoryClusterer(params)
    candidates = [candidate(h.id, h.text, vectors[i], h.at, params) for i, h in enumerate(items)]
    predicted = [clusterer.assign(c).story_id for c in candidates]
    gold = [h.story for h in items]
    report: dict[str, Any] = {
        "items": len(items),
        "stories": len(set(gold)),
        "predicted_stories": len(set(predicted)),
        **_scores(predicted, gold),
        "cluster_seconds": round(time.perf_counter() - start, 2),
    }
    if baselines:
        duplicates = StoryClusterer(params)
        far = np.zeros(vectors.shape[1], dtype=np.float32)  # no vector ever reaches the threshold
        near = [
            duplicates.assign(StoryCandidate(key=c.key, vector=far, signature=c.signature, at=c.at)).story_id
            for c in candidates
        ]
        report["baselines"] = {
            "singletons": _scores([h.id for h in items], gold),
            "near_duplicates_only": _scores(near, gold),
        }
    return report


def evaluate_stories(
    path: Path,
    embedder: Embedder,
    params: ClusterParams | None = None,
    *,
    progress: bool = False,
    embed: Callable[[list[str]], np.ndarray] | None = None,
) -> dict[str, Any]:
    """Per-subset scores of the incremental clusterer on the labelled file ``path``.

    ``embed`` replaces the embedder's query encoding (tests, cached vectors); by default every
    feature text is embedded as the poller embeds an item (``Embedder.query``).
    """
    params = params or ClusterParams()
    headlines = load_headlines(path)
    subsets: dict[str, list[Headline]] = {}
    for h in headlines:
        subsets.setdefault(h.subset, []).append(h)
    start = time.perf_counter()
    report: dict[str, Any] = {"file": str(path), "params": _params(params), "subsets": {}}
    for name, items in sorted(subsets.items()):
        ordered = _time_order(items)
        texts = [h.text for h in ordered]
        vectors = embed(texts) if embed is not None else _embed(embedder, texts, progress, name)
        report["subsets"][name] = score_subset(ordered, vectors, params)
    report["seconds"] = round(time.perf_counter() - start, 1)
    return report


def _embed(embedder: Embedder, texts: list[str], progress: bool, label: str) -> np.ndarray:
    """The feature texts' query vectors, in batches of 32 (as the poller's assigner embeds a poll's items)."""
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    from tqdm import tqdm

    parts = []
    with tqdm(total=len(texts), desc=label, unit="titre", disable=not progress) as bar:
        for start in range(0, len(texts), 32):
            chunk = texts[start : start + 32]
            parts.append(embedder.queries(chunk))
            bar.update(len(chunk))
    return np.vstack(parts)


def _params(params: ClusterParams) -> dict[str, Any]:
    return {k: (v.total_seconds() if isinstance(v, dt.timedelta) else v) for k, v in vars(params).items()}
