"""Matching rules as data (contract C1): per-concept any/all/phrase/regex/fuzzy rules, compiled once.

A rule is a dict ``{"kind", "pattern", "language", "negative", "weight", "threshold"}`` stored in
``Concept.rules`` (checked by ``validate_rules``). Matching works on folded text (``taxonomy.text.fold``:
no case, no accents) and, for ``any``/``all``/``phrase``, on the text's lemmas too, so ``vins`` in a
rule finds ``vin`` and the reverse:

- ``any``: one of the pattern's words; ``all``: every one of them (stopwords ignored when others remain);
- ``phrase``: the words in sequence, at word boundaries (or the pattern's lemmas in sequence);
- ``regex``: a Python regex, case-insensitive, on the folded text (``é`` in the pattern is folded too);
- ``fuzzy``: words (or runs of as many words as the pattern has) whose rapidfuzz ratio to the pattern
  is at least ``threshold`` (0-100, default 85);
- ``negative``: terms (phrases, lemma-aware) whose presence anywhere in the text vetoes the rule;
- ``language``: ``fr``/``en`` rules only run on text of that language (all run when it is unknown).

``RuleSet`` compiles the rules of many concepts once; ``match`` indexes the text once and checks each
rule with dictionary look-ups, so a set over a whole scheme matches a 5,000-character text in a few ms.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rapidfuzz import fuzz, process

from taxonomy.lemmas import token_lemmas
from taxonomy.referential import SCHEMES, Referential
from taxonomy.rules_text import STOPWORDS, TextIndex, word_forms
from taxonomy.rules_validate import DEFAULT_THRESHOLD, RULE_KINDS, compile_regex, validate_rules
from taxonomy.text import norm_key
from tfe.core.errors import ValidationError

__all__ = ["RULE_KINDS", "RuleHit", "RuleSet", "rules_for", "try_rules", "validate_rules"]

log = logging.getLogger(__name__)

MAX_REGEX_HITS = 50
MAX_TEXT = 200_000  # as the classifier's NLP (``taxonomy.nlp.DEFAULT_MAX_CHARS``)


@dataclass(frozen=True)
class RuleHit:
    """One rule of one concept that matched a text: what it was and the text it matched."""

    concept_id: str
    rule_index: int
    kind: str
    pattern: str
    matched: str
    weight: float
    count: int = 1  # occurrences (``any``: of the best word; ``all``: of the rarest one)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (API answers, stored explanations)."""
        return asdict(self)

    def label(self) -> str:
        """Short French evidence: ``règle phrase « eau minérale »``, ``règle regex « … » : Build Plant``."""
        pattern = self.pattern if len(self.pattern) <= 40 else self.pattern[:39] + "…"
        same = norm_key(self.matched) == norm_key(self.pattern)
        return f"règle {self.kind} « {pattern} »" + ("" if same else f" : {self.matched}")


def _lemma_forms(text: str, known: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The folded lemmas of a rule's text: precomputed (``lemmas.json`` keywords) or approximated."""
    lemmas = known.get(text)
    if lemmas is None:
        lemmas = token_lemmas(text)
    return tuple(k for k in (norm_key(x) for x in lemmas) if k)


@dataclass(frozen=True)
class _Term:
    """A word or phrase as its folded word sequence and its lemma sequence."""

    forms: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, text: str, known: Mapping[str, Sequence[str]]) -> _Term:
        words = tuple(word_forms(text))
        lem = _lemma_forms(text, known)
        return cls(tuple(dict.fromkeys(f for f in (words, lem) if f)))

    def count(self, index: TextIndex) -> tuple[int, str]:
        return index.seq_count(self.forms)


@dataclass(frozen=True)
class _Rule:
    concept_id: str
    index: int
    kind: str
    pattern: str
    language: str
    weight: float
    terms: tuple[_Term, ...] = ()  # any/all: one per word; phrase: one
    negatives: tuple[_Term, ...] = ()
    regex: re.Pattern[str] | None = None
    bounded: bool = False  # the regex lost its leading ``\\b``: check the boundary here
    fuzzy: str = ""
    threshold: int = DEFAULT_THRESHOLD

    def hit(self, matched: str, count: int = 1) -> RuleHit:
        return RuleHit(self.concept_id, self.index, self.kind, self.pattern, matched, self.weight, count)


def _compile(
    concept_id: str, index: int, rule: Mapping[str, Any], known: Mapping[str, Sequence[str]]
) -> _Rule:
    kind, pattern = rule["kind"], rule["pattern"]
    base: dict[str, Any] = {
        "concept_id": concept_id, "index": index, "kind": kind, "pattern": pattern,
        "language": rule.get("language", ""), "weight": float(rule.get("weight", 1.0)),
        "negatives": tuple(_Term.of(t, known) for t in rule.get("negative", ())),
    }
    if kind in ("any", "all"):
        words = pattern.split()
        content = [w for w in words if norm_key(w) not in STOPWORDS] or words
        base["terms"] = tuple(_Term.of(w, known) for w in dict.fromkeys(content))
    elif kind == "phrase":
        base["terms"] = (_Term.of(pattern, known),)
    elif kind == "regex":
        base["regex"], base["bounded"] = compile_regex(pattern)
    else:
        base["fuzzy"] = " ".join(word_forms(pattern))
        base["threshold"] = int(rule.get("threshold", DEFAULT_THRESHOLD))
    return _Rule(**base)


def _language(value: str) -> str:
    return (value or "").strip().lower()[:2]


class RuleSet:
    """The compiled rules of some concepts; ``match`` gives every rule that holds for a text."""

    def __init__(self, rules: Iterable[_Rule]) -> None:
        self._rules = list(rules)
        self.concept_ids = tuple(dict.fromkeys(r.concept_id for r in self._rules))

    def __len__(self) -> int:
        return len(self._rules)

    @classmethod
    def from_rules(
        cls,
        rules: Mapping[str, Sequence[Mapping[str, Any]]],
        lemmas: Mapping[str, Sequence[str]] | None = None,
    ) -> RuleSet:
        """Rules per concept id, validated here (``ValidationError`` on the first bad one).

        ``lemmas`` maps a rule text to its precomputed lemmas (``Referential.lemmas["keywords"]``)."""
        known = lemmas or {}
        compiled: list[_Rule] = []
        for concept_id, concept_rules in rules.items():
            for i, rule in enumerate(validate_rules(list(concept_rules))):
                compiled.append(_compile(concept_id, i, rule, known))
        return cls(compiled)

    @classmethod
    def from_referential(cls, ref: Referential, scheme: str | None = None) -> RuleSet:
        """The rules of every live concept of ``scheme`` (all schemes when ``None``).

        A stored rule that no longer validates is skipped with a warning (the edit paths refuse them;
        this keeps a hand-edited database from stopping classification)."""
        known: Mapping[str, Sequence[str]] = ref.lemmas.get("keywords", {})
        schemes = [scheme] if scheme else list(SCHEMES)
        compiled: list[_Rule] = []
        for s in schemes:
            for c in ref.concepts(s):
                if c.deprecated or not c.rules:
                    continue
                for i, rule in enumerate(c.rules):
                    try:
                        checked = validate_rules([rule])[0]
                    except ValidationError as exc:
                        log.warning("rule %d of %s skipped: %s", i, c.id, exc.message)
                        continue
                    compiled.append(_compile(c.id, i, checked, known))
        return cls(compiled)

    def match(self, text: str, language: str = "", lemmas: Sequence[str] = ()) -> list[RuleHit]:
        """Every rule that holds for ``text`` (in rule order), negatives and language applied."""
        if not self._rules or not (text or lemmas):
            return []
        index = TextIndex(text[:MAX_TEXT], lemmas)
        lang = _language(language)
        hits: list[RuleHit] = []
        for rule in self._rules:
            if rule.language and lang and rule.language != lang:
                continue
            hit = _match_one(rule, index)
            if hit is not None and not any(t.count(index)[0] for t in rule.negatives):
                hits.append(hit)
        return hits


def _match_one(rule: _Rule, index: TextIndex) -> RuleHit | None:
    kind = rule.kind
    if kind in ("any", "phrase"):
        best, matched = 0, ""
        for term in rule.terms:
            n, m = term.count(index)
            if n > best:
                best, matched = n, m
        return rule.hit(matched, best) if best else None
    if kind == "all":
        counts = [t.count(index) for t in rule.terms]
        if not counts or not all(n for n, _ in counts):
            return None
        return rule.hit(" + ".join(m for _, m in counts), min(n for n, _ in counts))
    if kind == "regex":
        found = _regex_matches(rule, index.folded)
        return rule.hit(index.text[found[0].start():found[0].end()], len(found)) if found else None
    return _match_fuzzy(rule, index)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _regex_matches(rule: _Rule, folded: str) -> list[re.Match[str]]:
    """Non-empty matches, left to right; with ``bounded``, only those starting at a word boundary."""
    assert rule.regex is not None
    found: list[re.Match[str]] = []
    pos, n = 0, len(folded)
    while pos <= n and len(found) < MAX_REGEX_HITS:
        m = rule.regex.search(folded, pos)
        if m is None:
            break
        start = m.start()
        if rule.bounded:
            before = start > 0 and _is_word(folded[start - 1])
            after = start < n and _is_word(folded[start])
            if before == after:
                pos = start + 1
                continue
        if m.end() > start:
            found.append(m)
        pos = max(m.end(), start + 1)
    return found


def _match_fuzzy(rule: _Rule, index: TextIndex) -> RuleHit | None:
    n_words = len(rule.fuzzy.split())
    if not n_words:
        return None
    grams = index.grams(n_words) if n_words > 1 else list(index.words)
    found = process.extract(rule.fuzzy, grams, scorer=fuzz.ratio, score_cutoff=rule.threshold, limit=None)
    if not found:
        return None
    best = max(found, key=lambda f: f[1])
    if n_words == 1:
        count = sum(index.words[f[0]] for f in found)
        i = index.first[best[0]]
        return rule.hit(index.quote(i, i), count)
    i = best[2]
    return rule.hit(index.quote(i, i + n_words - 1), len(found))


_CACHE: weakref.WeakKeyDictionary[Referential, dict[str | None, RuleSet]] = weakref.WeakKeyDictionary()


def rules_for(ref: Referential, scheme: str | None = None) -> RuleSet:
    """The ``RuleSet`` of ``ref`` (and ``scheme``), built once per referential object."""
    per_ref = _CACHE.setdefault(ref, {})
    if scheme not in per_ref:
        per_ref[scheme] = RuleSet.from_referential(ref, scheme)
    return per_ref[scheme]


def try_rules(
    rules: Sequence[Mapping[str, Any]], text: str, language: str = "", lemmas: Sequence[str] = ()
) -> list[RuleHit]:
    """The hits of unsaved rules on a text (the "try it" box); ``ValidationError`` on a bad rule."""
    return RuleSet.from_rules({"": list(rules)}).match(text, language, lemmas)
