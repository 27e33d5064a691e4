"""``/api/stories`` and the story side of items and search, on a real installation (SQLite + embedded index).

The world: the web tests' installation (organisations alpha and beta, five documents) plus a curator in
alpha, three sources (two network feeds, one of alpha's own) and watch items saved through the product's
ingestion path (indexed, classified), grouped into stories as rows; one item is rejected by a curator
through ``veille.curation`` (so the index knows too).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ingest.components.splitter import split_passages
from ingest.components.writer import RecordWriter
from ingest.item import ExtractedMetadata, IngestItem
from taxonomy.classifier import Scored
from taxonomy.live import StaticReferential
from taxonomy.models import Classification
from tests.web.conftest import PASSWORD, make_installation
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.errors import ValidationError
from tfe.core.models import AuditEvent, Organisation
from tfe.core.security import identity
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings
from veille import curation, items, stories
from veille.models import Item, Source, Story
from veille.sink import ItemSink

T0 = dt.datetime(2025, 3, 10, 7, 0, tzinfo=dt.UTC)
SECRET = "Exclusif alpha : le Havre prépare une extension de terminal à conteneurs"

# key, source, title, sector, country, hours after T0 (collected; published 5 minutes before), story
ITEMS: list[tuple[str, str, str, str, str, int, str | None]] = [
    (
        "havre-1",
        "quotidien",
        "Le port du Havre bat son record de conteneurs",
        "naf:52",
        "country:FR",
        0,
        "havre",
    ),
    (
        "havre-2",
        "shipping",
        "Port du Havre : record de conteneurs au trimestre",
        "naf:52",
        "country:FR",
        1,
        "havre",
    ),
    ("havre-alpha", "alpha", SECRET, "naf:52", "country:FR", 2, "havre"),
    ("havre-rejected", "quotidien", "Havre : conteneurs record, doublon", "naf:52", "country:FR", 3, "havre"),
    (
        "secret",
        "alpha",
        "Note alpha : vins de Bordeaux en Chine, prix confidentiels",
        "naf:11",
        "country:CN",
        4,
        "secret",
    ),
    ("vins-1", "quotidien", "Les vins de Bordeaux reculent en Chine", "naf:11", "country:CN", 5, "vins"),
    (
        "vins-2",
        "shipping",
        "Bordeaux : les exportations de vins vers la Chine chutent",
        "naf:11",
        "country:CN",
        6,
        "vins",
    ),
    (
        "greve",
        "quotidien",
        "Grève à la SNCF : trafic des trains perturbé",
        "naf:49",
        "country:FR",
        7,
        "greve",
    ),
    ("solo", "shipping", "Le fret aérien progresse au Japon", "naf:51", "country:JP", 8, None),
]
STORY_IDS = {"havre": "story-havre", "secret": "story-secret", "vins": "story-vins", "greve": "story-greve"}


@dataclass
class StorySite:
    rt: Runtime
    client: TestClient
    tokens: dict[str, str]  # user key -> bearer token
    items: dict[str, str]  # item key -> id
    docs: dict[str, str]  # document key -> id

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _seed_watch(rt: Runtime, orgs: dict[str, int]) -> dict[str, str]:
    with rt.session() as session:
        sources = {
            "quotidien": Source(url="https://quotidien.example.org/rss", title="Le Quotidien"),
            "shipping": Source(url="https://shipping.example.org/rss", title="Shipping Weekly"),
            "alpha": Source(
                url="https://alpha.example.org/rss",
                title="Veille Alpha",
                org_id=orgs["alpha"],
                visibility="organisation",
            ),
        }
        session.add_all(sources.values())
        session.add_all(Story(id=story_id, title="") for story_id in STORY_IDS.values())
        session.flush()
        source_ids = {k: s.id for k, s in sources.items()}
    writer = RecordWriter(ItemSink(rt.session_factory), rt.backend, StaticReferential(rt.referential))
    ids: dict[str, str] = {}
    for key, source, title, sector, country, hours, _story in ITEMS:
        text = f"{title}. Article de veille pour les conseillers export."
        own = source == "alpha"
        item = IngestItem(
            key=f"feed#{key}",
            kind="item",
            text=text,
            title=title,
            guid=key,
            url=f"https://{source}.example.org/{key}",
            published_at=T0 + dt.timedelta(hours=hours, minutes=-5),
            org_id=orgs["alpha"] if own else None,
            visibility="organisation" if own else "network",
            source_id=source_ids[source],
            meta={"summary": f"Résumé : {title}."},
        )
        saved = writer.run(
            item=item,
            metadata=ExtractedMetadata(
                content_hash=hashlib.sha256(text.encode()).hexdigest(), mime="text/plain"
            ),
            text=text,
            title=title,
            language="fr",
            sectors=[Scored(sector, 0.9, ["test"])],
            countries=[Scored(country, 0.9, ["test"])],
            doc_type=Scored("doctype:news", 0.9, ["test"]),
            passages=split_passages(text),
            embeddings=None,
        )
        ids[key] = saved["target_id"]
    with rt.session() as session:
        for key, _source, _title, _sector, _country, hours, story in ITEMS:
            values: dict[str, Any] = {"fetched_at": T0 + dt.timedelta(hours=hours)}
            if story is not None:
                values["story_id"] = STORY_IDS[story]
            session.execute(update(Item).where(Item.id == ids[key]).values(**values))
    return ids


def make_story_site(tmp: Path) -> Iterator[StorySite]:
    """The web tests' installation, a curator ``carla`` in alpha, and the watch items and stories."""
    rt, seed = make_installation(tmp)
    tokens = dict(seed.tokens)
    with rt.session() as session:
        alpha = session.get(Organisation, seed.orgs["alpha"])
        assert alpha is not None
        carla = identity.create_user(
            session, email="carla@alpha.fr", org=alpha, role="curator", name="Carla", password=PASSWORD
        )
        tokens["carla"] = identity.create_token(session, carla, name="tests")[1]
        curator = identity.scope_for(carla)
    items = _seed_watch(rt, seed.orgs)
    with rt.session() as session:
        curation.decide(
            session,
            curator,
            items["havre-rejected"],
            "reject",
            backend=rt.backend,
            referential=rt.referential,
            channel="api",
        )
    with TestClient(create_app(rt)) as client:
        yield StorySite(rt=rt, client=client, tokens=tokens, items=items, docs=seed.ids)
    rt.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StorySite]:
    yield from make_story_site(tmp_path_factory.mktemp("stories-api"))


def _ids(body: dict[str, Any]) -> list[str]:
    return [s["id"] for s in body["stories"]]


def test_a_reader_sees_only_the_stories_and_items_of_their_scope(site: StorySite) -> None:
    client = site.client
    answer = client.get("/api/stories", headers=site.auth("bob"))  # beta: none of alpha's own items
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 3 and _ids(body) == ["story-greve", "story-vins", "story-havre"]
    havre = body["stories"][2]
    assert havre["item_count"] == 2 and havre["source_count"] == 2
    assert [i["id"] for i in havre["items"]] == [site.items["havre-2"], site.items["havre-1"]]
    assert {s["title"] for s in havre["sources"]} == {"Le Quotidien", "Shipping Weekly"}
    assert havre["first_seen"].startswith("2025-03-10T07:00") and havre["last_seen"].startswith(
        "2025-03-10T08:00"
    )
    item = havre["items"][0]
    assert item["url"] == "https://shipping.example.org/havre-2" and item["curator_status"] == "new"
    assert item["source"] == {"id": havre["sources"][1]["id"], "title": "Shipping Weekly"}
    assert (
        SECRET not in answer.text and "Veille Alpha" not in answer.text and "confidentiels" not in answer.text
    )

    alpha = client.get("/api/stories", headers=site.auth("reader")).json()
    assert _ids(alpha) == ["story-greve", "story-vins", "story-secret", "story-havre"]
    assert alpha["stories"][3]["item_count"] == 3 and alpha["stories"][3]["source_count"] == 3
    assert SECRET in {i["title"] for i in alpha["stories"][3]["items"]}


def test_one_story_and_the_404_of_a_story_without_visible_items(site: StorySite) -> None:
    client = site.client
    one = client.get("/api/stories/story-havre", headers=site.auth("bob"))
    assert one.status_code == 200 and one.json()["item_count"] == 2
    assert SECRET not in one.text and one.json()["title"] != SECRET
    hidden = client.get("/api/stories/story-secret", headers=site.auth("bob"))
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    assert "confidentiels" not in hidden.text
    assert client.get("/api/stories/story-secret", headers=site.auth("reader")).status_code == 200
    unknown = client.get("/api/stories/nope", headers=site.auth("reader"))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert client.get("/api/stories/bad id!", headers=site.auth("reader")).status_code == 400
    assert client.get("/api/stories/story-havre").status_code == 401
    with site.rt.session() as session:
        reads = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "story.read", AuditEvent.target_id == "story-havre")
        ).all()
        assert reads and all(e.detail["channel"] == "api" for e in reads)


def test_rejected_items_are_left_out_except_for_curators_who_ask(site: StorySite) -> None:
    client, rejected = site.client, site.items["havre-rejected"]
    for who in ("reader", "carla"):
        body = client.get("/api/stories/story-havre", headers=site.auth(who)).json()
        assert rejected not in {i["id"] for i in body["items"]} and body["item_count"] == 3
    denied = client.get("/api/stories?include_rejected=true", headers=site.auth("reader"))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    assert (
        client.get("/api/stories/story-havre?include_rejected=true", headers=site.auth("bob")).status_code
        == 403
    )
    full = client.get("/api/stories/story-havre?include_rejected=true", headers=site.auth("carla")).json()
    assert full["item_count"] == 4 and full["items"][0]["id"] == rejected  # the newest collected
    assert full["items"][0]["curator_status"] == "rejected"
    listed = client.get("/api/stories?include_rejected=true", headers=site.auth("carla")).json()
    assert _ids(listed)[:3] == ["story-greve", "story-vins", "story-secret"]
    assert listed["stories"][3]["last_seen"].startswith("2025-03-10T10:00")  # the rejected item's time


def test_pagination_since_and_filters(site: StorySite) -> None:
    client, bob = site.client, site.auth("bob")
    first = client.get("/api/stories?limit=2", headers=bob).json()
    second = client.get("/api/stories?limit=2&offset=2", headers=bob).json()
    beyond = client.get("/api/stories?limit=2&offset=10", headers=bob).json()
    assert (first["total"], _ids(first)) == (3, ["story-greve", "story-vins"])
    assert (second["total"], _ids(second)) == (3, ["story-havre"])
    assert (beyond["total"], beyond["stories"]) == (3, [])
    since = client.get("/api/stories", params={"since": "2025-03-10T12:30:00"}, headers=bob).json()
    assert (since["total"], _ids(since)) == (2, ["story-greve", "story-vins"])
    paris = client.get("/api/stories", params={"since": "2025-03-10T13:30:00+01:00"}, headers=bob).json()
    assert _ids(paris) == ["story-greve", "story-vins"]  # 12:30 UTC
    assert _ids(client.get("/api/stories?sector=11", headers=bob).json()) == ["story-vins"]
    assert _ids(client.get("/api/stories?sector=naf:C", headers=bob).json()) == ["story-vins"]  # a section
    alpha = client.get("/api/stories", params={"country": "Chine"}, headers=site.auth("reader")).json()
    assert (alpha["total"], _ids(alpha)) == (2, ["story-vins", "story-secret"])
    asia = client.get("/api/stories", params={"country": "Asie"}, headers=bob).json()
    assert _ids(asia) == ["story-vins"]  # the zone's countries; the Japanese item has no story
    both = client.get("/api/stories", params={"sector": "52", "country": "France"}, headers=bob).json()
    assert _ids(both) == ["story-havre"]
    for params, name in (
        ({"sector": "zzz-inconnu"}, "sector"),
        ({"country": "Atlantide"}, "country"),
        ({"since": "hier"}, "since"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 2**63}, "offset"),
    ):
        bad = client.get("/api/stories", params=params, headers=bob)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid", params
        assert name in bad.json()["error"]["message"], (params, bad.text)
    assert client.get("/api/stories").status_code == 401
    with site.rt.session() as session:
        listed = session.scalars(select(AuditEvent).where(AuditEvent.action == "story.list")).all()
        assert any(e.detail.get("sector") == "11" and e.detail["total"] == 1 for e in listed)


def test_items_carry_their_story_curator_status_and_content_origin(site: StorySite) -> None:
    client = site.client
    item = client.get(f"/api/items/{site.items['havre-1']}", headers=site.auth("bob")).json()
    assert item["story_id"] == "story-havre" and item["curator_status"] == "new"
    assert item["content_origin"] == "summary"
    solo = client.get(f"/api/items/{site.items['solo']}", headers=site.auth("bob")).json()
    assert solo["story_id"] is None
    rejected = client.get(f"/api/items/{site.items['havre-rejected']}", headers=site.auth("carla")).json()
    assert rejected["curator_status"] == "rejected"


def _search(site: StorySite, who: str, **params: Any) -> dict[str, Any]:
    answer = site.client.get("/api/search", params={"mode": "bm25", **params}, headers=site.auth(who))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_search_groups_the_watch_hits_of_a_story(site: StorySite) -> None:
    plain = _search(site, "bob", q="Havre conteneurs")
    ids = [h["id"] for h in plain["hits"]]
    assert {site.items["havre-1"], site.items["havre-2"]} <= set(ids)
    assert SECRET not in str(plain) and site.items["havre-rejected"] not in ids
    assert {
        h["story_id"] for h in plain["hits"] if h["id"] in (site.items["havre-1"], site.items["havre-2"])
    } == {"story-havre"}
    assert all(h["story_size"] is None for h in plain["hits"])
    grouped = _search(site, "bob", q="Havre conteneurs", group="stories")
    havre = [h for h in grouped["hits"] if h["story_id"] == "story-havre"]
    assert len(havre) == 1 and havre[0]["story_size"] == 2
    best = next(i for i in ids if i in (site.items["havre-1"], site.items["havre-2"]))
    assert havre[0]["id"] == best  # the best-ranked item represents its story
    assert grouped["total"] == plain["total"] - 1 and grouped["facets"] == plain["facets"]
    alpha = _search(site, "reader", q="Havre conteneurs", group="stories")
    assert [h["story_size"] for h in alpha["hits"] if h["story_id"] == "story-havre"] == [3]
    curator = _search(site, "carla", q="Havre conteneurs", group="stories")
    assert [h["story_size"] for h in curator["hits"] if h["story_id"] == "story-havre"] == [4]


def test_grouping_leaves_documents_and_lone_items_alone_and_pages(site: StorySite) -> None:
    plain = _search(site, "bob", q="vins", limit=100)
    grouped = _search(site, "bob", q="vins", group="stories", limit=100)
    documents = [h["id"] for h in plain["hits"] if h["kind"] == "document"]
    assert len(documents) >= 3 and [h["id"] for h in grouped["hits"] if h["kind"] == "document"] == documents
    assert all(
        h["story_id"] is None and h["story_size"] is None for h in grouped["hits"] if h["kind"] == "document"
    )
    vins = [h for h in grouped["hits"] if h["story_id"] == "story-vins"]
    assert len(vins) == 1 and vins[0]["story_size"] == 2
    assert len(grouped["hits"]) == len(plain["hits"]) - 1 == grouped["total"]
    pages = [
        _search(site, "bob", q="vins", group="stories", limit=2, offset=o)["hits"] for o in range(0, 10, 2)
    ]
    assert [h["id"] for page in pages for h in page] == [h["id"] for h in grouped["hits"]]
    lone = _search(site, "bob", q="fret aérien Japon", group="stories")["hits"]
    assert [(h["story_id"], h["story_size"]) for h in lone if h["id"] == site.items["solo"]] == [(None, None)]
    bad = site.client.get("/api/search", params={"q": "vins", "group": "topics"}, headers=site.auth("bob"))
    assert bad.status_code == 400 and "group" in bad.json()["error"]["message"]
    with site.rt.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "search").order_by(AuditEvent.id.desc()).limit(5)
        ).all()
        assert any(e.detail.get("group") == "stories" and e.detail["q"] == "vins" for e in event)


def test_story_reads_on_sqlite_and_postgresql(db_settings: Settings) -> None:
    """The listing's SQL (count, filters by concept, since) and the items' look-ups on both databases."""
    rt = Runtime(db_settings)
    init_installation(rt)
    try:
        with rt.session() as session:
            alpha = identity.get_or_create_org(session, "alpha", "CCI Alpha", "regional_chamber")
            beta = identity.get_or_create_org(session, "beta", "Banque Beta", "bank")
            source = Source(url="https://quotidien.example.org/rss", title="Le Quotidien")
            session.add(source)
            session.add_all([Story(id="s-vins", title=""), Story(id="s-port", title="")])
            session.flush()
            rows = [
                ("v1", "s-vins", "naf:11", None, "network", 1),
                ("v2", "s-vins", "naf:11", alpha.id, "organisation", 2),
                ("p1", "s-port", "naf:52", None, "network", 3),
                ("p2", "s-port", "naf:52", None, "network", 4),
            ]
            for key, story, sector, org_id, visibility, hours in rows:
                session.add(
                    Item(
                        id=key,
                        source_id=source.id,
                        guid=key,
                        title=f"Titre {key}",
                        summary=f"Résumé {key}",
                        fetched_at=T0 + dt.timedelta(hours=hours),
                        content_hash=key,
                        org_id=org_id,
                        visibility=visibility,
                        story_id=story,
                        curator_status="rejected" if key == "p2" else "new",
                    )
                )
                session.add(
                    Classification(
                        target_kind="item", target_id=key, concept_id=sector, score=0.9, method="rule"
                    )
                )
            session.flush()
            scope_a = AccessScope.member(alpha.id, user_id=None)
            scope_b = AccessScope.member(beta.id, user_id=None)
            ref = rt.referential
            page = stories.story_page(session, scope_b, referential=ref)
            assert (page.total, [s.id for s in page.stories]) == (2, ["s-port", "s-vins"])
            assert [s.item_count for s in page.stories] == [1, 1]
            since = stories.story_page(session, scope_b, referential=ref, since=T0 + dt.timedelta(hours=2))
            assert [s.id for s in since.stories] == ["s-port"]
            wine = stories.story_page(session, scope_a, referential=ref, sector="naf:C", limit=1)
            assert (wine.total, [s.id for s in wine.stories], wine.stories[0].item_count) == (
                1,
                ["s-vins"],
                2,
            )
            assert stories.story_page(session, scope_b, referential=ref, sector="52", offset=1).stories == []
            assert (
                stories.story_page(session, scope_b, referential=ref, include_rejected=True)
                .stories[0]
                .item_count
                == 2
            )
            assert items.story_ids_of(session, scope_b, ["v1", "v2", "p1", "nope"]) == {
                "v1": "s-vins",
                "p1": "s-port",
            }
            assert items.story_sizes(session, scope_a, {"s-vins", "s-port"}) == {"s-vins": 2, "s-port": 1}
            assert items.summaries_of(session, scope_b, ["v1", "v2"]) == {"v1": "Résumé v1"}
            no_summary = session.get(Item, "p1")
            assert no_summary is not None
            no_summary.summary, no_summary.text = "", "Le quai du port. " * 100
            session.flush()  # without a summary, the start of the text (sealed at rest: opened, then cut)
            assert items.summaries_of(session, scope_b, ["p1"]) == {"p1": ("Le quai du port. " * 100)[:1000]}
            with pytest.raises(ValidationError):
                stories.story_page(session, scope_b, referential=ref, country="Atlantide")
            with pytest.raises(ValidationError):
                stories.story_page(session, scope_b, referential=ref, limit=0)
    finally:
        rt.close()
