"""Bad input on ``GET /api/search`` and the search page (issue 11 « Bad input »): a clear 4xx or a result,
never a 500; the query syntax (docs/guide-utilisateur.md « Syntaxe »); and the ``org`` filter's scope:
an organisation the caller may not see is refused exactly as one that does not exist.

On an installation of its own (the web tests' five documents, plus ``gamma``, an organisation with a
member and no document), the exfiltration guard off: these tests send a few hundred searches in a
minute, which the guard would (rightly) slow down, and the shared installation's tokens stay untouched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.web.conftest import MAX_UPLOAD, PASSWORD, _seed_accounts, _seed_documents
from tests.web.signin import sign_in
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.models import User
from tfe.core.security import identity
from tfe.core.settings import Settings

GERMANY = {"doc-vins-de", "doc-machines-de"}  # alice's documents that say « Allemagne »


@dataclass
class World:
    client: TestClient
    tokens: dict[str, str]  # alice, bob (alpha, beta), gina (gamma, no documents), admin (national)
    orgs: dict[str, int]
    ids: dict[str, str]

    def get(self, who: str, **params: Any) -> Any:
        return self.client.get(
            "/api/search", params=params, headers={"Authorization": f"Bearer {self.tokens[who]}"}
        )

    def ok(self, who: str, **params: Any) -> dict[str, Any]:
        response = self.get(who, **params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def keys(self, result: dict[str, Any]) -> set[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return {by_id[h["id"]] for h in result["hits"]}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir: Path = tmp_path_factory.mktemp("bad-input")
    rt = Runtime(
        Settings(
            data_dir=data_dir,
            environment="test",
            max_upload_bytes=MAX_UPLOAD,
            admin_password="admin-password-123",
            secret_key="bad-input-secret-key",
            guard_enabled=False,
        )
    )
    init_installation(rt)
    tokens, users, orgs = _seed_accounts(rt)
    ids = _seed_documents(rt, users, orgs)
    with rt.session() as session:
        gamma = identity.get_or_create_org(session, "gamma", "Région Gamma", "region")
        orgs["gamma"] = gamma.id
        gina = identity.create_user(
            session, email="gina@gamma.fr", org=gamma, role="reader", name="Gina", password=PASSWORD
        )
        tokens["gina"] = identity.create_token(session, gina, name="tests")[1]
        admin = session.scalars(select(User).where(User.role == "admin")).one()
        tokens["admin"] = identity.create_token(session, admin, name="tests")[1]
    with TestClient(create_app(rt)) as client:
        yield World(client=client, tokens=tokens, orgs=orgs, ids=ids)
    rt.close()


# ---------------------------------------------------------------------------------------- query text
# (q, mode): answered with 200; ``total``: None (any), 0, or "some" (at least one hit)
TEXT_CASES: list[tuple[str, str, int | str | None]] = [
    ("le la les", "hybrid", None),  # stop words only
    ("le la les", "bm25", 0),  # the analyzer keeps no word: nothing to match (not everything)
    ("!!!", "hybrid", 0),  # punctuation only
    ("?,;.", "vector", 0),
    ("vins " * 100, "hybrid", "some"),  # 500 characters of one repeated word
    ("a" * 500, "hybrid", None),  # one 500-letter word
    ('"vins', "hybrid", "some"),  # unbalanced quotes
    ('vins"', "bm25", "some"),
    ('"vins français', "hybrid", "some"),
    ('""', "hybrid", 0),
    ('vins"Allemagne"', "bm25", "some"),
    ("AND", "hybrid", 0),  # operators alone, doubled, dangling
    ("OR", "bm25", 0),
    ("NOT", "hybrid", 0),
    ("AND OR NOT", "hybrid", 0),
    ("vins AND", "hybrid", "some"),
    ("OR vins", "bm25", "some"),
    ("vins AND AND Allemagne", "bm25", "some"),
    ("NOT NOT vins", "bm25", None),
    ("-", "hybrid", 0),
    ("+", "hybrid", 0),
    ("--", "bm25", 0),
    ("+-", "bm25", 0),
    ("vins -", "hybrid", "some"),
    ("-+vins", "bm25", "some"),
    ("*", "hybrid", 0),  # wildcards, fuzziness, boosts, ranges: plain text
    ("vin*", "bm25", "some"),
    ("vins~2", "hybrid", "some"),
    ("~", "bm25", 0),
    ("vins^3 Allemagne", "hybrid", "some"),
    ("^", "bm25", 0),
    ("[a TO z]", "hybrid", None),
    ("{vins}", "bm25", "some"),
    ("title:vins", "hybrid", "some"),  # field:value is not syntax
    ("foo:bar", "bm25", None),
    (":", "hybrid", 0),
    ("vins:", "bm25", "some"),
    ("(", "hybrid", 0),  # parentheses
    (")(", "bm25", 0),
    ("(vins", "hybrid", "some"),
    ("vins))", "bm25", "some"),
    ("()", "bm25", 0),
    ("(vins OR Japon) AND Allemagne", "bm25", "some"),
    ("\\", "hybrid", 0),
    ("\\vins", "bm25", "some"),
    ("\x00", "hybrid", None),  # control characters and NUL bytes (spaces: as an empty query)
    ("vins\x00", "hybrid", "some"),
    ("vins\x00Allemagne", "bm25", "some"),
    ("\x01\x02\x1b[31m", "bm25", None),
    ("vins\u200b", "bm25", "some"),
    ("日本 العربية", "hybrid", None),
    ("&& || !", "bm25", 0),
    ("'", "bm25", 0),
    ("l'Allemagne", "bm25", "some"),
]


@pytest.mark.parametrize(("q", "mode", "total"), TEXT_CASES)
def test_odd_query_text_is_a_result(world: World, q: str, mode: str, total: int | str | None) -> None:
    result = world.ok("alice", q=q, mode=mode)
    assert isinstance(result["total"], int) and len(result["hits"]) <= result["total"]
    if total == "some":
        assert result["total"] > 0
    elif total is not None:
        assert result["total"] == total


def test_stop_words_alone_do_not_match_everything(world: World) -> None:
    everything = world.ok("alice", q="")["total"]
    assert everything >= 3
    assert world.ok("alice", q="le la les", mode="bm25")["total"] == 0
    assert world.ok("alice", q="les vins", mode="bm25")["total"] > 0  # a stop word beside a word


# --------------------------------------------------------------------------------------- operators
def test_phrase_excludes_other_orders(world: World) -> None:
    phrase = world.keys(world.ok("alice", q='"vins français"'))
    assert "doc-vins-de" in phrase and "doc-machines-de" not in phrase  # « ... viticole pour les vins »
    assert world.ok("alice", q='"français vins"')["total"] == 0


@pytest.mark.parametrize("q", ["vins -Allemagne", "vins NOT Allemagne", "vins AND NOT Allemagne"])
def test_exclusion_leaves_out_what_contains_the_word(world: World, q: str) -> None:
    for mode in ("hybrid", "bm25"):  # hybrid: the vectors' neighbours must not bring them back
        found = world.keys(world.ok("alice", q=q, mode=mode))
        assert found == {"doc-vins-it"}, (q, mode, found)


@pytest.mark.parametrize("q", ["-Allemagne", "NOT Allemagne", '-"en Allemagne"'])
def test_exclusion_alone_finds_everything_else(world: World, q: str) -> None:
    everything = world.keys(world.ok("alice", q="", limit=50))
    found = world.keys(world.ok("alice", q=q, limit=50))
    assert found and not found & GERMANY and found == everything - GERMANY


def test_or_and_required_words(world: World) -> None:
    either = world.keys(world.ok("alice", q="Italie OR italienne OR machines", mode="bm25"))
    assert either == {"doc-vins-it", "doc-machines-de"}
    assert world.keys(world.ok("alice", q="vins +machines", mode="bm25")) == {"doc-machines-de"}
    assert world.ok("alice", q="vins and machines", mode="bm25")["total"] >= 1  # lower case: plain words


# ------------------------------------------------------------------------------- parameters and facets
BAD_PARAMS: list[tuple[dict[str, Any], str]] = [
    ({"q": "x" * 501}, "at most 500 characters"),
    ({"q": "vins " * 200}, "at most 500 characters"),
    ({"sector": "nowhere"}, "unknown sector"),
    ({"sector": "\x00"}, "unknown sector"),
    ({"country": "Atlantide"}, "unknown country"),
    ({"type": "grimoire"}, "unknown type"),
    ({"org": "nowhere"}, "unknown organisation"),
    ({"org": "\x00"}, "unknown organisation"),
    ({"org": "a" * 300}, "unknown organisation"),
    ({"org": "99999999999999999999999"}, "unknown organisation"),
    ({"language": "français"}, "unknown language"),
    ({"language": "f\x00"}, "unknown language"),
    ({"status": "published"}, "status"),
    ({"field.nothing": "1"}, "no filterable document field 'nothing'"),
    ({"field.currency": "doublon"}, "invalid value"),
    ({"field.year": "demain", "type": "client_reference"}, "invalid value"),
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "-5"}, "limit"),
    ({"limit": "beaucoup"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"offset": "10001"}, "offset"),
    ({"offset": str(10**30)}, "offset"),
    ({"mode": "fuzzy"}, "mode"),
    ({"sort": "popularity"}, "sort"),
    ({"group": "sources"}, "group"),
    ({"date_from": "2024-02-30"}, "date_from"),
    ({"date_to": "\x00"}, "date_to"),
    ({"include_archived": "peut-être"}, "include_archived"),
]


@pytest.mark.parametrize(("params", "needle"), BAD_PARAMS)
def test_bad_parameters_are_a_clear_400(world: World, params: dict[str, Any], needle: str) -> None:
    response = world.get("alice", **{"q": "vins", **params})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid" and needle in error["message"]
    assert "\n" not in error["message"] and "Traceback" not in error["message"]


def test_deepest_page_is_empty_not_an_error(world: World) -> None:
    result = world.ok("alice", q="vins", offset=10_000, limit=100)
    assert result["hits"] == [] and result["total"] > 0
    grouped = world.ok("alice", q="vins", offset=10_000, group="stories")
    assert grouped["hits"] == []


# ------------------------------------------------------------------------------ organisation scope
def _message(response: Any, slug: str) -> str:
    assert response.status_code == 400, response.text
    return str(response.json()["error"]["message"]).replace(repr(slug), "<org>")


@pytest.mark.parametrize("group", [None, "stories"])
def test_hidden_organisation_is_as_unknown_as_a_missing_one(world: World, group: str | None) -> None:
    extra = {"group": group} if group else {}
    nowhere = _message(world.get("alice", q="vins", org="nowhere", **extra), "nowhere")
    assert nowhere == "unknown organisation <org>"
    for hidden in ("beta", "gamma"):  # beta: no document alice may see; gamma: no document at all
        assert _message(world.get("alice", q="vins", org=hidden, **extra), hidden) == nowhere
    beta_id, missing_id = str(world.orgs["beta"]), str(max(world.orgs.values()) + 1000)
    assert _message(world.get("alice", org=beta_id, **extra), beta_id) == nowhere
    assert _message(world.get("alice", org=missing_id, **extra), missing_id) == nowhere
    assert _message(world.get("alice", org=["alpha", "beta"], **extra), "beta") == nowhere


def test_visible_organisations_are_filtered(world: World) -> None:
    assert world.ok("bob", q="", org="alpha")["total"] == 2  # alpha's network and public documents
    assert world.ok("bob", q="", org="beta")["total"] == 2  # his own
    assert world.ok("alice", q="", org="alpha")["total"] == 3
    assert world.ok("gina", q="", org="gamma")["total"] == 0  # her own, empty: a result
    assert world.ok("gina", q="", org=str(world.orgs["alpha"]))["total"] == 2
    assert world.get("gina", q="", org="beta").status_code == 400


def test_national_agency_names_every_organisation(world: World) -> None:
    for slug in ("alpha", "beta", "gamma"):
        result = world.ok("admin", q="", org=slug)
        assert result["total"] == {"alpha": 2, "beta": 0, "gamma": 0}[slug]  # its scope still applies
    assert world.get("admin", org="nowhere").status_code == 400


def test_other_filters_name_nothing_of_another_organisation(world: World) -> None:
    """Sectors, countries and types are the shared taxonomy's, fields the shared schemas', languages and
    statuses fixed lists: the answer to an unknown value does not depend on the caller."""
    for params in ({"sector": "nowhere"}, {"type": "grimoire"}, {"field.nothing": "1"}, {"status": "x"}):
        alice, bob = world.get("alice", **params), world.get("bob", **params)
        assert alice.status_code == bob.status_code == 400 and alice.json() == bob.json()
    japan = world.ok("alice", q="", country="JP")  # beta's Japanese notes are hidden: empty, not a 400
    assert japan["total"] == 0


# --------------------------------------------------------------------------------------------- page
@pytest.fixture
def page(world: World) -> Iterator[TestClient]:
    sign_in(world.client, "alice@alpha.fr")
    yield world.client
    world.client.cookies.clear()


PAGE_TEXT = [q for q, _mode, _total in TEXT_CASES if "\x00" not in q] + ["vins\x00Allemagne", "\x00"]


@pytest.mark.parametrize("q", PAGE_TEXT)
def test_page_answers_odd_text(page: TestClient, q: str) -> None:
    response = page.get("/recherche", params={"q": q}, headers={"accept": "text/html"})
    assert response.status_code == 200, response.text[:300]
    assert "Erreur interne" not in response.text and "\x00" not in response.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "x" * 501}, "500 caractères au plus"),
        ({"org": "beta"}, "Organisation inconnue"),
        ({"org": "gamma"}, "Organisation inconnue"),
        ({"org": "nowhere"}, "Organisation inconnue"),
        ({"org": "\x00"}, "Organisation inconnue"),
        ({"sector": "nowhere"}, "unknown sector"),
        ({"page": "0"}, "page"),
        ({"page": "100000"}, "page"),
        ({"language": "f\x00"}, "Langue inconnue"),
        ({"date_to": "\x00"}, "Date de fin non valide"),
    ],
)
def test_page_bad_input_is_a_400(page: TestClient, params: dict[str, str], message: str) -> None:
    response = page.get("/recherche", params={"q": "vins", **params}, headers={"accept": "text/html"})
    assert response.status_code == 400, response.text[:300]
    assert "text/html" in response.headers["content-type"] and message in response.text


def test_page_names_visible_organisations(page: TestClient) -> None:
    response = page.get("/recherche", params={"q": "", "org": "alpha"}, headers={"accept": "text/html"})
    assert response.status_code == 200 and "CCI Alpha" in response.text


# --------------------------------------------------------------------------------------- property
QUERY_TEXT = st.lists(
    st.one_of(
        st.sampled_from(list("\"-+*?~^:()[]{}<>=!&|/\\'` \t\x00\x07")),
        st.sampled_from([" AND ", " OR ", " NOT ", " TO ", " IN ", "vins", "Allemagne", " le ", "é"]),
        st.characters(codec="utf-8"),
    ),
    max_size=60,
).map("".join) | st.text(max_size=520)


@settings(
    max_examples=150,
    deadline=dt.timedelta(seconds=10),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(q=QUERY_TEXT, mode=st.sampled_from(["hybrid", "bm25", "vector"]))
def test_random_query_text_never_fails(world: World, q: str, mode: str) -> None:
    response = world.get("alice", q=q, mode=mode)
    assert response.status_code == (200 if len(q) <= 500 else 400), response.text[:300]
    if response.status_code == 200:
        assert len(response.json()["hits"]) <= response.json()["total"]
