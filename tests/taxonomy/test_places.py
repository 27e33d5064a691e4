"""Places (cities, regions, landmarks), ambiguity rules, English entities and named zones."""

from __future__ import annotations

import pytest

from taxonomy.classifier import TaxonomyClassifier
from taxonomy.evaluation import predict_zone, region_zone
from taxonomy.places import PLACES_CSV, english_entities, looks_english, place_rows
from taxonomy.referential import Referential


def countries(classifier: TaxonomyClassifier, text: str, title: str = "") -> list[str]:
    return [s.concept_id for s in classifier.classify_countries(text, [], title)]


def test_places_csv_is_small_and_points_to_known_countries(ref: Referential) -> None:
    assert PLACES_CSV.stat().st_size < 2_000_000
    rows = place_rows()
    assert len(rows) > 2000
    known = {c.id for c in ref.concepts("country")}
    assert all(f"country:{r['country']}" in known for r in rows)
    by_name = {(r["name"], r["lang"]): r["country"] for r in rows}
    assert by_name[("Tbilisi", "en")] == "GE"
    assert by_name[("Pékin", "fr")] == "CN"
    assert by_name[("Ontario", "en")] == "CA"
    # ordinary words and names shared by countries without a dominant one are left out
    names = {r["name"].lower() for r in rows}
    assert not {"nice", "split", "mobile", "reading", "valencia"} & names


@pytest.mark.parametrize(("text", "expected"), [
    ("Toyota opened a plant near Osaka last year.", "country:JP"),
    ("Shares fell in Frankfurt and Munich.", "country:DE"),
    ("Les exportations de vins vers Pékin progressent.", "country:CN"),
    ("The Kremlin rejected the proposal.", "country:RU"),
    ("Wildfires spread across Queensland.", "country:AU"),
    ("Pope Francis met pilgrims.", "country:VA"),
])
def test_a_city_region_or_landmark_maps_to_its_country(
    classifier: TaxonomyClassifier, text: str, expected: str
) -> None:
    assert countries(classifier, text) == [expected]


def test_a_country_name_beats_its_cities(classifier: TaxonomyClassifier) -> None:
    scored = classifier.classify_countries("Japan and Osaka, Kyoto, Nagoya.", [], "")
    assert scored[0].concept_id == "country:JP" and len(scored) == 1
    city_only = classifier.classify_countries("Osaka.", [], "")[0].score
    assert classifier.classify_countries("Japan.", [], "")[0].score > city_only


def test_georgia_state_or_country(classifier: TaxonomyClassifier) -> None:
    assert countries(classifier, "Voters lined up in Atlanta.", "Georgia Votes Early") == ["country:US"]
    assert countries(classifier, "Crowds filled the streets of Tbilisi.", "Protests in Georgia") == [
        "country:GE"]
    assert countries(classifier, "The Georgia legislature passed a bill.") == ["country:US"]
    assert countries(classifier, "The Caucasus republic of Georgia held elections.") == ["country:GE"]
    assert countries(classifier, "Georgia is on my mind.") == []  # no support either way


def test_guinea(classifier: TaxonomyClassifier) -> None:
    assert countries(classifier, "", "Guinea Pig Breeders Face Higher Feed Costs") == []
    assert countries(classifier, "Exports to Papua New Guinea rose.") == ["country:PG"]
    assert countries(classifier, "Oil from Equatorial Guinea and Guinea-Bissau cashews.") == [
        "country:GQ", "country:GW"]
    assert countries(classifier, "Bauxite mines in Guinea near Conakry.") == ["country:GN"]


def test_turkey_food_or_country(classifier: TaxonomyClassifier) -> None:
    assert countries(classifier, "Families plan their Thanksgiving menus.", "Turkey Prices Climb") == []
    assert countries(classifier, "Roast Turkey is back on the menu.") == []
    assert countries(classifier, "Turkey breast sandwiches sold out.") == []
    assert countries(classifier, "The central bank in Ankara lifted rates.", "Turkey Raises Rates") == [
        "country:TR"]
    deal = countries(classifier, "Turkey signed a gas deal with Azerbaijan.")
    assert set(deal) == {"country:TR", "country:AZ"}
    assert countries(classifier, "Türkiye signed the deal.") == ["country:TR"]


def test_people_and_other_senses(classifier: TaxonomyClassifier) -> None:
    assert countries(classifier, "Michael Jordan bought a stake in the team.") == []
    assert countries(classifier, "The king of Jordan met officials in Amman.") == ["country:JO"]
    assert countries(classifier, "Oil output in the Niger Delta fell.") == ["country:NG"]
    assert countries(classifier, "Niger's junta in Niamey expelled the envoy.") == ["country:NE"]
    assert countries(classifier, "The festival moved to Paris, Texas.") == ["country:US"]
    assert countries(classifier, "Fighting near Goma, in eastern Congo, displaced thousands.") == [
        "country:CD"]
    assert countries(classifier, "Sales grew across Latin America.") == []
    assert countries(classifier, "Tankers crossed the Indian Ocean.") == []


def test_english_entities_have_place_boundaries_and_people() -> None:
    ents = english_entities("Protesters gathered in New York, in Georgia and near the Kremlin. "
                            "Michael Jordan spoke.")
    assert ("New York", "GPE") in ents and ("York", "GPE") not in ents
    assert ("Georgia", "GPE") in ents  # ambiguous: a place only after a preposition
    assert ("Kremlin", "GPE") in ents
    assert ("Michael Jordan", "PERSON") in ents
    assert english_entities("new york is lowercase here") == []  # case-sensitive


def test_language_guess_keeps_french_text_on_french_rules(classifier: TaxonomyClassifier) -> None:
    assert looks_english("The company said on Monday that sales rose in the quarter.")
    assert not looks_english("L'entreprise a annoncé lundi que les ventes de vins en Chine progressent.")
    # French text: the same results as before places existed (names, adjectives, elisions)
    assert countries(classifier, "Les vins français s'exportent bien en Allemagne") == [
        "country:DE", "country:FR"]
    assert countries(classifier, "La réunion du conseil avec Maurice et Dominique") == []
    assert countries(classifier, "Le salon de Nice attire des acheteurs") == []
    # French place names need their capital: "vienne" is a verb, "Vienne" the city
    assert countries(classifier, "Il faut qu'il vienne au canton voisin") == []
    assert countries(classifier, "Le salon de Vienne attire des acheteurs") == ["country:AT"]
    assert countries(classifier, "Le pape a reçu les exportateurs") == ["country:VA"]
    assert countries(classifier, "Le cap est fixé pour les exportations") == []
    assert countries(classifier, "Le Cap accueille le salon") == ["country:ZA"]


def test_named_zones(classifier: TaxonomyClassifier) -> None:
    zones = [z.concept_id for z in classifier.classify_zones("EU ministers met in Brussels.", [], "")]
    assert zones == ["region:150"]
    me = [z.concept_id for z in classifier.classify_zones("Tensions rose in the Middle East.", [], "")]
    assert me == ["region:145"] and region_zone(classifier, "region:145") == "middle-east"
    fr = [z.concept_id for z in classifier.classify_zones("La Commission européenne et l'UE.", [], "")]
    assert fr == ["region:150"]
    assert classifier.classify_zones("the eu is lowercase", [], "") == []
    assert region_zone(classifier, "region:155") == "europe"


def test_zone_prediction_with_a_home_country(classifier: TaxonomyClassifier) -> None:
    title, text = "U.S. Sanctions Hit Iranian Oil", "The U.S. Treasury named ten tankers."
    assert predict_zone(classifier, text, title, [])[0] == "americas"
    assert predict_zone(classifier, text, title, [], "country:US")[0] == "middle-east"
    only_us = predict_zone(classifier, "The U.S. economy grew.", "", [], "country:US")
    assert only_us == ("americas", "americas")  # the home country still counts when alone
    europe = predict_zone(classifier, "EU leaders and European officials met.", "Europe Debates Tariffs", [])
    assert europe == ("europe", None)  # named zones only: no country
