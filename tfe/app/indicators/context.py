"""What every indicator query is given: the session and its dialect, the scope, the period, the instant
the snapshot indicators (accounts, content, backlog) are taken at, and the filters of the scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tfe.app.indicators.periods import Period, month_label, week_label
from tfe.app.indicators.scopes import Scope

__all__ = ["Context", "label_of"]

SHARED = ("network", "public")  # what every member of the network sees


@dataclass(frozen=True)
class Context:
    session: Session
    dialect: str
    scope: Scope
    period: Period
    now: dt.datetime

    @property
    def snapshot_at(self) -> dt.datetime:
        """The period's end, or now for a period still running."""
        return min(self.period.end, self.now)

    def buckets(self, grain: str) -> list[str]:
        """The period's weeks or months begun by now: a running period has no future buckets."""
        return self.period.buckets(grain, until=self.now)

    def orgs(self, column: Any) -> ColumnElement[bool]:
        """``column`` (an organisation id) in the scope."""
        ids = self.scope.org_ids
        return true() if ids is None else column.in_(sorted(ids))

    def visible(self, org_column: Any, visibility_column: Any) -> ColumnElement[bool]:
        """Rows the scope's members see: shared with the network, or owned by one of its organisations."""
        ids = self.scope.org_ids
        if ids is None:
            return true()
        return or_(visibility_column.in_(SHARED), org_column.in_(sorted(ids)))

    def within(self, column: Any) -> ColumnElement[bool]:
        return (column >= self.period.start) & (column < self.period.end)


def label_of(grain: str, day: Any) -> str:
    """The bucket label of a bucket's first day as the database gives it (``YYYY-MM-DD`` text)."""
    first = dt.date.fromisoformat(str(day)[:10])
    return week_label(first) if grain == "week" else month_label(first)
