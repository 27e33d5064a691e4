"""``/items/{id}``: the page of one watch item (title, summary, source link, classification, similar ones)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tfe.app.web.deps import PageScopeDep, PageUser, RuntimeDep, SessionDep, TargetId, csrf_token
from tfe.app.web.pages.doc_panels.more_like_this import section
from tfe.app.web.pages.documents import classification_groups
from tfe.app.web.templating import templates
from veille.items import read_item

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/items/{item_id}")
def item_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    item_id: TargetId,
) -> Response:
    view = read_item(session, item_id, scope, channel="web")
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "item": view,
        "groups": classification_groups(view.classifications),
        **section(runtime, session, scope, "item", item_id),  # « Documents similaires »
    }
    return templates.TemplateResponse(request, "item.html", context)
