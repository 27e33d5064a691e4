"""Generate the bundled demo corpus and demo watch feeds for `tfe` (all content written by the project).

Usage::

    python scripts/make_demo_corpus.py [OUT_DIR] [--feeds-dir DIR] [--organisations FILE]

OUT_DIR defaults to ``tfe/demo/corpus``; it receives the documents (docx, pdf, xlsx, pptx, html, odt) and
``manifest.json``. Feeds go to ``tfe/demo/feeds`` and the organisations to ``tfe/demo/organisations.json``
unless told otherwise. The output is deterministic: zip timestamps and document dates are fixed, so a
re-run produces byte-identical files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "tfe" / "demo" / "corpus"
DEFAULT_FEEDS = ROOT / "tfe" / "demo" / "feeds"
DEFAULT_ORGS = ROOT / "tfe" / "demo" / "organisations.json"

FIXED_DATE = dt.datetime(2026, 1, 15, 9, 0, 0)
FIXED_ZIP_TIME = (2026, 1, 15, 9, 0, 0)
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")

ORGANISATIONS: list[dict[str, str]] = [
    {"slug": "business-france", "name": "Business France", "kind": "national_agency"},
    {"slug": "cci-nouvelle-aquitaine", "name": "CCI Nouvelle-Aquitaine", "kind": "regional_chamber"},
    {"slug": "bpifrance", "name": "Bpifrance", "kind": "bank"},
    {"slug": "region-occitanie", "name": "Région Occitanie", "kind": "region"},
    {"slug": "cci-france-japon", "name": "CCI France Japon", "kind": "partner_abroad"},
]

AUTHORS: dict[str, str] = {
    "business-france": "Camille Roussel (Business France)",
    "cci-nouvelle-aquitaine": "Claire Dubreuil (CCI Nouvelle-Aquitaine)",
    "bpifrance": "Julien Marchetti (Bpifrance)",
    "region-occitanie": "Sophie Castan (Région Occitanie)",
    "cci-france-japon": "Hugo Lefèvre (CCI France Japon)",
}


def t(text: str) -> str:
    """Collapse a wrapped triple-quoted string into one paragraph."""
    return " ".join(text.split())


def paras(text: str) -> list[str]:
    """Split a triple-quoted block into paragraphs (blank-line separated)."""
    return [t(p) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


# --------------------------------------------------------------------------------------------------
# Reference data: countries and sectors (our own summaries, figures rounded and indicative)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Country:
    iso: str
    name: str
    en: str  # "en Allemagne", "au Vietnam"
    market: str  # "le marché allemand"
    importers: str  # "les importateurs allemands"
    buyers: str  # "les acheteurs allemands"
    facts: tuple[str, ...]
    economy: str
    culture: str
    practical: str
    office: str


@dataclass(frozen=True)
class Sector:
    key: str
    name: str
    naf: str
    trends: str
    regulation: str
    offer: str


COUNTRIES: dict[str, Country] = {
    "DE": Country(
        "DE", "Allemagne", "en Allemagne", "le marché allemand", "les importateurs allemands",
        "les acheteurs allemands",
        ("Capitale : Berlin", "Population : 84 millions d'habitants", "Monnaie : euro",
         "PIB : environ 4 100 milliards d'euros", "Premier partenaire commercial de la France"),
        t("""L'Allemagne reste la première économie européenne et le premier partenaire commercial de
        la France, avec plus de 180 milliards d'euros d'échanges bilatéraux par an. Le marché allemand
        est décentralisé : les grandes métropoles régionales (Munich, Hambourg, Francfort, Cologne,
        Düsseldorf, Stuttgart) ont chacune leurs distributeurs, leurs salons et leurs habitudes de
        consommation. La demande y est exigeante, sensible au rapport qualité-prix et aux labels."""),
        t("""Les acheteurs allemands attendent des offres écrites, précises et chiffrées, des délais
        tenus et une documentation technique en allemand. La ponctualité est non négociable et le
        vouvoiement (Sie) est de règle. Les décisions sont plus lentes qu'en France mais les relations
        commerciales, une fois établies, sont durables et fondées sur la fiabilité."""),
        t("""Au sein du marché unique, aucun droit de douane ne s'applique ; la TVA allemande est de 19 %
        (7 % pour une partie des produits alimentaires). Tout metteur en marché d'emballages doit être
        enregistré au registre LUCID au titre de la loi VerpackG. Les salons professionnels (ProWein,
        Medica, Hannover Messe, Anuga) sont des passages quasi obligés pour rencontrer la distribution."""),
        "le bureau Business France de Düsseldorf",
    ),
    "VN": Country(
        "VN", "Vietnam", "au Vietnam", "le marché vietnamien", "les importateurs vietnamiens",
        "les acheteurs vietnamiens",
        ("Capitale : Hanoï", "Population : 100 millions d'habitants", "Monnaie : dông (VND)",
         "Croissance du PIB : environ 6 % par an", "Accord de libre-échange UE-Vietnam en vigueur depuis 2020"),
        t("""Le Vietnam affiche l'une des croissances les plus soutenues d'Asie du Sud-Est, portée par
        l'industrie manufacturière, les investissements étrangers et l'essor d'une classe moyenne
        urbaine à Hô Chi Minh-Ville et Hanoï. L'accord de libre-échange entre l'Union européenne et le
        Vietnam (EVFTA) démantèle progressivement la quasi-totalité des droits de douane, ce qui rend
        les produits européens plus compétitifs face aux concurrents australiens et néo-zélandais."""),
        t("""Les importateurs vietnamiens privilégient la relation personnelle : plusieurs rencontres
        sont souvent nécessaires avant une première commande. Les échanges de cartes de visite, la
        présence d'un interlocuteur stable et la capacité à répondre vite sur messagerie (Zalo) comptent
        beaucoup. Les négociations portent autant sur le prix que sur le soutien marketing."""),
        t("""L'enregistrement des produits alimentaires auprès des autorités sanitaires, l'étiquetage
        en vietnamien et l'obtention des certificats sanitaires officiels sont des préalables à
        l'importation. Les délais administratifs peuvent dépasser trois mois ; il est recommandé de
        travailler avec un importateur qui maîtrise ces formalités."""),
        "le bureau Business France de Hô Chi Minh-Ville",
    ),
    "JP": Country(
        "JP", "Japon", "au Japon", "le marché japonais", "les importateurs japonais",
        "les acheteurs japonais",
        ("Capitale : Tokyo", "Population : 124 millions d'habitants", "Monnaie : yen (JPY)",
         "PIB : quatrième économie mondiale", "Accord de partenariat économique UE-Japon depuis 2019"),
        t("""Le Japon est la quatrième économie mondiale et un marché de consommateurs à fort pouvoir
        d'achat, très attachés à la qualité, à la sécurité et à l'esthétique des produits. Le
        vieillissement de la population transforme la demande (santé, confort, produits premium en
        petits formats). L'accord de partenariat économique avec l'Union européenne a supprimé ou
        réduit la plupart des droits de douane sur les produits français."""),
        t("""Les acheteurs japonais prennent le temps de la confiance : échantillons, visites d'usine,
        questionnaires qualité détaillés. Le consensus interne ralentit la décision mais garantit
        ensuite la fidélité. Une documentation traduite en japonais et un partenaire local (agent,
        distributeur ou maison de commerce) sont presque indispensables."""),
        t("""Les normes japonaises (JIS, réglementation pharmaceutique et cosmétique, additifs
        alimentaires autorisés) diffèrent souvent des normes européennes et imposent des adaptations
        de formule ou d'étiquetage. La CCI France Japon et Business France Tokyo accompagnent les
        entreprises dans ces démarches."""),
        "le bureau Business France de Tokyo",
    ),
    "US": Country(
        "US", "États-Unis", "aux États-Unis", "le marché américain", "les importateurs américains",
        "les acheteurs américains",
        ("Capitale : Washington", "Population : 335 millions d'habitants", "Monnaie : dollar (USD)",
         "PIB : première économie mondiale", "Marché fédéral composé de 50 États"),
        t("""Les États-Unis constituent le premier marché mondial et la première destination des
        exportations françaises hors Union européenne. Le marché américain est en réalité une
        juxtaposition de marchés régionaux : la Californie, le Texas, la Floride ou la région de New
        York ont leurs propres réseaux de distribution, réglementations d'État et codes culturels."""),
        t("""Les acheteurs américains attendent une réponse rapide, un discours orienté résultats et
        des références chiffrées. Le premier rendez-vous est direct et informel, mais la négociation
        contractuelle est très encadrée par les juristes. La capacité à assurer un service après-vente
        local est souvent un critère décisif."""),
        t("""Selon les produits, l'entrée sur le marché passe par la FDA (alimentaire, santé,
        cosmétiques), la FAA (aéronautique) ou des certifications UL. Les droits de douane et les
        règles d'origine évoluent ; une veille réglementaire et une assurance responsabilité civile
        adaptée au contexte américain sont indispensables."""),
        "le bureau Business France de New York",
    ),
    "CA": Country(
        "CA", "Canada", "au Canada", "le marché canadien", "les importateurs canadiens",
        "les acheteurs canadiens",
        ("Capitale : Ottawa", "Population : 40 millions d'habitants", "Monnaie : dollar canadien (CAD)",
         "Accord CETA avec l'Union européenne appliqué depuis 2017", "Deux langues officielles"),
        t("""Le Canada offre aux entreprises françaises un marché stable, une porte d'entrée vers
        l'Amérique du Nord et, grâce à l'accord CETA, la suppression de la quasi-totalité des droits de
        douane. Le Québec, francophone, sert souvent de premier marché test avant l'Ontario et la
        Colombie-Britannique. Montréal concentre un pôle aéronautique et numérique de rang mondial."""),
        t("""Les acheteurs canadiens apprécient un discours pragmatique, des engagements clairs et une
        présence locale. Au Québec, la langue française facilite le premier contact, mais les codes
        commerciaux restent nord-américains : rapidité, transparence sur les prix et orientation
        client."""),
        t("""Chaque province dispose de ses propres règles (régies des alcools, marchés publics,
        normes de construction). L'étiquetage bilingue anglais-français est obligatoire pour les
        produits de consommation vendus au niveau fédéral."""),
        "le bureau Business France de Montréal",
    ),
    "BR": Country(
        "BR", "Brésil", "au Brésil", "le marché brésilien", "les importateurs brésiliens",
        "les acheteurs brésiliens",
        ("Capitale : Brasília", "Population : 215 millions d'habitants", "Monnaie : real (BRL)",
         "Première économie d'Amérique latine", "Membre du Mercosur"),
        t("""Le Brésil est la première économie d'Amérique latine et une puissance agricole mondiale
        (soja, maïs, canne à sucre, élevage). L'État de São Paulo concentre près d'un tiers du PIB,
        tandis que le Centre-Ouest (Mato Grosso, Goiás) porte la croissance de l'agro-industrie. Le
        pays investit massivement dans les énergies renouvelables, notamment l'éolien dans le
        Nordeste."""),
        t("""Les acheteurs brésiliens valorisent la relation personnelle, la disponibilité et la
        maîtrise du portugais. Les réunions commencent souvent par une conversation informelle ; la
        négociation est longue et les conditions de paiement sont un point central."""),
        t("""La fiscalité brésilienne est complexe (ICMS, IPI, PIS/COFINS) et la charge fiscale à
        l'importation peut doubler le prix rendu. Le recours à un importateur habilité ou à une
        filiale locale est fréquent ; les certifications INMETRO ou ANVISA s'appliquent selon les
        produits."""),
        "le bureau Business France de São Paulo",
    ),
    "IN": Country(
        "IN", "Inde", "en Inde", "le marché indien", "les importateurs indiens", "les acheteurs indiens",
        ("Capitale : New Delhi", "Population : 1,43 milliard d'habitants", "Monnaie : roupie (INR)",
         "Croissance du PIB : environ 6,5 % par an", "Programme Make in India"),
        t("""L'Inde est devenue le pays le plus peuplé du monde et l'une des grandes économies les plus
        dynamiques. Le programme Make in India encourage la production locale et les partenariats
        industriels, en particulier dans l'aéronautique, la défense, le ferroviaire et les
        infrastructures urbaines. Les grands projets de métro et de corridors de fret ouvrent des
        débouchés aux équipementiers français."""),
        t("""Les acheteurs indiens négocient durement le prix et attendent une forte adaptation de
        l'offre. Les relations se construisent dans la durée ; la présence régulière sur place et un
        partenaire local fiable sont déterminants. Les décisions des grands groupes sont très
        hiérarchisées."""),
        t("""Les droits de douane restent élevés sur de nombreux produits et les exigences de contenu
        local sont fréquentes dans les appels d'offres publics. La certification BIS s'applique à
        certaines catégories d'équipements."""),
        "le bureau Business France de New Delhi",
    ),
    "MA": Country(
        "MA", "Maroc", "au Maroc", "le marché marocain", "les importateurs marocains",
        "les acheteurs marocains",
        ("Capitale : Rabat", "Population : 37 millions d'habitants", "Monnaie : dirham (MAD)",
         "Premier investisseur étranger : la France", "Objectif de 52 % d'électricité renouvelable en 2030"),
        t("""Le Maroc est un partenaire historique de la France et une plateforme vers l'Afrique de
        l'Ouest. Le pays mène une politique ambitieuse d'infrastructures (ports, lignes à grande
        vitesse, dessalement) et vise plus de la moitié de sa capacité électrique d'origine
        renouvelable à l'horizon 2030. Casablanca, Tanger et Rabat concentrent l'activité
        économique."""),
        t("""Les acheteurs marocains apprécient la proximité culturelle et linguistique avec la France,
        mais la concurrence espagnole, turque et chinoise est vive. La relation personnelle, la
        réactivité et la capacité à proposer un financement sont décisives."""),
        t("""Les marchés publics passent par des appels d'offres des offices nationaux (ONEE, ONCF) et
        des agences (MASEN). L'accord d'association avec l'Union européenne supprime les droits sur la
        plupart des produits industriels."""),
        "le bureau Business France de Casablanca",
    ),
    "AE": Country(
        "AE", "Émirats arabes unis", "aux Émirats arabes unis", "le marché émirien",
        "les importateurs émiriens", "les acheteurs émiriens",
        ("Capitale : Abou Dhabi", "Population : 10 millions d'habitants", "Monnaie : dirham (AED)",
         "Hub régional du Golfe", "Expatriés : près de 90 % de la population"),
        t("""Les Émirats arabes unis sont le hub commercial et logistique du Golfe. Dubaï et Abou Dhabi
        réexportent vers l'ensemble du Moyen-Orient, de l'Afrique de l'Est et de l'Asie du Sud. Le
        pays diversifie son économie au-delà des hydrocarbures : santé, tourisme, construction
        durable, énergies propres et numérique."""),
        t("""Les acheteurs émiriens attendent des offres haut de gamme, une présence régulière et des
        délais courts. Le recours à un agent ou distributeur local reste la norme, en particulier
        pour les marchés publics et hospitaliers. La relation de confiance se construit lors de
        visites fréquentes."""),
        t("""L'enregistrement des produits de santé auprès du ministère et des autorités sanitaires de
        Dubaï ou d'Abou Dhabi est obligatoire. Les zones franches permettent une détention étrangère à
        100 % et facilitent l'installation d'un stock régional."""),
        "le bureau Business France de Dubaï",
    ),
    "GB": Country(
        "GB", "Royaume-Uni", "au Royaume-Uni", "le marché britannique", "les importateurs britanniques",
        "les acheteurs britanniques",
        ("Capitale : Londres", "Population : 68 millions d'habitants", "Monnaie : livre sterling (GBP)",
         "Accord de commerce et de coopération avec l'UE depuis 2021", "Place financière de premier rang"),
        t("""Le Royaume-Uni reste l'un des premiers clients de la France malgré le Brexit. Londres est
        la première place technologique européenne pour le capital-risque, et le marché britannique
        des logiciels d'entreprise est le plus mature d'Europe. Manchester, Édimbourg et Cambridge
        sont des pôles numériques en forte croissance."""),
        t("""Les acheteurs britanniques sont pragmatiques et attendent des démonstrations concrètes,
        des études de cas et une tarification claire. L'humour et la courtoisie comptent, mais les
        engagements contractuels sont stricts. Une entité locale ou un partenaire revendeur rassure
        les grands comptes."""),
        t("""Depuis 2021, les formalités douanières s'appliquent aux biens et le marquage UKCA
        remplace progressivement le marquage CE pour certains produits. Pour les services numériques,
        le respect du UK GDPR et l'hébergement des données sont des sujets fréquents d'appel
        d'offres."""),
        "le bureau Business France de Londres",
    ),
    "CN": Country(
        "CN", "Chine", "en Chine", "le marché chinois", "les importateurs chinois", "les acheteurs chinois",
        ("Capitale : Pékin", "Population : 1,41 milliard d'habitants", "Monnaie : yuan (CNY)",
         "Deuxième économie mondiale", "Premier marché mondial du commerce en ligne"),
        t("""La Chine est la deuxième économie mondiale et le premier marché du commerce en ligne. La
        consommation y est tirée par une classe moyenne urbaine exigeante, friande de marques
        étrangères premium, en particulier dans la mode, les cosmétiques et les produits laitiers. Les
        plateformes Tmall, JD.com et Douyin structurent la distribution."""),
        t("""Les acheteurs chinois valorisent la relation (guanxi), la réactivité et la capacité à
        co-construire des actions marketing sur les réseaux sociaux chinois. La protection de la
        marque doit être anticipée par un dépôt en Chine avant toute prospection."""),
        t("""Les produits alimentaires importés doivent être enregistrés auprès des douanes chinoises
        (GACC) et les fabricants étrangers référencés. Le commerce en ligne transfrontalier permet de
        tester le marché avec des formalités allégées."""),
        "le bureau Business France de Shanghai",
    ),
    "CI": Country(
        "CI", "Côte d'Ivoire", "en Côte d'Ivoire", "le marché ivoirien", "les importateurs ivoiriens",
        "les acheteurs ivoiriens",
        ("Capitale politique : Yamoussoukro ; capitale économique : Abidjan",
         "Population : 29 millions d'habitants", "Monnaie : franc CFA (XOF)",
         "Croissance du PIB : environ 6,5 % par an", "Premier producteur mondial de cacao"),
        t("""La Côte d'Ivoire est la locomotive de l'Union économique et monétaire ouest-africaine, avec
        une croissance proche de 7 % portée par les infrastructures, le BTP, l'énergie et
        l'agro-industrie. Abidjan concentre l'essentiel de l'activité économique et sert de base
        régionale à de nombreux groupes français."""),
        t("""Les acheteurs ivoiriens apprécient la francophonie, la présence sur le terrain et les
        relations de long terme. Les décisions impliquent souvent plusieurs niveaux hiérarchiques et
        les délais de paiement doivent être sécurisés (crédit documentaire, assurance-crédit)."""),
        t("""Les grands projets publics sont financés par l'État, les bailleurs internationaux ou des
        partenariats public-privé. L'accompagnement par un partenaire local et la connaissance des
        procédures de passation des marchés sont essentiels."""),
        "le bureau Business France d'Abidjan",
    ),
    "MX": Country(
        "MX", "Mexique", "au Mexique", "le marché mexicain", "les importateurs mexicains",
        "les acheteurs mexicains",
        ("Capitale : Mexico", "Population : 129 millions d'habitants", "Monnaie : peso (MXN)",
         "Deuxième économie d'Amérique latine", "Accord global modernisé avec l'Union européenne"),
        t("""Le Mexique est la deuxième économie d'Amérique latine et bénéficie du mouvement de
        relocalisation des chaînes de valeur nord-américaines (nearshoring). Monterrey, Guadalajara et
        le Bajío attirent l'industrie, tandis que Mexico concentre les sièges sociaux, les hôpitaux
        privés et les grands donneurs d'ordre publics."""),
        t("""Les acheteurs mexicains attachent une grande importance à la relation personnelle et au
        déjeuner d'affaires. L'espagnol est indispensable dans la durée ; les décisions se prennent
        au plus haut niveau et les délais peuvent s'allonger sans que l'intérêt diminue."""),
        t("""Les dispositifs médicaux doivent être enregistrés auprès de la COFEPRIS et les marchés
        publics de santé passent par l'IMSS et l'ISSSTE. L'accord avec l'Union européenne supprime la
        plupart des droits de douane industriels."""),
        "le bureau Business France de Mexico",
    ),
    "KR": Country(
        "KR", "Corée du Sud", "en Corée du Sud", "le marché sud-coréen", "les importateurs coréens",
        "les acheteurs coréens",
        ("Capitale : Séoul", "Population : 51 millions d'habitants", "Monnaie : won (KRW)",
         "Accord de libre-échange UE-Corée depuis 2011", "Taux de pénétration du commerce en ligne parmi "
         "les plus élevés au monde"),
        t("""La Corée du Sud est une économie très technologique et un laboratoire des tendances
        asiatiques, notamment dans la beauté (K-beauty) et la mode. Les consommateurs coréens sont
        connectés, exigeants et rapides à adopter les nouveautés ; Séoul donne le ton pour une grande
        partie de l'Asie."""),
        t("""Les acheteurs coréens attendent réactivité, supports marketing adaptés et engagement sur
        la durée. Les distributeurs demandent souvent l'exclusivité ; il convient d'en limiter la
        durée et de l'assortir d'objectifs de ventes."""),
        t("""Les cosmétiques sont soumis à la réglementation du ministère de la sécurité alimentaire et
        des médicaments (MFDS) ; les allégations fonctionnelles (blanchiment, anti-rides) doivent être
        enregistrées. L'accord de libre-échange supprime les droits de douane sur les produits
        français."""),
        "le bureau Business France de Séoul",
    ),
}

SECTORS: dict[str, Sector] = {
    "vins": Sector(
        "vins", "vins et spiritueux", "11.02",
        t("""La consommation mondiale de vin recule en volume mais se valorise : les consommateurs
        boivent moins mais mieux, privilégient les vins biologiques, les rosés, les blancs frais et
        les effervescents. Les vins sans alcool et à faible teneur en alcool progressent rapidement,
        ainsi que les formats alternatifs (bag-in-box, canettes) pour la consommation hors domicile."""),
        t("""L'étiquetage doit mentionner les allergènes, le titre alcoométrique et, depuis décembre
        2023, la liste des ingrédients et la déclaration nutritionnelle (souvent via un QR code). Les
        accises et les règles de distribution des boissons alcoolisées varient fortement d'un pays à
        l'autre."""),
        t("""L'offre française bénéficie d'une notoriété inégalée (Bordeaux, Bourgogne, Champagne,
        vallée du Rhône, Languedoc) et d'une large palette de prix. Sa faiblesse tient à la complexité
        perçue des appellations et à la concurrence de pays au marketing plus simple (Italie,
        Espagne, Nouveau Monde)."""),
    ),
    "laitier": Sector(
        "laitier", "agroalimentaire et produits laitiers", "10.51",
        t("""La demande mondiale de produits laitiers progresse, tirée par l'Asie et l'Afrique : lait
        infantile, poudres, fromages et beurre, ingrédients pour la boulangerie et la restauration.
        Les consommateurs urbains découvrent les fromages affinés et les produits ultra-frais, tandis
        que l'industrie recherche des ingrédients fonctionnels de qualité constante."""),
        t("""Les exportations de produits laitiers exigent des certificats sanitaires officiels,
        l'agrément des établissements par le pays importateur et le respect de la chaîne du froid.
        Les règles d'étiquetage et les additifs autorisés doivent être vérifiés marché par marché."""),
        t("""La France est l'un des premiers exportateurs mondiaux de fromages et d'ingrédients
        laitiers. Ses atouts : la diversité des AOP, la sécurité sanitaire et l'image gastronomique ;
        ses concurrents : la Nouvelle-Zélande, l'Australie, les Pays-Bas et les États-Unis."""),
    ),
    "cosmetiques": Sector(
        "cosmetiques", "cosmétiques", "20.42",
        t("""Le marché mondial de la beauté croît d'environ 5 % par an. Les soins de la peau, les
        produits naturels et biologiques, la cosmétique « clean » et les formules adaptées aux
        peaux sensibles tirent la croissance. Le commerce en ligne et les réseaux sociaux
        (influenceurs, livestreaming) sont devenus les premiers canaux de découverte."""),
        t("""Chaque pays impose ses listes d'ingrédients autorisés, ses exigences de dossier produit et
        parfois un enregistrement préalable. Les allégations (anti-âge, éclaircissant, bio) sont
        encadrées et les tests sur animaux sont interdits en Europe, ce qui peut poser question sur
        certains marchés."""),
        t("""La France est le premier exportateur mondial de cosmétiques. L'image de Paris, le savoir-
        faire des laboratoires de la Cosmetic Valley et la crédibilité dermatologique des marques de
        pharmacie sont des atouts majeurs, y compris pour les PME."""),
    ),
    "aero": Sector(
        "aero", "aéronautique", "30.30",
        t("""Le transport aérien a retrouvé et dépassé ses niveaux d'avant crise ; les carnets de
        commandes des avionneurs représentent près de dix ans de production. Les sous-traitants de
        rang 2 et 3 sont sollicités pour augmenter leurs cadences, tandis que la décarbonation
        (carburants durables, allègement, motorisations hybrides) ouvre de nouveaux marchés."""),
        t("""Les fournisseurs doivent être certifiés EN 9100 / AS9100 et qualifiés par chaque donneur
        d'ordre. Les règles de contrôle des exportations (biens à double usage, ITAR pour les
        composants américains) doivent être anticipées dès la prospection."""),
        t("""La filière française, structurée autour du GIFAS et des pôles de Toulouse et de
        Bordeaux, est reconnue pour l'usinage de précision, les composites, les systèmes embarqués et
        la maintenance. Les PME françaises gagnent des marchés en suivant les grands programmes à
        l'international."""),
    ),
    "logiciels": Sector(
        "logiciels", "logiciels et numérique", "58.29",
        t("""Les entreprises investissent massivement dans le logiciel en mode SaaS, la cybersécurité,
        l'intelligence artificielle appliquée et la gestion des données. Les cycles de vente B2B se
        raccourcissent pour les solutions spécialisées, mais la concurrence des éditeurs américains
        impose une différenciation nette."""),
        t("""La conformité à la protection des données (RGPD et équivalents locaux), la localisation de
        l'hébergement, les certifications ISO 27001 et SOC 2 sont systématiquement demandées par les
        grands comptes et les acheteurs publics."""),
        t("""La French Tech compte de nombreux éditeurs spécialisés reconnus à l'international
        (cybersécurité, logiciels industriels, fintech, santé numérique). Leur force : l'excellence
        technique ; leur point faible : des équipes commerciales souvent trop réduites pour un
        déploiement rapide."""),
    ),
    "medical": Sector(
        "medical", "santé et dispositifs médicaux", "32.50",
        t("""Le vieillissement de la population, la hausse des maladies chroniques et les programmes
        d'investissement hospitalier soutiennent la demande en dispositifs médicaux, en équipements
        de diagnostic et en solutions de santé numérique. Les hôpitaux privés des pays émergents
        recherchent des technologies européennes fiables."""),
        t("""Tout dispositif médical doit être enregistré auprès de l'autorité sanitaire du pays
        importateur ; le marquage CE selon le règlement (UE) 2017/745 facilite la démarche mais ne la
        remplace pas. Les délais d'enregistrement vont de quelques semaines à plus d'un an."""),
        t("""La France dispose d'un tissu dense de PME innovantes (orthopédie, chirurgie
        mini-invasive, imagerie, diagnostic in vitro) et d'une image d'excellence médicale. Le
        salon Medica de Düsseldorf et Arab Health à Dubaï sont des rendez-vous majeurs."""),
    ),
    "enr": Sector(
        "enr", "énergies renouvelables", "35.11",
        t("""Les capacités solaires et éoliennes installées dans le monde battent chaque année des
        records. Les appels d'offres publics, la baisse du coût des modules et les besoins
        d'électrification des zones isolées créent des marchés pour les développeurs, les
        bureaux d'études, le stockage et les services de maintenance."""),
        t("""Les projets sont le plus souvent attribués par appels d'offres nationaux, avec des
        exigences de financement, de contenu local et de garanties de performance. Les bailleurs
        internationaux imposent des standards environnementaux et sociaux stricts."""),
        t("""Les entreprises françaises sont présentes sur toute la chaîne : développement,
        ingénierie, installation, stockage, pilotage des réseaux intelligents et exploitation.
        L'expertise en hybridation solaire-stockage et en mini-réseaux est particulièrement
        recherchée."""),
    ),
    "btp": Sector(
        "btp", "BTP et construction", "41.20",
        t("""Les dépenses mondiales de construction restent soutenues par l'urbanisation, les
        programmes de logement et les infrastructures. La construction durable (bâtiments à faible
        consommation, matériaux biosourcés, climatisation efficace) devient un critère d'appel
        d'offres dans les grands projets."""),
        t("""Les marchés publics imposent souvent un partenariat local, des garanties bancaires et le
        respect de normes de construction nationales. Les certifications environnementales (LEED,
        BREEAM, Estidama) sont de plus en plus exigées."""),
        t("""L'offre française associe grands groupes, ingénieristes et PME spécialisées (façades,
        génie climatique, efficacité énergétique, matériaux innovants). La capacité à se grouper en
        consortium est un facteur clé de succès."""),
    ),
    "machinisme": Sector(
        "machinisme", "machines agricoles", "28.30",
        t("""La mécanisation progresse dans les grands pays agricoles. L'agriculture de précision
        (guidage GPS, capteurs, pulvérisation ciblée) et la robotique répondent à la pénurie de
        main-d'œuvre et à la nécessité de réduire les intrants. Le marché des pièces de rechange et
        du service après-vente représente une part croissante de la valeur."""),
        t("""Les machines doivent respecter les normes de sécurité et parfois d'émissions du pays
        importateur ; le financement des équipements par les banques agricoles locales conditionne
        souvent la vente."""),
        t("""Les constructeurs français (semoirs, pulvérisateurs, matériel de travail du sol,
        équipements viticoles) sont reconnus pour leur robustesse et leur innovation. Le réseau de
        concessionnaires est la clé du succès à l'international."""),
    ),
    "textile": Sector(
        "textile", "textile, mode et habillement", "14.13",
        t("""La mode française bénéficie d'un prestige mondial porté par le luxe, mais les marques
        intermédiaires et les créateurs doivent aussi trouver leur place. La durabilité (matières
        recyclées, traçabilité, fabrication française) et le commerce en ligne transforment les
        attentes des consommateurs."""),
        t("""L'étiquetage de composition, les normes de sécurité des produits textiles et la protection
        de la propriété intellectuelle (dépôt de marque, lutte contre la contrefaçon) sont des
        préalables à toute démarche."""),
        t("""L'offre française se distingue par le style, la qualité des matières et le savoir-faire
        des ateliers. Les marques « made in France » trouvent un écho auprès des consommateurs
        asiatiques attentifs à l'authenticité."""),
    ),
    "ferroviaire": Sector(
        "ferroviaire", "ferroviaire", "30.20",
        t("""Les investissements ferroviaires mondiaux sont portés par les métros urbains, les lignes
        à grande vitesse et le fret décarboné. La signalisation numérique, la maintenance prédictive
        et l'efficacité énergétique du matériel roulant sont les segments les plus dynamiques."""),
        t("""Les marchés sont attribués par appels d'offres d'opérateurs publics, avec des exigences
        de contenu local croissantes. La certification IRIS (ISO/TS 22163) et l'homologation par
        l'autorité nationale sont nécessaires."""),
        t("""La filière ferroviaire française, troisième au monde, réunit des grands intégrateurs et
        un réseau de PME et ETI (composants, signalisation, ingénierie, maintenance) fédérées par
        Fer de France."""),
    ),
    "eau": Sector(
        "eau", "eau et environnement", "36.00",
        t("""L'accès à l'eau potable, l'assainissement, la réutilisation des eaux usées et le
        dessalement sont des priorités dans les pays en croissance rapide et sous stress hydrique.
        Les villes investissent dans la réduction des fuites, la télérelève et le traitement des
        boues."""),
        t("""Les projets sont majoritairement publics, financés par les États et les bailleurs (Banque
        mondiale, AFD, banques régionales), avec des procédures d'appel d'offres exigeantes et des
        critères environnementaux stricts."""),
        t("""La France dispose de leaders mondiaux des services à l'environnement et de nombreuses PME
        innovantes (capteurs, membranes, traitement biologique, logiciels de gestion de réseaux),
        souvent regroupées au sein de pôles comme Aqua-Valley."""),
    ),
}


# --------------------------------------------------------------------------------------------------
# Document model and builders
# --------------------------------------------------------------------------------------------------


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)


@dataclass
class QuoteLine:
    service: str
    detail: str
    quantity: int
    unit: str
    unit_price: float

    @property
    def total(self) -> float:
        return round(self.quantity * self.unit_price, 2)


@dataclass
class Doc:
    slug: str
    fmt: str
    title: str
    doc_type: str
    visibility: str
    org: str
    sectors: list[str]
    countries: list[str]
    sections: list[Section]
    lines: list[QuoteLine] = field(default_factory=list)

    @property
    def file(self) -> str:
        return f"{self.slug}.{self.fmt}"

    @property
    def author(self) -> str:
        return AUTHORS[self.org]

    def text(self) -> str:
        parts = [self.title]
        for s in self.sections:
            parts.append(s.heading)
            parts.extend(s.paragraphs)
            parts.extend(s.bullets)
        for line in self.lines:
            parts.append(f"{line.service} {line.detail}")
        return "\n".join(parts)


def eur(amount: float) -> str:
    whole = f"{amount:,.2f}".replace(",", " ").replace(".", ",")
    return f"{whole} €"


def sector_analysis(
    slug: str, fmt: str, title: str, org: str, sector: str, iso: str, *, synthese: str, figures: str,
    competition: str, visibility: str = "network", doc_type: str = "sector_analysis",
    method: str | None = None,
) -> Doc:
    s, c = SECTORS[sector], COUNTRIES[iso]
    sections = [Section("Synthèse", [t(synthese)])]
    if method:
        sections.append(Section("Méthodologie", [t(method)]))
    sections += [
        Section(f"Contexte économique : {c.market}", [c.economy, t(figures)]),
        Section(f"Tendances de la filière {s.name}", [s.trends]),
        Section("Cadre réglementaire et accès au marché", [s.regulation, c.practical]),
        Section("Concurrence et positionnement de l'offre française", [s.offer, t(competition)]),
        Section("Culture des affaires", [c.culture]),
        Section("Recommandations pour les PME françaises", bullets=[
            f"Valider l'adéquation de l'offre avec {c.market} avant tout investissement lourd "
            f"(test sur l'offre, étude de prix, entretiens avec {c.importers}).",
            f"Préparer une documentation commerciale et technique adaptée aux attentes des {c.buyers.split()[-1]}"
            f" et traduite dans la langue locale.",
            f"Participer à un salon ou à une mission collective organisée par {c.office} pour rencontrer "
            "des partenaires qualifiés.",
            "Mobiliser les financements de l'équipe France Export : assurance prospection Bpifrance, "
            "chèques export régionaux, V.I.E. pour s'implanter dans la durée.",
        ]),
    ]
    return Doc(slug, fmt, title, doc_type, visibility, org, [s.naf], [iso], sections)


def client_reference(
    slug: str, fmt: str, title: str, org: str, sector: str, iso: str, *, client: str, need: str,
    support: str, results: str, quote: str, visibility: str = "network",
) -> Doc:
    s, c = SECTORS[sector], COUNTRIES[iso]
    sections = [
        Section("L'entreprise", [t(client)]),
        Section(f"Le projet {c.en}", [t(need)]),
        Section("L'accompagnement Team France Export", [t(support)]),
        Section(f"Les spécificités du marché : {c.market}", [c.culture, c.practical]),
        Section("Les résultats", [t(results)]),
        Section("Témoignage", [f"« {t(quote)} »"]),
        Section("Ce qu'il faut retenir", [
            f"Pour une PME de la filière {s.name}, {c.market} demande de la préparation, de la patience "
            f"et un accompagnement sur place. La combinaison d'un diagnostic export, de rendez-vous ciblés "
            f"avec {c.importers} et d'un suivi dans la durée par {c.office} a fait la différence. "
            "Cette référence peut être citée auprès de prospects de la même filière, dans le respect de "
            "la confidentialité des chiffres communiqués par l'entreprise."
        ]),
    ]
    return Doc(slug, fmt, title, "client_reference", visibility, org, [s.naf], [iso], sections)


def country_note(
    slug: str, fmt: str, org: str, iso: str, *, opportunities: str, sectors: list[str],
    visibility: str = "network",
) -> Doc:
    c = COUNTRIES[iso]
    sections = [
        Section("Données clés", bullets=list(c.facts)),
        Section("Situation économique", [c.economy]),
        Section("Culture des affaires", [c.culture]),
        Section("Formalités et points de vigilance", [c.practical]),
        Section("Secteurs porteurs pour l'offre française", paras(opportunities)),
        Section("L'équipe France Export sur place", [
            f"{c.office[0].upper()}{c.office[1:]} accompagne les entreprises françaises dans leur prospection "
            f"{c.en} : informations réglementaires, tests sur l'offre, programmes de rendez-vous B2B avec "
            f"{c.importers} et les donneurs d'ordre, organisation de pavillons France sur les salons "
            "professionnels et recrutement de V.I.E. En région, les conseillers internationaux des CCI et "
            "des agences régionales préparent le projet en amont et mobilisent les aides régionales, "
            "tandis que Bpifrance propose l'assurance prospection et les garanties de financement."
        ]),
    ]
    title = f"Fiche pays : {c.name} — repères pour les exportateurs français"
    return Doc(slug, fmt, title, "country_note", visibility, org, [SECTORS[k].naf for k in sectors], [iso],
               sections)


CONDITIONS = [
    t("""Le présent devis est valable trois mois à compter de sa date d'émission. Les prix sont exprimés
    en euros hors taxes ; la TVA au taux en vigueur s'applique aux prestations réalisées en France. Les
    frais de déplacement, d'hébergement et de transport des échantillons restent à la charge de
    l'entreprise sauf mention contraire."""),
    t("""Un acompte de 50 % est demandé à la signature du bon de commande, le solde étant facturé à la
    remise du compte rendu de mission. En cas d'annulation par l'entreprise moins de trente jours
    avant l'événement, les frais engagés auprès des organisateurs et prestataires locaux restent dus."""),
    t("""Les prestations sont éligibles, sous conditions, à l'assurance prospection de Bpifrance, qui
    couvre une partie des dépenses de prospection et avance une partie des fonds, ainsi qu'aux chèques
    export et chèques relais export proposés par les Régions. Votre conseiller international vous
    aide à constituer les dossiers de financement."""),
]


def quote_template(
    slug: str, fmt: str, title: str, org: str, sectors: list[str], countries: list[str], *, intro: str,
    lines: list[QuoteLine], notes: str, visibility: str = "network",
) -> Doc:
    total = sum(line.total for line in lines)
    sections = [
        Section("Objet du devis", paras(intro)),
        Section("Détail des prestations", [
            f"Montant total hors taxes : {eur(total)} ; TVA (20 %) : {eur(total * 0.2)} ; "
            f"montant toutes taxes comprises : {eur(total * 1.2)}."
        ]),
        Section("Remarques", paras(notes)),
        Section("Conditions générales", list(CONDITIONS)),
        Section("Bon pour accord", [
            "Nom et fonction du signataire, date, cachet de l'entreprise et mention manuscrite "
            "« Bon pour accord ». Le devis signé est à retourner à votre conseiller international."
        ]),
    ]
    naf = [SECTORS[k].naf for k in sectors]
    return Doc(slug, fmt, title, "quote_template", visibility, org, naf, countries, sections, lines)


def process(
    slug: str, fmt: str, title: str, org: str, sectors: list[str], countries: list[str], *, purpose: str,
    steps: list[tuple[str, str]], indicators: list[str], visibility: str = "network",
) -> Doc:
    sections = [Section("Objet et périmètre", paras(purpose))]
    for i, (head, body) in enumerate(steps, start=1):
        sections.append(Section(f"Étape {i} — {head}", paras(body)))
    sections.append(Section("Indicateurs de suivi", bullets=indicators))
    naf = [SECTORS[k].naf for k in sectors]
    return Doc(slug, fmt, title, "process_description", visibility, org, naf, countries, sections)


Q = QuoteLine
