"""``/api/indicators`` answers: one dashboard's cells, section by section (``tfe.app.indicators``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "IndicatorCellPublic",
    "IndicatorScopePublic",
    "IndicatorsPublic",
    "PeriodPublic",
    "SectionsPublic",
]


class IndicatorCellPublic(BaseModel):
    """One value. ``suppressed``: computed from 1 to 4 people, so ``value`` is null."""

    metric: str = Field(examples=["active_users"])
    dims: dict[str, str] = Field(description="Dimension values, e.g. {'role': 'admin'}; {} for a total")
    grain: Literal["week", "month"] | None = Field(description="null: the whole period")
    bucket: str | None = Field(description="2026-W48 or 2026-11; null for the whole period")
    value: float | None
    suppressed: bool


class IndicatorScopePublic(BaseModel):
    kind: Literal["network", "region", "org"]
    code: str = Field(description="INSEE region code or organisation slug; empty for the network")
    label: str


class PeriodPublic(BaseModel):
    label: str = Field(examples=["2026-Q4"])
    start: str = Field(description="Inclusive, ISO 8601 UTC")
    end: str = Field(description="Exclusive, ISO 8601 UTC")


class SectionsPublic(BaseModel):
    adoption: list[IndicatorCellPublic]
    use: list[IndicatorCellPublic]
    content: list[IndicatorCellPublic]
    watch: list[IndicatorCellPublic]
    quality: list[IndicatorCellPublic]
    satisfaction: list[IndicatorCellPublic]


class IndicatorsPublic(BaseModel):
    scope: IndicatorScopePublic
    period: PeriodPublic
    generated_at: str
    min_people: int = Field(description="Cells from fewer distinct people than this are suppressed")
    sections: SectionsPublic
