"""``/api/admin/audit`` answers: one page of audit events, newest first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field, field_validator

from tfe.app.web.schemas.common import IsoDateTime

__all__ = ["AuditEventPublic", "AuditSearchPublic"]


class AuditEventPublic(BaseModel):
    """One event of the audit trail (``detail`` carries the channel and what the action recorded)."""

    id: int
    seq: int | None = Field(description="Position in the hash chain (1, 2, ...)")
    at: IsoDateTime
    actor_user_id: int | None
    actor_email: str | None = Field(description="The actor's e-mail today (null for system work)")
    actor_org_id: int | None
    action: str
    target_kind: str | None
    target_id: str | None
    detail: dict[str, Any]

    @field_validator("at", mode="before")
    @classmethod
    def _iso(cls, value: Any) -> Any:
        # the stored time as written (no offset on SQLite): not an RFC 3339 date-time, so a plain string
        return value.isoformat() if isinstance(value, dt.datetime) else value


class AuditSearchPublic(BaseModel):
    total: int = Field(description="Events matching the filters in the caller's scope")
    limit: int
    offset: int
    events: list[AuditEventPublic]
