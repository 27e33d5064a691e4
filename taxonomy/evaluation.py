"""Classification quality on labelled sets: NACE accuracy and country/zone precision and recall.

- ``evaluate_classification``: JSONL with ``text, nace_class, nace_division, nace_section``; accuracy@1 and
  @3 of the ranked divisions and sections (and of classes, for information).
- ``evaluate_countries``: JSONL with ``title, description, section`` (``world/europe``, ``world/china``);
  each country found is mapped to a zone (its own name for China, Russia, the UK and India, else its
  M49 region, with Western Asia, Iran and Egypt as the Middle East), each zone named ("Europe", "EU",
  "Middle East") to its region; the zone with the highest summed score is the prediction (``countries_only``:
  the zone of the best country, as before). A ``home_country`` (the publisher's: the US for American news,
  as France is the product's) counts only when nothing else is named. Precision is over items where a zone
  was predicted, recall over all items.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taxonomy.classifier import TaxonomyClassifier
from taxonomy.nlp import lemmas_of

if TYPE_CHECKING:
    from spacy.language import Language

__all__ = ["country_zone", "evaluate_classification", "evaluate_countries"]

NAMED_ZONES = {"country:CN": "china", "country:RU": "russia", "country:GB": "uk", "country:IN": "india"}
MIDDLE_EAST_EXTRA = {"country:IR", "country:EG"}
CAUCASUS = {"country:AM", "country:AZ", "country:GE", "country:CY"}
REGION_ZONES = {"region:150": "europe", "region:019": "americas", "region:002": "africa",
                "region:009": "oceania", "region:142": "asia"}


def _read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _ranked_unique(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def evaluate_classification(
    path: str | Path, classifier: TaxonomyClassifier, nlp: Language
) -> dict[str, Any]:
    """Accuracy@1/@3 at NACE division and section level (and class) on a labelled JSONL file."""
    rows = _read_jsonl(path)
    ref = classifier.ref
    hits: Counter[str] = Counter()
    for row, doc in zip(rows, nlp.pipe([r["text"] for r in rows], batch_size=64), strict=True):
        res = classifier.classify(row["text"], lemmas=lemmas_of(doc), entities=[])
        cands = classifier.sectors.score(lemmas_of(doc), row["text"], limit=40)
        classes = _ranked_unique([s.concept_id for s in cands if ref.concept(s.concept_id).level == "class"])
        divisions = [d.concept_id for d in res.divisions] or _ranked_unique(
            [ref.division_of(s.concept_id) or s.concept_id for s in cands])
        sections = _ranked_unique([ref.section_of(d) or d for d in divisions])
        gold = {"class": f"naf:{row['nace_class']}", "division": f"naf:{row['nace_division']}",
                "section": f"naf:{row['nace_section']}"}
        for level, ranked in (("class", classes), ("division", divisions), ("section", sections)):
            hits[f"{level}_acc@1"] += gold[level] in ranked[:1]
            hits[f"{level}_acc@3"] += gold[level] in ranked[:3]
    n = len(rows)
    return {"n": n, **{k: round(hits[k] / n, 4) if n else 0.0 for k in sorted(
        f"{lvl}_acc@{k}" for lvl in ("class", "division", "section") for k in (1, 3))}}


def country_zone(classifier: TaxonomyClassifier, country_id: str) -> str | None:
    """The news-section zone of a country (``china``, ``middle-east``, ``europe``...)."""
    if country_id in NAMED_ZONES:
        return NAMED_ZONES[country_id]
    regions = classifier.ref.regions_of(country_id)
    if country_id in MIDDLE_EAST_EXTRA or ("region:145" in regions and country_id not in CAUCASUS):
        return "middle-east"
    if country_id in CAUCASUS:
        return "europe"
    return next((REGION_ZONES[r] for r in regions if r in REGION_ZONES), None)


def region_zone(classifier: TaxonomyClassifier, region_id: str) -> str | None:
    """The news-section zone of an M49 zone (Western Asia: ``middle-east``; else its top region)."""
    seen: set[str] = set()
    zid: str | None = region_id
    while zid and zid not in REGION_ZONES and zid not in seen:
        if zid == "region:145":
            return "middle-east"
        seen.add(zid)
        concept = classifier.ref.get(zid)
        zid = concept.broader if concept is not None else None
    return REGION_ZONES.get(zid or "")


def _scores(n: int, predicted: int, correct: int) -> dict[str, Any]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / n if n else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"n": n, "predicted": predicted, "correct": correct, "precision": round(precision, 4),
            "recall": round(recall, 4), "f1": round(f1, 4)}


def predict_zone(
    classifier: TaxonomyClassifier, text: str, title: str, entities: list[tuple[str, str]],
    home_country: str | None = None,
) -> tuple[str | None, str | None]:
    """``(zone, countries_only_zone)`` of one news item (see the module docstring)."""
    countries = classifier.classify_countries(text, entities, title)
    zones = classifier.classify_zones(text, entities, title)
    if home_country and (zones or any(c.concept_id != home_country for c in countries)):
        countries = [c for c in countries if c.concept_id != home_country]
    by_country = [(country_zone(classifier, c.concept_id), c.score) for c in countries]
    only = next((z for z, _ in by_country if z), None)
    summed: dict[str, float] = {}
    for zone, score in [*by_country, *((region_zone(classifier, z.concept_id), z.score) for z in zones)]:
        if zone:
            summed[zone] = summed.get(zone, 0.0) + score
    best = max(summed.items(), key=lambda kv: (kv[1], kv[0] == only))[0] if summed else None
    return best, only


def evaluate_countries(
    path: str | Path, classifier: TaxonomyClassifier, nlp: Language, home_country: str | None = None
) -> dict[str, Any]:
    """Zone precision/recall on news items labelled with their section (see the module docstring)."""
    rows = _read_jsonl(path)
    texts = [f"{r.get('title', '')}\n{r.get('description', '')}" for r in rows]
    predicted = correct = only_predicted = only_correct = 0
    per_zone: dict[str, Counter[str]] = {}
    for row, doc in zip(rows, nlp.pipe(texts, batch_size=64), strict=True):
        gold = str(row.get("section", "")).split("/")[-1]
        ents = [(e.text, e.label_) for e in doc.ents]
        zone, only = predict_zone(classifier, row.get("description", ""), row.get("title", ""), ents,
                                  home_country)
        only_predicted += only is not None
        only_correct += only == gold
        stats = per_zone.setdefault(gold, Counter())
        stats["n"] += 1
        if zone is not None:
            predicted += 1
            stats["predicted"] += 1
            if zone == gold:
                correct += 1
                stats["correct"] += 1
    n = len(rows)
    return {**_scores(n, predicted, correct), "home_country": home_country,
            "countries_only": _scores(n, only_predicted, only_correct),
            "per_zone": {z: dict(c) for z, c in sorted(per_zone.items())}}
