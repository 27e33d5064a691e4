"""A deprecated concept (merged, split or retired by a curator) is never assigned by the zero-shot
matchers; its replacement is, and its label still reads (old classifications keep their name)."""

from __future__ import annotations

import dataclasses

from taxonomy.gazetteer import country_gazetteer
from taxonomy.referential import Referential
from taxonomy.sectors import SectorMatcher

WINE = "naf:11.02"


def _without(ref: Referential, *ids: str) -> Referential:
    concepts = [
        dataclasses.replace(c, deprecated=True) if c.id in ids else c
        for s in ("naf", "country", "region", "doctype", "filiere", "signal")
        for c in ref.concepts(s)
    ]
    return Referential(concepts, ref.lemmas)


def _sector_ids(matcher: SectorMatcher, lemmas: list[str]) -> set[str]:
    return {s.concept_id for s in matcher.score(lemmas, limit=50)}


def test_deprecated_sector_and_country_are_not_assigned(ref: Referential) -> None:
    lemmas = ["production", "vin", "raisin", "vinification"]
    live = SectorMatcher(ref)
    assert WINE in _sector_ids(live, lemmas)
    retired = _without(ref, WINE, "country:DE")
    assert WINE not in _sector_ids(SectorMatcher(retired), lemmas)
    assert retired.label(WINE) == ref.label(WINE)  # still named where it was assigned before
    text = "Les vins français en Allemagne"
    assert "country:DE" in {h.concept_id for h in country_gazetteer(ref).find(text)}
    assert "country:DE" not in {h.concept_id for h in country_gazetteer(retired).find(text)}
