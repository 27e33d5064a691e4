"""The exfiltration guard for administrators (``tfe.core.security.security_alerts``, ``guard_policy``).

- ``GET /api/admin/security-alerts?status=open|lifted|confirmed|all``: the alerts of the organisations the
  caller manages (the national agency's administrators: all), newest first;
- ``POST /api/admin/security-alerts/{id}/review`` ``{"decision": "lift"|"confirm", "note", "deactivate"}``:
  lift (the token or session works again) or confirm (revoked; the account deactivated if asked); 409
  once reviewed; another organisation's alert is 404;
- ``GET /api/admin/guard-budgets``: the budget of every role; ``PUT`` sets some (administrators of every
  organisation only, 403 otherwise), audited ``guard.budget_changed``.

Administrators only, and a bearer token needs the ``admin`` scope (``tfe.app.web.deps``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request

from tfe.app.web.deps import CurrentUser, SessionDep
from tfe.app.web.errors import error_responses
from tfe.app.web.guard import guard_of
from tfe.app.web.schemas.admin_security import (
    AlertListPublic,
    AlertPublic,
    BudgetListPublic,
    BudgetsUpdate,
    ReviewRequest,
)
from tfe.core.security import administration, security_alerts
from tfe.core.security.guard_policy import Budget, list_budgets, set_budget
from tfe.core.security.security_alerts import AlertView

router = APIRouter(prefix="/api/admin", tags=["admin"])

AlertId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def alert_public(view: AlertView) -> dict[str, Any]:
    alert = view.alert
    return {
        "id": alert.id,
        "created_at": alert.created_at.isoformat(),
        "org": view.org.slug if view.org else None,
        "user_id": alert.user_id,
        "user_email": view.user.email if view.user else None,
        "token_prefix": view.token_prefix,
        "session": view.session_public_id,
        "rule": alert.rule,
        "response": alert.response,
        "status": alert.status,
        "explanation": view.explanation,
        "detail": alert.detail,
        "reviewed_by": alert.reviewed_by,
        "reviewed_at": _iso(alert.reviewed_at),
        "review_note": alert.review_note,
    }


@router.get(
    "/security-alerts",
    summary="Security alerts of the exfiltration guard in the caller's organisations",
    response_model=AlertListPublic,
    responses=error_responses(400, 401, 403),
)
def list_security_alerts(
    user: CurrentUser,
    session: SessionDep,
    status: Annotated[Literal["open", "lifted", "confirmed", "all"], Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> dict[str, Any]:
    views = security_alerts.list_alerts(
        session, user, status=None if status == "all" else status, limit=limit
    )
    return {"alerts": [alert_public(v) for v in views]}


@router.post(
    "/security-alerts/{alert_id}/review",
    summary="Lift or confirm a security alert",
    response_model=AlertPublic,
    responses=error_responses(400, 401, 403, 404, 409),
)
def review_security_alert(
    request: Request, alert_id: AlertId, body: ReviewRequest, user: CurrentUser, session: SessionDep
) -> dict[str, Any]:
    guard = guard_of(request.app)
    view = security_alerts.review(
        session,
        user,
        alert_id,
        body.decision,
        note=body.note,
        deactivate=body.deactivate,
        channel="api",
        on_lift=guard.forgive,
    )
    return alert_public(view)


def _budgets(session: Any) -> dict[str, Any]:
    return {"budgets": [b.as_dict() for b in list_budgets(session)]}


@router.get(
    "/guard-budgets",
    summary="The exfiltration guard's budgets per role",
    response_model=BudgetListPublic,
    responses=error_responses(401, 403),
)
def get_guard_budgets(user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    administration.require_admin(user)
    return _budgets(session)


@router.put(
    "/guard-budgets",
    summary="Set the guard's budgets of some roles (administrators of every organisation)",
    response_model=BudgetListPublic,
    responses=error_responses(400, 401, 403),
)
def put_guard_budgets(
    request: Request, body: BudgetsUpdate, user: CurrentUser, session: SessionDep
) -> dict[str, Any]:
    for item in body.budgets:
        set_budget(
            session, user, Budget(item.role, item.per_minute, item.per_hour, item.per_day), channel="api"
        )
    session.commit()  # before this process drops its cached budgets, so it reloads the new ones
    guard_of(request.app).budgets.invalidate()
    return _budgets(session)
