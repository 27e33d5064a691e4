"""Find concepts by label or code for the taxonomy API and pickers (``GET /api/taxonomy/concepts?q=``).

A query matches whole words or word prefixes of a concept's labels (French and English preferred,
alternative and hidden labels), accent- and case-insensitively, never the inside of a word: ``vin``
finds "Fabrication de vins effervescents" and "Vinification", not "bovins". Ranking, best first: exact
code or id, exact preferred label, exact other label, code prefix (``11.0``), every query word a whole
word of the preferred label, then of another label, then as word prefixes; ties go to the shorter label.
The scheme's concepts are ranked in Python (a scheme has at most a few thousand), which keeps accent
folding identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from taxonomy.models import Concept as ConceptRow
from taxonomy.text import norm_key

__all__ = ["ConceptPage", "find_concepts", "match_rank"]

_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(
    ["a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "par", "pour", "sur", "of",
     "the", "and", "for"]
)
NO_MATCH = None


@dataclass(frozen=True)
class ConceptPage:
    """One page of matching concept rows, best first, and how many matched in all."""

    total: int
    concepts: list[ConceptRow]


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word


@functools.lru_cache(maxsize=32_768)
def _key(text: str) -> str:
    return norm_key(text)


@functools.lru_cache(maxsize=32_768)
def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(_key(text)))


def _query_words(q: str) -> list[str]:
    words = list(_words(q))
    content = [w for w in words if w not in _STOPWORDS]
    return content or words


def _all_words(tokens: list[str], words: list[str]) -> bool:
    singular = {_singular(w) for w in words}
    return all(_singular(t) in singular for t in tokens)


def _all_prefixes(tokens: list[str], words: list[str]) -> bool:
    return all(any(w.startswith(t) for w in words) for t in tokens)


def match_rank(
    q: str, codes: Iterable[str], preferred: Iterable[str], others: Iterable[str]
) -> tuple[int, int, int] | None:
    """The sort key of one concept for query ``q`` (lower is better), or ``None`` when it does not match.

    ``codes`` are its id and notation, ``preferred`` its preferred labels, ``others`` the rest.
    """
    key = norm_key(q)
    tokens = _query_words(q)
    if not key or not tokens:
        return NO_MATCH
    preferred, others = [p for p in preferred if p], [o for o in others if o]
    length = min((len(p) for p in preferred), default=999)
    code_keys = [_key(c) for c in codes if c]
    if key in code_keys:
        return (0, 0, 0)
    pref_keys = [_key(p) for p in preferred]
    if key in pref_keys:
        return (1, 0, length)
    if key in (_key(o) for o in others):
        return (2, 0, length)
    if any(ch.isdigit() for ch in key) and any(c.startswith(key) for c in code_keys):
        return (3, 0, 0)  # a code prefix lists the codes in order
    starts = 0 if any(p.startswith(key) for p in pref_keys) else 1
    pref_words = [w for p in preferred for w in _words(p)]
    other_words = [w for o in others for w in _words(o)]
    tests = ((_all_words, pref_words), (_all_words, other_words), (_all_prefixes, pref_words),
             (_all_prefixes, other_words))
    for tier, (test, words) in enumerate(tests, start=4):
        if words and test(tokens, words):
            return (tier, starts, length)
    return NO_MATCH


def _label_values(labels: dict[str, list[str]] | None) -> list[str]:
    return [str(v) for values in (labels or {}).values() for v in values]


def find_concepts(
    session: Session, q: str | None = None, scheme: str | None = None, limit: int = 100, offset: int = 0
) -> ConceptPage:
    """Concepts of ``scheme`` (all schemes when ``None``) matching ``q``, best first, paged.

    Without ``q`` every concept of the scheme is listed in scheme and id order.
    """
    base = select(ConceptRow)
    if scheme:
        base = base.where(ConceptRow.scheme_id == scheme)
    if not (q or "").strip():
        total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
        rows = session.scalars(base.order_by(ConceptRow.scheme_id, ConceptRow.id).limit(limit).offset(offset))
        return ConceptPage(int(total), list(rows))
    assert q is not None
    cols = select(ConceptRow.id, ConceptRow.scheme_id, ConceptRow.notation, ConceptRow.pref_label_fr,
                  ConceptRow.pref_label_en, ConceptRow.alt_labels, ConceptRow.hidden_labels)
    if scheme:
        cols = cols.where(ConceptRow.scheme_id == scheme)
    ranked: list[tuple[tuple[int, int, int], str, str]] = []
    for cid, scheme_id, notation, fr, en, alt, hidden in session.execute(cols):
        rank = match_rank(q, (cid, notation), (fr, en), _label_values(alt) + _label_values(hidden))
        if rank is not None:
            ranked.append((rank, scheme_id, cid))
    ranked.sort()
    page = [cid for _, _, cid in ranked[offset: offset + limit]]
    by_id: dict[str, ConceptRow] = {}
    if page:
        by_id = {r.id: r for r in session.scalars(select(ConceptRow).where(ConceptRow.id.in_(page)))}
    return ConceptPage(len(ranked), [by_id[cid] for cid in page if cid in by_id])
