"""``tfe eval classify --train FILE`` and ``--folds K``: the learned classifier's evaluations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfe.app.cli.common import fail

if TYPE_CHECKING:
    from spacy.language import Language

    from taxonomy.classifier import TaxonomyClassifier

__all__ = ["learned_report"]


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Labelled NACE rows of a JSON-lines file; a French one-line failure when unusable."""
    if not path.is_file():
        fail(f"fichier introuvable : {path}")
    try:
        with path.open(encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        fail(f"{path} : fichier JSON-lines illisible ({e})")
    if not rows or not all(isinstance(r, dict) and r.get("text") and r.get("nace_class") for r in rows):
        fail(f"{path} : chaque ligne doit avoir les champs text et nace_class")
    return rows


def learned_report(
    file: Path,
    train: Path | None,
    folds: int | None,
    classifier: TaxonomyClassifier,
    nlp: Language,
    *,
    progress: bool,
) -> dict[str, Any]:
    """A model learned on ``train`` scored on ``file``, or the ``folds``-fold learning curve of ``file``."""
    from tqdm import tqdm

    from taxonomy.evaluation_learned import CURVE_SIZES, analyse_rows, evaluate_trained, learning_curve

    if classifier.embed_query is None:
        fail("--train et --folds demandent la similarité e5 (pas --lexical-only)")
    rows = read_rows(file)
    train_rows = read_rows(train) if train is not None else []
    lemmas = analyse_rows(nlp, rows)
    if folds is not None:
        if not 2 <= folds <= len(rows):
            fail(f"--folds doit être entre 2 et {len(rows)}")
        per_fold = len(rows) - -(-len(rows) // folds)
        total = len(rows) * (len([s for s in CURVE_SIZES if s < per_fold]) + 1)
        with tqdm(total=total, desc="courbe d'apprentissage", unit="ligne", disable=not progress) as bar:
            return learning_curve(classifier, rows, lemmas, folds, progress=bar.update)
    with tqdm(total=len(rows), desc="évaluation", unit="ligne", disable=not progress) as bar:
        return evaluate_trained(classifier, train_rows, rows, lemmas, progress=bar.update)
