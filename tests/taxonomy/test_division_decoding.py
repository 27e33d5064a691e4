"""How the learned classifier decodes a NAF division (issue 10 §5): divisions ranked by the summed
probability of their classes, the class assigned chosen inside the first division; and the stratified,
seeded fold split of ``tfe eval classify --folds``."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from taxonomy.evaluation_learned import fold_assignment
from taxonomy.learned import MULTI_THRESHOLD, LearnedModel, seed_model
from taxonomy.referential import Referential

DIM = 384


def _fixed_model(probabilities: dict[str, float], temperature: float = 1.0) -> LearnedModel:
    """A model whose class probabilities (at temperature 1) are ``probabilities`` for any vector."""
    classes = sorted(probabilities)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(classes), DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return LearnedModel(
        scheme="naf",
        classes=classes,
        mean=np.zeros(DIM),
        scale=np.ones(DIM),
        coef=np.zeros((len(classes), DIM)),
        intercept=np.log([probabilities[c] for c in classes]),
        temperature=temperature,
        vectors=vectors,
        examples=[
            {"kind": "seed", "ref": c, "title": f"exemple {c}", "concept": c, "key": c} for c in classes
        ],
        info={},
    )


@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_the_division_with_the_most_mass_wins_over_the_single_best_class(
    ref: Referential, temperature: float
) -> None:
    # one wine class (0.40) against three meat/fish classes (0.22 + 0.20 + 0.18 = 0.60): choosing the class
    # first would file naf:11; the summed ranking files naf:10 and its best class
    model = _fixed_model(
        {"naf:11.02": 0.40, "naf:10.11": 0.22, "naf:10.12": 0.20, "naf:10.20": 0.18}, temperature
    )
    classes, divisions = model.assign(ref, np.ones(DIM, dtype=np.float32) / np.sqrt(DIM))
    assert [d.concept_id for d in divisions[:2]] == ["naf:10", "naf:11"]
    assert classes[0].concept_id == "naf:10.11"  # the best class inside the first division
    assert ref.division_of(classes[0].concept_id) == divisions[0].concept_id
    cal = dict(zip(model.classes, model.proba(np.zeros((1, DIM)))[0].tolist(), strict=True))
    assert divisions[0].probability == pytest.approx(
        cal["naf:10.11"] + cal["naf:10.12"] + cal["naf:10.20"], abs=1e-3
    )  # calibrated mass of the division
    assert classes[0].probability == pytest.approx(cal["naf:10.11"], abs=1e-3)
    assert classes[0].explanation["implies"][-2:] == ["naf:10", "naf:C"]
    # the wine class stays a second label only while its calibrated probability passes the threshold
    second = [c.concept_id for c in classes[1:]]
    assert second == (["naf:11.02"] if cal["naf:11.02"] >= MULTI_THRESHOLD else [])


def test_seed_model_decoding_is_consistent_on_many_texts(ref: Referential) -> None:
    model = seed_model()
    assert model is not None
    # ambiguous texts: the mean of two seed vectors of different parts of the nomenclature (a seed alone
    # is one the model learned, too sure of itself to tell the decodings apart)
    seeds = model.vectors.astype(np.float32)
    pairs = np.random.default_rng(0).integers(0, len(seeds), size=(200, 2))
    vectors = seeds[pairs[:, 0]] + seeds[pairs[:, 1]]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    probs = model.proba(vectors, temperature=1.0)
    division_of = [ref.division_of(c) or c for c in model.classes]
    class_first_differs = 0
    for vec, p in zip(vectors, probs, strict=True):
        mass: dict[str, float] = {}
        for d, pc in zip(division_of, p.tolist(), strict=True):
            mass[d] = mass.get(d, 0.0) + pc
        classes, divisions = model.assign(ref, vec)
        best = max(mass, key=lambda d: (mass[d], d))
        assert divisions[0].concept_id == best  # the most probable division (summed), not the best class's
        assert ref.division_of(classes[0].concept_id) == best
        assert classes[0].concept_id == max(
            (c for c, d in zip(model.classes, division_of, strict=True) if d == best),
            key=lambda c: p[model.classes.index(c)],
        )
        assert {ref.division_of(c.concept_id) for c in classes} <= {d.concept_id for d in divisions}
        assert divisions[0].probability == pytest.approx(mass[best], abs=1e-3)  # temperature 1 here
        class_first_differs += division_of[int(np.argmax(p))] != best
    assert class_first_differs > 0  # the two decodings disagree on some texts: the check above bites


def _rows(counts: dict[str, int]) -> list[dict[str, str]]:
    return [
        {"text": f"{d} {i}", "nace_class": f"{d}.1{i % 3}", "nace_division": d}
        for d, n in counts.items()
        for i in range(n)
    ]


def test_folds_are_stratified_by_division_and_reproducible() -> None:
    rows = _rows({"01": 12, "10": 7, "11": 5, "47": 3, "86": 1, "62": 9})
    folds = fold_assignment(rows, 5, seed=0)
    assert folds == fold_assignment(rows, 5, seed=0)  # same seed, same split
    assert folds != fold_assignment(rows, 5, seed=1)
    sizes = Counter(folds)
    assert set(sizes) == set(range(5)) and max(sizes.values()) - min(sizes.values()) <= 1
    for division in ("01", "10", "11", "62"):  # K rows or more: in every fold, evenly
        per_fold = Counter(f for f, r in zip(folds, rows, strict=True) if r["nace_division"] == division)
        assert set(per_fold) == set(range(5)) and max(per_fold.values()) - min(per_fold.values()) <= 1
    small = [f for f, r in zip(folds, rows, strict=True) if r["nace_division"] == "47"]
    assert len(set(small)) == 3  # fewer rows than folds: never twice in one fold
