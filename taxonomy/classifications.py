"""Classifications of documents and watch items: written by ``save_classifications``, read by
``classifications_of`` (labels come from the ``concepts`` rows, so a curator's relabelling shows at once).

Both sides live here, next to the table, so the sinks of ``ged`` and ``veille`` (through ``ingest.sink``)
and future reclassification jobs write rows the same way; a person's decision on a concept (a document's
edit, a watch item's correction) is written by ``record_curator_decision``.

A person's decision is final: rows of method ``curator`` are never replaced by another method, and a
concept a curator removed is kept as a ``curator`` row marked ``{"rejected": true}`` in its explanation
(``REJECTED``). Readers never see rejected rows; writers of other methods skip every concept a curator
decided on (see ``docs/decisions.md``, "Curator corrections are final").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from taxonomy.models import Classification, Concept

__all__ = [
    "CURATOR",
    "PRIOR",
    "REJECTED",
    "Assignment",
    "ClassificationView",
    "classifications_of",
    "record_curator_decision",
    "save_classifications",
]

CURATOR = "curator"  # the method of a person's correction
PRIOR = "prior_score"  # explanation key of a curator row: the machine's score it overrode
REJECTED = "rejected"  # explanation key of a curator's removal (the row hides the concept)

EXPLANATION_KEYS = ("terms", "rules", "neighbours", "similarity", "calibrated", "implies")

log = logging.getLogger(__name__)


class Assignment(Protocol):
    """One proposed concept: anything shaped like ``taxonomy.classifier.Scored``."""

    @property
    def concept_id(self) -> str: ...

    @property
    def score(self) -> float: ...

    @property
    def evidence(self) -> Sequence[str]: ...


def save_classifications(
    session: Session,
    target_kind: str,
    target_id: str,
    scored: Iterable[Assignment],
    *,
    method: str = "rule",
    replace: bool = False,
) -> int:
    """Add one ``Classification`` row per assigned concept, in the caller's transaction; how many added.

    Concepts missing from the ``concepts`` table (taxonomy not loaded yet, or removed) are skipped with a
    log line rather than failing the caller on a foreign key; a concept given twice is written once (the
    first). ``replace`` first deletes the target's earlier rows of the same ``method`` (reclassification).
    A method other than ``curator`` never writes a concept a curator added or rejected on this target.
    """
    assigned = list(scored)
    if replace:  # an assignment may name its own method (a learned model's "model"/"similarity")
        methods = {method} | {m for a in assigned if (m := getattr(a, "method", "")) and m != CURATOR}
        session.execute(
            delete(Classification).where(
                Classification.target_kind == target_kind,
                Classification.target_id == target_id,
                Classification.method.in_(methods),
            )
        )
    if not assigned:
        return 0
    wanted = {a.concept_id for a in assigned}
    known = set(session.scalars(select(Concept.id).where(Concept.id.in_(wanted))))
    if method != CURATOR:
        known -= set(
            session.scalars(
                select(Classification.concept_id).where(
                    Classification.target_kind == target_kind,
                    Classification.target_id == target_id,
                    Classification.method == CURATOR,
                )
            )
        )
    written: set[str] = set()
    for a in assigned:
        if a.concept_id not in known:
            log.debug("skip classification target=%s concept=%s (not in taxonomy)", target_id, a.concept_id)
            continue
        if a.concept_id in written:
            continue
        written.add(a.concept_id)
        own = getattr(a, "method", "") or ""
        explanation = {**(getattr(a, "explanation", None) or {}), "evidence": list(a.evidence)}
        session.add(
            Classification(
                target_kind=target_kind,
                target_id=target_id,
                concept_id=a.concept_id,
                score=float(a.score),
                method=own if own and own != CURATOR and method != CURATOR else method,
                explanation=explanation,
            )
        )
    return len(written)


def record_curator_decision(
    session: Session,
    target_kind: str,
    target_id: str,
    concept_ids: Iterable[str],
    *,
    keep: bool,
    user_id: int | None,
) -> None:
    """Replace every row of these concepts on the target by a person's decision, in the caller's
    transaction: kept (a ``curator`` row, score 1) or rejected (score 0, ``REJECTED`` in its explanation).
    """
    concepts = list(dict.fromkeys(concept_ids))
    if not concepts:
        return
    # the machine's score each decision overrides, kept for the quality indicators (confidence bands)
    prior = dict(
        session.execute(
            select(Classification.concept_id, Classification.score).where(
                Classification.target_kind == target_kind,
                Classification.target_id == target_id,
                Classification.concept_id.in_(concepts),
                Classification.method != CURATOR,
            )
        ).all()
    )
    session.execute(
        delete(Classification).where(
            Classification.target_kind == target_kind,
            Classification.target_id == target_id,
            Classification.concept_id.in_(concepts),
        )
    )
    explanation: dict[str, Any] = {"evidence": [], "user_id": user_id}
    if not keep:
        explanation[REJECTED] = True
    for concept_id in concepts:
        session.add(
            Classification(
                target_kind=target_kind,
                target_id=target_id,
                concept_id=concept_id,
                score=1.0 if keep else 0.0,
                method=CURATOR,
                explanation={**explanation, **({PRIOR: prior[concept_id]} if concept_id in prior else {})},
            )
        )


@dataclass(frozen=True)
class ClassificationView:
    concept_id: str
    scheme: str
    label: str
    score: float
    method: str
    evidence: list[str] = field(default_factory=list)
    explanation: dict[str, Any] = field(default_factory=dict)  # a learned model's (C6), else {}

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.concept_id,
            "scheme": self.scheme,
            "label": self.label,
            "score": self.score,
            "method": self.method,
            "evidence": list(self.evidence),
        }


def _evidence(explanation: dict[str, Any] | None) -> list[str]:
    if not explanation:
        return []
    raw = explanation.get("evidence", [])
    if isinstance(raw, str):
        return [raw]
    return [str(item) for item in raw] if isinstance(raw, list) else []


def classifications_of(session: Session, target_kind: str, target_id: str) -> list[ClassificationView]:
    """Concepts assigned to one target, best score first, with their French labels and evidence
    (a curator's rejections are left out)."""
    rows = session.execute(
        select(Classification, Concept)
        .join(Concept, Concept.id == Classification.concept_id)
        .where(Classification.target_kind == target_kind, Classification.target_id == target_id)
        .order_by(Classification.score.desc(), Classification.concept_id)
    ).all()
    return [
        ClassificationView(
            concept_id=c.concept_id,
            scheme=concept.scheme_id,
            label=concept.pref_label_fr or concept.id,
            score=float(c.score),
            method=c.method,
            evidence=_evidence(c.explanation),
            explanation={k: v for k, v in (c.explanation or {}).items() if k in EXPLANATION_KEYS},
        )
        for c, concept in rows
        if not (c.explanation or {}).get(REJECTED)
    ]
