from __future__ import annotations

import pytest

from taxonomy.referential import Referential


@pytest.mark.parametrize(
    ("value", "scheme", "expected"),
    [
        ("11", "naf", "naf:11"),
        ("naf:11", "naf", "naf:11"),
        ("11.02", "naf", "naf:11.02"),
        ("11.02b", "naf", "naf:11.02B"),
        ("C", "naf", "naf:C"),
        ("DE", "country", "country:DE"),
        ("country:DE", "country", "country:DE"),
        ("Allemagne", "country", "country:DE"),
        ("allemagne", "country", "country:DE"),
        ("Germany", "country", "country:DE"),
        ("DEU", "country", "country:DE"),
        ("Vietnam", "country", "country:VN"),
        ("viet nam", "country", "country:VN"),
        ("150", "region", "region:150"),
        ("Europe", "region", "region:150"),
        ("quote_template", "doctype", "doctype:quote_template"),
        ("Modèle de devis", "doctype", "doctype:quote_template"),
    ],
)
def test_resolve(ref: Referential, value: str, scheme: str, expected: str) -> None:
    assert ref.resolve(value, scheme) == expected


def test_resolve_unknown_and_wrong_scheme(ref: Referential) -> None:
    assert ref.resolve("Atlantide", "country") is None
    assert ref.resolve("99.99", "naf") is None
    assert ref.resolve("country:DE", "naf") is None
    assert ref.resolve("", "naf") is None


def test_hierarchy(ref: Referential) -> None:
    assert ref.ancestors("naf:11.02B") == ["naf:11.02", "naf:11.0", "naf:11", "naf:C"]
    assert ref.ancestors("naf:C") == []
    assert ref.division_of("naf:11.02B") == "naf:11"
    assert ref.division_of("naf:11") == "naf:11"
    assert ref.division_of("naf:C") is None
    assert ref.section_of("naf:11.02") == "naf:C"
    assert ref.regions_of("country:DE") == ["region:155", "region:150"]
    assert ref.regions_of("country:CI") == ["region:011", "region:202", "region:002"]


def test_concepts_and_labels(ref: Referential) -> None:
    levels = {c.level for c in ref.concepts("naf")}
    assert levels == {"section", "division", "group", "class", "subclass"}
    assert len([c for c in ref.concepts("naf") if c.level == "class"]) == 615
    assert len(ref.concepts("doctype")) == 10
    assert ref.label("country:DE") == "Allemagne"
    assert ref.label("country:DE", "en") == "Germany"
    assert ref.label("naf:11.02", "en") == "Manufacture of wine from grape"
    wine = ref.concept("naf:11.02B")
    assert "wine" in wine.definition_en  # sous-classes inherit their class's note
    assert "allemandes" in ref.concept("country:DE").hidden_labels_fr
    with pytest.raises(KeyError):
        ref.concept("naf:nope")


def test_load_is_cached() -> None:
    assert Referential.load() is Referential.load()
