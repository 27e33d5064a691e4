"""One dashboard's indicators: parse and check the request, compute every section, audit the read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tfe.app.indicators import adoption, content, quality, satisfaction, use, watch
from tfe.app.indicators.context import Context
from tfe.app.indicators.periods import Period, parse_period
from tfe.app.indicators.privacy import MIN_PEOPLE, Cell
from tfe.app.indicators.scopes import (
    Scope,
    authorise,
    default_scope,
    parse_scope,
    require_admin_role,
    resolve,
)
from tfe.app.indicators.sql import dialect_of
from tfe.core.db import utcnow
from tfe.core.models import User
from tfe.core.security import audit
from tfe.core.security.audit import Actor

__all__ = ["SECTIONS", "Indicators", "compute", "indicators_for"]

SECTIONS = ("adoption", "use", "content", "watch", "quality", "satisfaction")


@dataclass(frozen=True)
class Indicators:
    scope: Scope
    period: Period
    generated_at: dt.datetime
    sections: dict[str, list[Cell]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scope": {"kind": self.scope.kind, "code": self.scope.code, "label": self.scope.label},
            "period": {
                "label": self.period.label,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
            },
            "generated_at": self.generated_at.isoformat(),
            "min_people": MIN_PEOPLE,
            "sections": {name: [c.as_dict() for c in cells] for name, cells in self.sections.items()},
        }

    def rows(self) -> list[dict[str, Any]]:
        """One row per cell, for the CSV export: section, metric, dimensions, grain, bucket, value."""
        out = []
        for name, cells in self.sections.items():
            for c in cells:
                out.append(
                    {
                        "section": name,
                        "metric": c.metric,
                        "dimensions": ";".join(f"{k}={v}" for k, v in sorted(c.dims.items())),
                        "grain": c.grain or "period",
                        "bucket": c.bucket or "",
                        "value": "" if c.value is None else c.value,
                        "suppressed": "true" if c.suppressed else "false",
                    }
                )
        return out


_COMPUTE: dict[str, Callable[[Context], list[Cell]]] = {
    "adoption": adoption.adoption,
    "use": use.use,
    "content": content.content,
    "watch": watch.watch,
    "quality": quality.quality,
    "satisfaction": satisfaction.satisfaction,
}


def compute(
    session: Session,
    scope: Scope,
    period: Period,
    *,
    now: dt.datetime | None = None,
    only: Collection[str] | None = None,
) -> Indicators:
    """Every section's cells for ``scope`` over ``period`` (SQL aggregates only), or only the sections named
    in ``only`` (one table's CSV export needs its own section alone), in ``SECTIONS`` order."""
    ctx = Context(session, dialect_of(session), scope, period, now or utcnow())
    names = [n for n in SECTIONS if only is None or n in only]
    return Indicators(scope, period, ctx.now, {n: _COMPUTE[n](ctx) for n in names})


def indicators_for(
    session: Session,
    user: User,
    scope_text: str | None,
    period_text: str,
    *,
    channel: str,
    now: dt.datetime | None = None,
    only: Collection[str] | None = None,
) -> Indicators:
    """The indicators ``user`` asked for (``only``: these sections, see ``compute``): 400 (malformed scope or
    period), 403 (role, or a scope outside theirs), 404 (unknown region or organisation); the read is
    audited (``indicators.read``)."""
    period = parse_period(period_text)
    text = scope_text or default_scope(session, user)
    parse_scope(text)
    require_admin_role(user)
    scope = resolve(session, text)
    authorise(session, user, scope)
    result = compute(session, scope, period, now=now, only=only)
    audit.record(
        session,
        "indicators.read",
        Actor.of_user(user, channel),
        target_kind="indicators",
        target_id=scope.text,
        detail={"scope": scope.text, "period": period.label},
    )
    return result
