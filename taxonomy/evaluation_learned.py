"""Learned-classifier evaluation on labelled NACE activity files (``tfe eval classify --train/--folds``).

- ``evaluate_rows``: the keys of ``taxonomy.evaluation.evaluate_classification`` (accuracy@1/@3 of
  classes, divisions and sections) for rows classified by a given classifier;
- ``evaluate_trained``: a model learned on the train rows (plus the taxonomy's seed examples), scored on
  the test rows;
- ``learning_curve``: K folds (``fold_assignment``: stratified by NACE division, seeded, so the figure is
  reproducible and every fold holds every division that has K rows or more); in each, the model learned
  on the first 0, 50, 100, 200 and all of the fold's training rows (0: the zero-shot classifier), scored
  on the held-out fold; the accuracies are those of every row, each scored by the model that did not
  see it.

Rows are analysed by spaCy once; e5 vectors come from the classifier's ``embed_query`` (cached by text),
so a training row's vector is the one its classification used.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from taxonomy.classifier import TaxonomyClassifier
from taxonomy.examples import Example
from taxonomy.nlp import lemmas_of
from taxonomy.training import train_scheme

if TYPE_CHECKING:
    from spacy.language import Language

__all__ = ["CURVE_SIZES", "evaluate_rows", "evaluate_trained", "fold_assignment", "learning_curve",
           "row_examples"]

CURVE_SIZES = (0, 50, 100, 200)  # then "all"
LEVELS = ("class", "division", "section")
Progress = Callable[[int], None]


def _ranked_unique(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def row_examples(rows: Sequence[dict[str, Any]]) -> list[Example]:
    """Training examples of labelled rows (``text`` and ``nace_class``)."""
    return [Example(text=r["text"], concept_id=f"naf:{r['nace_class']}", kind="labelled", ref=f"row:{i}",
                    title=r["text"][:120]) for i, r in enumerate(rows) if r.get("nace_class")]


def _hits(classifier: TaxonomyClassifier, row: dict[str, Any], lemmas: list[str]) -> Counter[str]:
    ref = classifier.ref
    res = classifier.classify(row["text"], lemmas=lemmas, entities=[])
    cands = classifier.sectors.score(lemmas, row["text"], limit=40)
    lexical = [s.concept_id for s in cands if ref.concept(s.concept_id).level == "class"]
    classes = _ranked_unique([s.concept_id for s in res.sectors] + lexical)
    divisions = [d.concept_id for d in res.divisions] or _ranked_unique(
        [ref.division_of(s.concept_id) or s.concept_id for s in cands])
    sections = _ranked_unique([ref.section_of(d) or d for d in divisions])
    gold = {"class": f"naf:{row.get('nace_class', '')}", "division": f"naf:{row.get('nace_division', '')}",
            "section": f"naf:{row.get('nace_section', '')}"}
    hits: Counter[str] = Counter()
    for level, ranked in zip(LEVELS, (classes, divisions, sections), strict=True):
        hits[f"{level}_acc@1"] += gold[level] in ranked[:1]
        hits[f"{level}_acc@3"] += gold[level] in ranked[:3]
    return hits


def _report(hits: Counter[str], n: int) -> dict[str, Any]:
    keys = sorted(f"{lvl}_acc@{k}" for lvl in LEVELS for k in (1, 3))
    return {"n": n, **{k: round(hits[k] / n, 4) if n else 0.0 for k in keys}}


def evaluate_rows(
    classifier: TaxonomyClassifier,
    rows: Sequence[dict[str, Any]],
    lemmas: Sequence[list[str]],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Accuracy@1/@3 of classes, divisions and sections over ``rows`` (``lemmas`` aligned)."""
    hits: Counter[str] = Counter()
    for row, lem in zip(rows, lemmas, strict=True):
        hits += _hits(classifier, row, lem)
        if progress:
            progress(1)
    return _report(hits, len(rows))


def analyse_rows(nlp: Language, rows: Sequence[dict[str, Any]]) -> list[list[str]]:
    """The lemmas of every row's text (spaCy, batched)."""
    return [lemmas_of(doc) for doc in nlp.pipe([r["text"] for r in rows], batch_size=64)]


def _embed(classifier: TaxonomyClassifier) -> Callable[[list[str]], np.ndarray]:
    embed_query = classifier.embed_query
    if embed_query is None:
        raise ValueError("a learned model needs the e5 embeddings (not --lexical-only)")
    return lambda texts: np.vstack([np.asarray(embed_query(t), dtype=np.float32) for t in texts])


def _learned(base: TaxonomyClassifier, train_rows: Sequence[dict[str, Any]]) -> TaxonomyClassifier:
    model = train_scheme(base.ref, "naf", row_examples(train_rows), _embed(base), calibrate=False)
    return TaxonomyClassifier(base.ref, embed_query=base.embed_query, model=model)


def evaluate_trained(
    base: TaxonomyClassifier,
    train_rows: Sequence[dict[str, Any]],
    rows: Sequence[dict[str, Any]],
    lemmas: Sequence[list[str]],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Scores on ``rows`` of a model learned on ``train_rows`` and the seed examples."""
    report = evaluate_rows(_learned(base, train_rows), rows, lemmas, progress)
    return {**report, "train": len(train_rows)}


def fold_assignment(rows: Sequence[dict[str, Any]], folds: int, *, seed: int = 0) -> list[int]:
    """The fold of every row, stratified by NACE division and reproducible: the rows of each division
    (divisions in code order), shuffled by ``random.Random(seed)``, are dealt round-robin over the folds,
    the deal carrying on from one division to the next, so fold sizes differ by one at most and a
    division's rows are spread over as many folds as it has rows."""
    rng = random.Random(seed)
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(str(row.get("nace_division") or str(row.get("nace_class", ""))[:2]), []).append(i)
    fold_of = [0] * len(rows)
    k = 0
    for key in sorted(groups):
        members = groups[key]
        rng.shuffle(members)
        for idx in members:
            fold_of[idx] = k % folds
            k += 1
    return fold_of


def learning_curve(
    base: TaxonomyClassifier,
    rows: Sequence[dict[str, Any]],
    lemmas: Sequence[list[str]],
    folds: int,
    *,
    sizes: Sequence[int] = CURVE_SIZES,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """K-fold learning curve: the report of the full training size plus ``curve`` (one report per size,
    ``train`` = examples per fold; sizes above the fold's training rows are left out)."""
    if folds < 2 or folds > len(rows):
        raise ValueError(f"folds must be between 2 and {len(rows)}")
    fold_of = fold_assignment(rows, folds, seed=seed)
    order = list(range(len(rows)))  # the training prefixes (0, 50, 100, 200 rows) follow this order
    random.Random(seed).shuffle(order)
    train_size = min(sum(1 for i in order if fold_of[i] != f) for f in range(folds))
    points = [s for s in sizes if s < train_size] + [train_size]
    hits: dict[int, Counter[str]] = {p: Counter() for p in points}
    for f in range(folds):
        test = [i for i in range(len(rows)) if fold_of[i] == f]
        train = [i for i in order if fold_of[i] != f]
        for point in points:
            subset = train if point == train_size else train[:point]  # "all": every row of the fold's
            clf = base if point == 0 else _learned(base, [rows[i] for i in subset])
            for i in test:
                hits[point] += _hits(clf, rows[i], lemmas[i])
                if progress:
                    progress(1)
    curve = [{**_report(hits[p], len(rows)), "train": p, "label": "all" if p == train_size else str(p)}
             for p in points]
    return {**{k: v for k, v in curve[-1].items() if k not in ("train", "label")}, "folds": folds,
            "train": train_size, "curve": curve}
