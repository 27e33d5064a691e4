"""``/alertes/desabonnement/{token}``: the one-click unsubscribe link of every alert e-mail.

``GET`` shows a French confirmation page with one button (it changes nothing: link scanners and
previews open links). ``POST`` with the form field ``List-Unsubscribe=One-Click`` is RFC 8058's one-click
unsubscription, sent by mail clients from the ``List-Unsubscribe-Post`` header, and by the page's
button: no sign-in, no cookie and no CSRF token, since the signed token is the credential and names one
subscription only (``veille.alerts.unsubscribe``: the subscription is paused, audited
``subscription.unsubscribe``). A malformed token answers 400, an unknown, forged or revoked one 404;
both pages are kept out of caches, referrers and search engines.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from tfe.app.web.deps import RuntimeDep, SessionDep
from tfe.app.web.templating import templates
from tfe.core.errors import ValidationError
from veille.alerts import unsubscribe as tokens

router = APIRouter(tags=["pages"], include_in_schema=False)

Token = Annotated[str, Path(min_length=3, max_length=80, pattern=tokens.TOKEN_PATTERN)]
_PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
_MANAGE = "/mes-alertes"


def _page(request: Request, context: dict[str, object]) -> Response:
    response = templates.TemplateResponse(
        request, "unsubscribe.html", {"user": None, "manage": _MANAGE, **context}
    )
    response.headers.update(_PRIVATE)
    return response


@router.get("/alertes/desabonnement/{token}")
def confirm_page(request: Request, token: Token, session: SessionDep, runtime: RuntimeDep) -> Response:
    subscription = tokens.verify_token(session, runtime.settings.secret_key, token)
    return _page(
        request,
        {
            "done": False,
            "already": subscription.paused,
            "name": tokens.subscription_name(session, subscription),
            "action": request.url.path,
        },
    )


@router.post("/alertes/desabonnement/{token}")
def one_click(
    request: Request,
    token: Token,
    session: SessionDep,
    runtime: RuntimeDep,
    list_unsubscribe: Annotated[str, Form(alias="List-Unsubscribe", max_length=32)] = "",
    via: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    if list_unsubscribe != "One-Click":
        raise ValidationError("désabonnement en un clic : le champ List-Unsubscribe=One-Click est attendu")
    method = "form" if via == "page" else "one_click"
    subscription, changed = tokens.unsubscribe(session, runtime.settings.secret_key, token, method=method)
    return _page(
        request,
        {
            "done": True,
            "already": not changed,
            "name": tokens.subscription_name(session, subscription),
            "action": "",
        },
    )
