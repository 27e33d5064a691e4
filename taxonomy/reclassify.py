"""What a taxonomy change can affect, and what re-running the classifier on it changes (issue 10 §4).

A change (``TaxonomyChange``) touches concepts (``touched_concepts``: the keys of its before/after
snapshots, its main concept, the rows a merge moved). The targets it can affect (``affected_targets``)
are the documents and items holding one of them, one of their narrower concepts, or a concept their
mappings name (a move or a mapping changes the indexed ancestors and filières of those), plus the
targets whose text matches the old or new labels and rules (``search_terms``, looked up through a
``TextSearch`` the caller supplies: the search index, a layer above this one).

``compare`` turns the automatic concepts a target holds and those the classifier now proposes into
gains and losses per touched concept; a concept a curator decided on a target is never counted (nor
written: ``taxonomy.classifications``). ``summary_fr`` says it in one French sentence per concept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxonomy.models import Classification, Concept, TaxonomyChange

__all__ = [
    "MAX_TEXT_MATCHES",
    "RECLASSIFIED_SCHEMES",
    "TargetKey",
    "TextSearch",
    "affected_targets",
    "compare",
    "key_of",
    "rules_of",
    "search_terms",
    "summary_fr",
    "touched_concepts",
]

TargetKey = tuple[str, str]  # ("document" | "item", id)
TextSearch = Callable[[str, int], Iterable[TargetKey]]  # query text, limit -> matching targets
MAX_TEXT_MATCHES = 5_000  # per search term: the bound on what a text lookup adds
MAX_TERMS = 40  # search terms per change (labels and rule patterns)
# Schemes whose rows the reclassification rewrites; a document's type is its own column (chosen at
# upload or edited) and an item's is always news, so the doctype scheme is left alone.
RECLASSIFIED_SCHEMES = frozenset({"naf", "country", "filiere", "signal"})
_LITERAL = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def key_of(key: TargetKey) -> str:
    """The cursor form of a target: ``"document:<id>"`` / ``"item:<id>"`` (processing order)."""
    return f"{key[0]}:{key[1]}"


def touched_concepts(change: TaxonomyChange) -> list[str]:
    """Every concept id the change wrote, sorted."""
    ids: set[str] = set(change.before or {}) | set(change.after or {})
    if change.concept_id:
        ids.add(change.concept_id)
    for moved in change.moved or []:
        if isinstance(moved, dict):
            ids.update(str(moved[k]) for k in ("from", "to") if moved.get(k))
    return sorted(ids)


def _snapshots(change: TaxonomyChange) -> list[dict[str, Any]]:
    return [s for side in (change.before or {}, change.after or {}) for s in side.values() if s]


def rules_of(change: TaxonomyChange, side: str) -> dict[str, list[dict[str, Any]]]:
    """The rules of each concept in the ``"before"`` or ``"after"`` snapshots of the change."""
    rows: Mapping[str, Any] = (change.before if side == "before" else change.after) or {}
    return {cid: list(row.get("rules") or []) for cid, row in rows.items() if row}


def _labels(snapshot: Mapping[str, Any]) -> list[str]:
    out = [str(snapshot.get("pref_label_fr") or ""), str(snapshot.get("pref_label_en") or "")]
    for key in ("alt_labels", "hidden_labels"):
        value = snapshot.get(key) or {}
        if isinstance(value, dict):
            out.extend(str(v) for values in value.values() for v in (values or []))
    return [label for label in out if label.strip()]


def _rule_terms(rule: Mapping[str, Any]) -> list[str]:
    pattern = str(rule.get("pattern") or "")
    kind = rule.get("kind")
    if kind in ("phrase", "all"):
        return [f'"{pattern}"' if kind == "phrase" else pattern]
    if kind == "regex":  # the literal words of the expression: an approximation, the classifier decides
        return _LITERAL.findall(pattern)
    return pattern.split()  # any, fuzzy: each word


def search_terms(change: TaxonomyChange) -> list[str]:
    """Text queries that find what the old or new labels and rules can match (bounded, deduplicated):
    labels of the concepts whose labels or rules changed, and each rule's words."""
    before, after = change.before or {}, change.after or {}
    terms: list[str] = []
    for cid in sorted(set(before) | set(after)):
        old, new = before.get(cid) or {}, after.get(cid) or {}
        if _labels(old) == _labels(new) and (old.get("rules") or []) == (new.get("rules") or []):
            continue  # a move, a note: no new text can match; holders are found by their rows
        for snapshot in (old, new):
            terms.extend(f'"{label}"' if " " in label.strip() else label for label in _labels(snapshot))
            for rule in snapshot.get("rules") or []:
                if isinstance(rule, dict):
                    terms.extend(_rule_terms(rule))
    cleaned = [t.strip() for t in terms if t.strip().strip('"')]
    return list(dict.fromkeys(cleaned))[:MAX_TERMS]


def _with_neighbours(session: Session, change: TaxonomyChange, concept_ids: Sequence[str]) -> set[str]:
    """The concepts, their narrower concepts (any depth) and the concepts their mappings name."""
    ids = set(concept_ids)
    for snapshot in _snapshots(change):
        for mapping in snapshot.get("mappings") or []:
            if isinstance(mapping, dict) and mapping.get("target"):
                ids.add(str(mapping["target"]))
    frontier = set(ids)
    while frontier:
        found = set(session.scalars(select(Concept.id).where(Concept.broader_id.in_(sorted(frontier)))))
        frontier = found - ids
        ids |= frontier
    return ids


def affected_targets(
    session: Session,
    concept_ids: Sequence[str],
    old_rules: Mapping[str, Any] | None = None,
    new_rules: Mapping[str, Any] | None = None,
    *,
    change: TaxonomyChange | None = None,
    terms: Sequence[str] = (),
    text_search: TextSearch | None = None,
    limit: int = MAX_TEXT_MATCHES,
) -> list[TargetKey]:
    """Documents and items the change can affect, in processing order (``key_of``, sorted).

    Holders of ``concept_ids`` (and, with ``change``, of their narrower and mapped concepts), plus the
    targets ``text_search`` finds for ``terms`` and for the words of ``old_rules``/``new_rules``
    (``{concept_id: [rule, ...]}``), at most ``limit`` per term.
    """
    ids = _with_neighbours(session, change, concept_ids) if change is not None else set(concept_ids)
    found: set[TargetKey] = set()
    if ids:
        rows = session.execute(
            select(Classification.target_kind, Classification.target_id)
            .where(Classification.concept_id.in_(sorted(ids)))
            .distinct()
        ).all()
        found.update((str(kind), str(tid)) for kind, tid in rows)
    words = list(terms)
    for rules in (old_rules or {}, new_rules or {}):
        for value in rules.values():
            for rule in value or []:
                if isinstance(rule, dict):
                    words.extend(_rule_terms(rule))
    if text_search is not None:
        for term in dict.fromkeys(w for w in words if w.strip()):
            found.update((str(k), str(i)) for k, i in text_search(term, limit) if k in ("document", "item"))
    return sorted(found, key=key_of)


def compare(
    current: Mapping[TargetKey, set[str]],
    proposed: Mapping[TargetKey, set[str]],
    concepts: Iterable[str],
    curated: Mapping[TargetKey, set[str]] | None = None,
) -> dict[str, dict[str, dict[str, int]]]:
    """Per concept, per target kind, how many targets gain it and how many lose it.

    ``current``: the automatic concepts each target holds; ``proposed``: the classifier's now;
    ``curated``: the concepts a curator decided on each target (never counted).
    """
    wanted = set(concepts)
    out: dict[str, dict[str, dict[str, int]]] = {}
    for key in set(current) | set(proposed):
        held = current.get(key, set()) & wanted
        new = proposed.get(key, set()) & wanted
        locked = (curated or {}).get(key, set())
        for cid, what in [(c, "gain") for c in new - held] + [(c, "lose") for c in held - new]:
            if cid in locked:
                continue
            per_kind = out.setdefault(cid, {}).setdefault(key[0], {"gain": 0, "lose": 0})
            per_kind[what] += 1
    return out


def _count(n: int, kind: str) -> str:
    if kind == "document":
        return f"{n} document{'s' if n > 1 else ''}"
    return f"{n} élément{'s' if n > 1 else ''} de veille"


def _targets(counts: Mapping[str, Mapping[str, int]], what: str) -> str:
    parts = [_count(c[what], kind) for kind, c in sorted(counts.items()) if c.get(what)]
    return " et ".join(parts)


def summary_fr(
    report: Mapping[str, Mapping[str, Mapping[str, int]]], label: Callable[[str], str], *, done: bool = False
) -> str:
    """One French sentence per concept: « 214 documents gagneraient le concept « Viticulture », 12 le
    perdraient » (``done``: « ont gagné », « l'ont perdu »)."""
    sentences = []
    for cid in sorted(report):
        counts = report[cid]
        gained = sum(c.get("gain", 0) for c in counts.values())
        lost = sum(c.get("lose", 0) for c in counts.values())
        gain, lose = _targets(counts, "gain"), _targets(counts, "lose")
        name = f"le concept « {label(cid)} »"
        if done:
            verb_gain = "ont gagné" if gained > 1 else "a gagné"
            verb_lose = (
                ("l'ont perdu" if lost > 1 else "l'a perdu")
                if gain
                else ("ont perdu" if lost > 1 else "a perdu")
            )
        else:
            verb_gain = "gagneraient" if gained > 1 else "gagnerait"
            verb_lose = (
                ("le perdraient" if lost > 1 else "le perdrait")
                if gain
                else ("perdraient" if lost > 1 else "perdrait")
            )
        if gain and lose:
            sentences.append(f"{gain} {verb_gain} {name}, {lose} {verb_lose}")
        elif gain:
            sentences.append(f"{gain} {verb_gain} {name}")
        elif lose:
            sentences.append(f"{lose} {verb_lose} {name}")
    if not sentences:
        return "Aucun classement ne change." if done else "Aucun classement ne changerait."
    return " ; ".join(sentences) + "."
