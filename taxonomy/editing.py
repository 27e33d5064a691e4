"""Curator edits of the taxonomy: add, edit, move, merge, split, deprecate, revert (contract C2).

Each function works in the caller's transaction: it checks everything first (``taxonomy.editing_checks``;
a refused edit writes nothing), then writes the rows, stamps ``updated_at`` on the concepts it touched and
records exactly one ``TaxonomyChange`` (rows before and after, the taxonomy version bumped, so every
process's referential and the classifier see the edit at once), which it returns. Errors are
``ValidationError`` (400), ``NotFoundError`` (404) and ``ConflictError`` (409) with French messages.

Merge and split live in ``taxonomy.editing_merge``, revert, history and diff in
``taxonomy.editing_revert``; all are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from taxonomy.changes import record_change, snapshot
from taxonomy.editing_checks import (
    NOTATION,
    ancestors,
    clean_fields,
    get_concept,
    get_scheme,
    live_concept,
    quote,
    touch,
)
from taxonomy.editing_merge import merge_concepts, split_concept
from taxonomy.editing_revert import diff, history, revert_change
from taxonomy.models import Concept, TaxonomyChange
from tfe.core.errors import ConflictError, ValidationError

__all__ = [
    "add_concept",
    "deprecate_concept",
    "diff",
    "edit_concept",
    "history",
    "merge_concepts",
    "move_concept",
    "new_concept",
    "revert_change",
    "split_concept",
]

UsageCheck = Callable[[Session, str], Sequence[Any]]
_LABELS = frozenset({"alt_labels", "hidden_labels"})


def new_concept(
    session: Session,
    *,
    scheme_id: str,
    notation: str,
    pref_label_fr: str,
    broader_id: str | None,
    fields: dict[str, Any],
) -> Concept:
    """A checked, not yet added ``Concept`` row (id ``scheme:notation``); shared by add and split."""
    get_scheme(session, scheme_id)
    if not isinstance(notation, str) or not NOTATION.match(notation.strip()):
        raise ValidationError(
            f"notation invalide {notation!r} : lettres, chiffres, « . », « - » ou « _ », "
            "64 caractères au plus"
        )
    notation = notation.strip()
    concept_id = f"{scheme_id}:{notation}"
    if session.get(Concept, concept_id) is not None:
        raise ConflictError(f"le concept {concept_id} existe déjà")
    if broader_id is not None:
        parent = live_concept(session, broader_id, what="concept parent")
        if parent.scheme_id != scheme_id:
            raise ValidationError(
                f"le concept parent {broader_id} appartient à un autre schéma ({parent.scheme_id})"
            )
    values = clean_fields(session, {**fields, "pref_label_fr": pref_label_fr}, concept_id)
    return Concept(
        id=concept_id,
        scheme_id=scheme_id,
        notation=notation,
        broader_id=broader_id,
        level=values.pop("level", ""),
        alt_labels=values.pop("alt_labels", {}),
        hidden_labels=values.pop("hidden_labels", {}),
        related=values.pop("related", []),
        mappings=values.pop("mappings", []),
        rules=values.pop("rules", []),
        extra={},
        deprecated=False,
        **{"pref_label_en": "", "definition_fr": "", "definition_en": "", "scope_note_fr": "", **values},
    )


def add_concept(
    session: Session,
    *,
    scheme_id: str,
    notation: str,
    pref_label_fr: str,
    broader_id: str | None = None,
    user_id: int | None,
    reason: str = "",
    **fields: Any,
) -> TaxonomyChange:
    """Create the concept ``scheme_id:notation`` (under ``broader_id``, same scheme)."""
    row = new_concept(
        session,
        scheme_id=scheme_id,
        notation=notation,
        pref_label_fr=pref_label_fr,
        broader_id=broader_id,
        fields=fields,
    )
    touch([row])
    session.add(row)
    session.flush()
    return record_change(
        session,
        action="add",
        concept_id=row.id,
        summary=f"Ajout de {quote(row.pref_label_fr)} ({row.id})",
        reason=reason,
        user_id=user_id,
        before={row.id: None},
        after={row.id: snapshot(row)},
    )


def _record_one(
    session: Session,
    row: Concept,
    before: dict[str, Any],
    action: str,
    summary: str,
    reason: str,
    user_id: int | None,
) -> TaxonomyChange:
    """Stamp the one concept a change wrote, and record the change with its rows before and after."""
    touch([row])
    session.flush()
    return record_change(
        session,
        action=action,
        concept_id=row.id,
        summary=summary,
        reason=reason,
        user_id=user_id,
        before={row.id: before},
        after={row.id: snapshot(row)},
    )


def _edit_action(keys: set[str]) -> str:
    if keys <= {"pref_label_fr", "pref_label_en"}:
        return "rename"
    if keys <= _LABELS:
        return "labels"
    if keys == {"rules"}:
        return "rules"
    return "edit"


def edit_concept(
    session: Session, concept_id: str, changes: dict[str, Any], *, user_id: int | None, reason: str = ""
) -> TaxonomyChange:
    """Change labels, notes, related concepts, mappings, rules or level of one concept."""
    row = get_concept(session, concept_id)
    if not changes:
        raise ValidationError("aucune modification demandée")
    values = clean_fields(session, changes, concept_id)
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not changed:
        raise ValidationError("aucune modification : les valeurs sont déjà celles-ci")
    before = snapshot(row)
    old_label = row.pref_label_fr
    for key, value in changed.items():
        setattr(row, key, value)
    if "pref_label_fr" in changed:
        summary = f"{quote(old_label)} renommé en {quote(row.pref_label_fr)}"
    else:
        summary = f"{quote(row.pref_label_fr)} : {', '.join(sorted(changed))} modifiés"
    return _record_one(session, row, before, _edit_action(set(changed)), summary, reason, user_id)


def move_concept(
    session: Session, concept_id: str, new_broader_id: str | None, *, user_id: int | None, reason: str = ""
) -> TaxonomyChange:
    """Put the concept under ``new_broader_id`` (``None``: at the top of its scheme)."""
    row = get_concept(session, concept_id)
    if new_broader_id == row.broader_id:
        raise ValidationError(f"{concept_id} est déjà à cette place")
    label = quote(row.pref_label_fr)
    if new_broader_id is not None:
        parent = live_concept(session, new_broader_id, what="concept parent")
        if parent.scheme_id != row.scheme_id:
            raise ValidationError(
                f"impossible de déplacer {concept_id} sous {new_broader_id} : "
                f"un autre schéma ({parent.scheme_id})"
            )
        if concept_id in ancestors(session, new_broader_id):
            raise ValidationError(
                f"déplacement refusé : {new_broader_id} est {concept_id} lui-même ou l'un de ses descendants "
                "(la hiérarchie formerait une boucle)"
            )
        summary = f"{label} déplacé sous {quote(parent.pref_label_fr)}"
    else:
        summary = f"{label} placé en tête du schéma {row.scheme_id}"
    before = snapshot(row)
    row.broader_id = new_broader_id
    return _record_one(session, row, before, "move", summary, reason, user_id)


def deprecate_concept(
    session: Session,
    concept_id: str,
    *,
    replaced_by: str | None = None,
    user_id: int | None,
    reason: str = "",
    subscriptions_using: UsageCheck | None = None,
) -> TaxonomyChange:
    """Mark the concept obsolete, optionally replaced by another concept of its scheme.

    Without a replacement it is refused while ``subscriptions_using(session, concept_id)`` (the alerts'
    check, ``veille.alerts.concept_usage``, passed in by the callers above the taxonomy) finds any.
    """
    row = get_concept(session, concept_id)
    if row.deprecated:
        raise ConflictError(f"le concept {concept_id} est déjà obsolète")
    summary = f"{quote(row.pref_label_fr)} rendu obsolète"
    if replaced_by is not None:
        if replaced_by == concept_id:
            raise ValidationError("un concept ne peut pas se remplacer lui-même")
        target = live_concept(session, replaced_by, what="concept de remplacement")
        if target.scheme_id != row.scheme_id:
            raise ValidationError(
                f"le remplaçant {replaced_by} appartient à un autre schéma ({target.scheme_id})"
            )
        summary += f", remplacé par {quote(target.pref_label_fr)}"
    elif subscriptions_using is not None:
        users = list(subscriptions_using(session, concept_id))
        if users:
            raise ConflictError(
                f"{concept_id} est utilisé par {len(users)} abonnement(s) aux alertes : indiquez un concept "
                "de remplacement pour le rendre obsolète"
            )
    before = snapshot(row)
    row.deprecated, row.replaced_by_id = True, replaced_by
    return _record_one(session, row, before, "deprecate", summary, reason, user_id)
