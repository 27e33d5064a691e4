"""``/admin/boite-d-envoi``: the local outbox (alert e-mails kept when no SMTP relay is configured).

For administrators: the list of kept messages (newest first, 50 a page) and one message with its
headers, plain text and HTML (shown in a sandboxed frame: no script, no form, no navigation). The
national agency's administrators see every message; another organisation's administrators only the
messages to their organisation's users, and 404 for the others. Reads are audited (``outbox.list``,
``outbox.read``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tfe.app.web.deps import AdminPageUser, RuntimeDep, SessionDep, csrf_token
from tfe.app.web.templating import templates
from tfe.core.models import User
from tfe.core.security import administration as adm
from tfe.core.security import audit
from veille.alerts.models import AlertMessage
from veille.channels import outbox

router = APIRouter(prefix="/admin/boite-d-envoi", tags=["pages"], include_in_schema=False)

PAGE = "/admin/boite-d-envoi"
PAGE_SIZE = 50
MessageId = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get("")
def outbox_page(
    request: Request,
    session: SessionDep,
    admin: AdminPageUser,
    runtime: RuntimeDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    page = outbox.list_messages(
        session, org_id=adm.managed_org_id(session, admin), limit=PAGE_SIZE, offset=offset
    )
    audit.record(
        session,
        "outbox.list",
        audit.Actor.of_user(admin, "web"),
        target_kind="outbox",
        detail={"offset": offset, "shown": len(page.messages)},
    )
    context = {
        "user": admin,
        "csrf": csrf_token(request),
        "page": page,
        "offset": offset,
        "page_size": PAGE_SIZE,
        "relay": bool(runtime.settings.smtp_url),
        "sent_at": outbox.sent_at,
    }
    return templates.TemplateResponse(request, "outbox.html", context)


def _read_message(
    session: Session, admin: User, message_id: int, detail: dict[str, str] | None
) -> AlertMessage:
    """A message of an organisation ``admin`` manages (404 otherwise), its reading audited."""
    message = outbox.read_message(session, message_id, org_id=adm.managed_org_id(session, admin))
    audit.record(
        session,
        "outbox.read",
        audit.Actor.of_user(admin, "web"),
        target_kind="alert_message",
        target_id=str(message.id),
        detail=detail,
    )
    return message


@router.get("/{message_id}")
def outbox_message(
    request: Request, message_id: MessageId, session: SessionDep, admin: AdminPageUser
) -> Response:
    message = _read_message(session, admin, message_id, None)
    context = {
        "user": admin,
        "csrf": csrf_token(request),
        "message": message,
        "headers": outbox.headers_of(message),
        "sent_at": outbox.sent_at(message),
    }
    response = templates.TemplateResponse(request, "outbox_message.html", context)
    response.headers["Referrer-Policy"] = "no-referrer"  # the message holds signed unsubscribe links
    return response


# The message's own HTML, framed by the page above: e-mail HTML is styled inline, which the site's policy
# forbids, so this answer has its own: inline styles and data: images only, no script, a sandbox, and
# framing by this site only.
MESSAGE_FRAME_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; form-action 'none'; sandbox",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
}


@router.get("/{message_id}/html")
def outbox_message_html(message_id: MessageId, session: SessionDep, admin: AdminPageUser) -> Response:
    message = _read_message(session, admin, message_id, {"part": "html"})
    return Response(
        content=message.body_html or "",
        media_type="text/html; charset=utf-8",
        headers=MESSAGE_FRAME_HEADERS,
    )
