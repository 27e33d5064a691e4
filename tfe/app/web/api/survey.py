"""``/api/survey``: the caller's quarterly satisfaction survey (``tfe.app.survey``).

``GET``: whether the caller is asked this quarter and their own answer; ``POST``: an answer (score 0..10,
optional comment) or a refusal (``declined: true``). Invalid score or comment: 400; a second answer in the
same quarter: 409. Reads are audited (``survey.read``), writes too (``survey.answer``, ``survey.decline``,
score only).
"""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tfe.app import survey
from tfe.app.web.deps import CurrentUser, SessionDep
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.survey import SurveyAnswer, SurveyPublic
from tfe.core.db import utcnow
from tfe.core.errors import ValidationError
from tfe.core.models import User
from tfe.core.security import audit
from tfe.core.security.audit import Actor

router = APIRouter(prefix="/api/survey", tags=["account"])


def _public(session: Session, user: User) -> SurveyPublic:
    now = utcnow()
    row = survey.response_of(session, user, now)
    return SurveyPublic(
        quarter=survey.quarter_of(now),
        due=row is None and survey.is_active(session, user, now),
        answered=row is not None and not row.declined,
        declined=row is not None and row.declined,
        score=row.score if row else None,
        comment=row.comment if row else None,
    )


@router.get("", summary="The caller's satisfaction survey this quarter", responses=error_responses(401))
def get_survey(user: CurrentUser, session: SessionDep) -> SurveyPublic:
    out = _public(session, user)
    audit.record(
        session, "survey.read", Actor.of_user(user, "api"), target_kind="survey", target_id=out.quarter
    )
    session.commit()
    return out


@router.post(
    "",
    status_code=201,
    summary="Answer (score 0..10, comment) or decline this quarter's satisfaction survey",
    responses=error_responses(400, 401, 409),
)
def post_survey(body: SurveyAnswer, user: CurrentUser, session: SessionDep) -> SurveyPublic:
    now = utcnow()
    if body.declined:
        if body.score is not None or body.comment:
            raise ValidationError("un refus ne porte ni note ni commentaire")
        survey.decline(session, user, now, channel="api")
    else:
        if body.score is None:
            raise ValidationError("la note (0 à 10) est obligatoire, ou declined: true")
        survey.answer(session, user, body.score, body.comment, now, channel="api")
    session.commit()
    return _public(session, user)
