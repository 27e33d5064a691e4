"""``/mes-recherches``: a signed-in user's saved searches (save from the search page, rename, delete).

The use cases are ``search.saved``'s (owner only, audited); this module turns forms into calls and gives
the search page its panel (``saved_panel``: the user's searches as links that run them again, and the
notice of the last save). Every form carries the session's CSRF token and redirects (303) when done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from search import saved
from search.models import SavedSearch
from taxonomy.models import Concept
from tfe.app.web.deps import PageUser, SessionDep, csrf_token
from tfe.app.web.pages.forms import Notice, flash, pop_flash, require_csrf
from tfe.app.web.templating import templates
from tfe.core.errors import ConflictError, ValidationError
from tfe.core.models import User

router = APIRouter(prefix="/mes-recherches", tags=["pages"], include_in_schema=False)

RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]
CsrfField = Annotated[str, Form(max_length=200)]
NameField = Annotated[str, Form(max_length=saved.MAX_NAME * 2)]
ValuesField = Annotated[list[str] | None, Form()]
FACET_LABELS = {
    "sector": "Secteur", "country": "Pays", "type": "Type", "filiere": "Filière", "signal": "Signal"
}
LIST_URL = "/mes-recherches"


@dataclass(frozen=True)
class SavedLink:
    """A saved search as the pages show it: the row, the URL that runs it, its filters in words."""

    row: SavedSearch
    url: str
    filters: list[tuple[str, str]]  # (facet label, value label)


def search_url(query: saved.SavedQuery) -> str:
    """The search page's URL for ``query`` (the same parameters the search form builds)."""
    params = query.params()
    return "/recherche" + (f"?{urlencode(params)}" if params else "")


def _label(session: Session, concept_id: str) -> str:
    concept = session.get(Concept, concept_id)
    return concept.pref_label_fr if concept is not None else concept_id


def saved_links(session: Session, user: User) -> list[SavedLink]:
    """The user's saved searches with their URLs and labelled filters, most recent first."""
    links = []
    for row in saved.list_saved_searches(session, user):
        query = saved.SavedQuery.of_row(row)
        filters = [
            (FACET_LABELS[name], _label(session, value))
            for name in saved.FACET_NAMES
            for value in query.filters[name]
        ]
        links.append(SavedLink(row=row, url=search_url(query), filters=filters))
    return links


@dataclass(frozen=True)
class SavedPanel:
    """What the search page shows of saved searches: the links and the notice of the last save."""

    links: list[SavedLink]
    notice: Notice | None


def saved_panel(request: Request, session: Session, user: User) -> SavedPanel:
    """The search page's saved-search panel for ``user``."""
    return SavedPanel(links=saved_links(session, user), notice=pop_flash(request))


@router.get("")
def saved_searches_page(request: Request, session: SessionDep, user: PageUser) -> Response:
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "notice": pop_flash(request),
        "links": saved_links(session, user),
    }
    return templates.TemplateResponse(request, "saved_searches.html", context)


@router.post("")
def save(
    request: Request,
    session: SessionDep,
    user: PageUser,
    csrf: CsrfField = "",
    name: NameField = "",
    q: Annotated[str, Form(max_length=saved.MAX_QUERY)] = "",
    sector: ValuesField = None,
    country: ValuesField = None,
    type: ValuesField = None,
) -> Response:
    require_csrf(request, csrf)
    filters = {"sector": sector or [], "country": country or [], "type": type or []}
    try:
        query = saved.SavedQuery.of(q, filters)
    except ValidationError:
        flash(
            request, "Lancez d'abord une recherche ou choisissez un filtre avant de l'enregistrer.", "error"
        )
        return RedirectResponse("/recherche", status_code=303)
    try:
        row = saved.create_saved_search(session, user, name, query)
    except ConflictError:
        flash(request, "Vous avez atteint le nombre maximal de recherches enregistrées.", "error")
    else:
        flash(request, f"Recherche « {row.name} » enregistrée.")
    return RedirectResponse(search_url(query), status_code=303)


@router.post("/{saved_id}/renommer")
def rename(
    request: Request,
    session: SessionDep,
    user: PageUser,
    saved_id: RowId,
    csrf: CsrfField = "",
    name: NameField = "",
) -> Response:
    require_csrf(request, csrf)
    try:
        row = saved.rename_saved_search(session, user, saved_id, name)
    except ValidationError:
        flash(request, "Donnez un nom à la recherche.", "error")
    else:
        flash(request, f"Recherche renommée en « {row.name} ».")
    return RedirectResponse(LIST_URL, status_code=303)


@router.post("/{saved_id}/supprimer")
def delete(
    request: Request, session: SessionDep, user: PageUser, saved_id: RowId, csrf: CsrfField = ""
) -> Response:
    require_csrf(request, csrf)
    row = saved.get_saved_search(session, user, saved_id)
    name = row.name
    saved.delete_saved_search(session, user, saved_id)
    flash(request, f"Recherche « {name} » supprimée.")
    return RedirectResponse(LIST_URL, status_code=303)
