"""Read side of classifications: the concepts assigned to a document or a watch item, with labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxonomy.models import Classification, Concept

__all__ = ["ClassificationView", "classifications_of"]


@dataclass(frozen=True)
class ClassificationView:
    concept_id: str
    scheme: str
    label: str
    score: float
    method: str
    evidence: list[str] = field(default_factory=list)

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
    """Concepts assigned to one target, best score first, with their French labels and evidence."""
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
        )
        for c, concept in rows
    ]
