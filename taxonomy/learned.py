"""A classifier per scheme learned from labelled examples (``taxonomy.examples``) on e5 vectors.

Multinomial logistic regression over the standardised e5 ``query:`` vector of a text's head (the same
vector the zero-shot classifier computes), at the scheme's leaf level (NAF classes; a sous-classe counts
for its class). Probabilities are calibrated by a softmax temperature chosen on held-out decisions and
made hierarchical by summing: a division's probability is that of its classes, so the division ranked
first is the most probable one, and the class assigned is the best one inside it (a class implies its
group, division and section). Other classes are assigned when their calibrated probability passes
``MULTI_THRESHOLD``. Every assignment is explained: matched terms and rules (given by the caller), the
nearest labelled examples and their similarity.

Model files are ``.npz`` written atomically (temporary file in the same folder, then ``os.replace``) with
``FORMAT_VERSION``; ``load`` answers ``None`` for a missing, unreadable or other-version file, so the
classifier falls back to zero-shot. ``SEED_MODEL`` (``taxonomy/data``, built by
``scripts/build_seed_model.py``) is the model of the taxonomy's own labels and notes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from taxonomy.examples import SEED, Example
from taxonomy.referential import DATA_DIR, Referential

__all__ = ["FORMAT_VERSION", "SEED_MODEL", "Assigned", "LearnedModel", "label_of", "load", "seed_model",
           "text_key", "train"]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
SEED_MODEL = DATA_DIR / "naf_seed_model.npz"
# inverse L2 strength on standardised e5 features (NACE dev set, 5-fold with the seeds: 0.3 > 0.1; the
# seed model alone: 0.1 best of 0.1-1000, ``SEED_C_REG``)
C_REG = 0.3
SEED_C_REG = 0.1
MAX_ITER = 300
MULTI_THRESHOLD = 0.35  # calibrated probability for a second (third...) class
NEIGHBOURS = 3
TEMPERATURES = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
MIN_CALIBRATION = 30  # held-out decisions needed to choose a temperature
PUBLIC_KINDS = (SEED, "labelled")  # examples whose text may be shown to anyone (not documents, items)


@dataclass
class Assigned:
    """One assigned concept with its calibrated probability and explanation (C6)."""

    concept_id: str
    probability: float
    explanation: dict[str, Any] = field(default_factory=dict)


def label_of(ref: Referential, concept_id: str, scheme: str) -> str | None:
    """The concept an example teaches at the model's level: NAF classes (a sous-classe → its class;
    groups, divisions and sections are too broad to teach a class); other schemes: the concept."""
    c = ref.get(concept_id)
    if c is None or c.scheme != scheme or c.deprecated:
        return None
    if scheme != "naf":
        return c.id
    if c.level == "subclass":
        return c.broader
    return c.id if c.level == "class" else None


class LearnedModel:
    """Weights, calibration and the labelled examples (for neighbours) of one scheme."""

    def __init__(
        self,
        *,
        scheme: str,
        classes: list[str],
        mean: np.ndarray,
        scale: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        temperature: float,
        vectors: np.ndarray,
        examples: list[dict[str, str]],
        info: dict[str, Any],
    ) -> None:
        self.scheme = scheme
        self.classes = classes
        self.mean = mean.astype(np.float32)
        self.scale = scale.astype(np.float32)
        self.coef = coef.astype(np.float32)
        self.intercept = intercept.astype(np.float32)
        self.temperature = float(temperature)
        self.vectors = vectors.astype(np.float16)
        self.examples = examples  # {"kind", "ref", "title", "concept", "key"} per row of ``vectors``
        self.info = info
        self._index = {c: i for i, c in enumerate(classes)}
        self._labels = np.array([self._index.get(e["concept"], -1) for e in examples])

    @property
    def decisions(self) -> int:
        """How many of the examples are people's decisions (not seeds)."""
        return sum(e["kind"] != SEED for e in self.examples)

    # ----------------------------------------------------------------- prediction
    def logits(self, vectors: np.ndarray) -> np.ndarray:
        x = (np.asarray(vectors, dtype=np.float32).reshape(-1, self.mean.size) - self.mean) / self.scale
        out: np.ndarray = x @ self.coef.T + self.intercept
        return out

    def proba(self, vectors: np.ndarray, temperature: float | None = None) -> np.ndarray:
        """Calibrated class probabilities, one row per vector (columns: ``classes``)."""
        z = self.logits(vectors) / (temperature or self.temperature)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        out: np.ndarray = e / e.sum(axis=1, keepdims=True)
        return out

    def neighbours(self, vector: np.ndarray, concept_id: str, k: int = NEIGHBOURS) -> list[dict[str, Any]]:
        """The ``k`` labelled examples of ``concept_id`` most similar to ``vector`` (cosine)."""
        col = self._index.get(concept_id, -2)
        rows = np.flatnonzero(self._labels == col)
        if rows.size == 0:
            return []
        sims = self.vectors[rows].astype(np.float32) @ np.asarray(vector, dtype=np.float32).reshape(-1)
        best = rows[np.argsort(-sims)[:k]]
        top = np.sort(sims)[::-1][:k]
        return [
            {"kind": self.examples[i]["kind"], "id": self.examples[i]["ref"],
             "title": self.examples[i]["title"], "similarity": round(float(s), 4)}
            for i, s in zip(best.tolist(), top.tolist(), strict=True)
        ]

    def assign(
        self,
        ref: Referential,
        vector: np.ndarray,
        *,
        terms: Mapping[str, Sequence[str]] | None = None,
        rules: Mapping[str, Sequence[dict[str, Any]]] | None = None,
        lexical: Mapping[str, float] | None = None,
        lexical_weight: float = 0.0,
        max_classes: int = 5,
        max_divisions: int = 5,
    ) -> tuple[list[Assigned], list[Assigned]]:
        """Assigned classes (best first) and ranked divisions for one vector, hierarchically consistent:
        the first division is the most probable, the first class the best inside it, and every assigned
        class's division is listed. ``terms``/``rules``: concept id → matched terms / rule hits;
        ``lexical``: concept id → 0..1 lexical score, added to the logits times ``lexical_weight``."""
        z = self.logits(vector)[0]
        if lexical and lexical_weight:
            for cid, score in lexical.items():
                if cid in self._index:
                    z[self._index[cid]] += lexical_weight * score
        # the ranking sums uncalibrated probabilities (a flatter softmax favours divisions with many
        # classes); the calibrated ones are what is reported and thresholded
        rank = np.exp(z - z.max())
        rank /= rank.sum()
        cal = np.exp((z - z.max()) / self.temperature)
        cal /= cal.sum()
        p = rank
        by_division: dict[str, float] = {}
        calibrated: dict[str, float] = {}
        for cid, pc, cc in zip(self.classes, p.tolist(), cal.tolist(), strict=True):
            div = ref.division_of(cid) or cid
            by_division[div] = by_division.get(div, 0.0) + pc
            calibrated[div] = calibrated.get(div, 0.0) + cc
        divisions = sorted(by_division, key=lambda d: (-by_division[d], d))
        order = np.argsort(-p)
        inside = [i for i in order.tolist() if (ref.division_of(self.classes[i]) or self.classes[i])
                  == divisions[0]]
        chosen = inside[:1] + [i for i in order.tolist()[: max_classes * 4]
                               if i not in inside[:1] and cal[i] >= MULTI_THRESHOLD][: max_classes - 1]

        def explain(cid: str, prob: float) -> dict[str, Any]:
            near = self.neighbours(vector, cid) if cid in self._index else []
            return {"terms": list((terms or {}).get(cid, ()))[:8], "rules": list((rules or {}).get(cid, ())),
                    "neighbours": near, "similarity": near[0]["similarity"] if near else 0.0,
                    "calibrated": round(prob, 4),
                    "implies": [a for a in ref.ancestors(cid)]}

        classes = [Assigned(self.classes[i], round(float(cal[i]), 4), explain(self.classes[i], float(cal[i])))
                   for i in chosen]
        wanted = list(dict.fromkeys([divisions[0], *(ref.division_of(a.concept_id) or "" for a in classes)]))
        ranked = [d for d in wanted if d] + [d for d in divisions if d not in wanted]
        best_class = {ref.division_of(self.classes[i]): self.classes[i] for i in reversed(order.tolist())}
        out_div = []
        for d in ranked[: max(max_divisions, len(wanted))]:
            explanation = explain(best_class.get(d, d), calibrated[d])
            explanation["calibrated"] = round(calibrated[d], 4)
            out_div.append(Assigned(d, round(calibrated[d], 4), explanation))
        return classes, out_div

    # ----------------------------------------------------------------- files
    def save(self, path: str | Path) -> Path:
        """Write the model atomically (a temporary file in the same folder, then ``os.replace``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"format_version": FORMAT_VERSION, "scheme": self.scheme, "classes": self.classes,
                "temperature": self.temperature, "examples": self.examples, "info": self.info}
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".npz", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez_compressed(fh, meta=np.array(json.dumps(meta, ensure_ascii=False)),
                                    mean=self.mean, scale=self.scale, coef=self.coef.astype(np.float16),
                                    intercept=self.intercept, vectors=self.vectors)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)  # mkstemp makes it private; the model is read by every worker
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


def load(path: str | Path) -> LearnedModel | None:
    """The model in ``path``, or ``None`` (logged) when missing, unreadable or of another format."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format_version") != FORMAT_VERSION:
                log.warning("model %s has format %s, expected %s: zero-shot used", path,
                            meta.get("format_version"), FORMAT_VERSION)
                return None
            return LearnedModel(scheme=meta["scheme"], classes=list(meta["classes"]), mean=z["mean"],
                                scale=z["scale"], coef=z["coef"], intercept=z["intercept"],
                                temperature=meta["temperature"], vectors=z["vectors"],
                                examples=list(meta["examples"]), info=dict(meta.get("info", {})))
    except (OSError, ValueError, KeyError, TypeError) as e:
        log.warning("model %s unreadable (%s): zero-shot used", path, e)
        return None


def text_key(text: str) -> str:
    """A short stable key of an example's text (to reuse its vector at the next training)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def train(
    ref: Referential,
    scheme: str,
    examples: Sequence[Example],
    vectors: np.ndarray,
    *,
    calibrate: bool = True,
    c_reg: float = C_REG,
) -> LearnedModel:
    """Fit a model on ``examples`` (row i of ``vectors`` is the e5 ``query:`` vector of example i).

    With at least ``MIN_CALIBRATION`` decisions and ``calibrate``, a fifth of them is held out to choose
    the softmax temperature (lowest log-loss), then the model is refitted on everything."""
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    keep = [i for i, ex in enumerate(examples) if label_of(ref, ex.concept_id, scheme)]
    if not keep:
        raise ValueError(f"no example for scheme {scheme}")
    labels = [label_of(ref, examples[i].concept_id, scheme) or "" for i in keep]
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError(f"scheme {scheme}: examples of at least two concepts are needed")
    x = np.asarray(vectors, dtype=np.float32)[keep]
    y = np.array([classes.index(lbl) for lbl in labels])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6

    def fit(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = LogisticRegression(C=c_reg, max_iter=MAX_ITER)
        with warnings.catch_warnings():  # one or two examples per class is the seeds' normal case
            warnings.simplefilter("ignore", UserWarning)
            m.fit((x[rows] - mean) / scale, y[rows])
        coef = np.zeros((len(classes), x.shape[1]), dtype=np.float32)
        intercept = np.full(len(classes), -30.0, dtype=np.float32)  # classes absent from a split
        coef[m.classes_] = m.coef_
        intercept[m.classes_] = m.intercept_
        return coef, intercept

    kept = [examples[i] for i in keep]
    # a seed's words are the taxonomy's; a document's title stays in its (sealed) row, not in the file
    meta = [{"kind": ex.kind, "ref": ex.ref, "title": (ex.title or ex.text)[:120] if ex.kind in PUBLIC_KINDS
             else "", "concept": lbl, "key": text_key(ex.text)} for ex, lbl in zip(kept, labels, strict=True)]

    def model(coef: np.ndarray, intercept: np.ndarray, temperature: float) -> LearnedModel:
        return LearnedModel(scheme=scheme, classes=classes, mean=mean, scale=scale, coef=coef,
                            intercept=intercept, temperature=temperature, vectors=x, examples=meta,
                            info={})

    temperature = 1.0
    decisions = np.array([i for i, ex in enumerate(kept) if ex.kind != SEED])
    if calibrate and decisions.size >= MIN_CALIBRATION:
        held = np.random.default_rng(0).permutation(decisions)[: decisions.size // 5]
        trial = model(*fit(np.setdiff1d(np.arange(len(kept)), held)), 1.0)
        losses = {t: -float(np.mean(np.log(trial.proba(x[held], t)[np.arange(held.size), y[held]] + 1e-9)))
                  for t in TEMPERATURES}
        temperature = min(losses, key=lambda t: (losses[t], t))
    out = model(*fit(np.arange(len(kept))), temperature)
    out.info = {"examples": len(kept), "decisions": int(decisions.size), "classes": len(classes),
                "seconds": round(time.perf_counter() - started, 2), "trained_at": time.time()}
    return out


@lru_cache(maxsize=1)
def seed_model() -> LearnedModel | None:
    """The shipped NAF seed model (``SEED_MODEL``), loaded once; ``None`` when absent or outdated."""
    return load(SEED_MODEL)
