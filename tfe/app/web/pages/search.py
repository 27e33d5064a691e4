"""``/`` and ``/recherche``: the search page with facets, active filters, highlighted snippets, pagination.

Sorted by relevance or date (``sort``), bounded by two dates (``date_from``, ``date_to``), filtered and
counted by organisation and language besides sector, country and type; each filter is a removable chip.

« Regrouper la veille par actualité » (``group=stories``) collapses the watch hits of one story into its
best-ranked hit, which links to the story page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from search import query_syntax
from search.explain import why_fr
from search.service import LANGUAGE, MAX_QUERY_CHARS, SearchParams, SearchService, parse_day
from taxonomy.models import Concept
from tfe.app.web.api.search import run_search
from tfe.app.web.deps import PageScopeDep, PageUser, RuntimeDep, SessionDep, csrf_token
from tfe.app.web.pages.field_filters import (
    chip_label,
    facet_blocks,
    facet_candidates,
    field_pairs,
    search_fields,
)
from tfe.app.web.pages.saved_searches import saved_panel
from tfe.app.web.templating import templates
from tfe.core.errors import ValidationError
from tfe.core.security.audit import Actor
from tfe.core.security.scope import AccessScope

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE_SIZE = 10
FACETS = (
    ("sector", "Secteur"),
    ("country", "Pays"),
    ("type", "Type de document"),
    ("org", "Organisation"),
    ("language", "Langue"),
    ("filiere", "Filière"),
    ("signal", "Signal"),
)
CONCEPT_FACETS = ("sector", "country", "type")  # the facets a suggestion states (the others carry over)
SORTS = (("relevance", "Pertinence"), ("date", "Plus récents d'abord"), ("date_asc", "Plus anciens d'abord"))


@dataclass(frozen=True)
class SearchState:
    """The page's query: text, filters per facet, page number; builds the links that change one of them."""

    q: str
    filters: dict[str, tuple[str, ...]]
    page: int = 1
    group: str | None = None  # "stories": watch hits grouped by story
    fields: tuple[tuple[str, str], ...] = ()  # typed document fields (``field.<name>=<value>``), as typed
    archived: bool = False  # « Inclure les archives »: archived documents too
    sort: str = "relevance"
    date_from: str = ""  # ISO days (the date inputs' values), both inclusive
    date_to: str = ""

    def url(
        self,
        *,
        filters: dict[str, tuple[str, ...]] | None = None,
        page: int = 1,
        fields: tuple[tuple[str, str], ...] | None = None,
        dates: tuple[str, str] | None = None,
    ) -> str:
        params: list[tuple[str, str]] = [("q", self.q)] if self.q else []
        chosen = filters if filters is not None else self.filters
        for name, _ in FACETS:
            params.extend((name, value) for value in chosen.get(name, ()))
        params.extend((f"field.{n}", v) for n, v in (fields if fields is not None else self.fields))
        date_from, date_to = dates if dates is not None else (self.date_from, self.date_to)
        params.extend((k, v) for k, v in (("date_from", date_from), ("date_to", date_to)) if v)
        if self.sort != "relevance":
            params.append(("sort", self.sort))
        if self.group:
            params.append(("group", self.group))
        if self.archived:
            params.append(("archives", "1"))
        if page > 1:
            params.append(("page", str(page)))
        return "/recherche" + (f"?{urlencode(params)}" if params else "")

    def toggled(self, facet: str, value: str) -> str:
        current = self.filters[facet]
        changed = tuple(v for v in current if v != value) if value in current else (*current, value)
        return self.url(filters={**self.filters, facet: changed})

    @property
    def date_from_fr(self) -> str:
        return day_fr(self.date_from)

    @property
    def date_to_fr(self) -> str:
        return day_fr(self.date_to)

    def without_date(self, which: str) -> str:
        return self.url(dates=("", self.date_to) if which == "from" else (self.date_from, ""))

    def cleared(self) -> str:
        """The same text, sort and options without any filter."""
        return self.url(filters={}, fields=(), dates=("", ""))

    def page_url(self, page: int) -> str:
        return self.url(page=page)

    def without_field(self, name: str, value: str) -> str:
        return self.url(fields=tuple(p for p in self.fields if p != (name, value)))

    @property
    def active(self) -> bool:
        dated = bool(self.date_from or self.date_to)
        return bool(self.q.strip()) or any(self.filters.values()) or bool(self.fields) or dated


def day_fr(value: str | None) -> str:
    """``2025-01-15`` (or an ISO instant) as ``15/01/2025``; other text unchanged, empty for none."""
    text = (value or "")[:10]
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return f"{text[8:10]}/{text[5:7]}/{text[:4]}"
    return text


def checked(session: Session, service: SearchService, scope: AccessScope, state: SearchState) -> SearchState:
    """``state`` with its dates, organisations and languages checked; a bad one is a French error (400).

    An organisation the caller may not name (``SearchService.org_ids``) is as unknown as a missing one."""
    days = []
    for label, value in (("de début", state.date_from), ("de fin", state.date_to)):
        try:
            days.append(parse_day("date", value or None))
        except ValidationError:
            raise ValidationError(
                f"Date {label} non valide : « {value[:20]} » (format attendu : AAAA-MM-JJ)."
            ) from None
    if days[0] and days[1] and days[0] > days[1]:
        raise ValidationError("La date de début doit précéder la date de fin.")
    for value in state.filters.get("language", ()):
        if not LANGUAGE.match(value):
            raise ValidationError(f"Langue inconnue : « {value[:20]} » (code attendu : fr, en…).")
    try:
        service.org_ids(session, scope, state.filters.get("org", ()))
    except ValidationError:
        raise ValidationError("Organisation inconnue dans les filtres.") from None
    return state


def _as_ref(value: Any) -> dict[str, str]:
    """A hit's type/sector/country as ``{"id", "label"}`` whether the service gave a dict or an id."""
    if isinstance(value, dict):
        ident = str(value.get("id", ""))
        return {"id": ident, "label": str(value.get("label") or ident)}
    return {"id": str(value), "label": str(value)}


def _labels(session: Session, result: dict[str, Any], state: SearchState) -> dict[str, str]:
    labels: dict[str, str] = {}
    for entries in result.get("facets", {}).values():
        for entry in entries:
            labels[str(entry["id"])] = str(entry.get("label") or entry["id"])
    for values in state.filters.values():
        for value in values:
            if value not in labels:
                concept = session.get(Concept, value)
                labels[value] = concept.pref_label_fr if concept is not None else value
    return labels


def _search_page(
    request: Request, runtime: Any, session: Session, user: Any, scope: AccessScope, state: SearchState
) -> Response:
    result: dict[str, Any] = {"total": 0, "hits": [], "facets": {}}
    state = checked(session, runtime.search_service, scope, replace(state, fields=field_pairs(request)))
    if state.active:
        params = SearchParams(
            fields=search_fields(runtime.referential, state.fields, state.filters["type"]),
            field_facets=facet_candidates(runtime.referential, state.filters["type"]),
            q=state.q,
            sector=state.filters["sector"],
            country=state.filters["country"],
            type=state.filters["type"],
            limit=PAGE_SIZE,
            offset=(state.page - 1) * PAGE_SIZE,
            org=state.filters["org"],
            language=state.filters["language"],
            filiere=state.filters["filiere"],
            signal=state.filters["signal"],
            sort=state.sort,
            date_from=state.date_from or None,
            date_to=state.date_to or None,
        )
        result = run_search(
            runtime.search_service,
            session,
            scope.with_archived(state.archived),
            Actor.of_user(user, "web"),
            params,
            group=state.group,
        )
    hits = [
        {
            **hit,
            "type_ref": _as_ref(hit["type"]) if hit.get("type") else None,
            "sector_refs": [_as_ref(s) for s in hit.get("sectors", [])],
            "country_refs": [_as_ref(c) for c in hit.get("countries", [])],
            "href": hit.get("url") or f"/documents/{hit['id']}",
            "story_href": f"/veille/actualites/{hit['story_id']}" if hit.get("story_id") else None,
            "date_fr": day_fr(hit.get("date")),
            "why": why_fr(hit.get("explanation")),  # « Pourquoi : mots « vins » · sens proche (0,87) »
        }
        for hit in result.get("hits", [])
    ]
    suggestions = [
        {
            **suggestion,
            "href": _suggestion_state(state, suggestion).url(),
        }
        for suggestion in result.get("suggestions", [])
    ]
    total = int(result.get("total", 0))
    pages = max(1, -(-total // PAGE_SIZE))
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "state": state,
        "facets": FACETS,
        "sorts": SORTS,
        "field_facets": facet_blocks(
            runtime.referential,
            result.get("field_facets", {}),
            state.fields,
            state.filters["type"],
            lambda pairs: state.url(fields=pairs),
        ),
        "field_chips": [
            {
                "label": chip_label(runtime.referential, n, v, state.filters["type"]),
                "href": state.without_field(n, v),
            }
            for n, v in state.fields
        ],
        "hits": hits,
        "total": total,
        "suggestions": suggestions,
        "understood": result.get("understood") or {},  # concepts, corrections, synonyms of the query
        "facet_values": result.get("facets", {}),
        "labels": _labels(session, result, state),
        "page": state.page,
        "pages": pages,
        "saved": saved_panel(request, session, user),
    }
    return templates.TemplateResponse(request, "search.html", context)


def _suggestion_state(state: SearchState, suggestion: dict[str, Any]) -> SearchState:
    """The page state of a suggestion: its text and concept filters; a browse suggestion starts afresh,
    the others keep this page's organisation, language, dates and sort."""
    concepts = {name: tuple(suggestion.get(name, ())) for name in CONCEPT_FACETS}
    if suggestion.get("kind") == "browse":
        return SearchState(q=suggestion["q"], filters={**concepts, "org": (), "language": ()})
    return replace(state, q=suggestion["q"], filters={**state.filters, **concepts}, page=1)


FilterParam = Annotated[list[str] | None, Query(max_length=64)]
DayParam = Annotated[str, Query(max_length=20)]


@router.get("/")
def home(
    request: Request, runtime: RuntimeDep, session: SessionDep, user: PageUser, scope: PageScopeDep
) -> Response:
    state = SearchState(q="", filters={name: () for name, _ in FACETS})
    return _search_page(request, runtime, session, user, scope, state)


@router.get("/recherche")
def search_page(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    user: PageUser,
    scope: PageScopeDep,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
    sector: FilterParam = None,
    country: FilterParam = None,
    type: FilterParam = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    group: Annotated[Literal["stories"] | None, Query()] = None,
    archives: Annotated[bool, Query()] = False,
    org: FilterParam = None,
    language: FilterParam = None,
    filiere: FilterParam = None,
    signal: FilterParam = None,
    sort: Annotated[Literal["relevance", "date", "date_asc"], Query()] = "relevance",
    date_from: DayParam = "",
    date_to: DayParam = "",
) -> Response:
    filters = {
        "sector": tuple(sector or ()),
        "country": tuple(country or ()),
        "type": tuple(type or ()),
        "org": tuple(org or ()),
        "language": tuple(language or ()),
        "filiere": tuple(filiere or ()),
        "signal": tuple(signal or ()),
    }
    state = SearchState(
        q=query_syntax.clean(q),
        filters=filters,
        page=page,
        group=group,
        archived=archives,
        sort=sort,
        date_from=date_from.strip(),
        date_to=date_to.strip(),
    )
    return _search_page(request, runtime, session, user, scope, state)
