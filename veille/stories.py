"""Stories in the database: assign each saved item to its story, and read stories in a caller's scope.

Write side: ``StoryAssigner.assign(session, item)`` (the poller calls it after an item is saved)
computes the item's features once (the e5 vector of the headline and lead, a MinHash of its word
shingles), stores them on the item, lets ``veille.clustering.StoryClusterer`` decide, and creates or
updates the ``Story`` row (counters, first and last seen, a representative title). On first use it
reloads the recent window from the stored features, so a restart does not split stories.

Read side: ``list_stories`` and ``read_story`` rebuild what the caller is shown only from the items
their ``AccessScope`` lets them see, filtered inside the query; the title shown is the title of a
visible item, so a private item's headline never leaks through a story it belongs to. ``story_page``
is the audited listing the API and the pages call: one page, the total, filters by date, sector, country.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from sqlalchemy import ColumnElement, Integer, Select, distinct, func, null, select
from sqlalchemy.orm import Session, aliased

from tfe.core.errors import NotFoundError, ValidationError
from tfe.core.security import audit
from tfe.core.security.scope import AccessScope
from veille.clustering import (
    Assignment,
    ClusterParams,
    StoryCandidate,
    StoryClusterer,
    as_utc,
    candidate,
    feature_text,
    signature,
)
from veille.items import classified_under
from veille.models import Item, Source, Story

if TYPE_CHECKING:
    from search.embeddings import Embedder
    from taxonomy.referential import Referential

__all__ = [
    "StoryAssigner",
    "StoryItemView",
    "StoryPage",
    "StoryView",
    "assign_story",
    "candidate_of",
    "count_stories",
    "item_time",
    "list_stories",
    "load_window",
    "read_story",
    "story_page",
]

_TITLE_MEMBERS = 200  # members looked at to choose a story's representative title


# -- write side ------------------------------------------------------------------------------------


def item_time(item: Item) -> dt.datetime:
    """The item's date for the story window: its publication date, never later than its fetch."""
    fetched = as_utc(item.fetched_at) or dt.datetime.now(dt.UTC)
    published = as_utc(item.published_at)
    return min(published, fetched) if published is not None else fetched


def _vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


def _feature_text(item: Item) -> str:
    return feature_text(item.title or "", item.summary or item.text or "")


def candidate_of(item: Item, params: ClusterParams | None = None) -> StoryCandidate:
    """The clusterer's view of an item whose story vector is stored."""
    if item.story_vector is None:
        raise ValueError(f"item {item.id!r} has no story vector")
    hashes = np.frombuffer(item.story_signature, dtype=np.uint64) if item.story_signature else None
    text = _feature_text(item)
    return candidate(item.id, text, _vector(item.story_vector), item_time(item), params, hashes=hashes)


def compute_features(item: Item, embedder: Embedder, params: ClusterParams) -> None:
    """Store the item's story vector and MinHash signature (once; kept if already there)."""
    text = _feature_text(item)
    if item.story_vector is None:
        item.story_vector = np.asarray(embedder.query(text), dtype=np.float32).tobytes()
    if item.story_signature is None:
        item.story_signature = signature(text, params).tobytes()


def load_window(session: Session, clusterer: StoryClusterer, *, now: dt.datetime | None = None) -> int:
    """Seed ``clusterer`` with the members of the stories seen within its window; returns the items.

    The window ends at ``now``, by default at the last item seen (the stream's clock, not the wall's).
    """
    query = (
        select(Item)
        .join(Story, Story.id == Item.story_id)
        .where(Item.story_vector.is_not(None))
        .order_by(Item.fetched_at, Item.id)
    )
    window = clusterer.params.window
    if window is not None:
        end = as_utc(now) or as_utc(session.scalar(select(func.max(Story.last_seen_at))))
        if end is not None:
            query = query.where(Story.last_seen_at >= end - window)
    count = 0
    for item in session.scalars(query):
        assert item.story_id is not None
        clusterer.seed(item.story_id, [candidate_of(item, clusterer.params)])
        count += 1
    return count


def _representative_title(items: Sequence[Item]) -> str:
    """The headline of the member closest to the story's mean vector (the first one without vectors)."""
    with_vectors = [i for i in items if i.story_vector is not None and i.title]
    if not with_vectors:
        return next((i.title for i in items if i.title), "")
    matrix = np.vstack([_vector(i.story_vector) for i in with_vectors if i.story_vector is not None])
    best = int(np.argmax(matrix @ matrix.mean(axis=0)))
    return with_vectors[best].title


def _update_story(session: Session, story: Story, item: Item, at: dt.datetime) -> None:
    story.item_count = (story.item_count or 0) + 1
    first, last = as_utc(story.first_seen_at), as_utc(story.last_seen_at)
    story.first_seen_at = min(first, at) if first is not None else at
    story.last_seen_at = max(last, at) if last is not None else at
    session.flush()
    story.source_count = int(
        session.scalar(select(func.count(distinct(Item.source_id))).where(Item.story_id == story.id)) or 0
    )
    members = list(
        session.scalars(
            select(Item).where(Item.story_id == story.id).order_by(Item.fetched_at).limit(_TITLE_MEMBERS)
        )
    )
    story.title = _representative_title(members)[:1000]


def assign_story(
    session: Session, item: Item, clusterer: StoryClusterer, embedder: Embedder | None = None
) -> Assignment:
    """Assign a saved item to its story (features computed with ``embedder`` when not stored yet).

    Runs in the caller's transaction; an item that already has a story keeps it.
    """
    if item.story_vector is None:
        if embedder is None:
            raise ValueError(f"item {item.id!r} has no story vector and no embedder was given")
        compute_features(item, embedder, clusterer.params)
    elif item.story_signature is None:
        item.story_signature = signature(_feature_text(item), clusterer.params).tobytes()
    features = candidate_of(item, clusterer.params)
    if item.story_id is not None:
        clusterer.seed(item.story_id, [features])
        return Assignment(item.story_id, created=False, similarity=1.0)
    decision = clusterer.assign(features)
    at = item_time(item)
    story = session.get(Story, decision.story_id)
    if story is None:
        story = Story(id=decision.story_id, title=item.title[:1000], first_seen_at=at, last_seen_at=at)
        session.add(story)
        session.flush()
    item.story_id = story.id
    _update_story(session, story, item, at)
    return decision


class StoryAssigner:
    """What the poller holds: an embedder and a clusterer whose window is reloaded on first use."""

    def __init__(self, embedder: Embedder, params: ClusterParams | None = None) -> None:
        self.embedder = embedder
        self.clusterer = StoryClusterer(params)
        self._loaded = False

    def assign(self, session: Session, item: Item) -> Assignment:
        if not self._loaded:
            load_window(session, self.clusterer)
            self._loaded = True
        return assign_story(session, item, self.clusterer, self.embedder)


# -- read side -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoryItemView:
    id: str
    title: str
    url: str | None
    source: dict[str, Any] | None  # {"id", "title"}
    published_at: dt.datetime | None
    curator_status: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "source": self.source,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "curator_status": self.curator_status,
        }


@dataclass(frozen=True)
class StoryView:
    """A story as one caller sees it: everything computed from the items in their scope."""

    id: str
    title: str
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    item_count: int
    sources: list[dict[str, Any]] = field(default_factory=list)  # [{"id", "title"}]
    items: list[StoryItemView] = field(default_factory=list)  # newest first

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "first_seen_at": self.first_seen_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
            "item_count": self.item_count,
            "sources": self.sources,
            "items": [i.as_dict() for i in self.items],
        }


def _visible(scope: AccessScope, include_rejected: bool) -> list[ColumnElement[bool]]:
    # items have no owner: a private item is seen by its organisation's administrators only
    owner = cast("ColumnElement[int | None]", null().cast(Integer))
    clauses = [Item.story_id.is_not(None), scope.sql_clause(Item.visibility, Item.org_id, owner)]
    if not include_rejected:
        clauses.append(Item.curator_status != "rejected")
    return clauses


def _views(
    session: Session, story_ids: Sequence[str], scope: AccessScope, include_rejected: bool
) -> dict[str, StoryView]:
    rows = session.execute(
        select(Item, Source.id, Source.title)
        .outerjoin(Source, Source.id == Item.source_id)
        .where(Item.story_id.in_(list(story_ids)), *_visible(scope, include_rejected))
        .order_by(Item.fetched_at.desc(), Item.id)
    ).all()
    grouped: dict[str, list[tuple[Item, int | None, str | None]]] = {}
    for row in rows:
        assert row[0].story_id is not None
        grouped.setdefault(row[0].story_id, []).append((row[0], row[1], row[2]))
    views = {}
    for story_id, members in grouped.items():
        items = [m[0] for m in members]
        sources: dict[int, dict[str, Any]] = {}
        for _item, source_id, source_title in members:
            if source_id is not None and source_id not in sources:
                sources[source_id] = {"id": source_id, "title": source_title or ""}
        seen = [as_utc(i.fetched_at) or item_time(i) for i in items]
        views[story_id] = StoryView(
            id=story_id,
            title=_representative_title(items[:_TITLE_MEMBERS]),
            first_seen_at=min(seen),
            last_seen_at=max(seen),
            item_count=len(items),
            sources=sorted(sources.values(), key=lambda s: s["id"]),
            items=[
                StoryItemView(
                    id=i.id,
                    title=i.title,
                    url=i.url,
                    source=sources.get(source_id) if source_id is not None else None,
                    published_at=i.published_at,
                    curator_status=i.curator_status,
                )
                for i, source_id, _title in members
            ],
        )
    return views


def list_stories(
    session: Session,
    scope: AccessScope,
    *,
    limit: int = 50,
    offset: int = 0,
    since: dt.datetime | None = None,
    include_rejected: bool = False,
    only: Select[str | None] | None = None,
) -> list[StoryView]:
    """The stories with an item in ``scope``, most recently seen first (by their visible items).

    ``only``: a query of story ids the listing keeps to (``story_page`` builds it for its filters).
    """
    last_seen = func.max(Item.fetched_at)
    query = (
        select(Item.story_id, last_seen.label("last_seen"))
        .where(*_visible(scope, include_rejected))
        .group_by(Item.story_id)
        .order_by(last_seen.desc(), Item.story_id)
        .limit(max(0, limit))
        .offset(max(0, offset))
    )
    if only is not None:
        query = query.where(Item.story_id.in_(only))
    if since is not None:
        query = query.having(last_seen >= since)
    ids = [story_id for story_id, _last in session.execute(query) if story_id is not None]
    views = _views(session, ids, scope, include_rejected)
    return [views[i] for i in ids if i in views]


def read_story(
    session: Session,
    story_id: str,
    scope: AccessScope,
    *,
    channel: str = "api",
    include_rejected: bool = False,
) -> StoryView:
    """One story in ``scope`` (``NotFoundError`` when none of its items is visible), audited."""
    view = _views(session, [story_id], scope, include_rejected).get(story_id)
    if view is None:
        raise NotFoundError(f"unknown story {story_id!r}")
    audit.record(
        session, "story.read", audit.Actor.of_scope(scope, channel), target_kind="story", target_id=story_id
    )
    return view


# -- the audited listing ---------------------------------------------------------------------------

MAX_PAGE = 100  # stories per page at most


def count_stories(
    session: Session,
    scope: AccessScope,
    *,
    since: dt.datetime | None = None,
    include_rejected: bool = False,
    only: Select[str | None] | None = None,
) -> int:
    """How many stories ``list_stories`` finds with the same arguments, over all its pages."""
    grouped = select(Item.story_id).where(*_visible(scope, include_rejected)).group_by(Item.story_id)
    if only is not None:
        grouped = grouped.where(Item.story_id.in_(only))
    if since is not None:
        grouped = grouped.having(func.max(Item.fetched_at) >= since)
    return int(session.scalar(select(func.count()).select_from(grouped.subquery())) or 0)


@dataclass(frozen=True)
class StoryPage:
    total: int
    stories: list[StoryView]

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "stories": [s.as_dict() for s in self.stories]}


def _matching(
    scope: AccessScope, referential: Referential, sector: str | None, country: str | None, rejected: bool
) -> Select[str | None] | None:
    """Ids of the stories with a visible item classified under ``sector`` and ``country`` (None: none)."""
    member = aliased(Item)
    concepts = classified_under(referential, member.id, sector=sector, country=country)
    if not concepts:
        return None
    owner = cast("ColumnElement[int | None]", null().cast(Integer))
    clauses = [member.story_id.is_not(None), scope.sql_clause(member.visibility, member.org_id, owner)]
    if not rejected:
        clauses.append(member.curator_status != "rejected")
    return select(member.story_id).where(*clauses, *concepts)


def story_page(
    session: Session,
    scope: AccessScope,
    *,
    referential: Referential,
    limit: int = 20,
    offset: int = 0,
    since: dt.datetime | None = None,
    sector: str | None = None,
    country: str | None = None,
    include_rejected: bool = False,
    channel: str = "api",
) -> StoryPage:
    """One page of the stories ``scope`` sees, newest last seen first, and their total; audited.

    ``since`` keeps the stories seen since then (a naive time is UTC); ``sector`` (a NAF id, code or
    name, narrower ones included) and ``country`` (a country or a zone) keep the stories with a visible
    item classified so. ``ValidationError`` for a bad page or an unknown concept.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}")
    if offset < 0:
        raise ValidationError("offset must be zero or more")
    since = as_utc(since)
    only = _matching(scope, referential, sector, country, include_rejected)
    args: dict[str, Any] = {"since": since, "include_rejected": include_rejected, "only": only}
    total = count_stories(session, scope, **args)
    stories = list_stories(session, scope, limit=limit, offset=offset, **args) if offset < total else []
    audit.record(
        session,
        "story.list",
        audit.Actor.of_scope(scope, channel),
        target_kind="story",
        detail={
            "since": since.isoformat() if since else None,
            "sector": sector,
            "country": country,
            "include_rejected": include_rejected,
            "limit": limit,
            "offset": offset,
            "total": total,
        },
    )
    return StoryPage(total=total, stories=stories)
