"""Only aggregates leave the indicators, and none computed from too few people.

The rule (``docs/decisions.md``, 2026-12-03): a cell derived from people (accounts, active users, new
users, and every count of actions: searches, reads, downloads, uploads, alerts, unsubscriptions) is
suppressed when it was computed from 1 to ``MIN_PEOPLE - 1`` distinct users: its value is ``None`` and it
carries ``suppressed: True``. A cell from no one (0) is shown: it says nothing about a person. Shares
derived from a suppressed count are suppressed with it. Content, watch and quality cells count documents,
items and classifications, not people, and are never suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["MIN_PEOPLE", "Cell", "people_cell", "plain_cell"]

MIN_PEOPLE = 5


@dataclass(frozen=True)
class Cell:
    """One value: a metric, its dimension values (``{"role": "admin"}``), its bucket (``2026-W48``,
    ``2026-11``, or ``None`` for the whole period) and whether it was suppressed."""

    metric: str
    value: float | int | None
    dims: dict[str, str] = field(default_factory=dict)
    bucket: str | None = None
    grain: str | None = None  # "week", "month", or None for the whole period
    suppressed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "dims": dict(self.dims),
            "grain": self.grain,
            "bucket": self.bucket,
            "value": self.value,
            "suppressed": self.suppressed,
        }


def people_cell(
    metric: str,
    value: float | int | None,
    people: int,
    *,
    dims: dict[str, str] | None = None,
    bucket: str | None = None,
    grain: str | None = None,
) -> Cell:
    """A cell computed from ``people`` distinct users: suppressed when 0 < people < ``MIN_PEOPLE``."""
    hidden = 0 < people < MIN_PEOPLE
    return Cell(metric, None if hidden else value, dict(dims or {}), bucket, grain, hidden)


def plain_cell(
    metric: str,
    value: float | int | None,
    *,
    dims: dict[str, str] | None = None,
    bucket: str | None = None,
    grain: str | None = None,
) -> Cell:
    """A cell that counts no people (documents, items, classifications)."""
    return Cell(metric, value, dict(dims or {}), bucket, grain)
