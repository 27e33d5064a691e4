"""Concept search (issue 12, defect 11): whole words and word prefixes, accent-folded, exact first."""

from __future__ import annotations

import pytest

from taxonomy.concept_search import find_concepts, match_rank
from tests.taxonomy.conftest import Opener


def _ids(
    seeded: Opener, q: str | None, scheme: str | None = None, limit: int = 10, offset: int = 0
) -> list[str]:
    with seeded()() as session:
        return [c.id for c in find_concepts(session, q, scheme, limit=limit, offset=offset).concepts]


def test_vin_finds_wine_not_cattle(seeded: Opener) -> None:
    with seeded()() as session:
        page = find_concepts(session, "vin", "naf")
    ids = [c.id for c in page.concepts]
    assert ids[0] == "naf:11.02"  # "Production de vin (de raisin)": the whole word, shortest label
    assert {"naf:11.02A", "naf:11.03", "naf:11.02B"} <= set(ids)  # "vins", and the prefix "Vinification"
    assert ids.index("naf:11.02A") < ids.index("naf:11.02B")  # whole words before prefixes
    assert not any(c.pref_label_fr.lower().count("bovin") for c in page.concepts)
    assert page.total == len(ids)


def test_exact_label_and_codes_first(seeded: Opener) -> None:
    assert _ids(seeded, "Europe", "region")[0] == "region:150"
    assert _ids(seeded, "europe de l'ouest", "region")[0] == "region:155"
    assert _ids(seeded, "11.02")[:3] == ["naf:11.02", "naf:11.02A", "naf:11.02B"]
    assert _ids(seeded, "naf:11.02B") == ["naf:11.02B"]
    assert _ids(seeded, "DE", "country")[0] == "country:DE"
    assert _ids(seeded, "Germany")[0] == "country:DE"


def test_accents_case_and_other_labels(seeded: Opener) -> None:
    assert _ids(seeded, "ETATS-UNIS", "country")[0] == "country:US"
    assert _ids(seeded, "emirats", "country")[0] == "country:AE"  # an alternative label
    assert _ids(seeded, "allemande", "country") == ["country:DE"]  # a hidden label (adjective)
    assert _ids(seeded, "devis", "doctype") == ["doctype:quote_template"]
    assert _ids(seeded, "vigne culture", "naf")[:2] == ["naf:01.21", "naf:01.21Z"]  # any word order


def test_paging_and_listing(seeded: Opener) -> None:
    first, second = _ids(seeded, "culture", "naf", limit=3), _ids(seeded, "culture", "naf", limit=3, offset=3)
    assert len(first) == len(second) == 3 and not set(first) & set(second)
    assert _ids(seeded, None, "doctype", limit=2) == ["doctype:client_reference", "doctype:country_note"]
    assert _ids(seeded, "zzzz") == []


@pytest.mark.parametrize(
    ("q", "matches"),
    [("vin", False), ("ovin", False), ("bovin", True), ("bov", True), ("BOVINS", True), ("buffle", True),
     ("elevage", True), ("levage", False)],
)
def test_match_rank_words_not_substrings(q: str, matches: bool) -> None:
    rank = match_rank(q, ("naf:01.42", "01.42"), ("Élevage d'autres bovins et de buffles",), ())
    assert (rank is not None) is matches
