"""Revert, history and diff of taxonomy changes (contract C2, re-exported by ``taxonomy.editing``).

A revert writes the change's ``before`` rows back and moves its ``moved`` classification rows back, as one
new change of action ``revert``. It is refused when the change was already reverted, or when a later
change that still stands touched one of the same concepts (its edit would be silently lost; revert that
one first), or when the rows are no longer what the change left (edited outside the change log).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxonomy.changes import (
    VOLATILE,
    record_change,
    restore,
    restore_classification,
    same_content,
    snapshot,
    snapshot_classification,
    touched,
)
from taxonomy.editing_checks import touch
from taxonomy.models import Classification, Concept, TaxonomyChange
from tfe.core.errors import ConflictError, NotFoundError, ValidationError

__all__ = ["diff", "get_change", "history", "revert_change"]

MAX_HISTORY = 500
_BATCH = 200


def get_change(session: Session, change_id: int) -> TaxonomyChange:
    change = session.get(TaxonomyChange, change_id)
    if change is None:
        raise NotFoundError(f"modification inconnue : n° {change_id}")
    return change


def _standing_later(session: Session, change: TaxonomyChange) -> TaxonomyChange | None:
    """The first later change, not undone, that touched one of ``change``'s concepts.

    A later change that was reverted, and the revert of a later change, cancel out and are skipped.
    """
    ids = touched(change)
    later = session.scalars(
        select(TaxonomyChange).where(TaxonomyChange.id > change.id).order_by(TaxonomyChange.id)
    )
    for other in later:
        if other.reverted_by is not None or (other.revert_of is not None and other.revert_of > change.id):
            continue
        if ids & touched(other):
            return other
    return None


def _check_revertible(session: Session, change: TaxonomyChange) -> None:
    if change.reverted_by is not None:
        raise ConflictError(
            f"la modification n° {change.id} a déjà été annulée (par la n° {change.reverted_by})"
        )
    later = _standing_later(session, change)
    if later is not None:
        raise ConflictError(
            f"la modification n° {change.id} ne peut plus être annulée : la n° {later.id} ({later.summary}) "
            "a modifié depuis les mêmes concepts ; annulez-la d'abord"
        )
    for cid, after in (change.after or {}).items():
        row = session.get(Concept, cid)
        if not same_content(snapshot(row) if row is not None else None, after):
            raise ConflictError(
                f"le concept {cid} a été modifié hors de l'historique depuis la n° {change.id}"
            )
    doomed = [cid for cid, snap in (change.before or {}).items() if snap is None]
    if doomed:
        used = session.scalar(select(Classification.concept_id).where(Classification.concept_id.in_(doomed)))
        if used is not None:
            raise ConflictError(f"annulation refusée : des documents ou articles sont classés sous {used}")
        restored = set(change.before or {})
        child = session.scalar(
            select(Concept.id).where(Concept.broader_id.in_(doomed), Concept.id.not_in(restored))
        )
        if child is not None:
            raise ConflictError(f"annulation refusée : {child} a été placé depuis sous un concept à retirer")


def _move_back(session: Session, moved: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Undo ``moved`` (last first); the moves that undo it, so a revert can itself be reverted."""
    undone: list[dict[str, Any]] = []
    for entry in reversed(moved):
        origin, dest = entry.get("from"), entry.get("to")
        if dest is None and entry.get("row"):  # a dropped duplicate: re-create it
            if session.get(Classification, entry["id"]) is None:
                restore_classification(session, entry["row"])
                undone.append({"id": entry["id"], "from": None, "to": origin})
            continue
        row = session.get(Classification, entry["id"])
        if row is None or row.concept_id != dest:
            continue  # gone or moved since (reclassified): nothing to move back
        if origin is None:  # a re-created row: drop it again
            snap = snapshot_classification(row)
            session.delete(row)
            undone.append({"id": entry["id"], "from": dest, "to": None, "row": snap})
        else:
            row.concept_id = origin
            undone.append({"id": entry["id"], "from": dest, "to": origin})
        session.flush()
    return undone


def revert_change(
    session: Session, change_id: int, *, user_id: int | None, reason: str = ""
) -> TaxonomyChange:
    """Undo change ``change_id`` as a new change of action ``revert`` (see the module docstring)."""
    change = get_change(session, change_id)
    _check_revertible(session, change)
    ids = sorted(touched(change))
    current = {cid: (snapshot(r) if (r := session.get(Concept, cid)) is not None else None) for cid in ids}
    restore(session, {cid: change.before.get(cid) for cid in ids})
    rows = [r for cid in ids if (r := session.get(Concept, cid)) is not None]
    touch(rows)
    session.flush()
    undone = _move_back(session, list(change.moved or []))
    revert = record_change(
        session,
        action="revert",
        concept_id=change.concept_id,
        summary=f"Annulation de la n° {change.id} : {change.summary}",
        reason=reason,
        user_id=user_id,
        before=current,
        after={cid: (snapshot(r) if (r := session.get(Concept, cid)) else None) for cid in ids},
        moved=undone,
    )
    revert.revert_of = change.id
    change.reverted_by = revert.id
    session.flush()
    return revert


def history(session: Session, concept_id: str | None = None, limit: int = 50) -> list[TaxonomyChange]:
    """The latest changes (newest first), or those that touched ``concept_id``."""
    if not 1 <= limit <= MAX_HISTORY:
        raise ValidationError(f"limit doit être entre 1 et {MAX_HISTORY}")
    query = select(TaxonomyChange).order_by(TaxonomyChange.id.desc())
    if concept_id is None:
        return list(session.scalars(query.limit(limit)))
    found: list[TaxonomyChange] = []
    offset = 0
    while len(found) < limit:
        batch = list(session.scalars(query.offset(offset).limit(_BATCH)))
        found += [c for c in batch if c.concept_id == concept_id or concept_id in touched(c)]
        if len(batch) < _BATCH:
            break
        offset += _BATCH
    return found[:limit]


def diff(change: TaxonomyChange) -> list[dict[str, Any]]:
    """One ``{"concept_id", "field", "before", "after"}`` per column that differs, concept by concept."""
    out: list[dict[str, Any]] = []
    for cid in sorted(touched(change)):
        before, after = (change.before or {}).get(cid), (change.after or {}).get(cid)
        fields = sorted((set(before or {}) | set(after or {})) - VOLATILE)
        for field in fields:
            old = before.get(field) if before else None
            new = after.get(field) if after else None
            if old != new:
                out.append({"concept_id": cid, "field": field, "before": old, "after": new})
    return out
