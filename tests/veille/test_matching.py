"""Batch matching on a candidate index: scope inside each query, facets, strict text, grouping, parity."""

from __future__ import annotations

import datetime as dt
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.types import Passage
from tfe.core.security.scope import AccessScope
from veille.alerts.matching import (
    Candidate,
    CandidateBatch,
    MatchRequest,
    ScopeClass,
    alert_text,
    resolve_filters,
)

NOW = dt.datetime(2025, 3, 3, 8, tzinfo=dt.UTC)


def cand(
    pid: str,
    title: str,
    *,
    sector: str = "naf:11",
    country: str = "country:DE",
    vis: str = "network",
    org: int | None = None,
    owner: int | None = None,
    kind: str = "item",
    minutes: int = 0,
) -> Candidate:
    meta = {
        "kind": kind,
        "sectors": [sector, "naf:" + sector[4]],
        "sector_facet": [sector],
        "countries": [country],
        "regions": [],
        "visibility": vis,
        "org_id": org,
        "owner_user_id": owner,
    }
    p = Passage(f"{pid}:0", pid, title, f"{title}. Article de veille.", 0, meta)
    return Candidate(pid, kind, NOW + dt.timedelta(minutes=minutes), pid, (p,))  # fmt: skip


CANDS = [
    cand("a", "Les vins français en Allemagne"),
    cand("b", "Vins et spiritueux au Japon", country="country:JP"),
    cand("c", "Note interne : vins pour l'Allemagne", vis="organisation", org=2),
    cand("d", "Meubles en bois en Allemagne", sector="naf:31"),
    cand("e", "Analyse sectorielle des vins allemands", kind="document", vis="private", org=1, owner=7),
    cand("f", "Vins allemands : le marché", minutes=30),
]
ALPHA = AccessScope(user_id=1, org_id=1, roles=frozenset({"reader"}))
ALPHA2 = AccessScope(user_id=2, org_id=1, roles=frozenset({"reader"}))
BETA = AccessScope(user_id=3, org_id=2, roles=frozenset({"reader"}))
OWNER = AccessScope(user_id=7, org_id=1, roles=frozenset({"reader"}))


def req(i: int, text: str = "", scope: AccessScope = ALPHA, **kw: object) -> MatchRequest:
    filters = kw.pop("filters", {})
    return MatchRequest(i, text, filters, scope, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def batch() -> Iterator[CandidateBatch]:
    with CandidateBatch(CANDS) as b:
        yield b


def test_scope_is_inside_the_query(batch: CandidateBatch) -> None:
    both = frozenset({"item", "document"})
    got = batch.match([req(1, "vins", ALPHA, kinds=both), req(2, "vins", BETA, kinds=both),
                       req(3, "vins", OWNER, kinds=both)])  # fmt: skip
    assert got[1] == ["a", "b", "f"]
    assert got[2] == ["a", "b", "c", "f"]  # beta's organisation-only item, for beta only
    assert got[3] == ["a", "b", "e", "f"]  # a private document, for its owner only


def test_facets_text_kinds_and_window(batch: CandidateBatch) -> None:
    got = batch.match([
        req(1, filters={"sector": ["naf:11"], "country": ["country:DE"]}),
        req(2, "vins Allemagne"),
        req(3, "vins japon allemagne"),  # every word required
        req(4, "meubles", filters={"sector": ["naf:11"]}),
        req(5, "vins", since=NOW + dt.timedelta(minutes=10)),
        req(6, "vins", problem="valeur inconnue"),
    ])  # fmt: skip
    assert got[1] == ["a", "f"]
    assert got[2] == ["a"]  # « allemands » is not « Allemagne » (stems differ)
    assert got[3] == []
    assert got[4] == []
    assert got[5] == ["f"]
    assert got[6] == []


def test_identical_queries_in_one_scope_class_run_once(batch: CandidateBatch) -> None:
    before = batch.queries
    got = batch.match([req(1, "vins", ALPHA), req(2, "vins", ALPHA2), req(3, "vins", OWNER)])
    assert got[1] == got[2] == ["a", "b", "f"]
    assert batch.queries - before == 2  # the owner of a private candidate is a class of their own
    assert ScopeClass.of(ALPHA, {7}) == ScopeClass.of(ALPHA2, {7}) != ScopeClass.of(OWNER, {7})


def test_match_parents_agrees_with_search(batch: CandidateBatch) -> None:
    rng = random.Random(3)
    words = ["vins", "Allemagne", "bois", "marché", "japon", "allemands", "note", "vins OR bois"]
    scopes = [ALPHA, BETA, OWNER, AccessScope(user_id=9, org_id=1, roles=frozenset({"admin"}))]
    for i in range(40):
        filters = rng.choice([{}, {"sector": ["naf:11"]}, {"country": ["country:DE"]}, {"sector": ["naf:3"]}])
        text = rng.choice(["", *words]) if filters else rng.choice(words)
        r = req(i, text, rng.choice(scopes), filters=filters, kinds=frozenset({"item", "document"}))
        assert sorted(batch.match([r])[i]) == sorted(batch.search_parents(r)), (text, filters)


def test_alert_text_and_filters() -> None:
    assert alert_text("vins  Allemagne") == "+vins +Allemagne"
    assert alert_text("l'Allemagne") == "+l +Allemagne"
    assert alert_text('"appel d\'offres" OR santé') == '"appel d\'offres" OR santé'
    assert alert_text("") == ""
    resolve = {("11", "naf"): "naf:11", ("Allemagne", "country"): "country:DE"}
    ok, problem = resolve_filters(
        {"sector": ["11"], "country": ["Allemagne"]}, lambda v, s: resolve.get((v, s))
    )
    assert ok == {"sector": ["naf:11"], "country": ["country:DE"]} and problem is None
    _none, problem = resolve_filters({"sector": ["99"]}, lambda v, s: None)
    assert problem is not None and "99" in problem


def test_empty_batch_matches_nothing() -> None:
    with CandidateBatch([]) as empty:
        assert empty.match([req(1, "vins")]) == {1: []}


def test_bench_runs_small() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    import alerts

    out = alerts.bench_matching(50, 60)
    assert out["subscriptions"] == 50 and out["grouped_queries"] <= 50 and out["total_s"] < 30


def test_filiere_and_signal_filters_match_the_candidates_meta() -> None:
    wine = cand("w", "Appel d'offres : vins pour la restauration")
    furniture = cand("m", "Meubles en bois", sector="naf:31")
    wine_filieres = ["filiere:agri-agro.vins", "filiere:agri-agro"]
    wine.passages[0].meta.update(filieres=wine_filieres, signals=["signal:tender"])
    furniture.passages[0].meta.update(filieres=["filiere:industrie"], signals=[])
    with CandidateBatch([wine, furniture]) as b:
        got = b.match([
            req(1, filters={"filiere": ["filiere:agri-agro"]}),
            req(2, filters={"signal": ["signal:tender"]}),
            req(3, filters={"filiere": ["filiere:industrie"], "signal": ["signal:tender"]}),
        ])  # fmt: skip
    assert got[1] == ["w"]
    assert got[2] == ["w"]
    assert got[3] == []
