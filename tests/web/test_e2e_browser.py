"""End to end in Debian's chromium: sign in, search "vins Allemagne", read facets, filter, screenshot."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.browser import BROWSER_MARKS, browser_page, fill_sign_in, live_server
from tests.web.conftest import PASSWORD, Installation
from tfe.app.web.app import create_app

pytestmark = BROWSER_MARKS


@pytest.fixture
def server_url(installation: Installation) -> Iterator[str]:
    with live_server(create_app(installation.rt)) as url:
        yield url


def test_sign_in_search_and_filter(server_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    external: list[str] = []
    with browser_page(server_url, external, timeout_ms=10_000) as page:
        page.goto(f"{server_url}/recherche?q=vins")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        fill_sign_in(page, "alice@alpha.fr", PASSWORD)
        expect(page.get_by_label("Rechercher dans la base documentaire et la veille")).to_be_visible()

        page.get_by_label("Rechercher dans la base documentaire et la veille").fill("vins Allemagne")
        page.get_by_role("button", name="Rechercher").click()
        expect(page.locator(".result-count")).to_contain_text("résultat")
        titles = page.locator(".hit h3 a").all_inner_texts()
        assert "Le marché des vins français en Allemagne" in titles
        assert not any("confidentielle" in t for t in titles)
        type_facet = page.locator('.facet[data-facet="type"]')
        analysis = type_facet.locator(".facet-link", has_text="Analyse sectorielle")
        expect(analysis.locator(".count")).to_have_text(re.compile(r"^\d+$"))
        assert int(analysis.locator(".count").inner_text()) >= 1
        page.screenshot(path=str(tmp_path / "recherche.png"), full_page=True)

        analysis.click()
        expect(page.locator(".active-filters")).to_contain_text("Analyse sectorielle")
        expect(page.locator(".result-count")).to_contain_text("1 résultat")
        assert page.locator(".hit h3 a").all_inner_texts() == ["Le marché des vins français en Allemagne"]
        assert "type=doctype%3Asector_analysis" in page.url and "q=vins+Allemagne" in page.url
        page.screenshot(path=str(tmp_path / "recherche-filtree.png"), full_page=True)

        page.locator(".hit h3 a").first.click()
        expect(page.locator("h1")).to_have_text("Le marché des vins français en Allemagne")
        expect(page.get_by_role("link", name=re.compile("Télécharger"))).to_be_visible()
        page.screenshot(path=str(tmp_path / "document.png"), full_page=True)
    assert not external, f"the pages loaded external resources: {external}"
