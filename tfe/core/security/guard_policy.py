"""The exfiltration guard's policy: budgets per role (admins' ``GuardBudget`` rows over the defaults of
``data/guard_budgets.json``), the escalation and the unusual-use thresholds, and the per-process cache of
the budgets (``BUDGET_TTL_S``: a change by an admin applies at once in the process that made it, within
that delay in the others).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from limits import RateLimitItem, parse
from sqlalchemy import select
from sqlalchemy.orm import Session

from tfe.core.db import utcnow
from tfe.core.errors import ValidationError
from tfe.core.models import ROLES, User
from tfe.core.security import administration, anomaly, audit
from tfe.core.security.audit import Actor
from tfe.core.security.models import GuardBudget

__all__ = [
    "BUDGET_TTL_S",
    "MAX_BUDGET",
    "Budget",
    "BudgetCache",
    "Policy",
    "default_policy",
    "list_budgets",
    "set_budget",
]

BUDGET_TTL_S = 30.0  # how long a process trusts its copy of the budgets
MAX_BUDGET = 10_000_000


@dataclass(frozen=True)
class Budget:
    """What one account of ``role`` may do per minute, hour and day (counted requests)."""

    role: str
    per_minute: int
    per_hour: int
    per_day: int

    def validate(self) -> Budget:
        if self.role not in ROLES:
            raise ValidationError(f"unknown role {self.role!r}; expected one of {', '.join(ROLES)}")
        for name, value in (
            ("per_minute", self.per_minute),
            ("per_hour", self.per_hour),
            ("per_day", self.per_day),
        ):
            if not 1 <= value <= MAX_BUDGET:
                raise ValidationError(f"{name} must be between 1 and {MAX_BUDGET}, not {value}")
        if not self.per_minute <= self.per_hour <= self.per_day:
            raise ValidationError("budgets must satisfy per_minute <= per_hour <= per_day")
        return self

    @property
    def items(self) -> tuple[RateLimitItem, RateLimitItem, RateLimitItem]:
        return _items(self.per_minute, self.per_hour, self.per_day)

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "per_minute": self.per_minute,
            "per_hour": self.per_hour,
            "per_day": self.per_day,
        }


@cache
def _items(
    per_minute: int, per_hour: int, per_day: int
) -> tuple[RateLimitItem, RateLimitItem, RateLimitItem]:
    return parse(f"{per_minute}/minute"), parse(f"{per_hour}/hour"), parse(f"{per_day}/day")


@dataclass(frozen=True)
class Policy:
    """Defaults (budgets per role), the escalation and the rules' thresholds."""

    budgets: dict[str, Budget]
    throttled_before_suspend: int = 10
    throttled_window_s: int = 600
    rules: anomaly.RuleConfig = field(default_factory=anomaly.RuleConfig)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Policy:
        budgets = {
            role: Budget(role, int(b["per_minute"]), int(b["per_hour"]), int(b["per_day"])).validate()
            for role, b in data["budgets"].items()
        }
        missing = set(ROLES) - set(budgets)
        if missing:
            raise ValueError(f"guard budgets miss the roles {sorted(missing)}")
        escalation = data.get("escalation", {})
        return cls(
            budgets=budgets,
            throttled_before_suspend=int(escalation.get("throttled_before_suspend", 10)),
            throttled_window_s=int(escalation.get("throttled_window_s", 600)),
            rules=anomaly.RuleConfig.from_mapping(data.get("rules", {})),
        )


@cache
def default_policy() -> Policy:
    """The policy of ``data/guard_budgets.json`` (read once)."""
    text = resources.files("tfe.core.security").joinpath("data/guard_budgets.json").read_text("utf-8")
    return Policy.from_mapping(json.loads(text))


def list_budgets(session: Session, policy: Policy | None = None) -> list[Budget]:
    """The budget of every role: the admins' row, else the default."""
    defaults = (policy or default_policy()).budgets
    rows = {r.role: r for r in session.scalars(select(GuardBudget))}
    out = []
    for role in ROLES:
        row = rows.get(role)
        out.append(Budget(role, row.per_minute, row.per_hour, row.per_day) if row else defaults[role])
    return out


def set_budget(session: Session, admin: User, budget: Budget, *, channel: str = "web") -> Budget:
    """Set a role's budget (admins of the national agency only: it applies to every organisation)."""
    administration.require_national_admin(
        session, admin, "only administrators of every organisation change the guard's budgets"
    )
    budget.validate()
    previous = {b.role: b for b in list_budgets(session)}[budget.role]
    row = session.get(GuardBudget, budget.role)
    if row is None:
        row = GuardBudget(role=budget.role, per_minute=0, per_hour=0, per_day=0)
        session.add(row)
    row.per_minute, row.per_hour, row.per_day = budget.per_minute, budget.per_hour, budget.per_day
    row.updated_by, row.updated_at = admin.id, utcnow()
    session.flush()
    audit.record(
        session,
        "guard.budget_changed",
        Actor.of_user(admin, channel),
        target_kind="guard_budget",
        target_id=budget.role,
        detail={"from": previous.as_dict(), "to": budget.as_dict()},
    )
    return budget


class BudgetCache:
    """The budgets of every role, reloaded at most every ``BUDGET_TTL_S``."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._lock = threading.Lock()
        self._budgets: dict[str, Budget] = {}
        self._loaded_at = -1e9

    def get(self, session: Session, role: str) -> Budget:
        if time.monotonic() - self._loaded_at > BUDGET_TTL_S:
            budgets = {b.role: b for b in list_budgets(session, self.policy)}
            with self._lock:
                self._budgets, self._loaded_at = budgets, time.monotonic()
        return self._budgets.get(role) or self.policy.budgets.get(role) or self.policy.budgets["reader"]

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = -1e9

    def known(self) -> list[Budget]:
        """Every budget whose windows may hold counts (the cached ones and the defaults)."""
        with self._lock:
            return list({*self._budgets.values(), *self.policy.budgets.values()})
