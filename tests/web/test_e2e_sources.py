"""End to end in Debian's chromium: a curator adds a feed (served by a local server) with a preview,
clicks « Relever maintenant », and sees the health OK and the feed's items on the source's page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.veille.feedserver import FeedServer, Route, feed_server, rss
from tests.web.browser import BROWSER_MARKS, browser_page, fill_sign_in, live_server
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.security import identity

pytestmark = [*BROWSER_MARKS, pytest.mark.slow]

PASSWORD = "motdepasse-solide-42"


@dataclass
class World:
    rt: Runtime
    feeds: FeedServer


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    rt = Runtime(make_settings(tmp_path_factory.mktemp("sources-e2e"), secret_key="test-secret-key"))
    init_installation(rt)
    with rt.session() as session:
        org = identity.get_or_create_org(session, "alpha", "CCI Alpha", "regional_chamber")
        identity.create_user(
            session, email="curator@alpha.fr", org=org, role="curator", name="Curatrice", password=PASSWORD
        )
    with feed_server() as feeds:
        feeds.routes["/export.xml"] = Route(
            body=rss(
                "Actualités export",
                [
                    ("e1", "Salon ProWein à Düsseldorf", "Les vins"),
                    ("e2", "Tarifs douaniers au Japon", "Bois"),
                ],
            )
        )
        yield World(rt=rt, feeds=feeds)
    rt.close()


@pytest.fixture
def server_url(world: World) -> Iterator[str]:
    with live_server(create_app(world.rt)) as url:
        yield url


def test_curator_adds_previews_and_polls_a_feed(world: World, server_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    external: list[str] = []
    feed_url = world.feeds.url + "/export.xml"
    with browser_page(server_url, external, timeout_ms=60_000) as page:
        page.goto(f"{server_url}/veille/sources")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        fill_sign_in(page, "curator@alpha.fr", PASSWORD)
        expect(page.get_by_role("heading", name="Sources de veille")).to_be_visible()
        expect(page.locator("#sources-empty")).to_be_visible()

        page.get_by_role("link", name="Ajouter une source").click()
        expect(page.get_by_role("heading", name="Ajouter une source")).to_be_visible()
        page.get_by_label("Adresse (URL)").fill(feed_url)
        page.get_by_label("Étiquettes").fill("export")
        page.get_by_role("button", name="Prévisualiser").click()
        expect(page.locator("#preview")).to_contain_text("Actualités export")
        expect(page.locator("#preview")).to_contain_text("Salon ProWein à Düsseldorf")
        expect(page.locator("#preview-count")).to_have_text(re.compile(r"^2 éléments"))
        expect(page.get_by_label("Adresse (URL)")).to_have_value(feed_url)
        page.screenshot(path=str(tmp_path / "source-apercu.png"), full_page=True)

        page.get_by_role("button", name="Enregistrer").click()
        expect(page.locator(".alert-success")).to_contain_text("ajoutée au catalogue")
        expect(page.locator("#source-health")).to_have_text("Jamais relevée")

        page.get_by_role("button", name="Relever maintenant").click()
        expect(page.locator(".alert-success")).to_contain_text("2 nouveaux éléments")
        expect(page.locator("#source-health")).to_have_text("OK")
        items = page.locator("#source-items")
        expect(items).to_contain_text("Salon ProWein à Düsseldorf")
        expect(items).to_contain_text("Tarifs douaniers au Japon")
        expect(page.locator("#polls .poll-status").first).to_have_text("Réussi")
        page.screenshot(path=str(tmp_path / "source-relevee.png"), full_page=True)

        items.get_by_role("link", name="Salon ProWein à Düsseldorf").click()
        expect(page).to_have_url(re.compile(r"/items/[0-9a-f]+$"))

        page.goto(f"{server_url}/veille/sources")
        row = page.locator("#sources tbody tr")
        expect(row).to_have_count(1)
        expect(row.locator(".health")).to_have_text("OK")
        expect(row.locator(".per-day")).not_to_have_text("0")
    assert world.feeds.count("/export.xml") >= 2  # the preview and the poll
    assert not external, f"the page loaded external resources: {external}"
