"""``/veille/actualites`` and ``/veille/actualites/{id}``: watch stories as French pages.

The list shows one card per story the user sees (title, sources, « N articles de M sources », first and
last seen in Europe/Paris time, the newest item's summary), newest first, paginated, with optional
sector and country filters; the story page lists its visible items in time order, each linking to its
page (``/items/{id}``) and to the original article. Both read through ``veille.stories`` (scoped, audited).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tfe.app.web.deps import PageScopeDep, PageUser, RuntimeDep, SessionDep, TargetId, csrf_token
from tfe.app.web.templating import templates
from tfe.core.errors import ValidationError
from veille import stories
from veille.items import summaries_of

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE = "/veille/actualites"
PAGE_SIZE = 20
SNIPPET_CHARS = 300
PARIS = ZoneInfo("Europe/Paris")


def paris_time(at: dt.datetime | None) -> str:
    """``at`` (UTC; naive means UTC) as Paris wall-clock time, « 02/05/2024 à 09:05 »."""
    if at is None:
        return "—"
    aware = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at
    return aware.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def counts_fr(items: int, sources: int) -> str:
    """« 3 articles de 2 sources », singular where it applies."""
    article = "article" if items == 1 else "articles"
    source = "source" if sources == 1 else "sources"
    return f"{items} {article} de {sources} {source}"


def external_url(url: str | None) -> str | None:
    """The original article's address when it is a web link (never a javascript: or data: URL)."""
    return url if url and url.startswith(("https://", "http://")) else None


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rstrip() + "…"


def _published(item: stories.StoryItemView) -> dt.datetime:
    at = item.published_at
    if at is None:
        return dt.datetime.max.replace(tzinfo=dt.UTC)
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def _card(view: stories.StoryView, summaries: dict[str, str]) -> dict[str, Any]:
    newest = view.items[0] if view.items else None
    return {
        "id": view.id,
        "title": view.title or "Sans titre",
        "href": f"{PAGE}/{view.id}",
        "counts": counts_fr(view.item_count, len(view.sources)),
        "sources": [s["title"] or f"Source {s['id']}" for s in view.sources],
        "first_seen": paris_time(view.first_seen_at),
        "last_seen": paris_time(view.last_seen_at),
        "snippet": _snippet(summaries.get(newest.id, "")) if newest else "",
    }


def _page_url(page: int, sector: str, country: str) -> str:
    params = [(k, v) for k, v in (("sector", sector), ("country", country)) if v]
    if page > 1:
        params.append(("page", str(page)))
    return PAGE + (f"?{urlencode(params)}" if params else "")


FilterText = Annotated[str, Query(max_length=200)]


@router.get(PAGE)
def stories_page(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    user: PageUser,
    scope: PageScopeDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    sector: FilterText = "",
    country: FilterText = "",
) -> Response:
    sector, country = sector.strip(), country.strip()
    errors: list[str] = []
    try:
        found = stories.story_page(
            session,
            scope,
            referential=runtime.referential,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            sector=sector or None,
            country=country or None,
            channel="web",
        )
    except ValidationError as exc:
        errors.append(_filter_error(exc, sector, country))
        found = stories.StoryPage(total=0, stories=[])
    newest = [s.items[0].id for s in found.stories if s.items]
    summaries = summaries_of(session, scope, newest)
    pages = max(1, -(-found.total // PAGE_SIZE))
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "cards": [_card(s, summaries) for s in found.stories],
        "total": found.total,
        "page": page,
        "pages": pages,
        "form": {"sector": sector, "country": country},
        "errors": errors,
        "page_url": lambda p: _page_url(p, sector, country),
    }
    return templates.TemplateResponse(request, "stories.html", context)


def _filter_error(exc: ValidationError, sector: str, country: str) -> str:
    if "sector" in exc.message:
        return f"Secteur inconnu : « {sector} »."
    if "country" in exc.message:
        return f"Pays ou zone inconnu : « {country} »."
    return "Filtres invalides."


@router.get(PAGE + "/{story_id}")
def story_page(
    request: Request, session: SessionDep, user: PageUser, scope: PageScopeDep, story_id: TargetId
) -> Response:
    view = stories.read_story(session, story_id, scope, channel="web")
    summaries = summaries_of(session, scope, [i.id for i in view.items])
    items = sorted(reversed(view.items), key=_published)  # oldest first; undated ones last, as collected
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "story": view,
        "counts": counts_fr(view.item_count, len(view.sources)),
        "first_seen": paris_time(view.first_seen_at),
        "last_seen": paris_time(view.last_seen_at),
        "items": [
            {
                "id": i.id,
                "title": i.title or "Sans titre",
                "href": f"/items/{i.id}",
                "url": external_url(i.url),
                "source": (i.source or {}).get("title") or "",
                "published": paris_time(i.published_at) if i.published_at else "",
                "snippet": _snippet(summaries.get(i.id, "")),
            }
            for i in items
        ],
    }
    return templates.TemplateResponse(request, "story.html", context)
