"""The learned classifier (issue 10 §5, contract C6): examples, training, calibration, hierarchy, files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from taxonomy.classifications import CURATOR, REJECTED
from taxonomy.examples import Example, decision_examples, seed_examples
from taxonomy.learned import FORMAT_VERSION, SEED_MODEL, LearnedModel, load, seed_model, train
from taxonomy.models import Classification
from taxonomy.referential import Referential
from tests.taxonomy.conftest import Opener
from tfe.core.db import session_scope

DIVISIONS = ("naf:10", "naf:20", "naf:25", "naf:28")  # many close classes each


@pytest.fixture(scope="module")
def shipped() -> LearnedModel:
    model = seed_model()
    assert model is not None, f"{SEED_MODEL} missing: run scripts/build_seed_model.py"
    return model


def _small_split(ref: Referential, model: LearnedModel) -> tuple[list[int], list[int], list[int]]:
    """Rows of the seed model for four divisions: one per class (its first seed), then the others split
    in two halves (train, test)."""
    first: list[int] = []
    rest: list[int] = []
    seen: set[str] = set()
    for row, meta in enumerate(model.examples):
        if ref.division_of(meta["concept"]) in DIVISIONS:
            (rest if meta["concept"] in seen else first).append(row)
            seen.add(meta["concept"])
    return first, rest[0::2], rest[1::2]


def _examples(model: LearnedModel, rows: list[int]) -> list[Example]:
    return [Example(text=model.examples[r]["title"], concept_id=model.examples[r]["concept"],
                    kind="curator" if i % 2 else "seed", ref=f"row:{r}") for i, r in enumerate(rows)]


def _class_accuracy(ref: Referential, model: LearnedModel, vectors: np.ndarray, gold: list[str]) -> float:
    hits = 0
    for vec, concept in zip(vectors, gold, strict=True):
        classes, _ = model.assign(ref, vec)
        hits += classes[0].concept_id == concept
    return hits / len(gold)


def test_seed_examples_come_from_labels_and_notes(ref: Referential) -> None:
    seeds = {(e.text, e.concept_id) for e in seed_examples(ref, "naf", levels=("class", "subclass"))}
    assert ("Culture du riz", "naf:01.12Z") in seeds  # a sous-classe's French label
    assert ("growing of rice", "naf:01.12") in seeds  # 01.11 excludes it: "see 01.12"
    assert any(c == "naf:01.11" and t.startswith("growing of cereals such as: wheat") for t, c in seeds)
    headings = [t for t, _ in seeds if re.fullmatch(r"this class (also )?(includes|excludes):?", t.lower())]
    assert not headings  # a note's headings are not examples (its sentences are)


def test_decision_examples_keep_curators_and_validated_documents(seeded: Opener, ref: Referential) -> None:
    rows = [("document", "d1", "naf:11.02", CURATOR, {}), ("document", "d1", "naf:01.21", CURATOR,
            {REJECTED: True}), ("document", "d2", "naf:86.10", "rule", {}),
            ("item", "i1", "naf:49.41", "rule", {}), ("item", "gone", "naf:49.41", CURATOR, {})]
    with session_scope(seeded()) as session:
        for kind, tid, cid, method, extra in rows:
            session.add(Classification(target_kind=kind, target_id=tid, concept_id=cid, score=1.0,
                                       method=method, explanation={"evidence": [], **extra}))
    texts = {("document", "d1"): ("Vins de Bordeaux", "Export de vins"), ("document", "d2"): ("Clinique", ""),
             ("item", "i1"): ("Transport routier", "")}
    with session_scope(seeded()) as session:
        found = decision_examples(session, ref, "naf", lambda k, i: texts.get((k, i)),
                                  validated=[("document", "d2")])
    assert [(e.ref, e.concept_id, e.kind) for e in found] == [
        ("document:d1", "naf:11.02", "curator"), ("document:d2", "naf:86.10", "validated")]
    assert found[0].text.startswith("Vins de Bordeaux\nExport")


def test_learned_beats_zero_shot_on_a_small_split(ref: Referential, shipped: LearnedModel) -> None:
    first, train_rows, test_rows = _small_split(ref, shipped)
    assert len(test_rows) > 100
    vec = shipped.vectors.astype(np.float32)
    gold = [shipped.examples[r]["concept"] for r in test_rows]
    zero = train(ref, "naf", _examples(shipped, first), vec[first])
    rows = first + train_rows
    learned = train(ref, "naf", _examples(shipped, rows), vec[rows])
    zero_acc = _class_accuracy(ref, zero, vec[test_rows], gold)
    learned_acc = _class_accuracy(ref, learned, vec[test_rows], gold)
    assert learned_acc > zero_acc + 0.05, (zero_acc, learned_acc)
    assert learned.decisions == sum(1 for e in _examples(shipped, rows) if e.kind != "seed")


def test_assignment_is_hierarchical_calibrated_and_explained(ref: Referential, shipped: LearnedModel) -> None:
    row = next(i for i, m in enumerate(shipped.examples) if m["concept"] == "naf:03.21")
    vector = shipped.vectors[row].astype(np.float32)
    classes, divisions = shipped.assign(ref, vector, terms={"naf:03.21": ["aquaculture"]})
    assert ref.division_of(classes[0].concept_id) == divisions[0].concept_id == "naf:03"
    assert {ref.division_of(c.concept_id) for c in classes} <= {d.concept_id for d in divisions}
    probs = shipped.proba(vector)[0]
    in_division = sum(p for c, p in zip(shipped.classes, probs, strict=True)
                      if ref.division_of(c) == "naf:03")
    assert divisions[0].probability == pytest.approx(in_division, abs=1e-3)
    assert abs(sum(probs) - 1) < 1e-4 and all(0 <= c.probability <= 1 for c in classes)
    ex = classes[0].explanation
    assert set(ex) >= {"terms", "rules", "neighbours", "similarity", "calibrated"}
    assert ex["implies"][-2:] == ["naf:03", "naf:A"]  # a class implies its division and section
    assert ex["neighbours"] and ex["neighbours"][0]["similarity"] == ex["similarity"] > 0.9
    assert all(n["title"] for n in ex["neighbours"])  # seeds are named
    if classes[0].concept_id == "naf:03.21":
        assert ex["terms"] == ["aquaculture"]


def test_model_file_is_written_atomically_with_its_version(
    tmp_path: Path, ref: Referential, shipped: LearnedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _, test_rows = _small_split(ref, shipped)
    vec = shipped.vectors.astype(np.float32)
    model = train(ref, "naf", _examples(shipped, first), vec[first])
    path = model.save(tmp_path / "models" / "naf.npz")
    again = load(path)
    assert again is not None and again.classes == model.classes
    assert np.allclose(again.proba(vec[test_rows[:5]]), model.proba(vec[test_rows[:5]]), atol=1e-2)
    assert [p.name for p in path.parent.iterdir()] == ["naf.npz"]  # no temporary file left

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", broken)
    with pytest.raises(OSError):
        model.save(path)
    monkeypatch.undo()
    assert load(path) is not None and [p.name for p in path.parent.iterdir()] == ["naf.npz"]

    with np.load(path) as z:  # the same file claiming another format: refused, zero-shot then
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    meta["format_version"] = FORMAT_VERSION + 1
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)
    assert load(path) is None
    path.write_bytes(b"not a model")
    assert load(path) is None
