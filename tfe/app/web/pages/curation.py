"""``/veille/validation``: the curators' queue as a French page (« File de validation »).

Plain forms over ``veille.curation`` (no JavaScript needed): a filters form (GET), one form around the
table whose per-row « Accepter » / « Rejeter » buttons post to ``/veille/validation/{id}/decision``
(``formaction``) and whose bulk buttons post the checked rows to ``/veille/validation/lot``, and one
« Corriger » form per row (sectors and countries typed as on the document edit page, resolved by the
referential). Each handler checks the CSRF token, decides, stores a notice and redirects (303) to the
queue with the same filters. Readers get the French 403 page.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from tfe.app.runtime import Runtime
from tfe.app.web.deps import PageScopeDep, PageUser, RuntimeDep, SessionDep, TargetId, csrf_token
from tfe.app.web.pages.document_edit import split_names
from tfe.app.web.pages.forms import flash, pop_flash, require_csrf
from tfe.app.web.templating import templates
from tfe.core.errors import PermissionDeniedError, TfeError, ValidationError
from tfe.core.security.scope import AccessScope
from veille import curation, curation_queue
from veille.models import Source

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE = "/veille/validation"
PAGE_SIZE = 50
STATUSES_FR = {
    "new": "À valider",
    "accepted": "Acceptés",
    "auto_accepted": "Acceptés automatiquement",
    "rejected": "Rejetés",
    "all": "Tous",
}
_DONE_FR = {"accept": "accepté", "reject": "rejeté", "correct": "corrigé et accepté"}
_FILTERS = ("source_id", "sector", "country", "min_confidence", "max_confidence", "status", "offset")


def _require(scope: AccessScope) -> None:
    if not curation_queue.may_curate(scope):
        raise PermissionDeniedError(
            "La file de validation est réservée aux curateurs et aux administrateurs."
        )


def _back(back: str) -> str:
    """The queue URL to return to (only the queue itself, never another site or page)."""
    return back if back == PAGE or back.startswith(PAGE + "?") else PAGE


def _number(value: str, name: str) -> float | None:
    if not value.strip():
        return None
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        raise ValidationError(f"« {name} » : un nombre entre 0 et 1 est attendu.") from None
    if not 0 <= number <= 1:
        raise ValidationError(f"« {name} » : un nombre entre 0 et 1 est attendu.")
    return number


def _sources(session: Any, scope: AccessScope) -> list[Source]:
    """The sources whose items this curator may decide on (the filter's choices)."""
    rows = select(Source).where(curation_queue.curatable_sources(scope)).order_by(Source.title, Source.id)
    return list(session.scalars(rows))


@router.get("/veille/validation")
def queue_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    source_id: Annotated[str, Query(max_length=12)] = "",
    sector: Annotated[str, Query(max_length=200)] = "",
    country: Annotated[str, Query(max_length=200)] = "",
    min_confidence: Annotated[str, Query(max_length=12)] = "",
    max_confidence: Annotated[str, Query(max_length=12)] = "",
    status: Annotated[str, Query(max_length=16)] = "new",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    _require(scope)
    form = {
        "source_id": source_id,
        "sector": sector,
        "country": country,
        "min_confidence": min_confidence,
        "max_confidence": max_confidence,
        "status": status if status in STATUSES_FR else "new",
    }
    errors: list[str] = []
    page = curation_queue.QueuePage(total=0)
    try:
        page = curation_queue.curation_queue(
            session,
            scope,
            referential=runtime.referential,
            source_id=int(source_id) if source_id.isdigit() else None,
            sector=sector.strip() or None,
            country=country.strip() or None,
            min_confidence=_number(min_confidence, "Confiance minimale"),
            max_confidence=_number(max_confidence, "Confiance maximale"),
            status=form["status"],
            limit=PAGE_SIZE,
            offset=offset,
            channel="web",
        )
    except ValidationError as exc:
        errors.append(_french(exc.message))
    query = {k: v for k, v in form.items() if v}
    here = PAGE + ("?" + urlencode({**query, "offset": offset} if offset else query) if query else "")
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "notice": pop_flash(request),
        "form": form,
        "statuses": STATUSES_FR,
        "sources": _sources(session, scope),
        "doctypes": sorted(runtime.referential.concepts("doctype"), key=lambda c: c.label_fr),
        "page": page,
        "errors": errors,
        "back": here,
        "offset": offset,
        "page_size": PAGE_SIZE,
        "prev_url": PAGE + "?" + urlencode({**query, "offset": max(0, offset - PAGE_SIZE)})
        if offset
        else None,
        "next_url": PAGE + "?" + urlencode({**query, "offset": offset + PAGE_SIZE})
        if offset + PAGE_SIZE < page.total
        else None,
    }
    return templates.TemplateResponse(request, "curation.html", context, status_code=400 if errors else 200)


def _page_url(query: dict[str, str], offset: int) -> str:
    return PAGE + "?" + urlencode({**query, "offset": offset})


def _french(message: str) -> str:
    """The use case's English refusals, as the page tells them."""
    if message.startswith("unknown sector"):
        return "Secteur inconnu : " + message.removeprefix("unknown sector ")
    if message.startswith("unknown country"):
        return "Pays ou zone inconnu : " + message.removeprefix("unknown country or zone ")
    if message.startswith("unknown type"):
        return "Type inconnu : " + message.removeprefix("unknown type ")
    if message.startswith("unknown story"):
        return "Sujet inconnu : " + message.removeprefix("unknown story ")
    if message.startswith("unknown item"):
        return "Élément introuvable ou hors de votre périmètre."
    if message.startswith("a correction needs"):
        return "Indiquez au moins un secteur, un pays, un type ou un sujet pour corriger."
    return message


def _decide(
    request: Request,
    session: Any,
    scope: AccessScope,
    runtime: Runtime,
    item_id: str,
    decision: str,
    **kw: Any,
) -> None:
    try:
        view = curation.decide(
            session,
            scope,
            item_id,
            decision,
            backend=runtime.backend,
            referential=runtime.referential,
            channel="web",
            **kw,
        )
    except ValidationError as exc:
        session.rollback()
        flash(request, f"Décision impossible : {_french(exc.message)}", "error")
    else:
        flash(request, f"« {view.item.title} » : {_DONE_FR[decision]}.")


@router.post("/veille/validation/{item_id}/decision")
def decide_one(
    request: Request,
    session: SessionDep,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    item_id: TargetId,
    decision: Annotated[str, Form(max_length=16)] = "",
    back: Annotated[str, Form(max_length=2000)] = PAGE,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    require_csrf(request, csrf)
    _require(scope)
    if decision not in ("accept", "reject"):
        raise ValidationError("Décision non reconnue : « Accepter » ou « Rejeter » sont attendus.")
    _decide(request, session, scope, runtime, item_id, decision)
    return RedirectResponse(_back(back), status_code=303)


@router.post("/veille/validation/{item_id}/corriger")
def correct_one(
    request: Request,
    session: SessionDep,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    item_id: TargetId,
    sectors: Annotated[str, Form(max_length=2000)] = "",
    countries: Annotated[str, Form(max_length=2000)] = "",
    doc_type: Annotated[str, Form(max_length=64)] = "",
    story_id: Annotated[str, Form(max_length=32)] = "",
    back: Annotated[str, Form(max_length=2000)] = PAGE,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    require_csrf(request, csrf)
    _require(scope)
    _decide(
        request,
        session,
        scope,
        runtime,
        item_id,
        "correct",
        sectors=list(split_names(sectors)) if sectors.strip() else None,
        countries=list(split_names(countries)) if countries.strip() else None,
        doc_type=doc_type or None,
        story_id=story_id.strip() or None,
    )
    return RedirectResponse(_back(back), status_code=303)


@router.post("/veille/validation/lot")
def decide_bulk(
    request: Request,
    session: SessionDep,
    user: PageUser,
    scope: PageScopeDep,
    runtime: RuntimeDep,
    bulk: Annotated[str, Form(max_length=16)] = "",
    item_ids: Annotated[list[str] | None, Form()] = None,
    back: Annotated[str, Form(max_length=2000)] = PAGE,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    require_csrf(request, csrf)
    _require(scope)
    if bulk not in ("accept", "reject"):
        raise ValidationError("Décision non reconnue : « Accepter » ou « Rejeter » sont attendus.")
    if not item_ids:
        flash(request, "Cochez au moins un élément.", "error")
        return RedirectResponse(_back(back), status_code=303)
    try:
        result = curation.decide_many(
            session,
            scope,
            item_ids[: curation.MAX_BULK],
            bulk,
            backend=runtime.backend,
            referential=runtime.referential,
            channel="web",
        )
    except TfeError as exc:
        session.rollback()
        flash(request, f"Décision impossible : {_french(exc.message)}", "error")
    else:
        verb = "acceptés" if bulk == "accept" else "rejetés"
        text = f"{len(result.done)} élément(s) {verb}."
        if result.failed:
            text += f" {len(result.failed)} en échec : " + " ; ".join(
                _french(f["reason"]) for f in result.failed
            )
        flash(request, text, "error" if result.failed and not result.done else "success")
    return RedirectResponse(_back(back), status_code=303)
