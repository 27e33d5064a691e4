"""The curators' queue on SQLite and PostgreSQL: scope and roles, filters, decisions, index, audit."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from ingest.components.splitter import split_passages
from ingest.components.writer import RecordWriter
from ingest.item import ExtractedMetadata, IngestItem
from search.filters import visible_filter
from taxonomy.classifications import classifications_of
from taxonomy.classifier import Scored
from taxonomy.live import StaticReferential
from taxonomy.models import Classification
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tfe.core.models import AuditEvent
from tfe.core.security import identity
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings
from veille import curation, curation_queue
from veille.models import Item, ItemDecision, Source, Story
from veille.sink import ItemSink


@dataclass
class World:
    rt: Runtime
    scopes: dict[str, AccessScope]
    sources: dict[str, int]
    items: dict[str, str]  # key -> item id


PASSWORD = "motdepasse-solide-42"

# key, source, title, sector, score, countries
ITEMS = [
    (
        "vin-de",
        "network",
        "Vins français : les exportations vers l'Allemagne progressent",
        "naf:11.02",
        0.92,
        ["country:DE"],
    ),
    ("bois-jp", "network", "Le Japon ouvre son marché aux meubles en bois", "naf:31", 0.40, ["country:JP"]),
    ("alpha-cosm", "alpha", "Cosmétiques : salon régional de la CCI alpha", "naf:20", 0.75, ["country:FR"]),
    ("beta-banque", "beta", "Note interne beta sur le financement export", "naf:64", 0.60, ["country:IT"]),
]


def seed_world(rt: Runtime) -> World:
    """Two organisations, curators, a reader and an admin; three sources and the four ``ITEMS``."""
    with rt.session() as session:
        alpha = identity.get_or_create_org(session, "alpha", "CCI Alpha", "regional_chamber")
        beta = identity.get_or_create_org(session, "beta", "Banque Beta", "bank")
        scopes: dict[str, AccessScope] = {}
        for key, org, role in (
            ("curator", alpha, "curator"),
            ("reader", alpha, "reader"),
            ("curator_b", beta, "curator"),
            ("admin", alpha, "admin"),
        ):
            user = identity.create_user(
                session, email=f"{key}@{org.slug}.fr", org=org, role=role, password=PASSWORD
            )
            scopes[key] = identity.scope_for(user)
        sources = {
            "network": Source(url="https://veille.example.org/rss", title="Veille réseau"),
            "alpha": Source(
                url="https://alpha.example.org/rss",
                title="CCI Alpha",
                org_id=alpha.id,
                visibility="organisation",
            ),
            "beta": Source(
                url="https://beta.example.org/rss", title="Beta", org_id=beta.id, visibility="organisation"
            ),
        }
        session.add_all(sources.values())
        session.flush()
        source_ids = {k: s.id for k, s in sources.items()}
        org_of = {
            "network": (None, "network"),
            "alpha": (alpha.id, "organisation"),
            "beta": (beta.id, "organisation"),
        }
    writer = RecordWriter(ItemSink(rt.session_factory), rt.backend, StaticReferential(rt.referential))
    ids: dict[str, str] = {}
    for key, source, title, sector, score, countries in ITEMS:
        text = f"{title}. Article de veille sur {title.lower()} pour les conseillers export."
        org_id, visibility = org_of[source]
        item = IngestItem(
            key=f"feed#{key}",
            kind="item",
            text=text,
            title=title,
            guid=key,
            url=f"https://example.org/{key}",
            org_id=org_id,
            visibility=visibility,
            source_id=source_ids[source],
        )
        saved = writer.run(
            item=item,
            metadata=ExtractedMetadata(
                content_hash=hashlib.sha256(text.encode()).hexdigest(), mime="text/plain"
            ),
            text=text,
            title=title,
            language="fr",
            sectors=[Scored(sector, score, ["test"])],
            countries=[Scored(c, 0.8, ["test"]) for c in countries],
            doc_type=Scored("doctype:news", 0.9, ["test"]),
            passages=split_passages(text),
            embeddings=None,
        )
        ids[key] = saved["target_id"]
    return World(rt=rt, scopes=scopes, sources=source_ids, items=ids)


@pytest.fixture
def world(db_settings: Settings) -> Iterator[World]:
    rt = Runtime(db_settings)
    init_installation(rt)
    try:
        yield seed_world(rt)
    finally:
        rt.close()


def _queue(world: World, who: str, **filters: object) -> curation_queue.QueuePage:
    with world.rt.session() as session:
        return curation_queue.curation_queue(
            session,
            world.scopes[who],
            referential=world.rt.referential,
            **filters,  # type: ignore[arg-type]
        )


def _decide(world: World, who: str, key: str, decision: str, **kw: object) -> curation.ItemDecisionView:
    with world.rt.session() as session:
        return curation.decide(
            session,
            world.scopes[who],
            world.items[key],
            decision,
            backend=world.rt.backend,
            referential=world.rt.referential,
            channel="api",
            **kw,  # type: ignore[arg-type]
        )


def test_queue_scope_filters_and_audit(world: World) -> None:
    page = _queue(world, "curator")
    keys = {k for k, v in world.items.items() if v in {i.id for i in page.items}}
    assert keys == {"vin-de", "bois-jp", "alpha-cosm"} and page.total == 3  # beta's own source is not theirs
    wine = next(i for i in page.items if i.id == world.items["vin-de"])
    assert wine.confidence == pytest.approx(0.92) and wine.sectors[0].id == "naf:11.02"
    assert wine.source == {"id": world.sources["network"], "title": "Veille réseau"}
    assert wine.type is not None and wine.type.id == "doctype:news" and wine.countries[0].id == "country:DE"
    by_b = {i.id for i in _queue(world, "curator_b").items}
    assert world.items["beta-banque"] in by_b and world.items["alpha-cosm"] not in by_b

    def only(**filters: object) -> set[str]:
        found = {i.id for i in _queue(world, "curator", **filters).items}
        return {k for k, v in world.items.items() if v in found}

    assert only(sector="naf:C") == {"vin-de", "bois-jp", "alpha-cosm"}  # a section finds its classes
    assert only(sector="11") == {"vin-de"}
    assert only(country="Allemagne") == {"vin-de"}
    assert only(country="region:142") == {"bois-jp"}  # Asia: the zone selects its countries
    assert only(min_confidence=0.7) == {"vin-de", "alpha-cosm"}
    assert only(max_confidence=0.5) == {"bois-jp"}
    assert only(source_id=world.sources["alpha"]) == {"alpha-cosm"}
    paged = _queue(world, "curator", limit=1, offset=1)
    assert paged.total == 3 and len(paged.items) == 1
    with pytest.raises(ValidationError):
        _queue(world, "curator", sector="nowhere-sector")
    with pytest.raises(ValidationError):
        _queue(world, "curator", min_confidence=1.5)
    with pytest.raises(ValidationError):
        _queue(world, "curator", status="pending")
    with pytest.raises(PermissionDeniedError):
        _queue(world, "reader")
    with world.rt.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "curation.queue")).all()
        assert any(e.detail.get("sector") == "11" and e.detail["total"] == 1 for e in events)


def test_accept_and_reject_reach_the_index(world: World) -> None:
    rt = world.rt
    reader = world.scopes["reader"]
    assert rt.search_service.search("meubles bois Japon", reader, mode="bm25")["total"] == 1
    rejected = _decide(world, "curator", "bois-jp", "reject")
    assert (
        rejected.curator_status == "rejected"
        and rejected.decided_by_user_id == world.scopes["curator"].user_id
    )
    accepted = _decide(world, "curator", "vin-de", "accept")
    assert accepted.curator_status == "accepted"
    # a reader's search, facets and spelling no longer see the rejected item; curators and admins do
    assert rt.search_service.search("meubles bois Japon", reader, mode="bm25")["total"] == 0
    assert rt.search_service.search("meubles bois Japon", world.scopes["curator"], mode="bm25")["total"] == 1
    assert rt.search_service.search("meubles bois Japon", world.scopes["admin"], mode="bm25")["total"] == 1
    assert rt.search_service.search("vins Allemagne", reader, mode="bm25")["total"] == 1
    # the same filter in both engines of the backend (Tantivy query and vector mask)
    flt = visible_filter(reader)
    for engine in rt.backend.filter_engines:  # type: ignore[attr-defined]
        parents = {pid.split(":")[0] for pid in rt.backend.filter_ids(flt, engine)}  # type: ignore[attr-defined]
        assert world.items["bois-jp"] not in parents and world.items["vin-de"] in parents, engine
    assert {i.id for i in _queue(world, "curator").items} == {world.items["alpha-cosm"]}
    assert {i.id for i in _queue(world, "curator", status="rejected").items} == {world.items["bois-jp"]}
    with rt.session() as session:
        rows = session.scalars(select(ItemDecision).order_by(ItemDecision.id)).all()
        assert [(r.item_id, r.decision) for r in rows] == [
            (world.items["bois-jp"], "reject"),
            (world.items["vin-de"], "accept"),
        ]
        assert rows[0].changes["proposed"][0]["id"] in {"naf:31", "country:JP", "doctype:news"}
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "item.decision")).all()
        assert [(e.target_id, e.detail["decision"], e.actor_user_id) for e in events] == [
            (world.items["bois-jp"], "reject", world.scopes["curator"].user_id),
            (world.items["vin-de"], "accept", world.scopes["curator"].user_id),
        ]
        assert session.get(Item, world.items["bois-jp"]).curator_status == "rejected"  # type: ignore[union-attr]


def test_correct_writes_curator_rows(world: World) -> None:
    rt = world.rt
    with rt.session() as session:
        session.add(Story(id="story-wine", title="Vins"))
    view = _decide(
        world,
        "curator",
        "bois-jp",
        "correct",
        sectors=["16"],
        countries=["Allemagne", "country:JP"],
        doc_type="doctype:news",
        story_id="story-wine",
    )
    assert view.curator_status == "accepted" and view.item.story_id == "story-wine"
    assert view.changes["sectors"] == {"added": ["naf:16"], "removed": ["naf:31"], "kept": []}
    assert view.changes["countries"]["added"] == ["country:DE"]
    assert [s.id for s in view.item.sectors] == ["naf:16"]
    with rt.session() as session:
        shown = {c.concept_id: c.method for c in classifications_of(session, "item", world.items["bois-jp"])}
        assert shown == {
            "naf:16": "curator",
            "country:DE": "curator",
            "country:JP": "curator",
            "doctype:news": "curator",
        }
        rejection = session.scalar(
            select(Classification).where(
                Classification.target_id == world.items["bois-jp"], Classification.concept_id == "naf:31"
            )
        )
        assert rejection is not None and rejection.method == "curator" and rejection.explanation["rejected"]
        assert session.get(Story, "story-wine").item_count == 1  # type: ignore[union-attr]
    found = rt.search_service.search("meubles", world.scopes["reader"], sector=["naf:16"], mode="bm25")
    assert found["total"] == 1  # the index follows the correction
    assert (
        rt.search_service.search("meubles", world.scopes["reader"], sector=["naf:31"], mode="bm25")["total"]
        == 0
    )


def test_refusals_change_nothing(world: World) -> None:
    with pytest.raises(PermissionDeniedError):
        _decide(world, "reader", "vin-de", "accept")
    with pytest.raises(NotFoundError):
        _decide(world, "curator", "beta-banque", "accept")  # another organisation's own source
    with pytest.raises(NotFoundError):
        _decide(world, "curator_b", "alpha-cosm", "reject")
    with pytest.raises(ValidationError):
        _decide(world, "curator", "vin-de", "maybe")
    with pytest.raises(ValidationError):
        _decide(world, "curator", "vin-de", "accept", sectors=["11"])
    with pytest.raises(ValidationError):
        _decide(world, "curator", "vin-de", "correct")
    with pytest.raises(ValidationError):
        _decide(world, "curator", "vin-de", "correct", sectors=["pas un secteur"])
    with pytest.raises(ValidationError):
        _decide(world, "curator", "vin-de", "correct", story_id="no-such-story")
    with world.rt.session() as session:
        assert session.scalar(select(ItemDecision.id)) is None
        assert {i.curator_status for i in session.scalars(select(Item))} == {"new"}


def test_decide_many_reports_each_item(world: World) -> None:
    ids = [world.items["vin-de"], world.items["alpha-cosm"], world.items["beta-banque"], "unknown-id"]
    with world.rt.session() as session:
        result = curation.decide_many(
            session,
            world.scopes["curator"],
            ids,
            "reject",
            backend=world.rt.backend,
            referential=world.rt.referential,
            channel="web",
        )
    assert result.done == [world.items["vin-de"], world.items["alpha-cosm"]]
    assert [f["id"] for f in result.failed] == [world.items["beta-banque"], "unknown-id"]
    assert all("unknown item" in f["reason"] for f in result.failed)
    with world.rt.session() as session:
        assert session.get(Item, world.items["beta-banque"]).curator_status == "new"  # type: ignore[union-attr]
        assert session.get(Item, world.items["alpha-cosm"]).curator_status == "rejected"  # type: ignore[union-attr]
        with pytest.raises(ValidationError):
            curation.decide_many(
                session,
                world.scopes["curator"],
                ids,
                "correct",
                backend=world.rt.backend,
                referential=world.rt.referential,
                channel="web",
            )


def test_auto_accept_by_source_threshold(world: World) -> None:
    with world.rt.session() as session:
        session.get(Source, world.sources["network"]).auto_accept_threshold = 0.9  # type: ignore[union-attr]
    with world.rt.session() as session:
        assert curation.auto_accept(
            session, world.items["vin-de"], backend=world.rt.backend, referential=world.rt.referential
        )
        assert not curation.auto_accept(session, world.items["bois-jp"])  # 0.40 < 0.9
        assert not curation.auto_accept(session, world.items["alpha-cosm"])  # no threshold on its source
        assert not curation.auto_accept(session, world.items["vin-de"])  # already decided
    with world.rt.session() as session:
        item = session.get(Item, world.items["vin-de"])
        assert item is not None and item.curator_status == "auto_accepted" and item.decided_by_user_id is None
        row = session.scalar(select(ItemDecision).where(ItemDecision.item_id == item.id))
        assert row is not None and row.user_id is None and row.changes["threshold"] == 0.9
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "item.decision"))
        assert event is not None and event.actor_user_id is None and event.detail["channel"] == "system"
    assert {i.id for i in _queue(world, "curator", status="auto_accepted").items} == {world.items["vin-de"]}
