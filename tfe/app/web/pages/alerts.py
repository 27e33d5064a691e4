"""« Mes alertes » (``/mes-alertes``): a signed-in user's alert subscriptions, the create/edit form, history.

The form at ``/mes-alertes/nouvelle?q=...&sector=...`` is what the search page's « Créer une alerte » opens,
prefilled with the current query and facets, with the preview of what the alert would have sent over the
last 7 days. Secrets (the private Atom address, the webhook signing secret) are shown once, on the page
that answers the form, never kept in the session cookie. The use cases are
``veille.alerts.subscriptions``'s (owner only, audited with the ``web`` channel). Every form carries the
session's CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tfe.app.runtime import Runtime
from tfe.app.web.deps import PageUser, RuntimeDep, SessionDep, csrf_token
from tfe.app.web.pages.forms import flash, pop_flash, require_csrf
from tfe.app.web.templating import templates
from tfe.core.errors import ConflictError, ValidationError
from tfe.core.models import User
from veille.alerts.subscriptions import SubscriptionService, SubscriptionSpec

router = APIRouter(prefix="/mes-alertes", tags=["pages"], include_in_schema=False)

RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]
CsrfField = Annotated[str, Form(max_length=200)]
Values = Annotated[list[str] | None, Query(max_length=200)]
FormValues = Annotated[list[str] | None, Form()]
LIST_URL = "/mes-alertes"
FREQUENCY_LABELS = {"instant": "Immédiate", "daily": "Quotidienne", "weekly": "Hebdomadaire"}
SCOPE_LABELS = {"items": "Actualités de veille", "documents": "Documents", "both": "Actualités et documents"}
CHANNEL_LABELS = {"email": "E-mail", "atom": "Flux Atom privé", "webhook": "Webhook"}
WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
STATUS_LABELS = {
    "pending": "En attente",
    "sent": "Envoyé",
    "retrying": "Nouvel essai prévu",
    "failed": "Échec",
}


def _service(runtime: Runtime) -> SubscriptionService:
    return runtime.subscriptions


def _split(values: list[str] | None) -> list[str]:
    """Repeated fields and comma-separated lists alike (« 11, 10.1 »)."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


@dataclass
class FormState:
    """What the form shows: the values as typed (or as the search page sent them)."""

    name: str = ""
    q: str = ""
    sector: list[str] = field(default_factory=list)
    country: list[str] = field(default_factory=list)
    type: list[str] = field(default_factory=list)
    filiere: list[str] = field(default_factory=list)
    signal: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    scope: str = "items"
    frequency: str = "daily"
    send_time: str = "08:00"
    weekday: str = ""
    timezone: str = "Europe/Paris"
    channels: list[str] = field(default_factory=lambda: ["email"])
    webhook_url: str = ""

    def spec(self) -> SubscriptionSpec:
        try:
            sources = [int(s) for s in self.source]
        except ValueError as exc:
            raise ValidationError("les sources se désignent par leur numéro") from exc
        weekday = None
        if self.frequency == "weekly":
            if not self.weekday.isdigit():
                raise ValidationError("choisissez le jour de l'envoi hebdomadaire")
            weekday = int(self.weekday)
        return SubscriptionSpec(
            query=self.q,
            name=self.name,
            sectors=self.sector,
            countries=self.country,
            types=self.type,
            filieres=self.filiere,
            signals=self.signal,
            sources=sources,
            scope=self.scope,
            frequency=self.frequency,
            send_time=self.send_time,
            weekday=weekday,
            timezone=self.timezone,
            channels=self.channels,
            webhook_url=self.webhook_url or None,
        )

    @classmethod
    def of_view(cls, data: dict[str, Any]) -> FormState:
        return cls(
            name=data["name"],
            q=data["query"],
            sector=[c["id"] for c in data["sectors"]],
            country=[c["id"] for c in data["countries"]],
            type=[c["id"] for c in data["types"]],
            filiere=[c["id"] for c in data["filieres"]],
            signal=[c["id"] for c in data["signals"]],
            source=[str(s) for s in data["sources"]],
            scope=data["scope"],
            frequency=data["frequency"],
            send_time=data["send_time"],
            weekday="" if data["weekday"] is None else str(data["weekday"]),
            timezone=data["timezone"],
            channels=list(data["channels"]),
            webhook_url=data["webhook_url"] or "",
        )


def _common(request: Request, user: User) -> dict[str, Any]:
    return {
        "user": user,
        "csrf": csrf_token(request),
        "frequency_labels": FREQUENCY_LABELS,
        "scope_labels": SCOPE_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "weekdays": WEEKDAYS,
        "status_labels": STATUS_LABELS,
    }


def _preview(
    session: Session, runtime: Runtime, user: User, state: FormState
) -> tuple[dict[str, Any] | None, str | None]:
    """The last 7 days' preview of the form's alert, or the reason there is none."""
    try:
        spec = state.spec()
        facets = (spec.sectors, spec.countries, spec.types, spec.filieres, spec.signals, spec.sources)
        if not spec.query and not any(facets):
            return None, None
    except ValidationError as exc:
        return None, exc.message
    try:
        return _service(runtime).preview_spec(session, user, spec), None
    except ValidationError as exc:
        return None, exc.message


def _form_page(
    request: Request,
    session: Session,
    runtime: Runtime,
    user: User,
    state: FormState,
    *,
    subscription_id: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    preview, preview_error = _preview(session, runtime, user, state) if error is None else (None, None)
    context = {
        **_common(request, user),
        "state": state,
        "subscription_id": subscription_id,
        "error": error,
        "preview": preview,
        "preview_error": preview_error,
    }
    return templates.TemplateResponse(request, "alert_form.html", context, status_code=status_code)


def _list_page(
    request: Request,
    session: Session,
    runtime: Runtime,
    user: User,
    *,
    secrets: dict[str, Any] | None = None,
    confirm: int | None = None,
) -> Response:
    views = [v.as_dict() for v in _service(runtime).list(session, user)]
    context = {
        **_common(request, user),
        "notice": pop_flash(request),
        "subscriptions": views,
        "secrets": secrets,
        "confirm": confirm if any(v["id"] == confirm for v in views) else None,
    }
    return templates.TemplateResponse(request, "alerts.html", context)


@router.get("")
def alerts_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    user: PageUser,
    supprimer: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> Response:
    return _list_page(request, session, runtime, user, confirm=supprimer)


@router.get("/nouvelle")
def new_alert(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    user: PageUser,
    q: Annotated[str, Query(max_length=500)] = "",
    sector: Values = None,
    country: Values = None,
    type: Values = None,
    filiere: Values = None,
    signal: Values = None,
    source: Values = None,
) -> Response:
    state = FormState(
        name=q, q=q, sector=_split(sector), country=_split(country), type=_split(type),
        filiere=_split(filiere), signal=_split(signal), source=_split(source),
    )
    return _form_page(request, session, runtime, user, state)


Text = Annotated[str, Form(max_length=500)]
Short = Annotated[str, Form(max_length=64)]
Url = Annotated[str, Form(max_length=2000)]


def _state(
    name: Text = "",
    q: Text = "",
    sector: FormValues = None,
    country: FormValues = None,
    type: FormValues = None,
    filiere: FormValues = None,
    signal: FormValues = None,
    source: FormValues = None,
    scope: Short = "items",
    frequency: Short = "daily",
    send_time: Short = "08:00",
    weekday: Short = "",
    timezone: Short = "Europe/Paris",
    channels: FormValues = None,
    webhook_url: Url = "",
) -> FormState:
    """The alert form as posted: a dependency of the routes that read it."""
    return FormState(
        name=name,
        q=q,
        sector=_split(sector),
        country=_split(country),
        type=_split(type),
        filiere=_split(filiere),
        signal=_split(signal),
        source=_split(source),
        scope=scope,
        frequency=frequency,
        send_time=send_time,
        weekday=weekday,
        timezone=timezone or "Europe/Paris",
        channels=list(channels or []),
        webhook_url=webhook_url.strip(),
    )


PostedAlert = Annotated[FormState, Depends(_state)]


@router.post("")
def create_alert(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    user: PageUser,
    state: PostedAlert,
    csrf: CsrfField = "",
) -> Response:
    require_csrf(request, csrf)
    try:
        with session.begin_nested():
            created = _service(runtime).create(session, user, state.spec(), channel="web")
    except (ValidationError, ConflictError) as exc:
        return _form_page(request, session, runtime, user, state, error=exc.message, status_code=400)
    secrets = {
        "name": created.view.search.name,
        "atom_url": created.atom_url,
        "webhook_secret": created.webhook_secret,
    }
    flash(request, f"Alerte « {created.view.search.name} » créée.")
    return _list_page(request, session, runtime, user, secrets=secrets)


@router.get("/{subscription_id}/modifier")
def edit_alert(
    request: Request, session: SessionDep, runtime: RuntimeDep, user: PageUser, subscription_id: RowId
) -> Response:
    view = _service(runtime).get(session, user, subscription_id)
    return _form_page(
        request, session, runtime, user, FormState.of_view(view.as_dict()), subscription_id=subscription_id
    )


@router.post("/{subscription_id}/modifier")
def update_alert(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    user: PageUser,
    subscription_id: RowId,
    state: PostedAlert,
    csrf: CsrfField = "",
) -> Response:
    require_csrf(request, csrf)
    service = _service(runtime)
    service.get(session, user, subscription_id)  # 404 before anything else for another user's id
    try:
        spec = state.spec()
        changes = {
            "name": spec.name,
            "query": spec.query,
            "sectors": spec.sectors,
            "countries": spec.countries,
            "types": spec.types,
            "filieres": spec.filieres,
            "signals": spec.signals,
            "sources": spec.sources,
            "scope": spec.scope,
            "frequency": spec.frequency,
            "send_time": spec.send_time,
            "weekday": spec.weekday,
            "timezone": spec.timezone,
            "channels": spec.channels,
            "webhook_url": spec.webhook_url,
        }
        with session.begin_nested():
            updated = service.update(session, user, subscription_id, changes, channel="web")
    except ValidationError as exc:
        return _form_page(
            request,
            session,
            runtime,
            user,
            state,
            subscription_id=subscription_id,
            error=exc.message,
            status_code=400,
        )
    flash(request, f"Alerte « {updated.view.search.name} » modifiée.")
    if updated.atom_url or updated.webhook_secret:
        secrets = {
            "name": updated.view.search.name,
            "atom_url": updated.atom_url,
            "webhook_secret": updated.webhook_secret,
        }
        return _list_page(request, session, runtime, user, secrets=secrets)
    return RedirectResponse(LIST_URL, status_code=303)


def _set_paused(
    request: Request,
    session: Session,
    runtime: Runtime,
    user: User,
    subscription_id: int,
    paused: bool,
    csrf: str,
) -> Response:
    require_csrf(request, csrf)
    view = _service(runtime).set_paused(session, user, subscription_id, paused, channel="web")
    flash(request, f"Alerte « {view.search.name} » {'mise en pause' if paused else 'reprise'}.")
    return RedirectResponse(LIST_URL, status_code=303)


@router.post("/{subscription_id}/pause")
def pause_alert(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    user: PageUser,
    subscription_id: RowId,
    csrf: CsrfField = "",
) -> Response:
    return _set_paused(request, session, runtime, user, subscription_id, True, csrf)


@router.post("/{subscription_id}/reprendre")
def resume_alert(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    user: PageUser,
    subscription_id: RowId,
    csrf: CsrfField = "",
) -> Response:
    return _set_paused(request, session, runtime, user, subscription_id, False, csrf)


@router.post("/{subscription_id}/supprimer")
def delete_alert(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    user: PageUser,
    subscription_id: RowId,
    csrf: CsrfField = "",
) -> Response:
    require_csrf(request, csrf)
    service = _service(runtime)
    name = service.get(session, user, subscription_id).search.name
    service.delete(session, user, subscription_id, channel="web")
    flash(request, f"Alerte « {name} » supprimée.")
    return RedirectResponse(LIST_URL, status_code=303)


@router.post("/{subscription_id}/atom")
def regenerate_atom(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    user: PageUser,
    subscription_id: RowId,
    csrf: CsrfField = "",
) -> Response:
    require_csrf(request, csrf)
    service = _service(runtime)
    name = service.get(session, user, subscription_id).search.name
    try:
        url = service.regenerate_atom_token(session, user, subscription_id, channel="web")
    except ValidationError as exc:
        flash(request, exc.message, "error")
        return RedirectResponse(LIST_URL, status_code=303)
    flash(request, f"Nouvelle adresse du flux Atom de « {name} » : l'ancienne ne fonctionne plus.")
    return _list_page(
        request, session, runtime, user, secrets={"name": name, "atom_url": url, "webhook_secret": None}
    )


@router.get("/{subscription_id}/historique")
def alert_history(
    request: Request, session: SessionDep, runtime: RuntimeDep, user: PageUser, subscription_id: RowId
) -> Response:
    service = _service(runtime)
    view = service.get(session, user, subscription_id).as_dict()
    messages = service.history(session, user, subscription_id, channel="web")
    context = {**_common(request, user), "subscription": view, "messages": messages}
    return templates.TemplateResponse(request, "alert_history.html", context)
