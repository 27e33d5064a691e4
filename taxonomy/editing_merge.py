"""Merge and split (contract C2, re-exported by ``taxonomy.editing``).

A merge deprecates the source (``replaced_by_id`` = the target), adds its labels to the target's hidden
labels (they keep matching texts), puts its children under the target and moves its classification rows
to the target: ``moved`` lists each row (``{"id", "from", "to"}``) so a revert can move it back. A row whose
target already holds the target concept is a duplicate: the weaker of the two is dropped (a curator's
row beats any other) and listed with ``"to": None`` and its full ``"row"`` so a revert re-creates it. A
curator's rejection of the source stays on the source: it said "not this concept", not "not the target".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxonomy.changes import record_change, snapshot, snapshot_classification
from taxonomy.classifications import CURATOR, REJECTED
from taxonomy.editing_checks import ancestors, get_concept, live_concept, quote, touch
from taxonomy.models import Classification, Concept, TaxonomyChange
from tfe.core.errors import ConflictError, ValidationError

__all__ = ["merge_concepts", "split_concept"]

MAX_PARTS = 50


def _merged_hidden(source: Concept, target: Concept) -> dict[str, list[str]]:
    hidden = {k: list(v) for k, v in (target.hidden_labels or {}).items()}
    own = {"fr": target.pref_label_fr, "en": target.pref_label_en}
    for lang, pref in (("fr", source.pref_label_fr), ("en", source.pref_label_en)):
        labels = [pref, *(source.alt_labels or {}).get(lang, []), *(source.hidden_labels or {}).get(lang, [])]
        kept = hidden.get(lang, [])
        for label in labels:
            if label and label != own[lang] and label not in kept:
                kept.append(label)
        if kept:
            hidden[lang] = kept
    return hidden


def _rejected(row: Classification) -> bool:
    return row.method == CURATOR and bool((row.explanation or {}).get(REJECTED))


def _move_rows(session: Session, source_id: str, target_id: str) -> list[dict[str, Any]]:
    """Move the source's classification rows to the target; the list of what moved or was dropped."""
    rows = session.scalars(
        select(Classification).where(Classification.concept_id == source_id).order_by(Classification.id)
    ).all()
    holders = {
        (r.target_kind, r.target_id): r
        for r in session.scalars(select(Classification).where(Classification.concept_id == target_id))
    }
    moved: list[dict[str, Any]] = []
    for row in rows:
        if _rejected(row):
            continue
        key = (row.target_kind, row.target_id)
        other = holders.get(key)
        if other is None:
            row.concept_id = target_id
            holders[key] = row
            moved.append({"id": row.id, "from": source_id, "to": target_id})
            continue
        stronger_source = row.method == CURATOR and other.method != CURATOR and not _rejected(other)
        loser, winner = (other, row) if stronger_source else (row, other)
        dropped = snapshot_classification(loser)
        session.delete(loser)
        session.flush()
        moved.append({"id": loser.id, "from": dropped["concept_id"], "to": None, "row": dropped})
        if winner is row:
            row.concept_id = target_id
            holders[key] = row
            moved.append({"id": row.id, "from": source_id, "to": target_id})
    session.flush()
    return moved


def merge_concepts(
    session: Session, source_id: str, target_id: str, *, user_id: int | None, reason: str = ""
) -> TaxonomyChange:
    """Merge ``source_id`` into ``target_id`` (see the module docstring for what moves where)."""
    if source_id == target_id:
        raise ValidationError("impossible de fusionner un concept avec lui-même")
    source = get_concept(session, source_id, what="concept à fusionner")
    if source.deprecated:
        raise ConflictError(f"le concept {source_id} est déjà obsolète")
    target = live_concept(session, target_id, what="concept cible")
    if target.scheme_id != source.scheme_id:
        raise ValidationError(
            f"fusion refusée : {target_id} appartient à un autre schéma ({target.scheme_id})"
        )
    if source_id in ancestors(session, target_id):
        raise ValidationError(
            f"fusion refusée : {target_id} est un descendant de {source_id} (fusionnez plutôt l'inverse)"
        )
    children = list(session.scalars(select(Concept).where(Concept.broader_id == source_id)))
    rows = [source, target, *children]
    before = {r.id: snapshot(r) for r in rows}
    target.hidden_labels = _merged_hidden(source, target)
    source.deprecated, source.replaced_by_id = True, target_id
    for child in children:
        child.broader_id = target_id
    touch(rows)
    session.flush()
    moved = _move_rows(session, source_id, target_id)
    count = sum(1 for m in moved if m["to"] == target_id)
    summary = (
        f"{quote(source.pref_label_fr)} fusionné dans {quote(target.pref_label_fr)} "
        f"({count} classement(s) déplacé(s))"
    )
    return record_change(
        session,
        action="merge",
        concept_id=source_id,
        summary=summary,
        reason=reason,
        user_id=user_id,
        before=before,
        after={r.id: snapshot(r) for r in rows},
        moved=moved,
    )


def split_concept(
    session: Session,
    concept_id: str,
    parts: list[dict[str, Any]],
    *,
    user_id: int | None,
    reason: str = "",
    keep_original: bool = False,
) -> TaxonomyChange:
    """Split a concept into ``parts`` (new concepts beside it, under its parent).

    Unless ``keep_original``, the original is deprecated, replaced by the first part, and its children go
    under the first part. Each part is ``{"notation", "pref_label_fr", ...editable fields}``; its
    classifications are left to reclassification (which part a text belongs to is the classifier's call).
    """
    from taxonomy.editing import new_concept  # the shared add check (editing imports this module)

    original = live_concept(session, concept_id, what="concept à scinder")
    if not isinstance(parts, list) or not parts or len(parts) > MAX_PARTS:
        raise ValidationError(f"indiquez entre 1 et {MAX_PARTS} parties")
    if not keep_original and len(parts) < 2:
        raise ValidationError("une scission sans conserver l'original demande au moins deux parties")
    rows: list[Concept] = []
    for n, part in enumerate(parts, 1):
        if not isinstance(part, dict):
            raise ValidationError(f"partie n° {n} : attendu un objet")
        fields = {k: v for k, v in part.items() if k not in ("notation", "pref_label_fr")}
        try:
            row = new_concept(
                session,
                scheme_id=original.scheme_id,
                notation=part.get("notation", ""),
                pref_label_fr=part.get("pref_label_fr", ""),
                broader_id=original.broader_id,
                fields=fields,
            )
        except (ValidationError, ConflictError) as e:
            raise type(e)(f"partie n° {n} : {e.message}") from e
        if any(r.id == row.id for r in rows):
            raise ValidationError(f"partie n° {n} : la notation {row.notation} est donnée deux fois")
        rows.append(row)
    children = (
        []
        if keep_original
        else [c for c in session.scalars(select(Concept).where(Concept.broader_id == concept_id))]
    )
    before: dict[str, dict[str, Any] | None] = {r.id: None for r in rows}
    before[concept_id] = snapshot(original)
    before.update({c.id: snapshot(c) for c in children})
    touch(rows)
    for row in rows:
        session.add(row)
        session.flush()
    if not keep_original:
        original.deprecated, original.replaced_by_id = True, rows[0].id
        for child in children:
            child.broader_id = rows[0].id
        touch([original, *children])
    session.flush()
    names = ", ".join(quote(r.pref_label_fr) for r in rows)
    summary = f"{quote(original.pref_label_fr)} scindé en {names}"
    after = {r.id: snapshot(r) for r in [*rows, original, *children]}
    return record_change(
        session,
        action="split",
        concept_id=concept_id,
        summary=summary,
        reason=reason,
        user_id=user_id,
        before=before,
        after=after,
    )
