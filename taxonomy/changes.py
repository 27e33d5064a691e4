"""Row snapshots of concepts and the change log: what a curator change was, so it can be shown and undone.

``snapshot(row)`` is every column of a ``concepts`` row as JSON-safe values; ``restore`` writes snapshots
back (``None``: the row must not exist); ``record_change`` stores one ``TaxonomyChange`` with the rows
before and after and bumps the taxonomy version in the caller's transaction, so every process's
referential picks the edit up (``taxonomy.live``). Classification rows get the same treatment
(``snapshot_classification`` / ``restore_classification``) for the rows a merge drops.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import DateTime, update
from sqlalchemy.orm import Session

from taxonomy.models import Classification, Concept, TaxonomyChange
from taxonomy.version import bump_version
from tfe.core.db import Base

__all__ = [
    "VOLATILE",
    "change_view",
    "record_change",
    "restore",
    "restore_classification",
    "same_content",
    "snapshot",
    "snapshot_classification",
    "touched",
]

VOLATILE = frozenset({"updated_at"})  # columns that say when, not what: ignored when comparing states


def _json_safe(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return json.loads(json.dumps(value, default=str))
    return value


def _columns(row: Base) -> dict[str, Any]:
    mapper = row.__mapper__
    return {attr.key: _json_safe(getattr(row, attr.key)) for attr in mapper.column_attrs}


def snapshot(row: Concept) -> dict[str, Any]:
    """Every column of the concept row, JSON-safe (datetimes as ISO strings, JSON columns copied)."""
    return _columns(row)


def snapshot_classification(row: Classification) -> dict[str, Any]:
    """Every column of one classification row, JSON-safe."""
    return _columns(row)


def _values(model: type[Base], snap: Mapping[str, Any]) -> dict[str, Any]:
    """Column values of ``model`` from a snapshot (ISO strings back to datetimes, unknown keys ignored)."""
    out: dict[str, Any] = {}
    for attr in model.__mapper__.column_attrs:
        if attr.key not in snap:
            continue
        value = snap[attr.key]
        column = attr.columns[0]
        if isinstance(column.type, DateTime) and isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        elif isinstance(value, dict | list):
            value = json.loads(json.dumps(value))
        out[attr.key] = value
    return out


def restore(session: Session, snapshots: Mapping[str, dict[str, Any] | None]) -> None:
    """Make the ``concepts`` rows what ``snapshots`` say: update or insert each, delete those mapped to None.

    Rows to delete first lose their parent link (and rows pointing at them are expected to be restored in
    the same call), inserts go parents first, so foreign keys hold at every flush.
    """
    doomed = [cid for cid, snap in snapshots.items() if snap is None]
    if doomed:
        session.execute(update(Concept).where(Concept.id.in_(doomed)).values(broader_id=None))
        session.flush()
    pending = {cid: snap for cid, snap in snapshots.items() if snap is not None}
    while pending:
        ready = [
            cid
            for cid, snap in pending.items()
            if snap.get("broader_id") not in pending or snap.get("broader_id") == cid
        ]
        if not ready:  # rows naming each other (existing rows being updated): any order holds
            ready = list(pending)
        for cid in ready:
            values = _values(Concept, pending.pop(cid))
            row = session.get(Concept, cid)
            if row is None:
                session.add(Concept(**values))
            else:
                for key, value in values.items():
                    setattr(row, key, value)
        session.flush()
    for cid in doomed:
        row = session.get(Concept, cid)
        if row is not None:
            session.delete(row)
    session.flush()


def restore_classification(session: Session, snap: Mapping[str, Any]) -> Classification:
    """Insert (or overwrite) the classification row of a snapshot, keeping its id."""
    values = _values(Classification, snap)
    row = session.get(Classification, values["id"])
    if row is None:
        row = Classification(**values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    session.flush()
    return row


def touched(change: TaxonomyChange) -> set[str]:
    """The concept ids a change wrote (created, changed or removed)."""
    return set(change.before or {}) | set(change.after or {})


def change_view(change: TaxonomyChange) -> dict[str, Any]:
    """A change as the history lists it (API, pages, ``tfe taxonomy history``): who, when, why, what."""
    return {
        "id": change.id,
        "version": change.version,
        "action": change.action,
        "concept_id": change.concept_id,
        "summary": change.summary,
        "reason": change.reason,
        "user_id": change.user_id,
        "created_at": change.created_at.isoformat() if change.created_at is not None else None,
        "concepts": sorted(touched(change)),
        "moved_count": len(change.moved or []),
        "revert_of": change.revert_of,
        "reverted_by": change.reverted_by,
    }


def same_content(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Whether two snapshots describe the same concept (``VOLATILE`` columns ignored)."""
    if a is None or b is None:
        return a is None and b is None
    keys = (set(a) | set(b)) - VOLATILE
    return all(_json_safe(a.get(k)) == _json_safe(b.get(k)) for k in keys)


def record_change(
    session: Session,
    *,
    action: str,
    concept_id: str | None,
    summary: str,
    reason: str,
    user_id: int | None,
    before: Mapping[str, dict[str, Any] | None],
    after: Mapping[str, dict[str, Any] | None],
    moved: Iterable[dict[str, Any]] = (),
) -> TaxonomyChange:
    """Store one change (the taxonomy version bumped in the same transaction) and return it, flushed."""
    version = bump_version(session)
    change = TaxonomyChange(
        version=version,
        action=action,
        concept_id=concept_id,
        summary=summary[:400],
        reason=reason or "",
        user_id=user_id,
        before={k: _json_safe(v) for k, v in before.items()},
        after={k: _json_safe(v) for k, v in after.items()},
        moved=[_json_safe(m) for m in moved],
    )
    session.add(change)
    session.flush()
    return change
