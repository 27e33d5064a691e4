"""Done-when of the watch: items of one story told by two feeds share one ``story_id``; a rejected item
never appears in a story as subscribers see it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.conftest import make_settings
from tests.veille.feedserver import Route, feed_server, rss
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.core.security.scope import AccessScope
from veille.curation import decide
from veille.models import Item, Source
from veille.stories import list_stories, read_story


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    rt = Runtime(make_settings(tmp_path_factory.mktemp("stories-feeds"), poll_host_delay_s=0.0))
    init_installation(rt)
    yield rt
    rt.close()


def test_two_feeds_one_story(runtime: Runtime) -> None:
    reader = AccessScope.member(1, 1)  # a member of the installation's first organisation
    with feed_server() as server:
        server.routes["/a.xml"] = Route(
            rss(
                "Le Courrier de l'export",
                [
                    (
                        "a1",
                        "L'Union européenne et le Vietnam signent un accord de libre-échange",
                        "Bruxelles et Hanoï ont signé l'accord qui supprime 99 % des droits de douane.",
                    ),
                    ("a2", "Salon du fromage à Tours", "Les producteurs de fromage se retrouvent à Tours."),
                ],
            )
        )
        server.routes["/b.xml"] = Route(
            rss(
                "Global Trade Wire",
                [
                    (
                        "b1",
                        "EU and Vietnam sign free trade agreement",
                        "Brussels and Hanoi signed the free trade agreement removing 99% of tariffs.",
                    )
                ],
            )
        )
        with runtime.session() as session:
            ids = []
            for path in ("/a.xml", "/b.xml"):
                source = Source(url=f"{server.url}{path}", kind="feed", title=path)
                session.add(source)
                session.flush()
                ids.append(source.id)
        assert [runtime.poller.poll(i).new for i in ids] == [2, 1]
    with runtime.session() as session:
        items = {i.guid: i for i in session.scalars(select(Item).where(Item.source_id.in_(ids)))}
        assert items["a1"].story_id is not None
        assert items["a1"].story_id == items["b1"].story_id  # French and English, two sources
        assert items["a2"].story_id not in (None, items["a1"].story_id)
        story_id = items["a1"].story_id
        story = read_story(session, story_id, reader, channel="api")
        assert {s["title"] for s in story.sources} == {"/a.xml", "/b.xml"}
        assert story.item_count == 2
        decide(
            session,
            AccessScope.everything(),
            items["b1"].id,
            "reject",
            backend=runtime.backend,
            referential=runtime.referential,
            channel="api",
        )
    with runtime.session() as session:
        shown = read_story(session, story_id, reader, channel="api")
        assert [i.id for i in shown.items] == [items["a1"].id]  # the rejected item is gone for readers
        assert "EU and Vietnam" not in shown.title
        listed = {s.id: s for s in list_stories(session, reader, limit=50, offset=0)}
        assert listed[story_id].item_count == 1
