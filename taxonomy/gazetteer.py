"""Gazetteer: find country and zone mentions in French or English text, explainably.

Surface forms come from the referential: names, official names and curated short names in French and
English, French adjectives (``allemand``, ``allemandes``) and English demonyms (``German``). Matching is
accent- and case-insensitive on word boundaries, so elisions work (``l'Allemagne``, ``d'Allemagne``).
Two guards against false positives:

- forms that exist only in English (``Chad``, ``China``, ``Polish``) must be capitalised in the text,
  because their lowercase twins are ordinary words (porcelain, shoe polish);
- forms listed as ambiguous in ``data/gazetteer_rules.json`` (``Jordan``, ``Georgia``, ``Maurice``,
  ``Réunion``...) count only with support: a spaCy LOC/GPE entity covering them, or an unambiguous
  mention of the same country elsewhere in the text (a city counts: "Tbilisi" supports "Georgia");
- the ``context`` rules of the same file settle a form from its neighbours ("roast turkey", "guinea
  pig", "Georgia" with "Atlanta"), and a person entity covering an ambiguous or place form vetoes it
  ("Michael Jordan").

Cities, regions and landmarks (``taxonomy.places``) are added as lower-weight kinds after the
countries' own forms, which win on a shared key.

When one form belongs to several countries (``français``: France and the French Southern Territories),
the name beats the adjective, then a UN member beats a territory, then the larger area wins.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from taxonomy.places import ContextRules, person_spans, place_forms
from taxonomy.referential import DATA_DIR, Referential
from taxonomy.text import fold, norm_key

__all__ = ["Form", "Gazetteer", "Mention", "country_gazetteer", "zone_gazetteer"]

PLACE_LABELS = frozenset({"LOC", "GPE"})


@dataclass(frozen=True)
class Form:
    """One surface form of a concept: folded text, kind (name/adjective), language, ambiguity."""

    key: str
    concept_id: str
    kind: str
    lang: str
    ambiguous: bool = False
    upper_only: bool = False
    cased: bool = False  # the last word needs its capital whatever the language (places: "Vienne", "Le Cap")


@dataclass(frozen=True)
class Mention:
    """One match in a text: the concept, the original characters, where, and how it was found."""

    concept_id: str
    text: str
    start: int
    end: int
    kind: str
    ambiguous: bool = False


class Gazetteer:
    """A compiled set of surface forms, matched with one regular expression."""

    def __init__(
        self, forms: Iterable[Form], blocked: Iterable[str] = (), context: ContextRules | None = None
    ) -> None:
        self._context = context
        blocked_keys = {norm_key(b) for b in blocked}
        self._forms: dict[str, Form] = {}
        for f in forms:
            if len(f.key) < 2 or f.key in blocked_keys:
                continue
            prev = self._forms.get(f.key)
            if prev is None:
                self._forms[f.key] = f
            elif prev.lang != f.lang and prev.concept_id == f.concept_id and "fr" in (prev.lang, f.lang):
                # French and English share the form (France/France): French rules (case-insensitive).
                self._forms[f.key] = Form(f.key, f.concept_id, min(prev.kind, f.kind, key=_kind_rank), "fr",
                                          prev.ambiguous or f.ambiguous, prev.upper_only or f.upper_only)
        keys = sorted(self._forms, key=len, reverse=True)
        alternation = "|".join(r"\s+".join(re.escape(p) for p in k.split(" ")) for k in keys)
        self._regex = re.compile(rf"(?<![\w.])(?:{alternation})(?![\w])")

    def __len__(self) -> int:
        return len(self._forms)

    def form(self, key: str) -> Form | None:
        """The form registered under a folded key."""
        return self._forms.get(norm_key(key))

    def find(self, text: str) -> list[Mention]:
        """Every mention in ``text`` (ambiguous ones flagged, not yet filtered)."""
        folded = fold(text)
        out: list[Mention] = []
        for m in self._regex.finditer(folded):
            form = self._forms.get(" ".join(m.group(0).split()))
            if form is None:
                continue
            original = text[m.start():m.end()]
            if form.lang == "en" and not original[:1].isupper():
                continue
            if form.cased and not last_word(original)[:1].isupper():
                continue
            if form.upper_only and not original.isupper():
                continue
            out.append(Mention(form.concept_id, original, m.start(), m.end(), form.kind, form.ambiguous))
        return out

    def match(
        self, text: str, entities: Sequence[tuple[str, str]] = (), context: str = ""
    ) -> list[Mention]:
        """Mentions in ``text`` with ambiguous ones kept only when supported (entity or other mention);
        ``context`` (the title and body together) is where text cues and support are looked for."""
        mentions = self._settle(text, self.find(text), entities, context or text)
        place_keys = {norm_key(t) for t, label in entities if label in PLACE_LABELS}
        place_concepts = {m.concept_id for t, label in entities if label in PLACE_LABELS
                          for m in self.find(t)}
        sure = {m.concept_id for m in mentions if not m.ambiguous}
        if context and context != text:
            sure |= {m.concept_id for m in self._settle(context, self.find(context), entities, context)
                     if not m.ambiguous}
        kept: list[Mention] = []
        for m in mentions:
            if m.ambiguous and m.concept_id not in sure and not (
                norm_key(m.text) in place_keys or (m.concept_id in place_concepts
                and any(norm_key(m.text) in k for k in place_keys))
            ):
                continue
            kept.append(m)
        return kept


    def _settle(
        self, text: str, mentions: list[Mention], entities: Sequence[tuple[str, str]], context: str
    ) -> list[Mention]:
        """Apply the person veto and the context rules to the mentions found in ``text``."""
        persons = person_spans(text, entities)
        folded, folded_context = fold(text), fold(context)
        out: list[Mention] = []
        for m in mentions:
            vetoable = m.ambiguous or m.kind in ("city", "region")  # a landmark is no name ("Pope Francis")
            if vetoable and any(s <= m.start and m.end <= e for s, e in persons):
                continue
            if self._context is not None:
                key = norm_key(m.text)
                decided, concept = self._context.decide(key, folded, m.start, m.end, folded_context)
                if decided:
                    if concept is None:
                        continue
                    m = Mention(concept, m.text, m.start, m.end, m.kind, False)
            out.append(m)
        return out


def last_word(text: str) -> str:
    """The last word of a name, split on spaces, hyphens and apostrophes ("Le Cap" → "Cap")."""
    return _WORD_SPLIT.split(text.strip())[-1]


_WORD_SPLIT = re.compile(r"[\s\-'’‐‑–—]+")


def _kind_rank(kind: str) -> int:
    return {"name": 0, "alt": 1, "adjective": 2}.get(kind, 3)


def _rules() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA_DIR / "gazetteer_rules.json").read_text(encoding="utf-8"))
    return data


def country_gazetteer(ref: Referential) -> Gazetteer:
    """Country names, official names, adjectives and demonyms in French and English."""
    rules = _rules()
    ambiguous = {norm_key(a) for a in rules.get("ambiguous", [])}
    candidates: dict[str, list[tuple[int, int, int, Form]]] = {}
    for c in ref.concepts("country"):
        if c.deprecated:
            continue  # never assigned (its replacement is)
        un = 0 if c.extra.get("un_member") == "1" else 1
        area = -int(c.extra.get("area") or 0)
        entries = [(c.label_fr, "name", "fr"), (c.label_en, "name", "en")]
        entries += [(a, "alt", "fr") for a in c.alt_labels_fr] + [(a, "alt", "en") for a in c.alt_labels_en]
        entries += [(a, "adjective", "fr") for a in c.hidden_labels_fr]
        entries += [(a, "adjective", "en") for a in c.hidden_labels_en]
        for text, kind, lang in entries:
            key = norm_key(text)
            if not key:
                continue
            upper = text.isupper() and len(text.replace(".", "")) <= 4
            form = Form(key, c.id, kind, lang, key in ambiguous, upper)
            candidates.setdefault(key, []).append((_kind_rank(kind), un, area, form))
    forms: list[Form] = []
    for _key, options in candidates.items():
        options.sort(key=lambda o: (o[0], o[1], o[2]))
        best = options[0][3]
        forms += [o[3] for o in options if o[3].concept_id == best.concept_id]
    forms += place_forms({c.id for c in ref.concepts("country") if not c.deprecated})
    return Gazetteer(forms, rules.get("blocked", []), ContextRules(rules.get("context", [])))


def zone_gazetteer(ref: Referential) -> Gazetteer:
    """M49 zone names in French and English (``Afrique subsaharienne``, ``Western Europe``), plus the
    ``zone_forms`` of the rules: adjectives, "Middle East" (Western Asia), the EU and euro area (Europe)."""
    forms: list[Form] = []
    known = set()
    for c in ref.concepts("region"):
        if c.deprecated:
            continue
        known.add(c.id)
        forms.append(Form(norm_key(c.label_fr), c.id, "name", "fr"))
        forms.append(Form(norm_key(c.label_en), c.id, "name", "en"))
    for z in _rules().get("zone_forms", []):
        if z["zone"] not in known:
            continue
        for lang in ("fr", "en"):
            for text in z.get(lang, []):
                upper = text.isupper() and len(text.replace(".", "")) <= 4
                forms.append(Form(norm_key(text), z["zone"], z.get("kind", "name"), lang, False, upper))
    return Gazetteer(forms)
