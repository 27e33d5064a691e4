"""Rule-based, explainable classification of a text against the shared taxonomy.

``TaxonomyClassifier(referential).classify(text, lemmas=..., entities=..., title=..., filename=...)``
returns sectors (NAF classes, best first, plus their divisions in ``divisions``), countries (ISO),
zones explicitly named (M49) and one document type, each as ``Scored(concept_id, score, evidence)``
with scores in 0..1 and the evidence that produced them. Lemmas and entities come from
``taxonomy.nlp.analyse`` so that the caller controls when spaCy runs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from taxonomy.filieres import filieres_for
from taxonomy.gazetteer import Mention, country_gazetteer, zone_gazetteer
from taxonomy.learned import LearnedModel, seed_model
from taxonomy.referential import Referential
from taxonomy.sectors import SectorMatcher, SectorScore, aggregate
from taxonomy.signals import SignalDetector
from taxonomy.similarity import SectorSimilarity
from taxonomy.text import fold, norm_key

QueryEmbedder = Callable[[str], Any]  # text -> e5 "query:" vector (np.ndarray of 384 floats)

__all__ = ["ClassificationResult", "Scored", "TaxonomyClassifier"]

KIND_WEIGHTS = {"name": 1.0, "alt": 1.0, "adjective": 0.6, "city": 0.5, "region": 0.5, "landmark": 0.5}
TITLE_BONUS = 2.0
DOCTYPE_TEXT_CHARS = 5_000
SIMILARITY_WEIGHT = 0.8  # class score = 0.8 × similarity + 0.2 × lexical (NACE dev set: best of 0.5-1.0)
SIMILARITY_TEXT_CHARS = 1_500  # the head of a document is what e5 reads (512 tokens)
SIMILARITY_MARGIN = 0.04  # other classes within this of the best one are kept if they have lexical evidence


@dataclass
class Scored:
    """One proposed concept with a 0..1 score and the evidence behind it."""

    concept_id: str
    score: float
    evidence: list[str] = field(default_factory=list)
    method: str = ""  # "model"/"similarity" when a learned model decided (else the caller's method)
    explanation: dict[str, Any] | None = None  # C6: terms, rules, neighbours, similarity, calibrated

    def to_dict(self) -> dict[str, object]:
        """Plain data (Haystack snapshots a failed pipeline run's inputs with it)."""
        out: dict[str, object] = {"concept_id": self.concept_id, "score": self.score,
                                  "evidence": list(self.evidence)}
        if self.method:
            out["method"] = self.method
        if self.explanation is not None:
            out["explanation"] = self.explanation
        return out


@dataclass
class ClassificationResult:
    """Everything the classifier proposes for one text."""

    sectors: list[Scored] = field(default_factory=list)
    countries: list[Scored] = field(default_factory=list)
    doc_type: Scored | None = None
    divisions: list[Scored] = field(default_factory=list)
    zones: list[Scored] = field(default_factory=list)
    filieres: list[Scored] = field(default_factory=list)  # the network's filières (scheme "filiere")
    signals: list[Scored] = field(default_factory=list)  # watch signals (scheme "signal"): tenders, ...

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form (for explanations stored with classifications)."""
        return asdict(self)


class TaxonomyClassifier:
    """Sectors, countries, zones and document type for a text; cheap to call, built once."""

    def __init__(
        self,
        referential: Referential,
        *,
        max_sectors: int = 5,
        max_countries: int = 10,
        min_sector_score: float = 0.05,
        relative_floor: float = 0.6,
        embed_query: QueryEmbedder | None = None,
        model: LearnedModel | None = None,
    ) -> None:
        self.ref = referential
        self.relative_floor = relative_floor
        self.embed_query = embed_query
        self.similarity = SectorSimilarity.load() if embed_query is not None else None
        # a model trained on decisions (method "model"), else the taxonomy's seed model (zero-shot)
        self.model, self.model_method = (model, "model") if model is not None else (
            (seed_model(), "similarity") if embed_query is not None else (None, ""))
        self.max_sectors = max_sectors
        self.max_countries = max_countries
        self.min_sector_score = min_sector_score
        self.sectors = SectorMatcher(referential)
        self.countries = country_gazetteer(referential)
        self.zones = zone_gazetteer(referential)
        self.signals = SignalDetector(referential)  # rules of the "signal" scheme
        self._cues = self._compile_cues()

    def _compile_cues(self) -> dict[str, list[tuple[str, re.Pattern[str]]]]:
        cues: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        for c in self.ref.concepts("doctype"):
            if c.deprecated:
                continue  # never assigned (its replacement is)
            words = [c.label_fr, *c.hidden_labels_fr]
            cues[c.id] = [(w, re.compile(rf"(?<!\w){re.escape(norm_key(w))}(?!\w)")) for w in words]
        return cues

    def classify(
        self,
        text: str,
        *,
        lemmas: Sequence[str],
        entities: Sequence[tuple[str, str]] = (),
        title: str = "",
        filename: str = "",
        language: str = "",
    ) -> ClassificationResult:
        """Classify one text; ``lemmas``/``entities`` are its ``taxonomy.nlp.analyse`` output
        (``language``, when known, selects the language-specific signal rules)."""
        candidates = self.sectors.score(lemmas, f"{title}\n{text}", limit=40)
        if self.model is not None and self.embed_query is not None and (title or text).strip():
            from taxonomy.model_assign import with_model

            head = f"{title}\n{text}"[:SIMILARITY_TEXT_CHARS]
            sectors, divisions = with_model(self, self.model, candidates, head, lemmas=lemmas,
                                            method=self.model_method)
            if self.model_method == "similarity" and self.similarity is not None:
                # zero-shot: the seed model (worded like the Eurostat notes) ranks the divisions, but
                # the classes assigned to a real document keep the lexical-evidence rule of the
                # similarity path (« domaine viticole » is wine, not what the notes' wording suggests);
                # the query embedding is cached, so the second pass costs no encoding
                explained = {s.concept_id: s for s in sectors}
                sectors = [explained.get(s.concept_id) or replace(s, method="similarity")
                           for s in self._with_similarity(candidates, head)[0]]
        elif self.similarity is not None and self.embed_query is not None and (title or text).strip():
            sectors, divisions = self._with_similarity(candidates, f"{title}\n{text}"[:SIMILARITY_TEXT_CHARS])
        else:
            floor = (
                max(self.min_sector_score, self.relative_floor * candidates[0].score) if candidates else 1.0
            )
            sectors = [
                Scored(s.concept_id, s.score, s.evidence)
                for s in candidates[: self.max_sectors]
                if s.score >= floor
            ]
            divisions = [
                Scored(s.concept_id, s.score, s.evidence)
                for s in aggregate(self.ref, candidates, "division")[: self.max_sectors]
                if s.score >= self.min_sector_score
            ]
        countries = _without_home_country(self.classify_countries(text, entities, title))
        return ClassificationResult(
            sectors=sectors,
            countries=countries[: self.max_countries],
            doc_type=self.classify_doc_type(text, title, filename),
            divisions=divisions,
            zones=self.classify_zones(text, entities, title),
            signals=self.signals.detect(text, language, lemmas, title=title),
            filieres=filieres_for(self.ref, [*sectors, *divisions]),
        )

    def _with_similarity(self, candidates: list[SectorScore], head: str) -> tuple[list[Scored], list[Scored]]:
        """Blend lexical class scores with e5 similarity to every NAF class (method "similarity")."""
        assert self.similarity is not None and self.embed_query is not None
        sims = self.similarity.scores(self.embed_query(head))
        lexical: dict[str, SectorScore] = {}
        for cand in candidates:  # sous-classes count for their class; divisions are handled below
            concept = self.ref.get(cand.concept_id)
            cid = concept.broader if concept is not None and concept.level == "subclass" else cand.concept_id
            if cid and cid in sims and (cid not in lexical or lexical[cid].score < cand.score):
                lexical[cid] = SectorScore(cid, cand.score, cand.evidence)
        blended = {
            cid: SIMILARITY_WEIGHT * sim
            + (1 - SIMILARITY_WEIGHT) * (lexical[cid].score if cid in lexical else 0.0)
            for cid, sim in sims.items()
        }
        ranked = sorted(blended, key=lambda c: (-blended[c], c))

        def scored(cid: str) -> Scored:
            evidence = [f"similarité {sims[cid]:.2f}"] + (lexical[cid].evidence if cid in lexical else [])
            return Scored(cid, round(blended[cid], 4), evidence[:8])

        # Assigned sectors need a matched term when any class has one (similarity alone ranks, but an
        # unexplained label such as "Fabrication de malt" for a desalination tender must not be filed).
        supported = [c for c in ranked if c in lexical]
        best = supported[0] if supported else ranked[0]
        sectors = [scored(best)] + [
            scored(c)
            for c in supported[1 : self.max_sectors]
            if blended[c] >= blended[best] - SIMILARITY_MARGIN
        ]
        division_scores: dict[str, Scored] = {}
        assigned = [s.concept_id for s in sectors]
        for cid in assigned + [c for c in ranked if c not in assigned]:  # assigned sectors' divisions first
            div = self.ref.division_of(cid)
            if div and div not in division_scores:
                division_scores[div] = Scored(div, round(blended[cid], 4), scored(cid).evidence)
            if len(division_scores) >= self.max_sectors:
                break
        return sectors, list(division_scores.values())

    # ----------------------------------------------------------------- countries
    def classify_countries(
        self, text: str, entities: Sequence[tuple[str, str]] = (), title: str = ""
    ) -> list[Scored]:
        """Countries mentioned in the text or title, scored from frequency, form kind and title; English
        text gets the entities of ``taxonomy.places.english_entities`` (no English model is installed)."""
        from taxonomy.places import english_entities, looks_english

        context = f"{title}\n{text}" if title else text
        if looks_english(context):
            entities = [*entities, *english_entities(context)]
        body = self.countries.match(text, entities, context)
        head = self.countries.match(title, entities, context) if title else []
        return self._score_mentions(body, head)

    def classify_zones(
        self, text: str, entities: Sequence[tuple[str, str]] = (), title: str = ""
    ) -> list[Scored]:
        """Zones named in the text or title ("Europe", "EU", "Middle East"), scored like countries."""
        return self._score_mentions(self.zones.match(text, entities), self.zones.match(title, entities))

    @staticmethod
    def _score_mentions(body: list[Mention], head: list[Mention]) -> list[Scored]:
        raw: dict[str, float] = defaultdict(float)
        evidence: dict[str, dict[str, int]] = defaultdict(dict)
        for m, bonus in [(m, 1.0) for m in body] + [(m, TITLE_BONUS) for m in head]:
            raw[m.concept_id] += KIND_WEIGHTS.get(m.kind, 1.0) * bonus
            key = ("title:" if bonus > 1 else "") + m.text
            evidence[m.concept_id][key] = evidence[m.concept_id].get(key, 0) + 1
        out = [
            Scored(
                cid,
                round(v / (v + 2.0), 4),
                [f"{k}×{n}" if n > 1 else k for k, n in evidence[cid].items()][:6],
            )
            for cid, v in raw.items()
        ]
        return sorted(out, key=lambda s: (-s.score, s.concept_id))

    # ----------------------------------------------------------------- document type
    def classify_doc_type(self, text: str, title: str = "", filename: str = "") -> Scored | None:
        """The document type whose cue words best match the title, file name and start of the text."""
        head = fold(f"{title} {re.sub(r'[_.]+', ' ', filename)}")
        body = fold(text[:DOCTYPE_TEXT_CHARS])
        best: Scored | None = None
        for cid, cues in self._cues.items():
            raw = 0.0
            ev: list[str] = []
            for word, rx in cues:
                n_head = len(rx.findall(head))
                n_body = min(3, len(rx.findall(body)))
                if n_head:
                    raw += 3.0 * n_head
                    ev.append(f"title:{word}")
                if n_body:
                    raw += n_body
                    ev.append(f"{word}×{n_body}" if n_body > 1 else word)
            if raw and (best is None or raw / (raw + 3.0) > best.score):
                best = Scored(cid, round(raw / (raw + 3.0), 4), ev)
        return best


HOME_COUNTRY = "country:FR"


def _without_home_country(countries: list[Scored]) -> list[Scored]:
    """France is the origin of nearly every export document ("vins français"), so it only counts as a
    subject when no foreign country is named; otherwise it would top every country facet."""
    foreign = [c for c in countries if c.concept_id != HOME_COUNTRY]
    return foreign or countries
