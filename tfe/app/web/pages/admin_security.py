"""``/admin/securite``: the exfiltration guard's alerts and budgets, for administrators.

The page lists the open alerts of the organisations the administrator manages (the national agency's
administrators: every organisation), each with its rule, the explanation, the counts per window, the token
or session concerned, and two forms with a comment:

- « Lever » (a false alarm): the suspended token or session works again and the guard's counters for the
  account are cleared;
- « Confirmer » (the use was not legitimate): the token is revoked or the session ended for good; a box
  deactivates the account as well (which ends all its sessions).

Below, the alerts reviewed recently, and the budgets per role: editable by the administrators of every
organisation (they apply to all), read-only for the others. Every form carries the CSRF token; every
review and budget change is audited (``guard.alert_lifted``, ``guard.alert_confirmed``,
``guard.budget_changed``). Another organisation's alert answers 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from tfe.app.web.deps import AdminPageUser, SessionDep, csrf_token
from tfe.app.web.guard import guard_of
from tfe.app.web.pages.admin import ROLE_LABELS
from tfe.app.web.pages.forms import flash, pop_flash, require_csrf
from tfe.app.web.templating import templates
from tfe.core.errors import ConflictError, ValidationError
from tfe.core.models import ROLES
from tfe.core.security import administration, security_alerts
from tfe.core.security.guard_policy import Budget, list_budgets, set_budget

router = APIRouter(prefix="/admin/securite", tags=["pages"], include_in_schema=False)

PAGE = "/admin/securite"
AlertId = Annotated[int, Path(ge=1, le=2_147_483_647)]
CsrfField = Annotated[str, Form(max_length=200)]
NoteField = Annotated[str, Form(max_length=2000)]
BudgetField = Annotated[int, Form(ge=1, le=10_000_000)]
STATUS_LABELS = {"open": "Ouverte", "lifted": "Levée", "confirmed": "Confirmée"}
WINDOW_LABELS = {"minute": "minute", "hour": "heure", "day": "jour"}
SUBJECT_LABELS = {"user": "Compte", "token": "Jeton"}
LAST_ADMIN = (
    "Ce compte est le dernier administrateur actif de son organisation : il n'est pas désactivé "
    "(l'alerte reste ouverte)."
)


@router.get("")
def security_page(request: Request, session: SessionDep, admin: AdminPageUser) -> Response:
    open_alerts = security_alerts.list_alerts(session, admin, status="open")
    reviewed = [
        v
        for v in security_alerts.list_alerts(session, admin, status=None, limit=50)
        if v.alert.status != "open"
    ]
    context: dict[str, Any] = {
        "user": admin,
        "csrf": csrf_token(request),
        "notice": pop_flash(request),
        "alerts": open_alerts,
        "reviewed": reviewed[:20],
        "budgets": list_budgets(session),
        "national": administration.manages_every_organisation(session, admin),
        "role_labels": ROLE_LABELS,
        "status_labels": STATUS_LABELS,
        "window_labels": WINDOW_LABELS,
        "subject_labels": SUBJECT_LABELS,
    }
    return templates.TemplateResponse(request, "admin_security.html", context)


def _review(
    request: Request, session: Any, admin: Any, alert_id: int, decision: str, note: str, deactivate: bool
) -> Response:
    try:
        view = security_alerts.review(
            session,
            admin,
            alert_id,
            decision,
            note=note,
            deactivate=deactivate,
            channel="web",
            on_lift=guard_of(request.app).forgive,
        )
    except administration.LastAdminError:
        session.rollback()
        flash(request, LAST_ADMIN, "error")
        return RedirectResponse(PAGE, status_code=303)
    except ConflictError:
        session.rollback()
        flash(request, f"L'alerte n° {alert_id} a déjà été examinée.", "error")
        return RedirectResponse(PAGE, status_code=303)
    except ValidationError:
        session.rollback()
        flash(request, "Demande non valide.", "error")
        return RedirectResponse(PAGE, status_code=303)
    who = view.user.email if view.user else "le compte"
    if decision == "lift":
        flash(request, f"Alerte n° {alert_id} levée : {who} peut de nouveau travailler.")
    else:
        flash(request, f"Alerte n° {alert_id} confirmée : l'accès de {who} est révoqué.")
    return RedirectResponse(PAGE, status_code=303)


@router.post("/alertes/{alert_id}/lever")
def lift(
    request: Request,
    session: SessionDep,
    admin: AdminPageUser,
    alert_id: AlertId,
    csrf: CsrfField = "",
    note: NoteField = "",
) -> Response:
    require_csrf(request, csrf)
    return _review(request, session, admin, alert_id, "lift", note, False)


@router.post("/alertes/{alert_id}/confirmer")
def confirm(
    request: Request,
    session: SessionDep,
    admin: AdminPageUser,
    alert_id: AlertId,
    csrf: CsrfField = "",
    note: NoteField = "",
    deactivate: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    require_csrf(request, csrf)
    return _review(request, session, admin, alert_id, "confirm", note, deactivate == "1")


@router.post("/budgets")
def budgets_submit(
    request: Request,
    session: SessionDep,
    admin: AdminPageUser,
    role: Annotated[str, Form(max_length=16)],
    per_minute: BudgetField,
    per_hour: BudgetField,
    per_day: BudgetField,
    csrf: CsrfField = "",
) -> Response:
    require_csrf(request, csrf)
    if role not in ROLES:
        flash(request, "Rôle inconnu.", "error")
        return RedirectResponse(PAGE, status_code=303)
    try:
        set_budget(session, admin, Budget(role, per_minute, per_hour, per_day), channel="web")
    except ValidationError:
        session.rollback()
        flash(request, "Budgets non valides : il faut par minute ≤ par heure ≤ par jour.", "error")
        return RedirectResponse(PAGE, status_code=303)
    session.commit()
    guard_of(request.app).budgets.invalidate()
    flash(request, f"Budgets du rôle « {ROLE_LABELS[role]} » enregistrés.")
    return RedirectResponse(PAGE + "#budgets", status_code=303)
