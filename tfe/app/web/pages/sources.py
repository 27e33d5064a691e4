"""``/veille/sources``: the watch's source catalogue as French pages (list, add, detail, edit, OPML).

Plain forms over ``veille.catalogue.SourceService`` (``runtime.sources``, channel ``web``): the service
applies the scope and the roles and audits every read and write; this module only turns form fields into
a ``SourceSpec`` or a change set and the service's views into French. Members see the list and the
details; curators (their organisation's sources) and administrators (all) manage them. Every POST checks
the CSRF token, acts, stores a notice and redirects (303); a form with errors is shown again, as typed,
with the errors above it (400). « Prévisualiser » fetches the source once and shows what it yields
without saving anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tfe.app.runtime import Runtime
from tfe.app.web.deps import PageScopeDep, PageUser, RuntimeDep, SessionDep, csrf_token, csrf_valid
from tfe.app.web.pages.forms import flash, pop_flash
from tfe.app.web.pages.source_form import (
    SELECTOR_TYPES,
    FormDep,
    Short,
    SourceForm,
    decimal_fr,
    french,
)
from tfe.app.web.templating import templates
from tfe.core.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    TfeError,
)
from tfe.core.models import Organisation
from tfe.core.security.scope import AccessScope
from veille.models import HEALTHS, SOURCE_KINDS
from veille.source_preview import PreviewView
from veille.source_rules import MANAGER_ROLES, SourceSpec
from veille.source_views import SourceView

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE = "/veille/sources"
PARIS = ZoneInfo("Europe/Paris")
KINDS_FR = {"feed": "Flux", "page": "Page", "watch": "Surveillance"}
HEALTH_FR = {
    "unknown": "Jamais relevée",
    "ok": "OK",
    "slow": "Lente",
    "failing": "En échec",
    "dead": "Hors service",
    "gone": "Disparue",
}
POLL_FR = {"ok": "Réussi", "not_modified": "Inchangé", "failed": "En échec", "deferred": "Reporté"}
CURATOR_FR = {
    "new": "À valider",
    "accepted": "Accepté",
    "auto_accepted": "Accepté automatiquement",
    "rejected": "Rejeté",
}
VISIBILITIES_FR = {"network": "Réseau", "organisation": "Organisation"}
ALERT_HEALTHS = ("failing", "dead")
SourceId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Csrf = Annotated[str, Form(max_length=200)]


# formatting -------------------------------------------------------------------------------------------


def paris(value: dt.datetime | None) -> str:
    """``14/03/2025 à 10:05`` in Paris time (the database keeps UTC, sometimes without a zone)."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def ago(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long ago, in French (« il y a 5 min »); the formatted date past a week."""
    if value is None:
        return "jamais"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    seconds = ((now or dt.datetime.now(dt.UTC)) - value).total_seconds()
    if seconds < 60:
        return "à l'instant"
    if seconds < 3600:
        return f"il y a {int(seconds // 60)} min"
    if seconds < 86400:
        return f"il y a {int(seconds // 3600)} h"
    if seconds < 7 * 86400:
        days = int(seconds // 86400)
        return f"il y a {days} jour{'s' if days > 1 else ''}"
    return "le " + paris(value)


def every(seconds: int) -> str:
    """A polling interval in French: « 15 min », « 2 h 30 », « 1 j »."""
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {rest:02d}" if rest else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} j {hours} h" if hours else f"{days} j"


def iso_paris(value: str | None) -> str:
    """An ISO date of a preview entry, in Paris time (as typed when it does not parse)."""
    if not value:
        return "—"
    try:
        return paris(dt.datetime.fromisoformat(value))
    except ValueError:
        return value[:40]


# rules shown by the pages (the service enforces them) -------------------------------------------------


def is_manager(scope: AccessScope) -> bool:
    return scope.system or bool(scope.roles & MANAGER_ROLES)


def may_manage(scope: AccessScope, view: SourceView) -> bool:
    """Whether the management buttons apply to this source (``veille.source_rules.may_manage``'s rule)."""
    if scope.manages_network:
        return True
    return bool(scope.roles & MANAGER_ROLES) and view.org_id is not None and view.org_id == scope.org_id


def _require_manager(scope: AccessScope) -> None:
    if not is_manager(scope):
        raise PermissionDeniedError(
            "La gestion du catalogue de sources est réservée aux curateurs et aux administrateurs."
        )


def _require_manages(scope: AccessScope, view: SourceView) -> None:
    _require_manager(scope)
    if not may_manage(scope, view):
        raise PermissionDeniedError(
            "Cette source appartient à une autre organisation : seul un administrateur peut la gérer."
        )


def _require_csrf(request: Request, submitted: str) -> None:
    if not csrf_valid(request, submitted):
        raise PermissionDeniedError(
            "Votre session a expiré ou le formulaire n'est pas valide : rechargez la page et réessayez."
        )


def _org_names(session: Session, views: list[SourceView]) -> dict[int, str]:
    ids = {v.org_id for v in views if v.org_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))
    return {int(i): str(n) for i, n in rows}


def _base(request: Request, user: Any, **extra: Any) -> dict[str, Any]:
    return {
        "user": user,
        "csrf": csrf_token(request),
        "notice": pop_flash(request),
        "kinds": KINDS_FR,
        "healths": HEALTH_FR,
        "paris": paris,
        "ago": ago,
        "decimal_fr": decimal_fr,
        "iso_paris": iso_paris,
        "every": every,
        **extra,
    }


def _form_page(
    request: Request,
    user: Any,
    form: SourceForm,
    *,
    source: SourceView | None = None,
    errors: list[str] | None = None,
    preview: PreviewView | None = None,
    status_code: int = 200,
) -> Response:
    context = _base(
        request,
        user,
        form=asdict(form),
        source=source,
        errors=errors or [],
        preview=preview,
        visibilities=VISIBILITIES_FR,
        selector_types=SELECTOR_TYPES,
        action=f"{PAGE}/{source.id}/modifier" if source else f"{PAGE}/nouvelle",
    )
    return templates.TemplateResponse(request, "source_form.html", context, status_code=status_code)


def _preview(runtime: Runtime, scope: AccessScope, spec: SourceSpec, errors: list[str]) -> PreviewView | None:
    try:
        return runtime.sources.preview(scope, spec, "web")
    except (AuthenticationError, PermissionDeniedError, NotFoundError):
        raise
    except TfeError as exc:
        errors.append(f"Prévisualisation impossible : {french(exc.message)}")
        return None


# list -------------------------------------------------------------------------------------------------


@router.get("/veille/sources")
def list_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    kind: Annotated[str, Query(max_length=16)] = "",
    health: Annotated[str, Query(max_length=16)] = "",
    tag: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    filters = {
        "kind": kind if kind in SOURCE_KINDS else "",
        "health": health if health in HEALTHS else "",
        "tag": tag.strip(),
    }
    views = runtime.sources.list(
        scope,
        kind=filters["kind"] or None,
        health=filters["health"] or None,
        tag=filters["tag"] or None,
        channel="web",
    )
    everything = views if not any(filters.values()) else runtime.sources.list(scope, channel="web")
    alerts: dict[str, int] = {}
    if is_manager(scope):  # curators are told of the failing sources on every visit
        for view in everything:
            if view.health in ALERT_HEALTHS:
                alerts[view.health] = alerts.get(view.health, 0) + 1
    context = _base(
        request,
        user,
        sources=views,
        filters=filters,
        orgs=_org_names(session, views),
        manager=is_manager(scope),
        alerts=alerts,
        failing=sum(alerts.values()),
        tags=sorted({t for v in everything for t in v.tags}, key=str.lower),
        total=len(everything),
    )
    return templates.TemplateResponse(request, "sources.html", context)


# add --------------------------------------------------------------------------------------------------


@router.get("/veille/sources/nouvelle")
def new_page(request: Request, user: PageUser, scope: PageScopeDep) -> Response:
    _require_manager(scope)
    return _form_page(request, user, SourceForm())


@router.post("/veille/sources/nouvelle")
def add_submit(
    request: Request,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    form: FormDep,
    action: Short = "save",
    csrf: Csrf = "",
) -> Response:
    _require_csrf(request, csrf)
    _require_manager(scope)
    errors: list[str] = []
    spec = form.spec(errors)
    if errors:
        return _form_page(request, user, form, errors=errors, status_code=400)
    if action == "preview":
        preview = _preview(runtime, scope, spec, errors)
        return _form_page(
            request, user, form, errors=errors, preview=preview, status_code=400 if errors else 200
        )
    try:
        view = runtime.sources.add(scope, spec, "web")
    except (AuthenticationError, PermissionDeniedError, NotFoundError):
        raise
    except TfeError as exc:
        errors.append(f"Enregistrement impossible : {french(exc.message)}")
        return _form_page(request, user, form, errors=errors, status_code=400)
    note = f"Source « {view.title or view.url} » ajoutée au catalogue : elle sera relevée sous peu."
    if view.discovery:
        note += f" Flux trouvé sur la page {view.discovery.get('page_url', '')} : {view.url}."
    flash(request, note)
    return RedirectResponse(f"{PAGE}/{view.id}", status_code=303)


# OPML -------------------------------------------------------------------------------------------------


@router.get("/veille/sources/export.opml")
def export_opml(scope: PageScopeDep, runtime: RuntimeDep) -> Response:
    data = runtime.sources.export_opml(scope, channel="web")
    headers = {"Content-Disposition": 'attachment; filename="sources-veille.opml"'}
    return Response(content=data, media_type="text/x-opml", headers=headers)


def _import_page(request: Request, user: Any, status_code: int = 200, **extra: Any) -> Response:
    context = _base(request, user, **{"visibilities": VISIBILITIES_FR, "report": None, "errors": [], **extra})
    return templates.TemplateResponse(request, "source_import.html", context, status_code=status_code)


@router.get("/veille/sources/importer")
def import_page(request: Request, user: PageUser, scope: PageScopeDep) -> Response:
    _require_manager(scope)
    return _import_page(request, user, visibility="network")


@router.post("/veille/sources/importer")
async def import_submit(
    request: Request,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    file: Annotated[UploadFile | None, File()] = None,
    visibility: Short = "network",
    csrf: Csrf = "",
) -> Response:
    _require_csrf(request, csrf)
    _require_manager(scope)
    limit = runtime.settings.max_feed_bytes
    data = await file.read(limit + 1) if file is not None else b""
    errors: list[str] = []
    if not data.strip():
        errors.append("Choisissez un fichier OPML non vide.")
    elif len(data) > limit:
        errors.append(f"Fichier OPML trop volumineux (plus de {limit // 1024} Ko).")
    report = None
    if not errors:
        try:
            report = await run_in_threadpool(
                runtime.sources.import_opml, scope, data, "web", visibility=visibility
            )
        except (AuthenticationError, PermissionDeniedError, NotFoundError):
            raise
        except TfeError as exc:
            errors.append(f"Import impossible : {french(exc.message)}")
    return _import_page(
        request, user, 400 if errors else 200, visibility=visibility, report=report, errors=errors
    )


# one source -------------------------------------------------------------------------------------------


@router.get("/veille/sources/{source_id}")
def detail_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    source_id: SourceId,
) -> Response:
    view = runtime.sources.get(scope, source_id, channel="web")
    activity = runtime.sources.activity(scope, source_id, channel="web")
    referential = runtime.referential

    def label(concept_id: str) -> str:
        found = referential.get(concept_id)
        return found.label("fr") if found else concept_id

    context = _base(
        request,
        user,
        source=view,
        activity=activity,
        orgs=_org_names(session, [view]),
        manages=may_manage(scope, view),
        visibilities=VISIBILITIES_FR,
        poll_fr=POLL_FR,
        curator_fr=CURATOR_FR,
        label=label,
    )
    return templates.TemplateResponse(request, "source_detail.html", context)


def _managed(runtime: Runtime, scope: AccessScope, source_id: int) -> SourceView:
    view = runtime.sources.get(scope, source_id, channel="web")
    _require_manages(scope, view)
    return view


def _posted_by_manager(
    request: Request, scope: AccessScope, runtime: Runtime, source_id: int, csrf: str
) -> SourceView:
    """A management form's checks: its CSRF token, then the caller a manager of this source."""
    _require_csrf(request, csrf)
    _require_manager(scope)
    return _managed(runtime, scope, source_id)


@router.get("/veille/sources/{source_id}/modifier")
def edit_page(
    request: Request, user: PageUser, scope: PageScopeDep, runtime: RuntimeDep, source_id: SourceId
) -> Response:
    _require_manager(scope)
    view = _managed(runtime, scope, source_id)
    return _form_page(request, user, SourceForm.of(view), source=view)


@router.post("/veille/sources/{source_id}/modifier")
def edit_submit(
    request: Request,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    source_id: SourceId,
    form: FormDep,
    action: Short = "save",
    csrf: Csrf = "",
) -> Response:
    view = _posted_by_manager(request, scope, runtime, source_id, csrf)
    errors: list[str] = []
    if action == "preview":
        spec = form.spec(errors)
        preview = None if errors else _preview(runtime, scope, spec, errors)
        return _form_page(
            request,
            user,
            form,
            source=view,
            errors=errors,
            preview=preview,
            status_code=400 if errors else 200,
        )
    changes = form.changes(view, errors)
    if errors:
        return _form_page(request, user, form, source=view, errors=errors, status_code=400)
    if not changes:
        flash(request, "Aucune modification.")
        return RedirectResponse(f"{PAGE}/{source_id}", status_code=303)
    try:
        runtime.sources.update(scope, source_id, changes, "web")
    except (AuthenticationError, PermissionDeniedError, NotFoundError):
        raise
    except TfeError as exc:
        errors.append(f"Modification impossible : {french(exc.message)}")
        return _form_page(request, user, form, source=view, errors=errors, status_code=400)
    flash(request, "Modifications enregistrées.")
    return RedirectResponse(f"{PAGE}/{source_id}", status_code=303)


def _outcome_notice(request: Request, status: str, new: int, error: str | None) -> None:
    if status == "ok":
        text = (
            "aucun nouvel élément"
            if not new
            else f"{new} nouvel élément"
            if new == 1
            else f"{new} nouveaux éléments"
        )
        flash(request, f"Relevé effectué : {text}.")
    elif status == "not_modified":
        flash(request, "Relevé effectué : contenu inchangé depuis le dernier relevé.")
    elif status == "deferred":
        flash(request, f"Relevé reporté : {error or 'la source est déjà en cours de relève'}.", "error")
    else:
        flash(request, f"Échec du relevé : {error or 'erreur inconnue'}.", "error")


@router.post("/veille/sources/{source_id}/relever")
def poll_now(
    request: Request,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    source_id: SourceId,
    csrf: Csrf = "",
) -> Response:
    _posted_by_manager(request, scope, runtime, source_id, csrf)
    runtime.sources.authorize_poll(scope, source_id, "web")
    outcome = runtime.poller.poll(source_id)
    _outcome_notice(request, outcome.status, outcome.new, outcome.error)
    return RedirectResponse(f"{PAGE}/{source_id}", status_code=303)


@router.post("/veille/sources/{source_id}/pause")
def pause(
    request: Request,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    source_id: SourceId,
    csrf: Csrf = "",
) -> Response:
    return _set_paused(request, scope, runtime, source_id, csrf, paused=True)


@router.post("/veille/sources/{source_id}/reprendre")
def resume(
    request: Request,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    source_id: SourceId,
    csrf: Csrf = "",
) -> Response:
    return _set_paused(request, scope, runtime, source_id, csrf, paused=False)


def _set_paused(
    request: Request, scope: AccessScope, runtime: Runtime, source_id: int, csrf: str, *, paused: bool
) -> Response:
    """Pause or resume a source from its page, with a notice, back to the page."""
    _posted_by_manager(request, scope, runtime, source_id, csrf)
    if paused:
        runtime.sources.pause(scope, source_id, "web")
        flash(request, "Source mise en pause : elle ne sera plus relevée.")
    else:
        runtime.sources.resume(scope, source_id, "web")
        flash(request, "Relève reprise : la source sera relevée sous peu.")
    return RedirectResponse(f"{PAGE}/{source_id}", status_code=303)


@router.get("/veille/sources/{source_id}/supprimer")
def delete_page(
    request: Request, user: PageUser, scope: PageScopeDep, runtime: RuntimeDep, source_id: SourceId
) -> Response:
    _require_manager(scope)
    view = _managed(runtime, scope, source_id)
    context = _base(request, user, source=view)
    return templates.TemplateResponse(request, "source_delete.html", context)


@router.post("/veille/sources/{source_id}/supprimer")
def delete_submit(
    request: Request,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    source_id: SourceId,
    confirm: Short = "",
    csrf: Csrf = "",
) -> Response:
    view = _posted_by_manager(request, scope, runtime, source_id, csrf)
    if confirm != "oui":
        return RedirectResponse(f"{PAGE}/{source_id}/supprimer", status_code=303)
    done = runtime.sources.remove(scope, source_id, "web")
    kept = int(done.get("items_detached", 0))
    flash(
        request,
        f"Source « {view.title or view.url} » supprimée du catalogue"
        + (f" ; ses {kept} élément(s) sont conservés." if kept else "."),
    )
    return RedirectResponse(PAGE, status_code=303)
