"""Taxonomy concepts a search query names (« vins Allemagne » → sector ``naf:11.02``, ``country:DE``).

``recognise(ref, text)`` answers the concepts a query names, each with its facet (``sector`` or
``country``), its id, the query words that named it and the concept's synonyms (for query expansion).
A ``QueryRecogniser`` is built once per referential (``recogniser_for`` caches it by identity, so a
taxonomy edit that rebuilds the referential rebuilds it) and then only does dictionary look-ups.

- Countries and zones: the gazetteers of ``taxonomy.gazetteer`` (French and English names, official and
  curated short names, French adjectives such as « allemand », English demonyms), with their guards:
  English-only forms must be capitalised (« Turkey », not « turkey »), ambiguous ones (« Maurice »,
  « Jordan ») need support the query cannot give, so they are left out.
- Sectors: the query's content words (folded, stop words dropped, a final plural s/x removed) are
  matched, longest n-gram first, against NAF labels (preferred, alternative and hidden, French and
  English; a sous-classe counts for its class, the level documents carry), the same labels without their
  generic head (« Fabrication de bière » → « bière »), and the curated sector keywords
  (``data/sector_keywords_fr.csv``: « vin », « vins » → 11.02; weak ones, weight < 1, are left out).
  When a key names several concepts the curated keyword wins over a full label, a full label over a
  stripped one; among the rest a concept whose descendant is also named gives way to it (the most
  specific concept a label names).
- A single word in ``COMMON`` (ordinary words such as « information », « mode », « formation », and the
  generic label words of ``taxonomy.sectors.GENERIC``) never names a concept on its own.

Overlapping matches keep the longest span (a country on a tie).
"""

from __future__ import annotations

import csv
import re
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

from taxonomy.gazetteer import Gazetteer, country_gazetteer, zone_gazetteer
from taxonomy.referential import DATA_DIR, Concept, Referential
from taxonomy.sectors import GENERIC
from taxonomy.text import fold

__all__ = ["QueryConcept", "QueryRecogniser", "content_key", "recognise", "recogniser_for"]

_WORD = re.compile(r"\w+", re.UNICODE)


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP_WORDS = _word_set(
    "a au aux avec ce ces d dans de des du en et hors l la le les leur n ne ou par pour sans sauf sur un une "
    "y c qu s vers entre chez selon dont que qui quoi quel quelle quels quelles est sont "
    "of the and for in on or to with from by an at as other except"
)
# Ordinary words that must not name a concept alone (a longer label containing them still can).
COMMON = frozenset(
    {
        *GENERIC,
        *_word_set(
            "information enquete administrative administratif personnel communication transport machine mode "
            "formation construction sante infrastructure spatial defense justice edition reparation conseil "
            "environnement eau magasin travau grain sel sport vetement energie service produit marche export "
            "importation exportation entreprise societe international commercial gestion bureau public "
            "recherche securite organisation association location support soutien"
        ),
    }
)
MIN_KEYWORD_WEIGHT = 1.0  # curated keywords below this weight (« eau », « conseil ») are too vague
MAX_NGRAM = 8  # content words in the longest label looked up
MAX_SYNONYM_WORDS = 4  # words (stop words included); longer labels make poor expansions
MAX_SYNONYMS = 6  # per concept
# A label's generic head: « Fabrication de bière » also names 11.05 as « bière ».
_HEADS = re.compile(
    r"^(?:fabrication|production|industries?|activites|services?|manufacture|manufacturing)"
    r"(?:\s+(?:des|de|du|of)\b|\s+d')?\s*",
)
_SOURCE_RANK = {"keyword": 0, "label": 1, "stripped": 2}


@dataclass(frozen=True)
class QueryConcept:
    """One concept a query names: facet (``sector`` | ``country``), id, the words that named it (as typed),
    their character span in the query, and the concept's synonyms (labels to expand the query with)."""

    facet: str
    concept_id: str
    words: tuple[str, ...]
    start: int
    end: int
    synonyms: tuple[str, ...] = ()
    # the ids a boost looks for: the concept, and for a NAF group or class its division too (documents
    # classified only at the division level, « Fabrication de boissons », still rank up for « vins »)
    boost_ids: tuple[str, ...] = ()


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word


def content_key(text: str) -> str:
    """The look-up key of a label or query phrase: folded content words, stop words out, singular."""
    return " ".join(_singular(w) for w in _WORD.findall(fold(text)) if w not in STOP_WORDS)


def _stripped(label: str) -> str:
    """``label`` without its generic head (as written); empty when it has none or nothing follows it."""
    head = _HEADS.match(fold(label))  # ``fold`` keeps every character's position
    return label[head.end() :].strip() if head and head.end() else ""


@dataclass(frozen=True)
class _Entry:
    concept_id: str
    rank: int  # _SOURCE_RANK


class QueryRecogniser:
    """The concepts of one referential, indexed for query look-up (build once, then read only)."""

    def __init__(self, ref: Referential) -> None:
        self.ref = ref
        self._countries: Gazetteer = country_gazetteer(ref)
        self._zones: Gazetteer = zone_gazetteer(ref)
        self._sectors: dict[str, list[_Entry]] = {}
        for c in ref.concepts("naf"):
            target = c.broader if c.level == "subclass" and c.broader else c.id
            for label in _labels(c):
                self._add(content_key(label), target, _SOURCE_RANK["label"])
                if stripped := _stripped(label):
                    self._add(content_key(stripped), target, _SOURCE_RANK["stripped"])
        for keyword, targets in _keywords(ref):
            for target in targets:
                self._add(content_key(keyword), target, _SOURCE_RANK["keyword"])
        self._synonyms: dict[str, tuple[str, ...]] = {}

    def _add(self, key: str, concept_id: str, rank: int) -> None:
        if not key or len(key.split()) > MAX_NGRAM:
            return
        entries = self._sectors.setdefault(key, [])
        if not any(e.concept_id == concept_id and e.rank <= rank for e in entries):
            entries.append(_Entry(concept_id, rank))

    # ------------------------------------------------------------------ look-up
    def sector_ids(self, phrase: str) -> list[str]:
        """The NAF concepts ``phrase`` names (empty when none or only a common word)."""
        key = content_key(phrase)
        if not key or (" " not in key and key in COMMON):
            return []
        entries = self._sectors.get(key, [])
        if not entries:
            return []
        best = min(e.rank for e in entries)
        ids = list(dict.fromkeys(e.concept_id for e in entries if e.rank == best))
        named = set(ids)
        # a concept gives way to a named descendant (« Fabrication de boissons »: 11 and 11.0 → 11.0)
        return [cid for cid in ids if not any(cid in self.ref.ancestors(o) for o in named if o != cid)]

    def recognise(self, text: str) -> list[QueryConcept]:
        """The concepts ``text`` names, in query order."""
        text = text or ""
        spans: list[tuple[int, int, str, list[str]]] = []  # start, end, facet, ids
        for gazetteer in (self._countries, self._zones):
            for m in gazetteer.match(text):
                spans.append((m.start, m.end, "country", [m.concept_id]))
        words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        content = [i for i, (s, e) in enumerate(words) if fold(text[s:e]) not in STOP_WORDS]
        for a in range(len(content)):
            for b in range(min(len(content), a + MAX_NGRAM), a, -1):
                start, end = words[content[a]][0], words[content[b - 1]][1]
                ids = self.sector_ids(text[start:end])
                if ids:
                    spans.append((start, end, "sector", ids))
                    break
        chosen: list[tuple[int, int, str, list[str]]] = []
        # longest span first; on a tie a country (gazetteer forms are names, sector keys are words)
        for span in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[2] != "country", s[0])):
            if all(span[1] <= c[0] or span[0] >= c[1] for c in chosen):
                chosen.append(span)
        out: list[QueryConcept] = []
        seen: set[str] = set()
        for start, end, facet, ids in sorted(chosen):
            typed = tuple(text[s:e] for s, e in words if s >= start and e <= end)
            for cid in ids:
                if cid in seen:
                    continue
                seen.add(cid)
                division = self.ref.division_of(cid) if facet == "sector" else None
                boost = tuple(dict.fromkeys(i for i in (cid, division) if i))
                out.append(QueryConcept(facet, cid, typed, start, end, self.synonyms(cid), boost))
        return out

    def synonyms(self, concept_id: str) -> tuple[str, ...]:
        """Labels of a concept worth OR-ing into a query that names it (short, distinct, no codes)."""
        found = self._synonyms.get(concept_id)
        if found is None:
            c = self.ref.get(concept_id)
            found = _synonyms_of(c) if c is not None else ()
            self._synonyms[concept_id] = found
        return found


def _labels(c: Concept) -> list[str]:
    return [
        label
        for label in (
            c.label_fr,
            c.label_en,
            *c.alt_labels_fr,
            *c.alt_labels_en,
            *c.hidden_labels_fr,
            *c.hidden_labels_en,
        )
        if label
    ]


def _synonyms_of(c: Concept) -> tuple[str, ...]:
    if c.scheme == "naf":
        candidates = [c.label_fr, c.label_en]
        candidates = [_stripped(x) or x for x in candidates] + [*c.alt_labels_fr, *c.alt_labels_en]
    elif c.scheme == "country":
        adjectives = [a for a in c.hidden_labels_fr if not a.endswith("s")]  # allemand, allemande
        candidates = [
            c.label_fr,
            c.label_en,
            *adjectives,
            *c.alt_labels_fr,
            *c.alt_labels_en,
            *c.hidden_labels_en[:1],
        ]
    else:
        candidates = [c.label_fr, c.label_en, *c.alt_labels_fr, *c.alt_labels_en]
    out: dict[str, str] = {}
    for label in candidates:
        label = " ".join(label.replace("(", " ").replace(")", " ").split())
        key = content_key(label)
        if not key or len(_WORD.findall(label)) > MAX_SYNONYM_WORDS or "." in label:
            continue
        if label.isupper() and len(label) <= 4:  # codes (USA, UK): as words they match pronouns
            continue
        out.setdefault(key, label)
    return tuple(out.values())[:MAX_SYNONYMS]


def _keywords(ref: Referential) -> Iterable[tuple[str, tuple[str, ...]]]:
    with (DATA_DIR / "sector_keywords_fr.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if float(row.get("weight") or 1) < MIN_KEYWORD_WEIGHT:
                continue
            targets = tuple(t for t in row["targets"].split() if t in ref)
            if targets:
                yield row["keyword"], targets


_CACHE: weakref.WeakKeyDictionary[Referential, QueryRecogniser] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def recogniser_for(ref: Referential) -> QueryRecogniser:
    """The recogniser of ``ref``, built on first use and kept as long as ``ref`` lives."""
    with _LOCK:
        found = _CACHE.get(ref)
        if found is None:
            found = _CACHE[ref] = QueryRecogniser(ref)
        return found


def recognise(ref: Referential, text: str) -> list[QueryConcept]:
    """The concepts ``text`` names in ``ref`` (see the module docstring)."""
    return recogniser_for(ref).recognise(text)
