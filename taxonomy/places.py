"""Places that point to one country (cities, regions, landmarks), context rules and English entities.

- ``place_forms()``: the gazetteer forms of ``data/places.csv`` (built by ``scripts/build_places.py``
  from GeoNames: cities, provinces and states, metonyms such as ``Kremlin``), with their lower-weight
  kinds ``city``, ``region`` and ``landmark``.
- ``ContextRules``: the ``context`` rules of ``data/gazetteer_rules.json``; each rule names a folded form,
  a cue (words right ``before`` or ``after`` the mention, or anywhere in the ``text``) and the concept
  the mention then means (``null``: not a place — "roast turkey", "guinea pig"; the same country:
  certain — "Georgia" with "Tbilisi"; another country: "Georgia" with "Atlanta"). First rule wins.
- ``english_entities(text)``: for English text, a blank spaCy English pipeline with phrase and token
  matchers stands in for a statistical NER (none is installed): case-sensitive place names
  (``GPE``), ambiguous names after a preposition ("in Georgia", ``GPE``) and person names (a first name or
  title followed by a capitalised word: "Michael Jordan", ``PERSON``), which veto the places inside them.
"""

from __future__ import annotations

import csv
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from taxonomy.referential import DATA_DIR
from taxonomy.text import fold, norm_key

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.matcher import Matcher, PhraseMatcher

    from taxonomy.gazetteer import Form

__all__ = ["PLACE_KINDS", "ContextRules", "english_entities", "looks_english", "place_forms", "place_rows"]

PLACE_KINDS = ("city", "region", "landmark")
PLACES_CSV = DATA_DIR / "places.csv"
_EN_WORDS = frozenset({
    "the", "of", "and", "to", "in", "is", "for", "on", "with", "as", "by", "from", "at", "that", "its", "are",
    "was", "has", "said", "will",
})
_FR_WORDS = frozenset({
    "le", "la", "les", "des", "et", "du", "un", "une", "est", "pour", "dans", "sur", "au", "aux", "par",
    "que", "qui", "avec", "sont",
})
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@functools.lru_cache(maxsize=1)
def place_rows() -> tuple[dict[str, str], ...]:
    """The rows of ``places.csv`` (name, lang, country ISO2, kind, population)."""
    with PLACES_CSV.open(encoding="utf-8") as fh:
        return tuple(csv.DictReader(fh))


def place_forms(known: set[str]) -> list[Form]:
    """Gazetteer forms of the places whose country is in ``known`` (concept ids ``country:XX``)."""
    from taxonomy.gazetteer import Form, last_word

    forms: list[Form] = []
    for r in place_rows():
        cid = f"country:{r['country']}"
        key = norm_key(r["name"])
        if cid in known and key:  # a capitalised name needs its capital in the text ("vienne", "le cap")
            forms.append(Form(key, cid, r["kind"], r["lang"], cased=last_word(r["name"])[:1].isupper()))
    return forms


@dataclass(frozen=True)
class Rule:
    """One context rule: a form, where its cue is looked for, the cue phrases, the resulting concept."""

    form: str
    where: str  # before | after | text
    cues: tuple[str, ...]
    concept: str | None

    def applies(self, folded: str, start: int, end: int, context: str) -> bool:
        """Whether a cue is found around the mention at ``folded[start:end]`` (or in ``context``)."""
        if self.where == "before":
            head = " ".join(folded[max(0, start - 40):start].split())
            return any(head == c or head.endswith(" " + c) for c in self.cues)
        if self.where == "after":
            tail = " ".join(folded[end:end + 40].split())
            return any(re.match(rf"[\s,']*{re.escape(c)}(?!\w)", tail) for c in self.cues)
        return any(re.search(rf"(?<!\w){re.escape(c)}(?!\w)", context) for c in self.cues)


class ContextRules:
    """The ``context`` rules of ``gazetteer_rules.json``, by form."""

    def __init__(self, rules: Sequence[dict[str, Any]]) -> None:
        self._by_form: dict[str, list[Rule]] = {}
        for r in rules:
            where = next(w for w in ("before", "after", "text") if w in r)
            rule = Rule(norm_key(r["form"]), where, tuple(norm_key(c) for c in r[where]), r.get("concept"))
            self._by_form.setdefault(rule.form, []).append(rule)

    @classmethod
    def load(cls) -> ContextRules:
        """The rules shipped in ``data/gazetteer_rules.json``."""
        data = json.loads((DATA_DIR / "gazetteer_rules.json").read_text(encoding="utf-8"))
        return cls(data.get("context", []))

    def forms(self) -> set[str]:
        """Forms that have rules."""
        return set(self._by_form)

    def decide(self, key: str, folded: str, start: int, end: int, context: str) -> tuple[bool, str | None]:
        """``(decided, concept)`` for the mention of form ``key``: the first rule whose cue is present."""
        for rule in self._by_form.get(key, ()):
            if rule.applies(folded, start, end, context):
                return True, rule.concept
        return False, None


def looks_english(text: str) -> bool:
    """Whether ``text`` reads as English rather than French (function-word counts; cheap)."""
    words = [w.lower() for w in _WORD.findall(text[:3000])]
    en = sum(w in _EN_WORDS for w in words)
    fr = sum(w in _FR_WORDS for w in words)
    return en > fr and en >= 1


PERSON_TITLES = ("Mr.", "Mrs.", "Ms.", "Dr.", "Sen.", "Rep.", "Gov.", "Senator", "Representative",
                 "Governor", "Coach", "Judge", "Justice")


@functools.lru_cache(maxsize=1)
def _english_pipeline() -> tuple[Language, PhraseMatcher, Matcher]:
    import spacy
    from spacy.matcher import Matcher, PhraseMatcher

    data = json.loads((DATA_DIR / "gazetteer_rules.json").read_text(encoding="utf-8"))
    ambiguous = {norm_key(a) for a in data.get("ambiguous", [])}
    nlp = spacy.blank("en")
    names: set[str] = {r["name"] for r in place_rows() if r["lang"] == "en"}
    with (DATA_DIR / "countries.csv").open(encoding="utf-8") as fh:
        for c in csv.DictReader(fh):
            names.add(c["label_en"])
            names.update(a for a in c["alt_en"].split("|") if a)
    sure = sorted(n for n in names if n and norm_key(n) not in ambiguous)
    phrases = PhraseMatcher(nlp.vocab, attr="ORTH")
    phrases.add("GPE", [nlp.make_doc(n) for n in sure])
    matcher = Matcher(nlp.vocab)
    amb_titles = sorted({a.title() for a in ambiguous if " " not in a})
    matcher.add("GPE", [[{"LOWER": {"IN": ["in", "to", "from", "into", "across", "visit", "visited",
                                            "neighbouring", "neighboring"]}}, {"ORTH": {"IN": amb_titles}}]])
    first = data.get("first_names", [])
    matcher.add("PERSON", [[{"ORTH": {"IN": first}}, {"IS_TITLE": True}],
                           [{"ORTH": {"IN": list(PERSON_TITLES)}}, {"IS_TITLE": True}]])
    return nlp, phrases, matcher


def english_entities(text: str) -> list[tuple[str, str]]:
    """``(text, label)`` place (GPE) and person (PERSON) spans of an English text, longest first."""
    nlp, phrases, matcher = _english_pipeline()
    doc = nlp.make_doc(text)
    spans = []
    for match_id, start, end in [*phrases(doc), *matcher(doc)]:
        label = nlp.vocab.strings[match_id]
        if label == "GPE" and end - start == 2 and doc[start].is_lower:
            start += 1  # "in Georgia" → "Georgia"
        spans.append((start, end, label))
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out: list[tuple[str, str]] = []
    last_end = -1
    for start, end, label in spans:
        if start >= last_end:
            out.append((doc[start:end].text, label))
            last_end = end
    return out


def person_spans(text: str, entities: Sequence[tuple[str, str]]) -> list[tuple[int, int]]:
    """Character spans in ``text`` of the person entities (PER, PERSON) among ``entities``."""
    folded = fold(text)
    out: list[tuple[int, int]] = []
    for ent, label in entities:
        if label not in ("PER", "PERSON") or " " not in ent.strip():
            continue
        key = norm_key(ent)
        pattern = r"\s+".join(re.escape(p) for p in key.split(" "))
        for m in re.finditer(rf"(?<!\w){pattern}(?!\w)", folded):
            out.append((m.start(), m.end()))
    return out
