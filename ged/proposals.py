"""Field values proposed from what the classifier and the text say; a person confirms them (``ged.fields``).

``propose_fields`` looks at the document's current version and type:

- concept fields: the document's classifications of the field's scheme (country, sector, zone; the
  best-scored one, or all of them for a list field), origin ``classification``;
- date fields with ``cues`` (``"valable jusqu"``, ``"édition"``): the first French date found just after
  a cue (``12 mars 2026``, ``1er mars 2026``, ``12/03/2026``, ``2026-03-12``, ``mars 2026``), origin ``text``;
- choice fields whose choices carry ``cues`` (``€``, ``USD``): the choice the text names most
  (origin ``text``).

Proposals are stored in ``Document.proposed_fields`` (sealed at rest) with the version and type they were
computed for, so they are computed again when either changes; a proposal is never applied by itself.
Values already set are not proposed again; a proposal that fails the field's validation is left out.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ged.field_schema import FieldsError, FieldSpec, TypeSchema, carry_over, schema_for
from ged.models import Document, DocumentVersion
from taxonomy.classifications import ClassificationView, classifications_of
from taxonomy.referential import Referential

__all__ = ["find_dates", "proposals_current", "propose_fields", "retype_fields"]

MAX_TEXT = 200_000  # characters of the text looked at
CUE_WINDOW = 80  # a date must start within this many characters after its cue
_MONTHS = {
    "janvier": 1,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
}
_MONTH = "|".join(_MONTHS)
_DATE = re.compile(
    rf"\b(?:(?P<d>\d{{1,2}})(?:er)?\s+(?P<m>{_MONTH})\s+(?P<y>\d{{4}})"
    rf"|(?P<m2>{_MONTH})\s+(?P<y2>\d{{4}})"
    r"|(?P<d3>\d{1,2})[/.](?P<m3>\d{1,2})[/.](?P<y3>\d{4})"
    r"|(?P<y4>\d{4})-(?P<m4>\d{2})-(?P<d4>\d{2}))\b"
)


def _fold(text: str) -> str:
    """Lower case without accents, same length as ``text`` (positions stay valid)."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFD", ch)[0]
        out.append(base.lower() if len(base.lower()) == 1 else ch)
    return "".join(out)


def _date_of(match: re.Match[str]) -> dt.date | None:
    g = match.groupdict()
    try:
        if g["y"]:
            return dt.date(int(g["y"]), _MONTHS[g["m"]], int(g["d"]))
        if g["y2"]:
            return dt.date(int(g["y2"]), _MONTHS[g["m2"]], 1)
        if g["y3"]:
            return dt.date(int(g["y3"]), int(g["m3"]), int(g["d3"]))
        return dt.date(int(g["y4"]), int(g["m4"]), int(g["d4"]))
    except ValueError:
        return None


def find_dates(text: str) -> list[tuple[int, dt.date, str]]:
    """Every French date of ``text``: its position, the date and the words as written."""
    folded = _fold(text)
    out = []
    for match in _DATE.finditer(folded):
        when = _date_of(match)
        if when is not None and 1900 <= when.year <= 2200:
            out.append((match.start(), when, text[match.start() : match.end()]))
    return out


def _excerpt(text: str, start: int, end: int) -> str:
    left, right = max(0, start - 40), min(len(text), end + 40)
    return ("…" if left else "") + " ".join(text[left:right].split()) + ("…" if right < len(text) else "")


def _cued_date(
    spec: FieldSpec, text: str, folded: str, dates: list[tuple[int, dt.date, str]]
) -> dict[str, Any] | None:
    best: tuple[int, dt.date, str, int] | None = None
    for cue in spec.cues:
        for hit in re.finditer(re.escape(_fold(cue)), folded):
            after = [d for d in dates if hit.end() <= d[0] <= hit.end() + CUE_WINDOW]
            if after and (best is None or hit.start() < best[3]):
                best = (*after[0], hit.start())
    if best is None:
        return None
    pos, when, words, cue_at = best
    return {"value": when.isoformat(), "origin": "text", "evidence": _excerpt(text, cue_at, pos + len(words))}


def _cue_pattern(cue: str) -> re.Pattern[str]:
    folded = re.escape(_fold(cue))
    return re.compile(rf"(?<!\w){folded}(?!\w)" if cue[:1].isalnum() else folded)


def _named_choice(spec: FieldSpec, text: str, folded: str) -> dict[str, Any] | None:
    counts: list[tuple[int, int, str, int]] = []  # (count, -first position, value, first position)
    for choice in spec.choices:
        hits = [m for cue in choice.cues for m in _cue_pattern(cue).finditer(folded)]
        if hits:
            first = min(m.start() for m in hits)
            counts.append((len(hits), -first, choice.value, first))
    if not counts:
        return None
    _count, _neg, value, first = max(counts)
    return {"value": value, "origin": "text", "evidence": _excerpt(text, first, first + 1)}


def _from_classifications(spec: FieldSpec, views: list[ClassificationView]) -> dict[str, Any] | None:
    found = [c for c in views if c.scheme == spec.scheme]
    if not found:
        return None
    chosen = found if spec.multiple else found[:1]
    evidence = "; ".join(f"{c.label} ({c.score:.2f}, {c.method})" for c in chosen)
    value: Any = [c.concept_id for c in chosen] if spec.multiple else chosen[0].concept_id
    return {"value": value, "origin": "classification", "evidence": evidence}


def _latest(session: Session, doc_id: str) -> DocumentVersion | None:
    return session.scalar(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == doc_id)
        .order_by(DocumentVersion.number.desc())
        .limit(1)
    )


def _valid(schema: TypeSchema, name: str, value: Any, referential: Referential) -> bool:
    try:
        schema.validate({name: value}, referential, partial=True)
    except FieldsError:
        return False
    return True


def proposals_current(document: Document, version: int | None) -> bool:
    """Whether the stored proposals were computed for this version and type."""
    stored = document.proposed_fields or {}
    return bool(stored) and stored.get("version") == version and stored.get("doc_type") == document.doc_type


def propose_fields(session: Session, doc_id: str, referential: Referential) -> dict[str, Any]:
    """Compute and store the proposals of a document (no access check: callers check); the stored dict.

    ``{"version": n, "doc_type": id, "items": {name: {"value", "origin", "evidence"}}}``.
    """
    document = session.get(Document, doc_id)
    if document is None:
        return {}
    schema = schema_for(document.doc_type)
    version = _latest(session, doc_id)
    text = (version.text or "")[:MAX_TEXT] if version is not None else ""
    folded = _fold(text)
    dates = find_dates(text) if any(f.cues for f in schema.fields) else []
    views = classifications_of(session, "document", doc_id)
    current = document.fields or {}
    items: dict[str, Any] = {}
    for spec in schema.fields:
        proposal: dict[str, Any] | None = None
        if spec.type == "concept":
            proposal = _from_classifications(spec, views)
        elif spec.type == "date" and spec.cues:
            proposal = _cued_date(spec, text, folded, dates)
        elif spec.type == "choice" and any(c.cues for c in spec.choices):
            proposal = _named_choice(spec, text, folded)
        if proposal is None or current.get(spec.name) == proposal["value"]:
            continue
        if _valid(schema, spec.name, proposal["value"], referential):
            items[spec.name] = proposal
    stored = {
        "version": version.number if version is not None else None,
        "doc_type": document.doc_type,
        "items": items,
        **({"dropped": dropped} if (dropped := (document.proposed_fields or {}).get("dropped")) else {}),
    }
    document.proposed_fields = stored
    return stored


def retype_fields(document: Document, old_type: str | None, referential: Referential) -> list[str]:
    """After ``document.doc_type`` changed: keep the values valid in the new type, drop the others.

    The dropped values are kept beside the proposals (``proposed_fields["dropped"]``: the old type and
    the values) so that the document page can tell who edits next what was removed; the next save of the
    fields clears the note. Returns the dropped names.
    """
    values = document.fields or {}
    kept, dropped = carry_over(document.doc_type, values, referential)
    if dropped:
        document.fields = kept
        note = {"from": old_type, "values": {name: values[name] for name in dropped}}
        document.proposed_fields = {**(document.proposed_fields or {}), "dropped": note}
    return dropped
