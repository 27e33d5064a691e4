"""Generate the bundled demo corpus and demo watch feeds for `tfe` (all content written by the project).

Usage::

    python scripts/make_demo_corpus.py [OUT_DIR] [--feeds-dir DIR] [--organisations FILE]

OUT_DIR defaults to ``tfe/app/demo/corpus``; it receives the documents (docx, pdf, xlsx, pptx, html, odt) and
``manifest.json``. Feeds go to ``tfe/app/demo/feeds``, organisations to ``tfe/app/demo/organisations.json``
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
         "Croissance du PIB : environ 6 % par an",
         "Accord de libre-échange UE-Vietnam en vigueur depuis 2020"),
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
            f"Préparer une documentation commerciale et technique adaptée aux attentes des {c.buyers[4:]} "
            "et traduite dans la langue locale.",
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
            f"{c.office[0].upper()}{c.office[1:]} accompagne les entreprises françaises dans leur "
            f"prospection {c.en} : informations réglementaires, tests sur l'offre, programmes de "
            f"rendez-vous B2B avec "
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


# --------------------------------------------------------------------------------------------------
# The documents
# --------------------------------------------------------------------------------------------------

STEPS_SALON: list[tuple[str, str]] = [
    ("Qualification de la demande", """Le conseiller international de la CCI ou de l'agence régionale
    reçoit la demande de la PME et réalise un diagnostic export : capacité de production, prix export,
    ressources humaines dédiées, documentation disponible en langue étrangère, protection de la marque.
    Il vérifie que le salon visé correspond bien à la cible (distributeurs, importateurs, centrales
    d'achat ou utilisateurs finaux) et au stade de maturité de l'entreprise.

    Si l'entreprise n'a jamais exporté, une première étape de test sur l'offre ou de visite du salon
    peut être préférable à une exposition coûteuse."""),
    ("Choix de la formule et inscription", """Trois formules sont proposées : visite accompagnée du
    salon, exposition sur le pavillon France organisé par Business France, ou stand individuel avec
    appui logistique. Le conseiller présente le devis, les dates limites d'inscription (souvent six à
    neuf mois avant l'événement) et les financements mobilisables : chèque export régional, assurance
    prospection Bpifrance, prise en charge partielle par la Région."""),
    ("Préparation commerciale", """Huit à douze semaines avant le salon, l'équipe sur place qualifie une
    liste de prospects et sollicite des rendez-vous. La PME prépare sa fiche produit traduite, sa liste
    de prix export (départ usine et rendu), ses échantillons et ses conditions générales de vente.
    Un atelier de préparation collectif présente les usages commerciaux du pays et les questions
    fréquentes des acheteurs."""),
    ("Logistique", """Le transport des échantillons et du matériel de stand est organisé avec le
    transitaire retenu par le pavillon. Les formalités douanières (carnet ATA pour l'admission
    temporaire, certificats sanitaires pour les produits alimentaires) sont vérifiées trois semaines
    avant le départ. Les réservations d'hôtel sont faites dès l'inscription, les prix augmentant
    fortement à l'approche des grands salons."""),
    ("Pendant le salon", """Le conseiller est présent sur le pavillon, introduit la PME auprès des
    visiteurs qualifiés et suit le programme de rendez-vous. Chaque contact est consigné dans une fiche
    (nom, société, intérêt, suite à donner). Une réception ou une dégustation collective peut être
    organisée pour attirer les acheteurs sur le pavillon France."""),
    ("Suivi après le salon", """Dans les quinze jours, la PME envoie ses offres et échantillons aux
    contacts prioritaires. Un point de suivi est organisé à un mois puis à six mois avec le conseiller
    pour mesurer les retombées : contrats signés, commandes test, distributeurs en cours de
    référencement. Ces résultats alimentent le bilan de l'opération et la base de références
    clients du réseau."""),
]

STEPS_VIE: list[tuple[str, str]] = [
    ("Définition de la mission", """Le Volontariat International en Entreprise (V.I.E.) permet à une
    entreprise française de confier une mission professionnelle à l'étranger, de six à vingt-quatre
    mois, à un jeune de 18 à 28 ans. Le conseiller aide l'entreprise à définir le pays, la mission
    (prospection, développement commercial, suivi technique), le profil recherché et le budget, qui
    comprend l'indemnité mensuelle fixée par pays, la protection sociale et les frais de gestion."""),
    ("Choix du mode d'hébergement", """Le V.I.E. peut être hébergé dans une filiale, chez un partenaire
    local, dans les locaux d'une autre entreprise française (portage) ou au sein d'un bureau de la Team
    France Export. Pour une PME sans structure à l'étranger, le portage et le temps partagé entre
    plusieurs entreprises réduisent le coût tout en offrant un cadre d'accueil."""),
    ("Recrutement", """L'offre est publiée sur la plateforme Mon Volontariat International, qui
    rassemble plusieurs dizaines de milliers de candidats. Le conseiller présélectionne les profils,
    l'entreprise conduit les entretiens et valide le candidat. Les compétences linguistiques et
    l'autonomie sont les critères les plus déterminants pour une mission de prospection."""),
    ("Financement", """Le coût d'un V.I.E. n'est pas soumis aux charges sociales françaises. Les
    Régions proposent des aides forfaitaires pour un premier V.I.E., et les dépenses peuvent être
    intégrées à l'assurance prospection de Bpifrance. Un plan de financement est remis à l'entreprise
    avant la signature."""),
    ("Départ et intégration", """Avant le départ, le volontaire passe une à deux semaines au siège pour
    connaître les produits, les clients et les outils. Sur place, le bureau Business France l'accueille,
    l'aide dans ses démarches administratives et l'intègre à la communauté des V.I.E. du pays."""),
    ("Pilotage de la mission", """Un tableau de bord mensuel suit les rendez-vous réalisés, les offres
    remises et le chiffre d'affaires généré. Un point trimestriel réunit l'entreprise, le volontaire et
    le conseiller pour ajuster les cibles. En fin de mission, beaucoup d'entreprises recrutent leur
    V.I.E. en contrat local pour pérenniser la présence."""),
]

STEPS_PROWEIN: list[tuple[str, str]] = [
    ("Sélection des domaines", """La Région Occitanie et ses partenaires lancent en juin un appel à
    candidatures pour le pavillon régional de ProWein, le salon international des vins et spiritueux de
    Düsseldorf, qui se tient chaque année au mois de mars. Les domaines, caves coopératives et maisons
    de négoce candidats présentent leur gamme, leurs volumes disponibles et leur expérience du marché
    allemand. La priorité est donnée aux vins d'appellation du Languedoc et du Roussillon, aux vins
    biologiques et aux entreprises disposant d'un tarif export."""),
    ("Préparation au marché allemand", """Un atelier d'une journée présente les circuits de
    distribution des vins en Allemagne : la grande distribution et le hard discount (plus de la moitié
    des volumes), les cavistes spécialisés (Weinfachhandel), la vente directe par correspondance et
    l'hôtellerie-restauration. Les importateurs allemands attendent des prix stables sur un an, des
    fiches techniques en allemand et une réponse rapide aux demandes d'échantillons."""),
    ("Prise de rendez-vous", """Le bureau Business France de Düsseldorf identifie pour chaque domaine
    quinze à vingt importateurs et distributeurs allemands pertinents, les contacte et organise un
    programme de rendez-vous sur le stand. Les acheteurs des enseignes (Edeka, Rewe, Jacques' Wein-Depot)
    et des importateurs spécialisés en vins bio sont ciblés en priorité."""),
    ("Logistique des échantillons", """Les vins sont regroupés par le transitaire du pavillon, avec
    documents d'accompagnement électroniques et paiement des accises allemandes sur les bouteilles
    ouvertes. Chaque domaine prévoit environ 60 bouteilles pour trois jours de salon, ainsi qu'une
    réserve pour les envois d'échantillons après l'événement."""),
    ("Sur le salon ProWein", """Les domaines sont accueillis sur le pavillon Occitanie du hall France.
    Une dégustation commentée des vins du Sud de la France est proposée aux journalistes et sommeliers
    allemands le premier jour. Le conseiller régional et l'équipe de Düsseldorf assurent les
    présentations et consignent chaque contact."""),
    ("Suivi et bilan", """Un bilan est établi trois mois après le salon : nombre de contacts qualifiés,
    échantillons envoyés, commandes test et référencements obtenus. Les domaines qui ont obtenu des
    premiers contrats peuvent bénéficier d'un accompagnement renforcé (V.I.E. partagé, opérations
    promotionnelles chez les cavistes allemands) l'année suivante."""),
]

STEPS_ASSURANCE: list[tuple[str, str]] = [
    ("Éligibilité", """L'assurance prospection s'adresse aux entreprises françaises dont le chiffre
    d'affaires est inférieur à 500 millions d'euros et qui prospectent de nouveaux marchés à l'étranger.
    Le chargé d'affaires international vérifie l'existence d'un bilan, la cohérence du projet et la
    capacité de l'entreprise à financer sa part des dépenses."""),
    ("Construction du budget", """L'entreprise détaille ses dépenses de prospection sur la période
    couverte : salons, missions, V.I.E., recrutement d'un commercial export, adaptation des produits,
    traduction, marketing. Le budget est présenté par zone géographique ; les prestations de la Team
    France Export (tests sur l'offre, programmes de rendez-vous, pavillons) y sont intégrées."""),
    ("Instruction et décision", """Le dossier est déposé en ligne. Bpifrance analyse la situation
    financière, le plan de prospection et les perspectives de chiffre d'affaires export. La décision
    précise le montant du budget garanti, le taux de prise en charge et le montant de l'avance
    versée à la signature."""),
    ("Période de prospection", """Pendant la période de prospection, l'entreprise engage ses dépenses
    et conserve les justificatifs. Le conseiller Team France Export reste l'interlocuteur opérationnel
    sur les marchés visés ; le chargé d'affaires Bpifrance suit le volet financier."""),
    ("Bilan et remboursement", """À l'issue de la période, l'entreprise déclare ses dépenses réelles
    et le chiffre d'affaires export réalisé. Une partie de l'avance est acquise si les résultats sont
    inférieurs aux prévisions ; dans le cas contraire, l'entreprise rembourse progressivement en
    fonction de son chiffre d'affaires sur les zones prospectées."""),
]


def build_docs() -> list[Doc]:
    docs: list[Doc] = []
    add = docs.append

    # ---- Vins en Allemagne (six documents) ---------------------------------------------------------
    add(quote_template(
        "devis-accompagnement-salon-prowein-allemagne", "docx",
        "Devis : accompagnement d'un domaine viticole sur le salon ProWein de Düsseldorf (Allemagne)",
        "cci-nouvelle-aquitaine", ["vins"], ["DE"], visibility="organisation",
        intro="""Ce modèle de devis concerne l'accompagnement d'un domaine viticole de Nouvelle-Aquitaine
        sur le salon ProWein de Düsseldorf, premier salon mondial des vins et spiritueux, en mars 2026.
        Il couvre la préparation au marché allemand, l'exposition sur le pavillon régional, la prise de
        rendez-vous avec des importateurs allemands et le suivi après le salon.

        L'Allemagne est le premier marché d'exportation des vins de Bordeaux en volume au sein de
        l'Union européenne ; les importateurs allemands recherchent des vins à moins de 10 € prix
        public, des vins biologiques et des cuvées de caractère pour les cavistes.""",
        lines=[
            Q("Diagnostic export vins", "Entretien, analyse de la gamme et du tarif export pour le marché "
              "allemand", 1, "forfait", 650.0),
            Q("Atelier marché allemand", "Circuits de distribution, prix, attentes des importateurs "
              "allemands (une journée à Bordeaux)", 1, "participant", 390.0),
            Q("Stand équipé pavillon Nouvelle-Aquitaine", "Module de 6 m² avec comptoir, vitrine, "
              "réfrigérateur et signalétique, ProWein Düsseldorf", 1, "module", 5800.0),
            Q("Programme de rendez-vous B2B", "Identification et prise de rendez-vous avec 12 importateurs "
              "et distributeurs allemands", 1, "programme", 1900.0),
            Q("Transport groupé des échantillons", "Enlèvement au domaine, accises, livraison sur le stand "
              "(jusqu'à 72 bouteilles)", 1, "forfait", 480.0),
            Q("Traduction fiche technique", "Traduction en allemand de quatre fiches produits", 4, "fiche",
              85.0),
            Q("Suivi post-salon", "Relance des contacts et point à trois mois avec le bureau de Düsseldorf",
              1, "forfait", 450.0),
        ],
        notes="""Les frais d'entrée des badges visiteurs et le catalogue officiel du salon sont inclus.
        Les domaines déjà présents sur le marché allemand peuvent remplacer le programme de rendez-vous
        par une opération de dégustation chez un caviste partenaire à Düsseldorf (devis sur demande).

        Tarif réservé aux ressortissants de la CCI Nouvelle-Aquitaine ; diffusion interne uniquement.""",
    ))
    add(sector_analysis(
        "analyse-sectorielle-vins-allemagne", "pdf",
        "Analyse sectorielle : le marché du vin en Allemagne", "business-france", "vins", "DE",
        synthese="""L'Allemagne est le quatrième marché mondial du vin en consommation et le premier
        importateur de vins en volume. Avec environ 19 millions d'hectolitres consommés par an, dont
        plus de la moitié importés, le marché allemand offre des débouchés considérables aux vins
        français, qui occupent la troisième place derrière l'Italie et l'Espagne. La demande se
        polarise entre des vins d'entrée de gamme vendus en grande distribution et une demande premium
        portée par les cavistes, la restauration et la vente en ligne.""",
        figures="""Les importations allemandes de vins représentent environ 2,6 milliards d'euros. Les
        vins français pèsent près de 700 millions d'euros, dont une part importante de vins
        effervescents et de vins de Bordeaux. Le prix moyen d'une bouteille en grande distribution
        reste inférieur à 4 €, mais le segment au-delà de 10 € progresse de 3 % par an. Les vins
        biologiques représentent désormais près de 10 % des achats des ménages.""",
        competition="""Les importateurs allemands sont nombreux et spécialisés : importateurs
        généralistes pour la grande distribution (Edeka, Rewe, Aldi, Lidl), maisons spécialisées dans
        les vins du monde, vépécistes et distributeurs pour l'hôtellerie-restauration. Le salon ProWein
        de Düsseldorf, en mars, réunit chaque année l'ensemble de la profession. Les vins italiens
        dominent grâce à des marques simples et une forte présence promotionnelle ; les vins espagnols
        misent sur le rapport qualité-prix. Les vins français doivent simplifier leur message,
        valoriser le bio et les cépages et s'appuyer sur des importateurs allemands engagés.""",
    ))
    add(quote_template(
        "grille-tarifaire-prospection-vins-allemagne", "xlsx",
        "Grille tarifaire 2026 : prospection vins et spiritueux sur le marché allemand",
        "cci-nouvelle-aquitaine", ["vins"], ["DE"], visibility="private",
        intro="""Grille de prix interne utilisée par les conseillers de la CCI Nouvelle-Aquitaine pour
        chiffrer les opérations de prospection des vins en Allemagne : tests sur l'offre auprès
        d'importateurs allemands, missions à Düsseldorf et Munich, participation à ProWein et
        dégustations chez les cavistes.

        Les prix indiqués sont des prix de revient négociés avec le bureau de Düsseldorf ; ils ne
        doivent pas être transmis tels quels aux entreprises.""",
        lines=[
            Q("Test sur l'offre vins", "Présentation de la gamme à 10 importateurs allemands, retours "
              "écrits", 1, "test", 1450.0),
            Q("Mission de prospection Munich", "Deux jours de rendez-vous avec cavistes et importateurs",
              1, "mission", 2300.0),
            Q("Pavillon ProWein : module", "Module partagé de 4 m² sur le pavillon régional", 1, "module",
              4200.0),
            Q("Dégustation caviste", "Animation d'une dégustation chez un caviste allemand partenaire", 2,
              "soirée", 780.0),
            Q("Mise en relation hôtellerie-restauration", "Présentation à trois distributeurs CHR en "
              "Rhénanie", 1, "forfait", 950.0),
            Q("Coordination CCI", "Temps conseiller, préparation et suivi", 3, "jour", 520.0),
        ],
        notes="""Les marges appliquées sont fixées par la direction internationale de la CCI.
        Document confidentiel : ne pas diffuser hors de l'équipe internationale.""",
    ))
    add(sector_analysis(
        "presentation-vins-bio-marche-allemand", "pptx",
        "Les vins biologiques sur le marché allemand : opportunités pour les domaines français",
        "cci-nouvelle-aquitaine", "vins", "DE",
        synthese="""L'Allemagne est le premier marché européen des produits biologiques et les vins
        bio y connaissent une croissance continue. Les consommateurs allemands associent le vin bio à la
        qualité et au respect de l'environnement ; les importateurs allemands spécialisés et les
        enseignes bio (Alnatura, denn's, Bio Company) recherchent des vins français certifiés,
        notamment des rouges du Bordelais et des blancs de la vallée de la Loire.""",
        figures="""Le marché allemand des vins biologiques est estimé à plus de 400 millions d'euros.
        Les vins bio représentent environ 10 % des vins achetés par les ménages et près de 20 % dans
        les magasins spécialisés. Le salon ProWein à Düsseldorf consacre un espace entier aux vins
        biologiques et le salon BIOFACH de Nuremberg attire également les acheteurs.""",
        competition="""Les vins bio italiens et espagnols sont très présents en entrée de gamme. Les
        domaines français se différencient par les appellations, la biodynamie et les vins nature,
        prisés par les cavistes de Berlin, Hambourg et Munich. Le label européen et les labels
        privés (Demeter, Ecovin) sont des arguments de vente.""",
    ))
    add(client_reference(
        "reference-client-domaine-bordelais-importateurs-allemands", "html",
        "Référence client : un domaine bordelais convainc les importateurs allemands",
        "cci-nouvelle-aquitaine", "vins", "DE", visibility="private",
        client="""Le Château Lestrade-Montagne (nom modifié) est un domaine familial de 42 hectares situé
        sur la rive droite de Bordeaux, produisant 250 000 bouteilles par an dont 35 % vendues à
        l'export, principalement en Belgique et en Chine. Le domaine est certifié en agriculture
        biologique depuis 2021.""",
        need="""Confronté au recul du marché chinois, le domaine souhaitait diversifier ses débouchés
        en Europe. L'Allemagne, premier importateur de vins en volume et premier marché bio européen,
        est apparue comme une cible prioritaire, mais le domaine n'y avait aucun contact et ne
        connaissait ni les prix pratiqués ni les circuits de distribution.""",
        support="""La CCI Nouvelle-Aquitaine a réalisé un diagnostic export puis un test sur l'offre
        auprès de dix importateurs allemands, qui a conduit à repositionner deux cuvées entre 12 et 18 €
        prix caviste. Le domaine a ensuite exposé sur le pavillon régional du salon ProWein à
        Düsseldorf, avec un programme de quatorze rendez-vous préparés par le bureau Business France de
        Düsseldorf. Une dégustation chez un caviste de Cologne a complété le dispositif. Le projet a
        été financé en partie par l'assurance prospection de Bpifrance et un chèque export régional.""",
        results="""Dix-huit mois après le salon, le domaine a signé avec deux importateurs allemands
        (l'un spécialisé dans les vins bio, l'autre dans l'hôtellerie-restauration) et réalise 210 000 €
        de chiffre d'affaires en Allemagne, soit 12 % de son chiffre d'affaires total. Les vins sont
        référencés chez 45 cavistes et dans une chaîne de magasins bio.""",
        quote="""Sans la préparation au marché allemand et les rendez-vous organisés à ProWein, nous
        aurions perdu une année. Les importateurs allemands sont exigeants mais fidèles : ils nous ont
        demandé une régularité de prix que nous avons appris à tenir. — Directrice du domaine""",
    ))
    add(process(
        "procedure-salon-prowein-dusseldorf-vins", "odt",
        "Procédure : participation des domaines d'Occitanie au salon ProWein de Düsseldorf",
        "region-occitanie", ["vins"], ["DE"],
        purpose="""Cette procédure décrit l'organisation du pavillon régional Occitanie au salon ProWein
        de Düsseldorf, le principal rendez-vous des vins et spiritueux pour le marché allemand et
        l'Europe du Nord. Elle s'adresse aux chargés de mission de la Région, à l'agence régionale de
        développement et aux conseillers des chambres consulaires.

        L'objectif est d'aider chaque année une vingtaine de domaines à rencontrer des importateurs
        allemands qualifiés et à transformer ces contacts en référencements durables.""",
        steps=STEPS_PROWEIN,
        indicators=["Nombre de domaines exposants et taux de réinscription",
                    "Nombre de rendez-vous qualifiés avec des importateurs allemands par domaine",
                    "Commandes test et contrats signés dans les six mois",
                    "Chiffre d'affaires export réalisé en Allemagne à un an"],
    ))
    docs.extend(_other_docs())
    return docs


def _sa(slug: str, fmt: str, title: str, org: str, sector: str, iso: str, syn: str, fig: str, comp: str,
        **kw: str) -> Doc:
    return sector_analysis(slug, fmt, title, org, sector, iso, synthese=syn, figures=fig, competition=comp,
                           **kw)


def _ref(slug: str, fmt: str, title: str, org: str, sector: str, iso: str, texts: tuple[str, ...],
         visibility: str = "network") -> Doc:
    client, need, support, results, quote = texts
    return client_reference(slug, fmt, title, org, sector, iso, client=client, need=need, support=support,
                            results=results, quote=quote, visibility=visibility)


def _other_docs() -> list[Doc]:
    d: list[Doc] = []
    add = d.append
    # ---- Processus généraux ------------------------------------------------------------------------
    add(process(
        "procedure-accompagnement-pme-salon-etranger", "docx",
        "Procédure d'accompagnement d'une PME sur un salon à l'étranger", "business-france", [], [],
        purpose="""Cette procédure décrit, étape par étape, l'accompagnement par la Team France Export
        d'une PME qui souhaite exposer ou prospecter sur un salon professionnel à l'étranger. Elle
        s'applique à tous les secteurs et à tous les pays ; les spécificités sectorielles (produits
        alimentaires, dispositifs médicaux, équipements industriels) sont précisées dans les fiches
        filières.

        Le salon n'est pas une fin en soi : il s'inscrit dans un plan de prospection et doit être
        préparé en amont et suivi en aval pour produire des résultats commerciaux.""",
        steps=STEPS_SALON,
        indicators=["Taux de satisfaction des entreprises accompagnées",
                    "Nombre moyen de contacts qualifiés par entreprise",
                    "Part des entreprises ayant signé un contrat dans les douze mois",
                    "Taux de réinscription l'année suivante"],
    ))
    add(process(
        "process-prospection-vie", "docx",
        "Process de prospection V.I.E. : recruter et piloter un volontaire international", "business-france",
        [], [],
        purpose="""Ce process décrit comment un conseiller de la Team France Export accompagne une PME
        dans la mise en place d'un Volontariat International en Entreprise pour prospecter un marché
        étranger. Il couvre la définition de la mission, le recrutement, le financement et le pilotage.

        Le V.I.E. est l'un des outils les plus efficaces pour une présence durable sur un marché : plus
        de 10 000 volontaires sont en poste chaque année dans plus de cent pays, et près de sept
        volontaires sur dix se voient proposer un emploi à l'issue de leur mission.""",
        steps=STEPS_VIE,
        indicators=["Délai moyen entre la demande et le départ du volontaire",
                    "Nombre de V.I.E. en portage ou en temps partagé",
                    "Chiffre d'affaires généré par mission",
                    "Taux d'embauche du volontaire à l'issue de la mission"],
    ))
    add(process(
        "procedure-assurance-prospection-bpifrance", "html",
        "Procédure : instruire une demande d'assurance prospection", "bpifrance", [], [],
        purpose="""L'assurance prospection est un dispositif géré par Bpifrance pour le compte de l'État.
        Elle finance une partie des dépenses de prospection d'une entreprise à l'étranger et la protège
        contre le risque d'échec commercial. Cette procédure décrit le traitement d'une demande, de
        l'éligibilité au bilan final, et l'articulation avec les conseillers Team France Export.""",
        steps=STEPS_ASSURANCE,
        indicators=["Délai d'instruction moyen", "Montant moyen des budgets garantis",
                    "Taux de sinistralité par zone", "Chiffre d'affaires export généré par euro avancé"],
    ))
    # ---- Devis ---------------------------------------------------------------------------------------
    add(quote_template(
        "devis-prospection-vie-agroalimentaire-vietnam", "xlsx",
        "Devis : V.I.E. en temps partagé pour la prospection agroalimentaire au Vietnam",
        "business-france", ["laitier"], ["VN"],
        intro="""Modèle de devis pour une PME agroalimentaire (produits laitiers, fromages, desserts)
        souhaitant recruter un V.I.E. en temps partagé à Hô Chi Minh-Ville pour prospecter les
        importateurs vietnamiens et la grande distribution. Le volontaire partage son temps entre trois
        entreprises françaises non concurrentes et est hébergé dans les locaux de Business France.""",
        lines=[
            Q("Indemnité V.I.E. (quote-part)", "Indemnité mensuelle Vietnam, tiers du temps", 12, "mois",
              980.0),
            Q("Frais de gestion V.I.E.", "Protection sociale, assurance, gestion administrative", 12, "mois",
              210.0),
            Q("Hébergement au bureau", "Poste de travail au bureau Business France", 12, "mois", 150.0),
            Q("Recrutement", "Publication de l'offre, présélection, entretiens", 1, "forfait", 900.0),
            Q("Test sur l'offre produits laitiers", "Avis de 8 importateurs vietnamiens", 1, "test", 1600.0),
        ],
        notes="""L'indemnité V.I.E. au Vietnam est fixée par arrêté et révisée chaque année. Le montant
        indiqué est celui de 2026 pour un tiers de temps. Les frais de voyage du volontaire sont à
        ajouter.""",
    ))
    add(quote_template(
        "devis-mission-cosmetiques-japon", "xlsx",
        "Devis : mission de prospection cosmétiques à Tokyo et Osaka (Japon)",
        "cci-france-japon", ["cosmetiques"], ["JP"], visibility="organisation",
        intro="""Devis type de la CCI France Japon pour une mission individuelle de prospection d'une
        marque française de cosmétiques auprès des distributeurs japonais : grands magasins, chaînes
        de drugstores, sélectifs et plateformes de commerce en ligne. La mission comprend une étude
        réglementaire préalable sur la conformité des formules aux normes japonaises.""",
        lines=[
            Q("Analyse réglementaire", "Vérification des ingrédients et de l'étiquetage (réglementation "
              "japonaise)", 3, "référence", 420.0),
            Q("Programme de rendez-vous", "8 rendez-vous avec distributeurs à Tokyo et Osaka", 1,
              "programme", 3200.0),
            Q("Interprète", "Interprète français-japonais", 3, "jour", 480.0),
            Q("Traduction", "Traduction des fiches produits en japonais", 5, "fiche", 120.0),
            Q("Suivi", "Relance des contacts pendant trois mois", 1, "forfait", 600.0),
        ],
        notes="""Les prix sont convertis en euros au cours de référence de la CCI France Japon ;
        ils peuvent être révisés en cas de variation du yen supérieure à 5 %.""",
    ))
    add(quote_template(
        "devis-accompagnement-ces-las-vegas-numerique", "xlsx",
        "Devis : pavillon France au CES de Las Vegas pour une start-up du numérique",
        "business-france", ["logiciels"], ["US"],
        intro="""Modèle de devis pour l'exposition d'une jeune entreprise du numérique (logiciel,
        objets connectés, intelligence artificielle) sur le pavillon France de l'Eureka Park au CES de
        Las Vegas, le principal salon mondial de l'électronique grand public et des technologies.""",
        lines=[
            Q("Espace d'exposition", "Stand clé en main de 3 m² sur le pavillon France", 1, "stand", 7900.0),
            Q("Coaching pitch", "Préparation au pitch en anglais et aux codes du marché américain", 1,
              "session", 650.0),
            Q("Rendez-vous investisseurs et acheteurs", "Programme de 6 rendez-vous qualifiés", 1,
              "programme", 2400.0),
            Q("Communication", "Mise en avant dans le catalogue et sur les réseaux sociaux", 1, "forfait",
              500.0),
        ],
        notes="""Le CES se tient en janvier ; l'inscription est ouverte jusqu'à fin septembre. Le coût
        des vols et de l'hébergement à Las Vegas n'est pas inclus.""",
    ))
    add(quote_template(
        "devis-mission-prospection-btp-cote-divoire", "xlsx",
        "Devis : mission collective BTP et construction durable à Abidjan (Côte d'Ivoire)",
        "region-occitanie", ["btp"], ["CI"],
        intro="""Modèle de devis pour la mission collective de la Région Occitanie à Abidjan, destinée
        aux entreprises du BTP, des matériaux de construction et du génie climatique. La mission
        comprend une journée de conférences sur les grands projets ivoiriens, des rendez-vous B2B avec
        les entreprises et maîtres d'ouvrage ivoiriens et des visites de chantiers.""",
        lines=[
            Q("Participation à la mission", "Programme collectif, conférences, visites", 1, "participant",
              1800.0),
            Q("Rendez-vous B2B individuels", "6 rendez-vous avec entreprises ivoiriennes", 1, "programme",
              1500.0),
            Q("Transport local", "Véhicule et chauffeur pendant quatre jours", 4, "jour", 110.0),
            Q("Prise en charge Région", "Aide régionale plafonnée", 1, "forfait", -1000.0),
        ],
        notes="""La prise en charge régionale est réservée aux entreprises ayant leur siège en
        Occitanie. Vaccination contre la fièvre jaune et visa obligatoires.""",
    ))
    add(quote_template(
        "grille-tarifaire-prestations-export-2026", "xlsx",
        "Grille tarifaire 2026 des prestations d'accompagnement à l'export", "business-france", [], [],
        intro="""Cette grille présente les tarifs publics 2026 des principales prestations de la Team
        France Export pour les PME et ETI : information réglementaire, tests sur l'offre, programmes de
        rendez-vous, missions de prospection et participation aux pavillons France. Les tarifs sont
        identiques dans tous les pays ; certaines prestations sont modulées selon la zone.""",
        lines=[
            Q("Information réglementaire", "Réponse écrite à une question réglementaire ciblée", 1,
              "question", 350.0),
            Q("Test sur l'offre", "Avis de 8 à 12 partenaires potentiels", 1, "test", 1600.0),
            Q("Programme de rendez-vous", "5 à 8 rendez-vous qualifiés", 1, "programme", 2600.0),
            Q("Recherche de partenaires", "Liste qualifiée de distributeurs", 1, "liste", 1200.0),
            Q("Pavillon France", "Module standard sur un salon", 1, "module", 4500.0),
            Q("Suivi V.I.E.", "Frais de gestion mensuels", 1, "mois", 210.0),
        ],
        notes="""Les tarifs s'entendent hors frais de déplacement. Des réductions s'appliquent aux
        entreprises primo-exportatrices dans le cadre des dispositifs régionaux.""",
    ))
    add(quote_template(
        "devis-salon-medica-dispositifs-medicaux-allemagne", "xlsx",
        "Devis : pavillon Occitanie au salon Medica de Düsseldorf (dispositifs médicaux)",
        "region-occitanie", ["medical"], ["DE"], visibility="organisation",
        intro="""Modèle de devis pour l'exposition d'une PME de dispositifs médicaux sur le pavillon
        régional du salon Medica de Düsseldorf, le premier salon mondial des technologies médicales.
        Les acheteurs hospitaliers allemands et les distributeurs de toute l'Europe y sont présents.""",
        lines=[
            Q("Stand pavillon Occitanie", "Module de 9 m² équipé", 1, "module", 6900.0),
            Q("Rendez-vous distributeurs", "8 rendez-vous avec distributeurs allemands et européens", 1,
              "programme", 2200.0),
            Q("Atelier réglementaire", "Accès au marché allemand et remboursement", 1, "participant", 300.0),
        ],
        notes="""Le marquage CE selon le règlement européen est un prérequis à l'exposition.""",
    ))
    # ---- Analyses sectorielles et études de marché ----------------------------------------------
    add(_sa("analyse-sectorielle-produits-laitiers-vietnam", "pdf",
            "Analyse sectorielle : les produits laitiers au Vietnam", "business-france", "laitier", "VN",
            """Le Vietnam importe plus de 1,2 milliard de dollars de produits laitiers par an. La
            consommation par habitant reste faible mais croît de 8 à 10 % par an, portée par le lait
            infantile, les yaourts et la découverte des fromages par la classe moyenne urbaine. Les
            importateurs vietnamiens recherchent des fournisseurs européens fiables.""",
            """Les produits laitiers français ont bénéficié de la baisse des droits de douane prévue
            par l'EVFTA. Les fromages à pâte pressée, le beurre et la crème pour la boulangerie et la
            restauration connaissent les plus fortes progressions, notamment à Hô Chi Minh-Ville.""",
            """La Nouvelle-Zélande et l'Australie dominent les poudres de lait ; les fromages français
            sont en concurrence avec les produits néerlandais et italiens. Les chaînes de
            supermarchés (Co.opmart, WinMart, Aeon) et les boulangeries françaises implantées au
            Vietnam sont des relais efficaces."""))
    add(_sa("analyse-sectorielle-aeronautique-canada", "pdf",
            "Analyse sectorielle : l'aéronautique au Canada et au Québec", "region-occitanie", "aero", "CA",
            """Le Canada est le cinquième acteur mondial de l'aéronautique. Le Québec concentre près de
            la moitié de l'activité, autour de Montréal et de ses grands intégrateurs (avions
            d'affaires, hélicoptères, simulateurs, moteurs). Les sous-traitants français, notamment
            occitans, y trouvent des partenaires naturels.""",
            """Le chiffre d'affaires de l'aéronautique canadienne dépasse 25 milliards de dollars
            canadiens, dont 80 % à l'export. La grappe Aéro Montréal fédère plus de 200 entreprises et
            les programmes d'avions d'affaires et d'hélicoptères recherchent des capacités d'usinage
            et de composites.""",
            """Les sous-traitants américains sont les premiers concurrents, avantagés par la proximité.
            Les entreprises françaises se différencient par leur expertise sur les programmes Airbus et
            la langue commune au Québec. Le salon Aerospace Innovation Forum de Montréal est un bon
            point d'entrée."""))
    add(_sa("analyse-dispositifs-medicaux-emirats-arabes-unis", "pdf",
            "Analyse sectorielle : les dispositifs médicaux aux Émirats arabes unis", "business-france",
            "medical", "AE",
            """Les Émirats arabes unis investissent massivement dans un système de santé de haut
            niveau, avec des hôpitaux privés et publics en expansion à Dubaï et Abou Dhabi. Le pays
            importe l'essentiel de ses dispositifs médicaux et sert de plateforme de réexportation
            vers le Golfe et l'Afrique.""",
            """Le marché émirien des dispositifs médicaux dépasse 2 milliards de dollars et croît de 6 %
            par an. L'imagerie, l'orthopédie, la cardiologie et le diagnostic in vitro sont les
            segments les plus dynamiques. Le tourisme médical soutient la demande d'équipements
            haut de gamme.""",
            """Les fabricants américains et allemands dominent, mais les PME françaises sont appréciées
            pour l'innovation. Le salon Arab Health de Dubaï, en janvier, est le rendez-vous
            incontournable ; un distributeur local enregistré est indispensable."""))
    add(_sa("etude-de-marche-mode-textile-chine", "pdf",
            "Étude de marché : la mode française en Chine", "business-france", "textile", "CN",
            """La Chine est le deuxième marché mondial de l'habillement. Après le luxe, les marques
            françaises de prêt-à-porter intermédiaire et de créateurs y trouvent une clientèle urbaine
            jeune, sensible au style français et à la fabrication de qualité.""",
            """Les ventes de vêtements en Chine dépassent 300 milliards d'euros, dont plus de 40 % en
            ligne. Shanghai, Pékin, Shenzhen et Chengdu concentrent les achats de mode importée. Les
            consommateurs chinois découvrent les marques sur Xiaohongshu et Douyin avant d'acheter
            sur Tmall.""",
            """Les marques coréennes, japonaises et les marques chinoises montantes sont très
            compétitives. Les marques françaises doivent investir dans le contenu numérique et choisir
            un partenaire de commerce en ligne fiable.""",
            doc_type="market_study",
            method="""Cette étude s'appuie sur vingt entretiens avec des distributeurs, des agences de
            commerce en ligne et des acheteurs de grands magasins à Shanghai et Pékin, ainsi que sur
            l'analyse des ventes de 50 marques françaises sur les plateformes chinoises."""))
    add(_sa("analyse-sectorielle-machines-agricoles-bresil", "docx",
            "Analyse sectorielle : les machines agricoles au Brésil", "region-occitanie", "machinisme", "BR",
            """Le Brésil est l'un des premiers marchés mondiaux du machinisme agricole, avec plus de
            60 000 tracteurs vendus par an. L'agriculture de précision et la mécanisation des cultures
            de soja, de maïs, de canne à sucre et de café soutiennent la demande.""",
            """Le marché brésilien des machines agricoles dépasse 12 milliards d'euros. Le Mato Grosso,
            le Paraná et le Rio Grande do Sul sont les principales régions acheteuses. Le salon
            Agrishow de Ribeirão Preto réunit chaque année tous les acteurs.""",
            """Les grands constructeurs mondiaux disposent d'usines au Brésil ; les PME françaises
            (pulvérisation, semis direct, équipements viticoles et caféiers) doivent s'appuyer sur un
            réseau de concessionnaires et sur les lignes de crédit agricole locales."""))
    add(_sa("presentation-cosmetiques-japon", "pptx",
            "Le marché des cosmétiques au Japon : présentation filière", "cci-france-japon", "cosmetiques",
            "JP",
            """Le Japon est le troisième marché mondial des cosmétiques. Les consommatrices japonaises
            sont très informées, fidèles aux marques qui tiennent leurs promesses et friandes de soins
            de la peau. Les marques françaises, notamment dermo-cosmétiques, bénéficient d'une forte
            crédibilité.""",
            """Le marché japonais des cosmétiques représente environ 28 milliards d'euros. Les soins
            représentent plus de 45 % des ventes ; les produits naturels et les formats voyage
            progressent. Les drugstores et le commerce en ligne gagnent des parts sur les grands
            magasins.""",
            """Les marques japonaises dominent et les marques coréennes séduisent les jeunes
            consommatrices. Les marques françaises doivent adapter textures et allégations aux
            attentes japonaises."""))
    add(_sa("presentation-aeronautique-etats-unis", "pptx",
            "L'aéronautique aux États-Unis : opportunités pour les sous-traitants français",
            "business-france", "aero", "US",
            """Les États-Unis représentent près de la moitié du marché aéronautique mondial. Les
            avionneurs, motoristes et équipementiers américains cherchent à sécuriser leurs chaînes
            d'approvisionnement et ouvrent leurs panels à des fournisseurs européens qualifiés.""",
            """L'industrie aéronautique américaine réalise plus de 900 milliards de dollars de chiffre
            d'affaires. Les pôles de l'État de Washington, du Kansas, du Texas, de la Caroline du Sud
            et de la Floride concentrent la production.""",
            """Les fournisseurs américains bénéficient du Buy American dans la défense ; pour
            l'aviation civile, la qualité, la certification et la capacité à livrer localement sont
            décisives."""))
    add(_sa("presentation-sante-mexique", "pptx",
            "Santé et dispositifs médicaux au Mexique : présentation du marché", "business-france",
            "medical", "MX",
            """Le Mexique modernise son système de santé et développe un secteur hospitalier privé
            dynamique. Le pays importe près de 80 % de ses dispositifs médicaux, ce qui ouvre des
            opportunités aux PME françaises.""",
            """Le marché mexicain des dispositifs médicaux atteint environ 7 milliards de dollars. Les
            consommables, l'orthopédie et l'imagerie sont les segments les plus importants ; Mexico,
            Guadalajara et Monterrey concentrent les hôpitaux privés.""",
            """Les fabricants américains dominent grâce à la proximité ; les offres européennes sont
            appréciées pour leur technologie. L'enregistrement COFEPRIS est la première étape."""))
    add(_sa("presentation-eolien-bresil", "pptx",
            "L'éolien et le solaire au Brésil : présentation du marché", "bpifrance", "enr", "BR",
            """Le Brésil dispose d'une électricité déjà largement renouvelable et accélère dans l'éolien
            terrestre et le solaire, notamment dans le Nordeste. Le pays prépare également l'éolien en
            mer et l'hydrogène vert.""",
            """La capacité éolienne installée au Brésil dépasse 30 GW et le solaire progresse de plus
            de 10 GW par an. Les enchères d'énergie et le marché libre de l'électricité financent de
            nouveaux parcs.""",
            """Les turbiniers européens et chinois sont présents ; les PME françaises se positionnent
            sur l'ingénierie, la maintenance, le stockage et la digitalisation des parcs."""))
    add(_sa("presentation-ferroviaire-inde", "pptx",
            "Le ferroviaire en Inde : présentation filière", "business-france", "ferroviaire", "IN",
            """L'Inde investit dans la modernisation de son réseau ferroviaire, le plus fréquenté au
            monde, les corridors de fret dédiés, la grande vitesse et plus de vingt réseaux de métro
            urbain.""",
            """Le budget ferroviaire indien dépasse 30 milliards d'euros par an. Les métros de Mumbai,
            Bangalore, Chennai et Delhi lancent régulièrement des appels d'offres pour le matériel
            roulant, la signalisation et les systèmes.""",
            """Les constructeurs indiens, japonais et chinois sont très compétitifs ; les entreprises
            françaises misent sur la signalisation, les systèmes et la fabrication locale."""))
    add(_sa("presentation-eau-environnement-maroc", "pptx",
            "Eau et environnement au Maroc : présentation du marché", "region-occitanie", "eau", "MA",
            """Le Maroc fait face à un stress hydrique sévère et a lancé un programme national
            d'approvisionnement en eau potable et d'irrigation, avec de grandes usines de dessalement
            et la réutilisation des eaux usées.""",
            """Le programme national de l'eau prévoit plus de 14 milliards d'euros d'investissements.
            Les usines de dessalement de Casablanca et d'Agadir et les projets de réutilisation des
            eaux usées traitées pour l'irrigation ouvrent des marchés aux équipementiers.""",
            """Les entreprises espagnoles et israéliennes sont actives ; l'expertise française en
            traitement des eaux et en gestion des réseaux reste reconnue."""))
    add(_sa("analyse-energies-renouvelables-maroc", "html",
            "Analyse sectorielle : les énergies renouvelables au Maroc", "business-france", "enr", "MA",
            """Le Maroc vise 52 % de capacités électriques renouvelables en 2030. Les complexes solaires
            de Noor Ouarzazate et les parcs éoliens de Tarfaya en font un pionnier africain ; le pays
            se positionne désormais sur l'hydrogène vert.""",
            """Plus de 4 GW de capacités renouvelables sont installés et les appels d'offres de MASEN
            et de l'ONEE se poursuivent. L'autoproduction industrielle et l'efficacité énergétique
            constituent de nouveaux marchés pour les PME.""",
            """Les entreprises chinoises, espagnoles et émiriennes sont très présentes ; l'offre
            française se distingue par l'ingénierie, le stockage et les services."""))
    add(_sa("analyse-sectorielle-logiciels-royaume-uni", "odt",
            "Analyse sectorielle : les logiciels d'entreprise au Royaume-Uni", "business-france",
            "logiciels", "GB",
            """Le Royaume-Uni est le premier marché européen du logiciel d'entreprise. Les entreprises
            britanniques adoptent rapidement les solutions SaaS, la cybersécurité et l'intelligence
            artificielle, et la place de Londres attire les éditeurs du monde entier.""",
            """Le marché britannique des logiciels dépasse 90 milliards d'euros. La fintech, la
            cybersécurité et les logiciels pour l'industrie et la santé sont les segments les plus
            porteurs. Le secteur public britannique achète via la plateforme G-Cloud.""",
            """Les éditeurs américains dominent ; les éditeurs français réussissent sur des niches
            techniques avec des références solides et une équipe commerciale à Londres."""))
    add(_sa("analyse-sectorielle-construction-durable-emirats", "odt",
            "Analyse sectorielle : la construction durable aux Émirats arabes unis", "business-france",
            "btp", "AE",
            """Les Émirats arabes unis poursuivent de grands projets urbains et imposent des normes de
            construction durable de plus en plus strictes (Estidama à Abou Dhabi, Green Building
            Regulations à Dubaï).""",
            """Le marché émirien de la construction dépasse 80 milliards de dollars de projets en
            cours. La rénovation énergétique, le rafraîchissement urbain et les matériaux bas carbone
            connaissent une forte demande.""",
            """Les entreprises françaises de façades, de génie climatique et d'ingénierie environnementale
            sont reconnues ; le partenariat avec un entrepreneur local est indispensable."""))
    add(_sa("etude-de-marche-eau-assainissement-vietnam", "odt",
            "Étude de marché : eau et assainissement au Vietnam", "business-france", "eau", "VN",
            """L'urbanisation rapide du Vietnam met sous tension les réseaux d'eau potable et
            d'assainissement. Le gouvernement vise un taux de traitement des eaux usées urbaines de 50 %
            d'ici 2030.""",
            """Les besoins d'investissement sont estimés à plus de 10 milliards de dollars d'ici 2030.
            Hô Chi Minh-Ville, Hanoï et Da Nang lancent des projets de stations d'épuration et de
            réduction des pertes en réseau.""",
            """Les entreprises japonaises et coréennes, soutenues par leurs agences de coopération,
            sont très présentes ; les PME françaises peuvent s'appuyer sur les financements de l'AFD.""",
            doc_type="market_study",
            method="""Cette étude repose sur l'analyse des plans d'investissement des provinces, des
            appels d'offres des bailleurs et d'entretiens avec douze sociétés des eaux vietnamiennes."""))
    # ---- Références clients ---------------------------------------------------------------------
    add(_ref("reference-client-cosmetiques-bio-coree-du-sud", "docx",
             "Référence client : une marque de cosmétiques bio s'implante en Corée du Sud",
             "business-france", "cosmetiques", "KR", (
                 """Laboratoire Calanque Bio (nom modifié) est une PME provençale de 25 salariés qui
                 formule des soins bio à base d'huiles végétales.""",
                 """La marque souhaitait entrer en Corée du Sud, marché de référence de la beauté en
                 Asie, mais ignorait les exigences réglementaires coréennes.""",
                 """Business France Séoul a réalisé une étude réglementaire, un test sur l'offre auprès
                 de dix distributeurs coréens, puis organisé une mission de prospection et la
                 participation au salon Cosmoprof Asia.""",
                 """La marque a signé avec un distributeur coréen spécialisé dans les produits naturels,
                 est présente dans 120 points de vente et réalise 380 000 € de chiffre d'affaires en
                 Corée après deux ans.""",
                 """Les distributeurs coréens vont très vite : il faut être prêt à suivre le rythme. —
                 Fondatrice de la marque""")))
    add(_ref("reference-client-editeur-logiciel-canada", "docx",
             "Référence client : un éditeur de logiciels industriels conquiert le Québec", "bpifrance",
             "logiciels", "CA", (
                 """Optimaint (nom modifié) est un éditeur lyonnais de logiciels de maintenance
                 prédictive pour l'industrie, 60 salariés, 8 millions d'euros de chiffre d'affaires.""",
                 """L'éditeur voulait ouvrir l'Amérique du Nord par le Québec pour bénéficier de la
                 langue française et tester son offre avant les États-Unis.""",
                 """Bpifrance a financé la prospection par une assurance prospection ; Business France
                 Montréal a organisé une mission et le recrutement d'un V.I.E. chez un partenaire
                 intégrateur canadien.""",
                 """Trois usines québécoises ont signé en dix-huit mois ; une filiale a été créée à
                 Montréal avec cinq salariés et le chiffre d'affaires canadien atteint 1,1 million
                 d'euros.""",
                 """Le Québec a été le meilleur tremplin pour l'Amérique du Nord. — Président
                 d'Optimaint""")))
    add(_ref("reference-client-centrale-solaire-cote-divoire", "pdf",
             "Référence client : une PME française électrifie des sites agricoles en Côte d'Ivoire",
             "bpifrance", "enr", "CI", (
                 """Soléo Systèmes (nom modifié) conçoit des centrales solaires hybrides avec stockage
                 pour les sites isolés, 40 salariés, basée à Montpellier.""",
                 """La PME souhaitait équiper des coopératives agricoles ivoiriennes dépendantes de
                 groupes électrogènes au gazole.""",
                 """Bpifrance a apporté une assurance prospection et un crédit export ; Business France
                 Abidjan a organisé des rendez-vous avec les coopératives et les bailleurs.""",
                 """Douze centrales de 100 à 500 kWc ont été installées, réduisant de 70 % la
                 consommation de gazole. Le contrat représente 3,4 millions d'euros.""",
                 """Le financement export a été décisif pour convaincre nos clients ivoiriens. —
                 Directeur général de Soléo Systèmes"""),
             visibility="private"))
    add(_ref("reference-client-sous-traitant-aeronautique-inde", "html",
             "Référence client : un sous-traitant aéronautique toulousain s'associe à un partenaire indien",
             "region-occitanie", "aero", "IN", (
                 """Mécaprécision Sud (nom modifié) usine des pièces de structure en titane et en
                 aluminium, 120 salariés, certifiée EN 9100.""",
                 """Pour répondre aux exigences de coûts et de contenu local des programmes indiens,
                 l'entreprise cherchait un partenaire industriel à Bangalore.""",
                 """La Région Occitanie et Business France New Delhi ont organisé une mission au salon
                 Aero India et une sélection de partenaires potentiels.""",
                 """Une coentreprise a été créée à Bangalore ; elle fournit des pièces pour des
                 programmes d'avions commerciaux et emploie 45 personnes.""",
                 """L'Inde est un marché de long terme : il faut s'y engager durablement. — Directeur
                 international""")))
    add(_ref("reference-client-fromagerie-chine", "html",
             "Référence client : une fromagerie charentaise sur le marché chinois",
             "cci-nouvelle-aquitaine", "laitier", "CN", (
                 """La Fromagerie des Deux-Sèvres (nom modifié) produit des fromages de chèvre et
                 emploie 35 personnes.""",
                 """L'entreprise voulait accéder aux boulangeries et hôtels haut de gamme chinois.""",
                 """La CCI Nouvelle-Aquitaine a accompagné l'enregistrement auprès des douanes chinoises
                 et organisé une mission à Shanghai avec Business France.""",
                 """La fromagerie exporte 40 tonnes par an vers la Chine via un importateur de
                 Shanghai et a été référencée par deux chaînes hôtelières.""",
                 """Le marché chinois exige beaucoup de patience administrative. — Responsable
                 export""")))
    add(_ref("reference-client-dispositifs-medicaux-allemagne", "odt",
             "Référence client : une medtech française référencée dans les hôpitaux allemands",
             "bpifrance", "medical", "DE", (
                 """OrthoNova (nom modifié) conçoit des implants orthopédiques, 50 salariés.""",
                 """La PME voulait accéder aux cliniques orthopédiques allemandes, premier marché
                 européen.""",
                 """Bpifrance a financé la prospection ; la PME a exposé au salon Medica de Düsseldorf
                 et recruté un V.I.E. à Munich.""",
                 """OrthoNova est référencée dans 18 cliniques allemandes et réalise 2 millions d'euros
                 en Allemagne.""",
                 """Le marché allemand récompense la rigueur. — Directrice générale"""),
             visibility="organisation"))
    add(_ref("reference-client-ferroviaire-mexique", "odt",
             "Référence client : un équipementier ferroviaire remporte un contrat de métro au Mexique",
             "region-occitanie", "ferroviaire", "MX", (
                 """Railtech Occitanie (nom modifié) fabrique des systèmes de freinage et d'information
                 voyageurs, 90 salariés.""",
                 """L'entreprise visait la modernisation des métros de Mexico et Monterrey.""",
                 """La Région Occitanie et Business France Mexico ont organisé des rendez-vous avec les
                 opérateurs et un consortium avec un intégrateur.""",
                 """Un contrat de 4,5 millions d'euros a été signé pour équiper 30 rames de métro.""",
                 """Nous avons gagné grâce à un partenaire local solide. — Directeur commercial""")))
    # ---- Fiches pays ------------------------------------------------------------------------------
    add(country_note("fiche-pays-cote-divoire", "docx", "business-france", "CI", sectors=["btp", "enr"],
                     opportunities="""Le BTP et les infrastructures (routes, ponts, logements sociaux),
                     l'énergie (solaire, réseaux électriques), l'agro-industrie (transformation du
                     cacao et de l'anacarde) et la santé sont les secteurs les plus porteurs.

                     Les entreprises françaises sont le premier investisseur étranger en Côte
                     d'Ivoire."""))
    add(country_note("fiche-pays-bresil", "pdf", "business-france", "BR", sectors=["machinisme", "enr"],
                     opportunities="""Les machines agricoles, les énergies renouvelables, les
                     infrastructures, la santé et les cosmétiques sont les secteurs porteurs.

                     Les PME françaises doivent anticiper la fiscalité et travailler avec un
                     partenaire local."""))
    add(country_note("fiche-pays-vietnam", "html", "business-france", "VN", sectors=["laitier", "eau"],
                     opportunities="""L'agroalimentaire (produits laitiers, vins, viandes),
                     l'environnement (eau, déchets), l'énergie, la santé et les infrastructures de
                     transport offrent des opportunités.

                     Les importateurs vietnamiens s'intéressent aux produits premium français."""))
    add(country_note("fiche-pays-allemagne", "html", "business-france", "DE", sectors=["vins", "medical"],
                     opportunities="""Les vins et spiritueux, l'agroalimentaire, les dispositifs
                     médicaux, les énergies renouvelables et l'industrie du futur sont les secteurs
                     porteurs sur le marché allemand.

                     Les salons ProWein et Medica à Düsseldorf, Anuga à Cologne et Hannover Messe
                     sont des rendez-vous clés."""))
    add(country_note("fiche-pays-japon", "odt", "cci-france-japon", "JP", sectors=["cosmetiques", "vins"],
                     opportunities="""Les cosmétiques, les vins et l'épicerie fine, la santé, le
                     luxe et l'aéronautique sont des secteurs porteurs.

                     Les consommateurs japonais apprécient l'art de vivre à la française."""))
    return d


# --------------------------------------------------------------------------------------------------
# Writers (one per format)
# --------------------------------------------------------------------------------------------------

QUOTE_HEADER = ["Prestation", "Description", "Quantité", "Unité", "Prix unitaire HT (EUR)", "Total HT (EUR)"]


def _quote_rows(doc: Doc) -> list[list[str]]:
    rows = [[ln.service, ln.detail, str(ln.quantity), ln.unit, eur(ln.unit_price), eur(ln.total)]
            for ln in doc.lines]
    total = sum(ln.total for ln in doc.lines)
    rows.append(["Total HT", "", "", "", "", eur(total)])
    return rows


def write_docx(doc: Doc, path: Path) -> None:
    from docx import Document

    d = Document()
    props = d.core_properties
    props.title, props.author, props.language = doc.title, doc.author, "fr-FR"
    props.subject, props.keywords = doc.doc_type, ", ".join(doc.sectors + doc.countries)
    props.created = props.modified = FIXED_DATE
    props.last_modified_by = doc.author
    props.revision = 1
    d.add_heading(doc.title, level=0)
    d.add_paragraph(f"Auteur : {doc.author}")
    for i, s in enumerate(doc.sections):
        d.add_heading(s.heading, level=1)
        for p in s.paragraphs:
            d.add_paragraph(p)
        for b in s.bullets:
            d.add_paragraph(b, style="List Bullet")
        if doc.lines and i == 0:
            table = d.add_table(rows=1, cols=len(QUOTE_HEADER))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, QUOTE_HEADER, strict=True):
                cell.text = text
            for row in _quote_rows(doc):
                for cell, text in zip(table.add_row().cells, row, strict=True):
                    cell.text = text
    d.save(str(path))


_LATIN1_FALLBACK = {"œ": "oe", "Œ": "OE", "’": "'", "…": "...", "—": "-", "–": "-", "«": '"', "»": '"',
                    "€": "EUR", "\u202f": " ", "\u00a0": " "}


def _latin1(text: str) -> str:
    for k, v in _LATIN1_FALLBACK.items():
        text = text.replace(k, v)
    return text.encode("latin-1", "replace").decode("latin-1")


def _find_ttf() -> tuple[Path, Path] | None:
    if DEJAVU.exists():
        return DEJAVU, DEJAVU_BOLD if DEJAVU_BOLD.exists() else DEJAVU
    try:
        cmd = ["fc-list", ":lang=fr", "file"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    fonts = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip().endswith(":"))
    fonts = [f for f in fonts if f.lower().endswith(".ttf")]
    return (Path(fonts[0]), Path(fonts[0])) if fonts else None


def write_pdf(doc: Doc, path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE.replace(tzinfo=dt.UTC))
    pdf.set_title(doc.title)
    pdf.set_author(doc.author)
    pdf.set_subject(doc.doc_type)
    pdf.set_lang("fr")
    ttf = _find_ttf()
    if ttf:
        pdf.add_font("Body", "", str(ttf[0]))
        pdf.add_font("Body", "B", str(ttf[1]))
        family, clean = "Body", (lambda s: s)
    else:
        family, clean = "Helvetica", _latin1
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    w = pdf.epw
    pdf.set_font(family, "B", 16)
    pdf.multi_cell(w, 8, clean(doc.title), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9)
    pdf.multi_cell(w, 6, clean(f"Auteur : {doc.author}"), align="L", new_x="LMARGIN", new_y="NEXT")
    for s in doc.sections:
        pdf.ln(3)
        pdf.set_font(family, "B", 12)
        pdf.multi_cell(w, 7, clean(s.heading), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 10)
        for p in s.paragraphs:
            pdf.multi_cell(w, 5.5, clean(p), align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
        for b in s.bullets:
            pdf.multi_cell(w, 5.5, clean(f"- {b}"), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def write_xlsx(doc: Doc, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    wb.properties.title, wb.properties.creator = doc.title, doc.author
    wb.properties.subject, wb.properties.language = doc.doc_type, "fr-FR"
    wb.properties.created = wb.properties.modified = FIXED_DATE
    ws = wb.active
    assert ws is not None
    ws.title = "Présentation"
    ws.column_dimensions["A"].width = 110
    ws.append([doc.title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"Auteur : {doc.author}"])
    for s in doc.sections:
        ws.append([])
        ws.append([s.heading])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
        for p in s.paragraphs + [f"• {b}" for b in s.bullets]:
            ws.append([p])
            ws.cell(row=ws.max_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    if doc.lines:
        q = wb.create_sheet("Devis")
        q.append(QUOTE_HEADER)
        for cell in q[1]:
            cell.font = Font(bold=True)
        for ln in doc.lines:
            q.append([ln.service, ln.detail, ln.quantity, ln.unit, ln.unit_price, ln.total])
        q.append(["Total HT", "", "", "", "", round(sum(ln.total for ln in doc.lines), 2)])
        for col, width in zip("ABCDEF", (34, 70, 10, 12, 22, 18), strict=True):
            q.column_dimensions[col].width = width
        for row in q.iter_rows(min_row=2, min_col=5, max_col=6):
            for cell in row:
                cell.number_format = '#,##0.00 "€"'
    wb.save(str(path))


def write_pptx(doc: Doc, path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Pt

    prs = Presentation()
    cp = prs.core_properties
    cp.title, cp.author, cp.subject, cp.language = doc.title, doc.author, doc.doc_type, "fr-FR"
    cp.created = cp.modified = FIXED_DATE
    cp.last_modified_by, cp.revision = doc.author, 1
    slide = prs.slides.add_slide(prs.slide_layouts[0])
    slide.shapes.title.text = doc.title
    slide.placeholders[1].text = doc.author
    for s in doc.sections:
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = s.heading
        body = slide.placeholders[1].text_frame
        items = s.paragraphs + s.bullets
        body.text = items[0] if items else ""
        for item in items[1:]:
            body.add_paragraph().text = item
        size = Pt(14) if sum(len(i) for i in items) < 500 else Pt(11)
        for para in body.paragraphs:
            for run in para.runs:
                run.font.size = size
    prs.save(str(path))


def write_html(doc: Doc, path: Path) -> None:
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="fr">', "<head>", '<meta charset="utf-8">',
           f"<title>{e(doc.title)}</title>", f'<meta name="author" content="{e(doc.author)}">',
           f'<meta name="description" content="{e(doc.title)}">', "</head>", "<body>",
           f"<h1>{e(doc.title)}</h1>", f'<p class="author">Auteur : {e(doc.author)}</p>']
    for i, s in enumerate(doc.sections):
        out.append(f"<h2>{e(s.heading)}</h2>")
        out.extend(f"<p>{e(p)}</p>" for p in s.paragraphs)
        if s.bullets:
            out.append("<ul>" + "".join(f"<li>{e(b)}</li>" for b in s.bullets) + "</ul>")
        if doc.lines and i == 0:
            out.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in QUOTE_HEADER)
                       + "</tr></thead><tbody>")
            for row in _quote_rows(doc):
                out.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
            out.append("</tbody></table>")
    out += ["</body>", "</html>", ""]
    path.write_text("\n".join(out), encoding="utf-8")


def write_odt(doc: Doc, path: Path) -> None:
    from odf import meta, text
    from odf.dc import Creator, Language, Subject, Title
    from odf.opendocument import OpenDocumentText
    from odf.style import Style, TextProperties

    od = OpenDocumentText()
    od.meta.addElement(Title(text=doc.title))
    od.meta.addElement(Creator(text=doc.author))
    od.meta.addElement(meta.InitialCreator(text=doc.author))
    od.meta.addElement(Subject(text=doc.doc_type))
    od.meta.addElement(Language(text="fr-FR"))
    od.meta.addElement(meta.CreationDate(text=FIXED_DATE.isoformat()))
    h1 = Style(name="Heading 1", family="paragraph")
    h1.addElement(TextProperties(fontsize="18pt", fontweight="bold"))
    h2 = Style(name="Heading 2", family="paragraph")
    h2.addElement(TextProperties(fontsize="13pt", fontweight="bold"))
    od.styles.addElement(h1)
    od.styles.addElement(h2)
    od.text.addElement(text.H(outlinelevel=1, stylename=h1, text=doc.title))
    od.text.addElement(text.P(text=f"Auteur : {doc.author}"))
    for i, s in enumerate(doc.sections):
        od.text.addElement(text.H(outlinelevel=2, stylename=h2, text=s.heading))
        for p in s.paragraphs:
            od.text.addElement(text.P(text=p))
        if s.bullets:
            lst = text.List()
            for b in s.bullets:
                item = text.ListItem()
                item.addElement(text.P(text=b))
                lst.addElement(item)
            od.text.addElement(lst)
        if doc.lines and i == 0:
            for row in _quote_rows(doc):
                od.text.addElement(text.P(text=" | ".join(c for c in row if c)))
    buf = io.BytesIO()
    od.write(buf)
    path.write_bytes(buf.getvalue())


WRITERS: dict[str, Callable[[Doc, Path], None]] = {
    "docx": write_docx, "pdf": write_pdf, "xlsx": write_xlsx, "pptx": write_pptx, "html": write_html,
    "odt": write_odt,
}

_CORE_DATE = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def normalize_zip(path: Path) -> None:
    """Rewrite an OOXML/ODF zip with fixed timestamps so re-runs are byte-identical."""
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info.filename)) for info in src.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = _CORE_DATE.sub(rb"\g<1>2026-01-15T09:00:00Z\g<2>", data)
            new = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            new.compress_type = info.compress_type
            new.external_attr = 0o644 << 16
            dst.writestr(new, data)
    path.write_bytes(buf.getvalue())


# --------------------------------------------------------------------------------------------------
# Feeds
# --------------------------------------------------------------------------------------------------

FeedItem = tuple[str, str, str, str]  # slug, title, date (YYYY-MM-DD), summary

RSS_ITEMS: list[FeedItem] = [
    ("vietnam-importations-produits-laitiers", "Vietnam : hausse des importations de produits laitiers",
     "2026-01-08", """Les importations vietnamiennes de produits laitiers ont progressé de 9 % en 2025.
     Les fromages et la crème destinés à la boulangerie et à la restauration enregistrent les plus
     fortes hausses. Les fournisseurs européens profitent de la baisse des droits prévue par l'accord
     de libre-échange."""),
    ("allemagne-vin-bio-progresse", "Allemagne : le marché du vin bio progresse", "2026-01-12",
     """Les ventes de vins biologiques en Allemagne ont augmenté de 6 % en valeur l'an dernier. Les
     importateurs allemands recherchent des vins français certifiés pour les cavistes et les magasins
     bio. Le salon ProWein de Düsseldorf consacrera un espace élargi aux vins bio en mars."""),
    ("maroc-appel-offres-dessalement", "Maroc : nouvel appel d'offres pour une usine de dessalement",
     "2026-01-20", """L'Office national de l'électricité et de l'eau potable lance un appel d'offres
     pour une usine de dessalement dans le sud du pays. Les entreprises françaises du traitement de
     l'eau sont invitées à se positionner en consortium."""),
    ("japon-cosmetiques-naturels", "Japon : les cosmétiques naturels séduisent les drugstores",
     "2026-02-02", """Les grandes chaînes de drugstores japonaises élargissent leurs rayons de
     cosmétiques naturels. Les marques françaises de soins bio sont recherchées pour leur image de
     qualité. Une adaptation des textures et de l'étiquetage reste nécessaire."""),
    ("inde-metro-signalisation", "Inde : trois villes lancent des projets de métro", "2026-02-10",
     """Pune, Lucknow et Surat ont annoncé de nouvelles lignes de métro. Les appels d'offres portent
     sur le matériel roulant, la signalisation et les systèmes de billettique. Les exigences de
     fabrication locale imposent des partenariats avec des industriels indiens."""),
    ("bresil-agrishow-machines-agricoles", "Brésil : record attendu pour les ventes de machines agricoles",
     "2026-02-18", """Les constructeurs prévoient une hausse des ventes de tracteurs et de moissonneuses
     au Brésil portée par la récolte record de soja. Le salon Agrishow de Ribeirão Preto accueillera un
     pavillon France en avril."""),
    ("emirats-hopitaux-prives", "Émirats arabes unis : les hôpitaux privés investissent", "2026-03-03",
     """Plusieurs groupes hospitaliers émiriens annoncent des ouvertures à Dubaï et Abou Dhabi. Les
     besoins portent sur l'imagerie, la chirurgie et le diagnostic. Les PME françaises de dispositifs
     médicaux peuvent rencontrer les acheteurs lors d'une mission en mai."""),
    ("cote-divoire-solaire-rural", "Côte d'Ivoire : programme d'électrification solaire rurale",
     "2026-03-11", """Le gouvernement ivoirien lance un programme de mini-réseaux solaires pour 500
     localités. Les bailleurs internationaux financent la première tranche. Les entreprises françaises
     de stockage et d'ingénierie sont bien placées."""),
    ("canada-aeronautique-cadences", "Canada : les avionneurs québécois augmentent leurs cadences",
     "2026-03-19", """Les donneurs d'ordre de Montréal recherchent de nouveaux fournisseurs en usinage
     et en composites. Une mission de sous-traitants français est organisée en juin avec le bureau
     Business France de Montréal."""),
    ("mexique-nearshoring-industrie", "Mexique : le nearshoring dope les investissements industriels",
     "2026-03-26", """Les investissements industriels au Mexique ont atteint un niveau record. Le Bajío
     et Monterrey attirent les équipementiers, ce qui crée des besoins en machines, en automatisation
     et en services d'ingénierie."""),
]

ATOM_ITEMS: list[FeedItem] = [
    ("vins-allemagne-importateurs", "Vins : les importateurs allemands diversifient leurs sources",
     "2026-01-09", """Face à la hausse des prix, les importateurs allemands élargissent leur sélection
     de vins du Languedoc et du Sud-Ouest. Les vins à moins de 10 euros prix caviste sont les plus
     demandés. Les domaines français disposant d'un tarif export stable ont un avantage."""),
    ("cosmetiques-coree-clean-beauty", "Cosmétiques : la clean beauty gagne la Corée du Sud", "2026-01-16",
     """Les consommateurs coréens plébiscitent les formules courtes et naturelles. Les distributeurs
     de Séoul recherchent des marques françaises certifiées. Les allégations doivent être validées
     auprès des autorités coréennes."""),
    ("aeronautique-inde-make-in-india", "Aéronautique : l'Inde mise sur la production locale", "2026-01-27",
     """Le gouvernement indien renforce les incitations à la production aéronautique locale. Les
     sous-traitants étrangers sont encouragés à créer des coentreprises. Bangalore et Hyderabad sont
     les principaux pôles."""),
    ("logiciels-royaume-uni-cybersecurite", "Logiciels : le Royaume-Uni accélère sur la cybersécurité",
     "2026-02-05", """Le marché britannique de la cybersécurité progresse de plus de 10 % par an. Les
     acheteurs publics britanniques ouvrent de nouveaux accords-cadres. Les éditeurs français
     spécialisés peuvent répondre via un partenaire local."""),
    ("energies-renouvelables-bresil-eolien",
     "Énergies renouvelables : nouvelles enchères éoliennes au Brésil",
     "2026-02-13", """Le Brésil organise de nouvelles enchères pour l'éolien terrestre dans le Nordeste.
     Les besoins en maintenance et en digitalisation des parcs ouvrent des marchés aux PME
     françaises."""),
    ("btp-emirats-construction-durable", "BTP : les Émirats durcissent les normes de construction durable",
     "2026-02-24", """Dubaï renforce ses exigences énergétiques pour les bâtiments neufs. Les
     entreprises françaises de façades et de génie climatique sont sollicitées par les promoteurs
     émiriens."""),
    ("textile-chine-marques-francaises", "Mode : les marques françaises séduisent les jeunes Chinois",
     "2026-03-04", """Les ventes de prêt-à-porter français progressent sur les plateformes chinoises.
     Les consommateurs de Shanghai et Chengdu recherchent des marques authentiques et durables. Le
     dépôt de marque en Chine reste un préalable."""),
    ("ferroviaire-mexique-metro", "Ferroviaire : Mexico modernise ses lignes de métro", "2026-03-12",
     """La ville de Mexico lance la modernisation de plusieurs lignes de métro. Les équipementiers
     français de signalisation et de freinage sont invités à se rapprocher des intégrateurs."""),
    ("eau-vietnam-assainissement", "Eau : le Vietnam accélère ses investissements dans l'assainissement",
     "2026-03-20", """Hô Chi Minh-Ville et Hanoï programment de nouvelles stations d'épuration. Les
     bailleurs internationaux cofinancent les projets. Les PME françaises de traitement de l'eau
     peuvent s'associer à des entreprises vietnamiennes."""),
    ("agroalimentaire-chine-fromages", "Agroalimentaire : la Chine découvre les fromages affinés",
     "2026-03-30", """Les importations chinoises de fromages ont augmenté de 12 % en un an. Les hôtels
     et boulangeries haut de gamme tirent la demande. L'enregistrement des fabricants auprès des douanes
     chinoises reste obligatoire."""),
]

FEED_BASE = "https://veille.example.org"


def _feed_dt(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=8, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def write_rss(path: Path) -> None:
    items = []
    for slug, title, day, summary in RSS_ITEMS:
        link = f"{FEED_BASE}/marches/{slug}"
        items.append(
            "    <item>\n"
            f"      <title>{escape(title)}</title>\n"
            f"      <link>{link}</link>\n"
            f'      <guid isPermaLink="true">{link}</guid>\n'
            f"      <pubDate>{format_datetime(_feed_dt(day))}</pubDate>\n"
            f"      <description>{escape(t(summary))}</description>\n"
            "    </item>\n"
        )
    last = format_datetime(_feed_dt(RSS_ITEMS[-1][2]))
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">\n  <channel>\n'
        "    <title>Veille marchés — Team France Export (démo)</title>\n"
        f"    <link>{FEED_BASE}/marches</link>\n"
        "    <description>Actualités économiques par pays pour les conseillers export (contenu de "
        "démonstration)</description>\n"
        f"    <language>fr-fr</language>\n    <lastBuildDate>{last}</lastBuildDate>\n"
        + "".join(items) + "  </channel>\n</rss>\n"
    )
    path.write_text(xml, encoding="utf-8")


def write_atom(path: Path) -> None:
    entries = []
    for slug, title, day, summary in ATOM_ITEMS:
        link = f"{FEED_BASE}/secteurs/{slug}"
        entries.append(
            "  <entry>\n"
            f"    <title>{escape(title)}</title>\n"
            f'    <link rel="alternate" href="{link}"/>\n'
            f"    <id>{link}</id>\n"
            f"    <updated>{_feed_dt(day).isoformat()}</updated>\n"
            f'    <summary type="text">{escape(t(summary))}</summary>\n'
            "  </entry>\n"
        )
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">\n'
        "  <title>Veille secteurs — Team France Export (démo)</title>\n"
        "  <subtitle>Actualités par filière pour les conseillers export"
        " (contenu de démonstration)</subtitle>\n"
        f'  <link rel="self" href="{FEED_BASE}/secteurs.atom"/>\n'
        f'  <link rel="alternate" href="{FEED_BASE}/secteurs"/>\n'
        f"  <id>{FEED_BASE}/secteurs</id>\n"
        f"  <updated>{_feed_dt(ATOM_ITEMS[-1][2]).isoformat()}</updated>\n"
        "  <author><name>Équipe veille (démo)</name></author>\n"
        + "".join(entries) + "</feed>\n"
    )
    path.write_text(xml, encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def build_corpus(out_dir: Path) -> list[dict[str, object]]:
    """Write every document and manifest.json into out_dir; return the manifest entries."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest: list[dict[str, object]] = []
    for doc in build_docs():
        path = out_dir / doc.file
        WRITERS[doc.fmt](doc, path)
        if doc.fmt in {"docx", "xlsx", "pptx", "odt"}:
            normalize_zip(path)
        manifest.append({
            "file": doc.file, "title": doc.title, "doc_type": doc.doc_type, "visibility": doc.visibility,
            "org": doc.org, "sectors": doc.sectors, "countries": doc.countries, "author": doc.author,
            "format": doc.fmt, "language": "fr",
        })
    (out_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                           encoding="utf-8")
    return manifest


def build_feeds(feeds_dir: Path) -> None:
    feeds_dir.mkdir(parents=True, exist_ok=True)
    write_rss(feeds_dir / "veille-marches.rss")
    write_atom(feeds_dir / "veille-secteurs.atom")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out_dir", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--feeds-dir", type=Path, default=DEFAULT_FEEDS)
    parser.add_argument("--organisations", type=Path, default=DEFAULT_ORGS)
    parser.add_argument("--clean", action="store_true", help="remove out_dir before writing")
    args = parser.parse_args(argv)
    if args.clean and args.out_dir.exists():
        shutil.rmtree(args.out_dir)
    manifest = build_corpus(args.out_dir)
    build_feeds(args.feeds_dir)
    args.organisations.parent.mkdir(parents=True, exist_ok=True)
    args.organisations.write_text(json.dumps(ORGANISATIONS, ensure_ascii=False, indent=2) + "\n",
                                  encoding="utf-8")
    print(f"{len(manifest)} documents -> {args.out_dir}; feeds -> {args.feeds_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
