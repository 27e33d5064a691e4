"""The quarterly satisfaction survey in the pages (``tfe.app.survey``): the banner every page shows while
the signed-in user has neither answered nor declined this quarter, and its form.

The banner costs one lookup on the ``(user_id, quarter)`` unique index per page, in the page's own
session (``request_session``); a user browsing a page is active by definition, so the pages do not check
the 90 days (the API's ``due`` does). ``POST /enquete-satisfaction`` (CSRF token checked, 403 otherwise)
records the answer or the refusal and redirects (303) to the page it came from, where the banner gives
way to a thank-you notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tfe.app import survey
from tfe.app.web.deps import PageUser, SessionDep, csrf_token, request_session
from tfe.app.web.pages.auth import safe_next
from tfe.app.web.pages.forms import require_csrf
from tfe.app.web.templating import templates
from tfe.core.db import utcnow
from tfe.core.errors import ConflictError, ValidationError

router = APIRouter(prefix="/enquete-satisfaction", tags=["pages"], include_in_schema=False)

NOTICE_KEY = "survey_notice"
THANKS = "Merci pour votre réponse : elle nous aide à améliorer tfe."
LATER = "C'est noté : nous ne vous le redemanderons pas avant le prochain trimestre."


@dataclass(frozen=True)
class Banner:
    show: bool  # the form
    notice: str | None  # the thank-you (or the error) of the last submission
    error: bool = False
    csrf: str = ""


def banner(request: Any, user: Any) -> Banner:
    """What ``base.html`` shows for ``user`` (none for anonymous pages); a Jinja global."""
    if request is None or user is None or not getattr(user, "id", None):
        return Banner(False, None)
    notice = request.session.pop(NOTICE_KEY, None) if "session" in request.scope else None
    text, error = (
        (notice.get("text"), bool(notice.get("error"))) if isinstance(notice, dict) else (None, False)
    )
    open_session = request_session(request)
    if open_session is not None:  # the page's own unit of work, while it renders
        show = survey.response_of(open_session, user, utcnow()) is None
    else:
        with request.app.state.runtime.session() as session:
            show = survey.response_of(session, user, utcnow()) is None
    return Banner(show, text if isinstance(text, str) else None, error, csrf_token(request) if show else "")


templates.env.globals["survey_banner"] = banner


@router.post("")
def submit(
    request: Request,
    session: SessionDep,
    user: PageUser,
    csrf: Annotated[str, Form(max_length=200)] = "",
    action: Annotated[str, Form(max_length=16)] = "answer",
    score: Annotated[str, Form(max_length=4)] = "",
    comment: Annotated[str, Form(max_length=survey.MAX_COMMENT * 2)] = "",
    back: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    require_csrf(request, csrf)
    now, text, error = utcnow(), THANKS, False
    try:
        if action == "decline":
            survey.decline(session, user, now, channel="web")
            text = LATER
        elif not score.strip().isdigit():
            raise ValidationError("Choisissez une note de 0 à 10, ou « Plus tard / Ne pas répondre ».")
        else:
            survey.answer(session, user, int(score), comment, now, channel="web")
        session.commit()
    except ConflictError:
        session.rollback()
        text = "Vous avez déjà répondu ce trimestre : merci !"
    except ValidationError as exc:
        session.rollback()
        text, error = (str(exc), True)
    request.session[NOTICE_KEY] = {"text": text, "error": error}
    return RedirectResponse(safe_next(back), status_code=303)
