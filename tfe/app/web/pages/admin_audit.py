"""``/admin/journal``: administrators search the audit trail (``tfe.core.security.audit_search``).

A GET form (user e-mail, action, target kind and id, from/to dates; the « au » day is included) and one
page of 50 events, newest first, with links to the previous and next pages. The national agency's
administrators see every event, the others those of their organisation's actors; non-administrators get
403. An invalid date answers 400 with the form and a French message. Each search is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tfe.app.web.deps import AdminPageUser, SessionDep
from tfe.app.web.templating import templates
from tfe.core.security import administration
from tfe.core.security.audit_search import Filters, search_events

router = APIRouter(prefix="/admin", tags=["pages"], include_in_schema=False)

PAGE_SIZE = 50
MAX_PAGE = 20_000


def _day(value: str, label: str, errors: list[str]) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        errors.append(f"La date « {label} » doit être au format AAAA-MM-JJ.")
        return None


def _start(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) if day else None


@router.get("/journal")
def journal_page(
    request: Request,
    session: SessionDep,
    admin: AdminPageUser,
    utilisateur: Annotated[str, Query(max_length=254)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    cible: Annotated[str, Query(max_length=32)] = "",
    id: Annotated[str, Query(max_length=64)] = "",
    du: Annotated[str, Query(max_length=32)] = "",
    au: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    form = {"utilisateur": utilisateur, "action": action, "cible": cible, "id": id, "du": du, "au": au}
    errors: list[str] = []
    since, last = _day(du, "du", errors), _day(au, "au", errors)
    if since and last and since > last:
        errors.append("La date « du » doit précéder la date « au ».")
    context: dict[str, Any] = {
        "user": admin,
        "form": form,
        "errors": errors,
        "national": administration.manages_every_organisation(session, admin),
        "events": [],
        "total": 0,
        "page": page,
        "pages": 0,
        "links": {},
    }
    if errors:
        return templates.TemplateResponse(request, "admin_audit.html", context, status_code=400)
    until = _start(last + dt.timedelta(days=1)) if last else None
    filters = Filters(utilisateur, action, cible, id, _start(since), until)
    found = search_events(session, admin, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-found.total // PAGE_SIZE))
    query = {k: v for k, v in form.items() if v}
    links = {
        "prev": f"/admin/journal?{urlencode({**query, 'page': page - 1})}" if page > 1 else None,
        "next": f"/admin/journal?{urlencode({**query, 'page': page + 1})}" if page < pages else None,
    }
    context.update(events=found.events, total=found.total, pages=pages, links=links)
    return templates.TemplateResponse(request, "admin_audit.html", context)
