"""``/api/admin/security-alerts`` and ``/api/admin/guard-budgets``: the exfiltration guard's alerts, their
review, and the budgets per role."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tfe.app.web.schemas.common import IsoDateTime

__all__ = [
    "AlertListPublic",
    "AlertPublic",
    "BudgetListPublic",
    "BudgetPublic",
    "BudgetsUpdate",
    "ReviewRequest",
]

Role = Literal["reader", "contributor", "curator", "admin"]


class AlertPublic(BaseModel):
    """One alert: what the guard saw (``rule``, ``detail`` with the French ``explanation``, the counts per
    window and the network) and what it did (``response``); ``status`` open until an admin reviews it."""

    id: int
    created_at: IsoDateTime
    org: str | None = Field(description="Slug of the account's organisation")
    user_id: int | None
    user_email: str | None
    token_prefix: str | None = Field(
        description="Public prefix of the API token concerned (never its secret)"
    )
    session: str | None = Field(description="Public id of the browser session concerned")
    rule: Literal[
        "budget_minute",
        "budget_hour",
        "budget_day",
        "volume_hour",
        "distinct_day",
        "off_hours",
        "new_network",
        "rules",
    ]
    response: Literal["suspended", "notified", "throttled"]
    status: Literal["open", "lifted", "confirmed"]
    explanation: str
    detail: dict[str, Any]
    reviewed_by: int | None
    reviewed_at: IsoDateTime | None
    review_note: str | None


class AlertListPublic(BaseModel):
    alerts: list[AlertPublic]


class ReviewRequest(BaseModel):
    """``lift``: a false alarm, the token or session works again; ``confirm``: the token is revoked or the
    session ended (and the account deactivated when ``deactivate``)."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["lift", "confirm"]
    note: str = Field(default="", max_length=2000, description="The reviewer's comment")
    deactivate: bool = Field(default=False, description="With confirm: deactivate the account too")


class BudgetPublic(BaseModel):
    """What one account of ``role`` may count per minute, hour and day (reads, downloads, exports and
    search pages together), per user and per token."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    per_minute: int = Field(ge=1, le=10_000_000)
    per_hour: int = Field(ge=1, le=10_000_000)
    per_day: int = Field(ge=1, le=10_000_000)


class BudgetListPublic(BaseModel):
    budgets: list[BudgetPublic]


class BudgetsUpdate(BaseModel):
    """The budgets to set (one or more roles; per_minute <= per_hour <= per_day)."""

    model_config = ConfigDict(extra="forbid")

    budgets: list[BudgetPublic] = Field(min_length=1, max_length=4)
