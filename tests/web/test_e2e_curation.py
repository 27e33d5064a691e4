"""End to end in Debian's chromium: a curator opens « File de validation », accepts one item, rejects
another, and sees the table follow."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.veille.test_curation import PASSWORD
from tests.web.browser import BROWSER_MARKS, browser_page, fill_sign_in, live_server
from tests.web.test_curation_api import Site, make_site
from tfe.app.web.app import create_app

pytestmark = [*BROWSER_MARKS, pytest.mark.slow]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from make_site(tmp_path_factory.mktemp("curation-e2e"))


@pytest.fixture
def server_url(site: Site) -> Iterator[str]:
    with live_server(create_app(site.world.rt)) as url:
        yield url


def test_curator_accepts_and_rejects(site: Site, server_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    wine, wood = site.item("vin-de"), site.item("bois-jp")
    external: list[str] = []
    with browser_page(server_url, external) as page:
        page.goto(f"{server_url}/veille/validation")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        fill_sign_in(page, "curator@alpha.fr", PASSWORD)
        expect(page.get_by_role("heading", name="File de validation")).to_be_visible()
        expect(page.locator("#queue-count")).to_have_text("3 éléments")
        page.screenshot(path=str(tmp_path / "validation.png"), full_page=True)

        page.locator(f'tr[data-item="{wine}"]').get_by_role("button", name=re.compile(r"^Accepter «")).click()
        expect(page.locator(".alert-success")).to_contain_text("accepté")
        expect(page.locator(f'tr[data-item="{wine}"]')).to_have_count(0)
        expect(page.locator("#queue-count")).to_have_text("2 éléments")

        page.locator(f'tr[data-item="{wood}"]').get_by_role("button", name=re.compile(r"^Rejeter «")).click()
        expect(page.locator(".alert-success")).to_contain_text("rejeté")
        expect(page.locator(f'tr[data-item="{wood}"]')).to_have_count(0)
        expect(page.locator("#queue-count")).to_have_text("1 élément")

        page.get_by_label("État").select_option("rejected")
        page.get_by_role("button", name="Filtrer").click()
        expect(page.locator(f'tr[data-item="{wood}"] .status')).to_have_text("Rejetés")
        page.screenshot(path=str(tmp_path / "validation-rejetes.png"), full_page=True)
    assert not external, f"the page loaded external resources: {external}"
