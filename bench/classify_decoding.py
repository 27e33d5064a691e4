"""Offline study of the learned NAF classifier's division decoding and fold split (issue 10 §5).

The e5 ``query:`` vectors of the development rows are computed once (the product's ``Embedder.query``,
so the same vectors ``tfe eval classify`` uses) and cached in ``--cache``; the seeds' vectors come from
the shipped seed model. Each fold's model is ``taxonomy.learned.train`` (the product's fit) on the fold's
training rows plus the seeds; the held-out rows are then decoded in numpy several ways:

- ``class_first``: the most probable class, and its division;
- ``summed_T``: divisions ranked by the summed softmax(z / T) of their classes (T = 1: the product);
- ``sizepen_b``: log of the summed mass minus b × log(number of classes of the division);
- ``product``: ``LearnedModel.assign`` itself (its first division; must equal ``summed_1``).

Splits: ``shuffle`` is ``taxonomy.evaluation_learned.learning_curve``'s (seeded shuffle, row k of the
shuffled order in fold k mod K); ``strat`` deals each division's rows round-robin over the folds after a
seeded shuffle (``taxonomy.evaluation_learned.fold_assignment``), so every fold sees every division.

    .venv/bin/python bench/classify_decoding.py FILE [--folds 5] [--seeds 0 1 2] [--zero-shot]

Prints one JSON object: per split and seed, division acc@1/@3 and section acc@1 of each decoding.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np


def _dev_vectors(rows: list[dict[str, Any]], cache: Path) -> np.ndarray:
    from taxonomy.learned import text_key

    keys = [text_key(r["text"]) for r in rows]
    if cache.is_file():
        with np.load(cache) as z:
            known = dict(zip(z["keys"].tolist(), z["vectors"], strict=True))
        if all(k in known for k in keys):
            return np.vstack([known[k] for k in keys]).astype(np.float32)
    from search.embeddings import Embedder

    embedder = Embedder(threads=1)
    vectors = np.vstack([embedder.query(r["text"]) for r in rows]).astype(np.float32)
    np.savez(cache, keys=np.array(keys), vectors=vectors)
    return vectors


def _shuffle_folds(n: int, folds: int, seed: int) -> list[int]:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    fold_of = [0] * n
    for k, idx in enumerate(order):
        fold_of[idx] = k % folds
    return fold_of


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--splits", nargs="+", default=["shuffle", "strat"])
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.5, 1.0, 2.0, 3.0])
    parser.add_argument(
        "--size-penalty",
        type=float,
        nargs="*",
        default=[],
        help="also rank by log(mass) - b log(classes of the division), for each b",
    )
    parser.add_argument("--c-reg", type=float, default=None)
    parser.add_argument("--zero-shot", action="store_true", help="also score the shipped seed model")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/nace_dev_vectors.npz"))
    args = parser.parse_args()

    from taxonomy import evaluation_learned as ev
    from taxonomy.examples import seed_examples
    from taxonomy.learned import C_REG, SEED_MODEL, LearnedModel, load, train
    from taxonomy.referential import Referential
    from taxonomy.training import example_vectors

    ref = Referential.from_files()
    rows = [json.loads(line) for line in args.file.open(encoding="utf-8") if line.strip()]
    xdev = _dev_vectors(rows, args.cache)
    seeds = seed_examples(ref, "naf", levels=("class", "subclass"))

    def embed(texts: list[str]) -> np.ndarray:  # seeds newer than the shipped seed model (as the product)
        seed_cache = args.cache.with_name(args.cache.stem + "_seeds.npz")
        return _dev_vectors([{"text": t} for t in texts], seed_cache)

    xseed, _ = example_vectors(seeds, embed, [load(SEED_MODEL)])
    gold_div = [f"naf:{r['nace_division']}" for r in rows]
    gold_sec = [f"naf:{r['nace_section']}" for r in rows]

    def decode(model: LearnedModel, idx: list[int], out: dict[str, list[list[str]]]) -> None:
        z = model.logits(xdev[idx])
        divs = [ref.division_of(c) or c for c in model.classes]
        names = sorted(set(divs))
        member = np.zeros((len(model.classes), len(names)), dtype=np.float32)
        member[np.arange(len(divs)), [names.index(d) for d in divs]] = 1
        zz = z - z.max(axis=1, keepdims=True)
        for j, i in enumerate(idx):
            out["class_first"][i] = [divs[int(k)] for k in np.argsort(-z[j])]
            out["class_first"][i] = list(dict.fromkeys(out["class_first"][i]))[:3]
            for t in args.temperatures:
                p = np.exp(zz[j] / t)
                mass = (p / p.sum()) @ member
                out[f"summed_{t:g}"][i] = [names[int(k)] for k in np.argsort(-mass, kind="stable")[:3]]
            p = np.exp(zz[j])
            mass = np.log((p / p.sum()) @ member + 1e-12)
            for b in args.size_penalty:
                pen = mass - b * np.log(member.sum(axis=0))
                out[f"sizepen_{b:g}"][i] = [names[int(k)] for k in np.argsort(-pen, kind="stable")[:3]]
            _, ranked = model.assign(ref, xdev[i])
            out["product"][i] = [d.concept_id for d in ranked[:3]]

    def score(ranked: dict[str, list[list[str]]]) -> dict[str, dict[str, float]]:
        n = len(rows)
        res = {}
        for name, per_row in ranked.items():
            pairs = list(zip(gold_div, per_row, strict=True))
            res[name] = {
                "division_acc@1": round(sum(g in r[:1] for g, r in pairs) / n, 4),
                "division_acc@3": round(sum(g in r[:3] for g, r in pairs) / n, 4),
                "section_acc@1": round(
                    sum(
                        g == (ref.section_of(r[0]) if r else None)
                        for g, r in zip(gold_sec, per_row, strict=True)
                    )
                    / n,
                    4,
                ),
            }
        return res

    def empty() -> dict[str, list[list[str]]]:
        names = [
            "class_first",
            *(f"summed_{t:g}" for t in args.temperatures),
            *(f"sizepen_{b:g}" for b in args.size_penalty),
            "product",
        ]
        return {k: [[] for _ in rows] for k in names}

    report: dict[str, Any] = {"n": len(rows), "folds": args.folds, "seeds": len(seeds)}
    if args.zero_shot:
        seed = load(SEED_MODEL)
        assert seed is not None
        ranked = empty()
        decode(seed, list(range(len(rows))), ranked)
        report["zero_shot"] = score(ranked)
    c_reg = args.c_reg if args.c_reg is not None else C_REG
    for split in args.splits:
        for s in args.seeds:
            started = time.perf_counter()
            if split == "shuffle":
                fold_of = _shuffle_folds(len(rows), args.folds, s)
            else:
                fold_of = ev.fold_assignment(rows, args.folds, seed=s)
            ranked = empty()
            for f in range(args.folds):
                train_idx = [i for i in range(len(rows)) if fold_of[i] != f]
                test_idx = [i for i in range(len(rows)) if fold_of[i] == f]
                examples = ev.row_examples([rows[i] for i in train_idx]) + seeds
                vectors = np.vstack([xdev[train_idx], xseed])
                model = train(ref, "naf", examples, vectors, calibrate=False, c_reg=c_reg)
                decode(model, test_idx, ranked)
            key = f"{split}_seed{s}"
            report[key] = {**score(ranked), "seconds": round(time.perf_counter() - started, 1)}
            print(key, json.dumps(report[key]), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
