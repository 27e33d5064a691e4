"""Checks and clean-ups shared by the curator edits (``taxonomy.editing``): every edit validates its input
here before it writes anything, so a refused edit leaves the tables as they were. Messages are French."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxonomy.models import Concept, ConceptScheme
from taxonomy.rules_validate import validate_rules
from tfe.core.db import utcnow
from tfe.core.errors import ConflictError, NotFoundError, ValidationError

__all__ = [
    "EDITABLE",
    "MAPPING_RELATIONS",
    "NOTATION",
    "ancestors",
    "clean_fields",
    "clean_labels",
    "descendants",
    "get_concept",
    "get_scheme",
    "live_concept",
    "quote",
    "touch",
]

NOTATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAPPING_RELATIONS = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
EDITABLE = (
    "pref_label_fr",
    "pref_label_en",
    "alt_labels",
    "hidden_labels",
    "definition_fr",
    "definition_en",
    "scope_note_fr",
    "related",
    "mappings",
    "rules",
    "level",
)
_TEXTS = {
    "definition_fr": "la définition",
    "definition_en": "la définition anglaise",
    "scope_note_fr": "la note",
}
MAX_LABEL = 400
MAX_TEXT = 20_000
MAX_ITEMS = 200
LANGUAGES = ("fr", "en")


def quote(text: str) -> str:
    return f"« {text} »"


def get_scheme(session: Session, scheme_id: str) -> ConceptScheme:
    scheme = session.get(ConceptScheme, scheme_id)
    if scheme is None:
        raise NotFoundError(f"schéma inconnu : {scheme_id}")
    return scheme


def get_concept(session: Session, concept_id: str, *, what: str = "concept") -> Concept:
    row = session.get(Concept, concept_id)
    if row is None:
        raise NotFoundError(f"{what} inconnu : {concept_id}")
    return row


def live_concept(session: Session, concept_id: str, *, what: str = "concept") -> Concept:
    """The concept, refused (409) when it is deprecated."""
    row = get_concept(session, concept_id, what=what)
    if row.deprecated:
        raise ConflictError(f"le {what} {concept_id} est obsolète : choisissez un concept en vigueur")
    return row


def ancestors(session: Session, concept_id: str | None) -> list[str]:
    """The broader chain of ``concept_id`` (itself first), stopping at a loop should one exist."""
    chain: list[str] = []
    current = concept_id
    while current is not None and current not in chain:
        chain.append(current)
        current = session.scalar(select(Concept.broader_id).where(Concept.id == current))
    return chain


def descendants(session: Session, concept_id: str) -> list[str]:
    """Every concept under ``concept_id`` (children, their children, ...), breadth first."""
    found: list[str] = []
    frontier = [concept_id]
    seen = {concept_id}
    while frontier:
        children = session.scalars(select(Concept.id).where(Concept.broader_id.in_(frontier))).all()
        frontier = [c for c in children if c not in seen]
        seen.update(frontier)
        found.extend(frontier)
    return found


def touch(rows: Iterable[Concept]) -> None:
    now = utcnow()
    for row in rows:
        row.updated_at = now


def _text(value: Any, what: str, *, limit: int, required: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{what} doit être un texte")
    value = value.strip()
    if required and not value:
        raise ValidationError(f"{what} ne peut pas être vide")
    if len(value) > limit:
        raise ValidationError(f"{what} dépasse {limit} caractères")
    return value


def clean_labels(value: Any, what: str) -> dict[str, list[str]]:
    """``{"fr": [...], "en": [...]}``: known languages, labels trimmed, empty and repeated ones dropped."""
    if not isinstance(value, Mapping):
        raise ValidationError(f'{what} : attendu un objet {{"fr": [...], "en": [...]}}')
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        raise ValidationError(f"{what} : langue inconnue {sorted(unknown)[0]!r} (fr ou en)")
    out: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        labels = value.get(lang) or []
        if not isinstance(labels, list) or len(labels) > MAX_ITEMS:
            raise ValidationError(f"{what} ({lang}) : attendu une liste d'au plus {MAX_ITEMS} libellés")
        cleaned = [_text(v, f"{what} ({lang})", limit=MAX_LABEL) for v in labels]
        unique = list(dict.fromkeys(v for v in cleaned if v))
        if unique:
            out[lang] = unique
    return out


def _concept_ids(session: Session, value: Any, what: str, own_id: str | None) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise ValidationError(f"{what} : attendu une liste d'au plus {MAX_ITEMS} identifiants de concept")
    ids = list(dict.fromkeys(_text(v, what, limit=64, required=True) for v in value))
    if own_id is not None and own_id in ids:
        raise ValidationError(f"{what} : un concept ne peut pas se citer lui-même")
    known = set(session.scalars(select(Concept.id).where(Concept.id.in_(ids))).all()) if ids else set()
    missing = [i for i in ids if i not in known]
    if missing:
        raise ValidationError(f"{what} : concept inconnu {missing[0]}")
    return ids


def _mappings(session: Session, value: Any, own_id: str | None) -> list[dict[str, str]]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise ValidationError(f"les correspondances : attendu une liste d'au plus {MAX_ITEMS} éléments")
    out: list[dict[str, str]] = []
    for n, item in enumerate(value, 1):
        if not isinstance(item, Mapping) or set(item) - {"relation", "target"}:
            raise ValidationError(f'correspondance n° {n} : attendu {{"relation", "target"}}')
        relation = item.get("relation")
        if relation not in MAPPING_RELATIONS:
            raise ValidationError(
                f"correspondance n° {n} : relation inconnue {relation!r} ({', '.join(MAPPING_RELATIONS)})"
            )
        target = _concept_ids(session, [item.get("target")], f"correspondance n° {n}", own_id)[0]
        entry = {"relation": str(relation), "target": target}
        if entry not in out:
            out.append(entry)
    return out


def _rules(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise ValidationError(f"les règles : attendu une liste d'au plus {MAX_ITEMS} règles")
    return [dict(r) for r in validate_rules(list(value))]


def clean_fields(session: Session, fields: Mapping[str, Any], own_id: str | None) -> dict[str, Any]:
    """The editable ``fields`` checked and normalised (column name → value); unknown names refused."""
    unknown = [k for k in fields if k not in EDITABLE]
    if unknown:
        raise ValidationError(f"champ non modifiable : {unknown[0]}")
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "pref_label_fr":
            out[key] = _text(value, "le libellé français", limit=MAX_LABEL, required=True)
        elif key == "pref_label_en":
            out[key] = _text(value, "le libellé anglais", limit=MAX_LABEL)
        elif key == "level":
            out[key] = _text(value, "le niveau", limit=16)
        elif key in _TEXTS:
            out[key] = _text(value, _TEXTS[key], limit=MAX_TEXT)
        elif key == "alt_labels":
            out[key] = clean_labels(value, "les libellés alternatifs")
        elif key == "hidden_labels":
            out[key] = clean_labels(value, "les libellés cachés")
        elif key == "related":
            out[key] = _concept_ids(session, value, "les concepts associés", own_id)
        elif key == "mappings":
            out[key] = _mappings(session, value, own_id)
        else:
            out[key] = _rules(value)
    return out
