"""``GET /api/admin/audit``: administrators search the audit trail (``tfe.core.security.audit_search``).

Filters: ``user`` (part of the actor's e-mail), ``action`` (an action or its family: ``document``),
``target_kind``, ``target_id``, ``since`` (inclusive) and ``until`` (exclusive) as ISO dates or times (UTC
unless an offset is given); ``limit`` 1..200 (50), ``offset``. Newest first. Administrators only (403
otherwise); the national agency's see every event, the others those of their organisation's actors. Each
search is audited (``audit.search``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from tfe.app.web.deps import CurrentUser, SessionDep
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.admin_audit import AuditSearchPublic
from tfe.core.security import administration
from tfe.core.security.audit_search import MAX_LIMIT, Filters, search_events

router = APIRouter(prefix="/api/admin/audit", tags=["admin"])

Text = Annotated[str, Query(max_length=254)]


@router.get(
    "",
    summary="Search the audit trail (administrators)",
    response_model=AuditSearchPublic,
    responses=error_responses(400, 401, 403),
)
def search_audit(
    user: CurrentUser,
    session: SessionDep,
    user_email: Annotated[
        str, Query(alias="user", max_length=254, description="Part of the actor's e-mail")
    ] = "",
    action: Annotated[str, Query(max_length=64, description="An action or its family")] = "",
    target_kind: Annotated[str, Query(max_length=32)] = "",
    target_id: Annotated[str, Query(max_length=64)] = "",
    since: Annotated[dt.datetime | None, Query(description="From (inclusive), ISO date or time")] = None,
    until: Annotated[dt.datetime | None, Query(description="To (exclusive), ISO date or time")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    administration.require_admin(user)
    filters = Filters(user_email, action, target_kind, target_id, since, until)
    page = search_events(session, user, filters, limit=limit, offset=offset, channel="api")
    return {
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "events": [asdict(e) for e in page.events],
    }
