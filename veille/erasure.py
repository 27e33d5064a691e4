"""The watch side of an organisation's erasure: its own sources and the items only it could see.

What goes (``docs/decisions.md``, « What an organisation's erasure removes »):

- the organisation's sources that are not in the shared catalogue (visibility other than ``network``), with
  their polls and every item they brought;
- items owned by the organisation that only it could see (visibility other than ``network``/``public``);
- for each item: its curator decisions, classifications, sealed passage texts, ingest records and data key
  rows; a story left without items is deleted (with its deliveries), another one recounted and retitled.

The organisation's sources in the shared catalogue stay (the network follows them; they bring public news),
released from their owner (``org_id`` cleared). Index entries are removed by the caller before the rows
(``organisation_items`` says which), as for documents.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, delete, distinct, func, or_, select, update
from sqlalchemy.orm import Session

from ingest.models import IngestRecord
from search.models import PassageText
from taxonomy.models import Classification
from tfe.core.crypto.models import DataKey
from veille.alerts.erasure import forget_targets
from veille.models import Item, ItemDecision, Source, SourcePoll, Story

__all__ = ["forget_organisation", "organisation_items"]

SHARED = ("network", "public")


def _private_sources(session: Session, org_id: int) -> list[int]:
    return list(
        session.scalars(select(Source.id).where(Source.org_id == org_id, Source.visibility.not_in(SHARED)))
    )


def organisation_items(session: Session, org_id: int) -> list[str]:
    """Ids of the items an erasure of ``org_id`` removes."""
    sources = _private_sources(session, org_id)
    clauses: list[ColumnElement[bool]] = [and_(Item.org_id == org_id, Item.visibility.not_in(SHARED))]
    if sources:
        clauses.append(Item.source_id.in_(sources))
    return sorted(session.scalars(select(Item.id).where(or_(*clauses))))


def _rowcount(session: Session, stmt: object) -> int:
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[call-overload, attr-defined]


def _restory(session: Session, story_ids: set[str]) -> dict[str, int]:
    gone: list[str] = []
    for story in session.scalars(select(Story).where(Story.id.in_(story_ids))):
        count = int(session.scalar(select(func.count()).where(Item.story_id == story.id)) or 0)
        if count == 0:
            gone.append(story.id)
            continue
        story.item_count = count
        story.source_count = int(
            session.scalar(select(func.count(distinct(Item.source_id))).where(Item.story_id == story.id)) or 0
        )
        first = session.scalar(
            select(Item).where(Item.story_id == story.id).order_by(Item.fetched_at).limit(1)
        )
        story.title = (first.title if first is not None else "")[:1000]
    counts = forget_targets(session, "story", gone)
    counts["stories"] = _rowcount(session, delete(Story).where(Story.id.in_(gone))) if gone else 0
    return counts


def forget_organisation(session: Session, org_id: int, item_ids: list[str]) -> dict[str, int]:
    """Delete the organisation's private sources and ``item_ids`` (``organisation_items``) with their rows."""
    sources = _private_sources(session, org_id)
    counts: dict[str, int] = {}
    story_ids = (
        set(session.scalars(select(Item.story_id).where(Item.id.in_(item_ids), Item.story_id.is_not(None))))
        if item_ids
        else set()
    )
    if item_ids:
        counts["item_decisions"] = _rowcount(
            session, delete(ItemDecision).where(ItemDecision.item_id.in_(item_ids))
        )
        counts["item_classifications"] = _rowcount(
            session,
            delete(Classification).where(
                Classification.target_kind == "item", Classification.target_id.in_(item_ids)
            ),
        )
        counts["item_passage_texts"] = _rowcount(
            session, delete(PassageText).where(PassageText.parent_id.in_(item_ids))
        )
        counts["item_ingest_records"] = _rowcount(
            session,
            delete(IngestRecord).where(
                IngestRecord.target_kind == "item", IngestRecord.target_id.in_(item_ids)
            ),
        )
        counts["item_data_keys"] = _rowcount(
            session, delete(DataKey).where(DataKey.owner_kind == "item", DataKey.owner_id.in_(item_ids))
        )
        counts["items"] = _rowcount(session, delete(Item).where(Item.id.in_(item_ids)))
    else:
        counts["items"] = 0
    if sources:
        _rowcount(session, delete(SourcePoll).where(SourcePoll.source_id.in_(sources)))
        counts["sources"] = _rowcount(session, delete(Source).where(Source.id.in_(sources)))
    else:
        counts["sources"] = 0
    counts["sources_released"] = _rowcount(
        session, update(Source).where(Source.org_id == org_id).values(org_id=None)
    )
    if story_ids:
        for key, value in _restory(session, {s for s in story_ids if s}).items():
            counts[f"story_{key}" if key != "stories" else "stories"] = value
    session.flush()
    return counts
