"""``tfe eval classify --train / --folds`` (learned classifier) and ``tfe taxonomy train``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import invoke

ROWS = [
    ("Élevage de saumons en cages marines", "03.21"), ("Pisciculture en eau douce de truites", "03.22"),
    ("Production de vins tranquilles à partir de raisins", "11.02"), ("Fabrication de bière", "11.05"),
    ("Transport routier de marchandises par camion", "49.41"), ("Services de déménagement", "49.42"),
    ("Activités des cliniques et hôpitaux", "86.10"), ("Cabinets de médecins généralistes", "86.21"),
    ("Édition de logiciels applicatifs", "58.29"), ("Conseil en systèmes informatiques", "62.02"),
]


def _file(tmp_path: Path, name: str = "nace.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(json.dumps({"text": t, "nace_class": c, "nace_division": c[:2],
                                          "nace_section": ""}, ensure_ascii=False) for t, c in ROWS),
                    encoding="utf-8")
    return path


def _env(tmp_path: Path) -> dict[str, str | None]:
    return {"TFE_DATA_DIR": str(tmp_path / "data"), "TFE_DATABASE_URL": None}


@pytest.mark.slow  # two trainings over the 5,800 seed examples (about 15 s each on 2 busy cores)
def test_folds_print_the_learning_curve(tmp_path: Path) -> None:
    out = invoke(_env(tmp_path), "eval", "classify", str(_file(tmp_path)), "--folds", "2", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    keys = {"n", "division_acc@1", "division_acc@3", "section_acc@1", "class_acc@1"}
    assert keys <= set(report) and report["folds"] == 2 and report["n"] == len(ROWS)
    curve = report["curve"]
    assert [p["train"] for p in curve] == [0, 5] and curve[-1]["label"] == "all"
    assert all(keys <= set(p) for p in curve)
    assert report["division_acc@1"] == curve[-1]["division_acc@1"] >= 0.5


def test_bad_learning_options_are_refused(tmp_path: Path) -> None:
    nace = _file(tmp_path)
    out = invoke(_env(tmp_path), "eval", "classify", str(nace), "--folds", "1")
    assert out.returncode != 0 and "--folds doit être entre 2 et 10" in out.stderr
    out = invoke(_env(tmp_path), "eval", "classify", str(nace), "--train", str(tmp_path / "absent.jsonl"))
    assert out.returncode != 0 and "fichier introuvable" in out.stderr and "Traceback" not in out.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "sans classe"}), encoding="utf-8")
    out = invoke(_env(tmp_path), "eval", "classify", str(nace), "--train", str(bad))
    assert out.returncode != 0 and "text et nace_class" in out.stderr
    out = invoke(_env(tmp_path), "eval", "classify", str(nace), "--folds", "2", "--lexical-only")
    assert out.returncode != 0 and "similarité e5" in out.stderr


def test_taxonomy_train_without_decisions_keeps_zero_shot(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert invoke(env, "init").returncode == 0
    out = invoke(env, "taxonomy", "train", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["trained"] is False and report["decisions"] == 0
    assert not Path(report["path"]).exists()
    out = invoke(env, "taxonomy", "train", "--scheme", "nope")
    assert out.returncode != 0 and "schéma inconnu : nope" in out.stderr
