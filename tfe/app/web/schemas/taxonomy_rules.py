"""``/api/taxonomy`` "try it": rules or a concept tried on a text (contract C1)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ConceptTryBody", "ConceptTryPublic", "RuleHitPublic", "RulesTryBody", "RulesTryPublic"]

MAX_TEXT = 50_000
Language = Field("", max_length=8, description="fr, en or empty (every rule runs)")


class RulesTryBody(BaseModel):
    """Unsaved rules and the text to try them on."""

    model_config = ConfigDict(extra="forbid")

    rules: list[Any] = Field(max_length=200, examples=[[{"kind": "any", "pattern": "vin vins"}]])
    text: str = Field(max_length=MAX_TEXT, examples=["Le vignoble bordelais exporte ses vins."])
    language: str = Language


class ConceptTryBody(BaseModel):
    """The text to try a concept's own rules (and the classifier) on."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=MAX_TEXT, examples=["Le vignoble bordelais exporte ses vins."])
    language: str = Language


class RuleHitPublic(BaseModel):
    """One rule that matched: which (0-based index in the concept's rules), and the text it matched."""

    concept_id: str
    rule_index: int
    kind: str
    pattern: str
    matched: str
    weight: float
    count: int


class RulesTryPublic(BaseModel):
    hits: list[RuleHitPublic]


class ConceptTryPublic(BaseModel):
    """The concept's rules' hits and whether the full classifier assigns the concept to the text."""

    hits: list[RuleHitPublic]
    assigned: bool
    score: float | None
    evidence: list[str] = Field(description="Why the classifier assigned it (empty when it did not)")
