"""The quarterly satisfaction survey: who is asked (``due``), an answer (score 0..10, optional comment) or a
refusal, at most one per user and quarter.

"Active" means signed in (a browser session seen) or calling the API (a token used) in the last
``ACTIVE_DAYS`` days; the quarter is the calendar quarter of ``now`` (UTC). Every write is audited
(``survey.answer``, ``survey.decline``) with the score only: the comment is personal and stays in
``survey_responses`` (``docs/decisions.md``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tfe.core.errors import ConflictError, ValidationError
from tfe.core.models import ApiToken, SurveyResponse, User
from tfe.core.security import audit
from tfe.core.security.audit import Actor
from tfe.core.security.models import UserSession

__all__ = [
    "ACTIVE_DAYS",
    "MAX_COMMENT",
    "answer",
    "decline",
    "due",
    "forget_users",
    "is_active",
    "quarter_of",
    "response_of",
]

ACTIVE_DAYS = 90
MAX_COMMENT = 2000


def quarter_of(now: dt.datetime) -> str:
    """``2026-Q4`` for any instant of October to December 2026."""
    return f"{now.year}-Q{(now.month - 1) // 3 + 1}"


def is_active(session: Session, user: User, now: dt.datetime) -> bool:
    """An enabled account seen in a browser session or through an API token in the last 90 days."""
    if not user.active:
        return False
    since = now - dt.timedelta(days=ACTIVE_DAYS)
    seen = exists().where(UserSession.user_id == user.id, UserSession.last_seen_at >= since)
    used = exists().where(ApiToken.user_id == user.id, ApiToken.last_used_at >= since)
    return bool(session.scalar(select(seen | used)))


def response_of(session: Session, user: User, now: dt.datetime) -> SurveyResponse | None:
    """The user's answer or refusal for the quarter of ``now`` (one lookup on the unique index)."""
    return session.scalar(
        select(SurveyResponse).where(
            SurveyResponse.user_id == user.id, SurveyResponse.quarter == quarter_of(now)
        )
    )


def due(session: Session, user: User, now: dt.datetime) -> bool:
    """True when the user is active and has neither answered nor declined this quarter."""
    return is_active(session, user, now) and response_of(session, user, now) is None


def _check_score(score: object) -> int:
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise ValidationError("la note doit être un entier de 0 à 10")
    return score


def _check_comment(comment: str | None) -> str | None:
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise ValidationError(f"le commentaire dépasse {MAX_COMMENT} caractères")
    return text or None


def _write(
    session: Session, user: User, now: dt.datetime, channel: str, score: int | None, comment: str | None
) -> SurveyResponse:
    quarter = quarter_of(now)
    if response_of(session, user, now) is not None:
        raise ConflictError(f"vous avez déjà répondu à l'enquête du trimestre {quarter}")
    row = SurveyResponse(
        user_id=user.id,
        org_id=user.org_id,
        quarter=quarter,
        score=score,
        comment=comment,
        declined=score is None,
        created_at=now,
    )
    try:
        with session.begin_nested():  # a concurrent reply of the same user: the unique index says no
            session.add(row)
    except IntegrityError as exc:
        raise ConflictError(f"vous avez déjà répondu à l'enquête du trimestre {quarter}") from exc
    action = "survey.decline" if score is None else "survey.answer"
    detail: dict[str, object] = {"quarter": quarter}
    if score is not None:
        detail["score"] = score
    audit.record(
        session, action, Actor.of_user(user, channel), target_kind="survey", target_id=quarter, detail=detail
    )
    return row


def answer(
    session: Session, user: User, score: object, comment: str | None, now: dt.datetime, *, channel: str
) -> SurveyResponse:
    """Record the user's score (0..10) and optional comment: 400 when invalid, 409 when this quarter's
    answer or refusal is already there."""
    return _write(session, user, now, channel, _check_score(score), _check_comment(comment))


def decline(session: Session, user: User, now: dt.datetime, *, channel: str) -> SurveyResponse:
    """Record that the user does not answer this quarter (they are not asked again until the next)."""
    return _write(session, user, now, channel, None, None)


def forget_users(session: Session, user_ids: list[int]) -> dict[str, int]:
    """An erased account's answers deleted, comments with them (``tfe.app.erasure``)."""
    if not user_ids:
        return {"survey_responses": 0}
    result = session.execute(delete(SurveyResponse).where(SurveyResponse.user_id.in_(user_ids)))
    return {"survey_responses": int(result.rowcount or 0)}  # type: ignore[attr-defined]
