"""End to end in Debian's chromium: a curator adds a keyword, merges two concepts, renames one and
deprecates another on « Référentiel »; each change shows at once in the search facets and the
classifications, in the history, and the rename is reverted from its diff page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.jobs.reclassify_seed import add_items
from tests.web.browser import BROWSER_MARKS, browser_page, fill_sign_in, live_server
from tests.web.conftest import PASSWORD, make_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app

pytestmark = [*BROWSER_MARKS, pytest.mark.slow]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, str]]:
    rt, _seed = make_installation(tmp_path_factory.mktemp("taxonomy-e2e"))
    (item,) = add_items(rt, [("Le quizzbeverage à Lyon", "Le quizzbeverage se vend bien à Lyon.")])
    yield rt, item
    rt.close()


def test_curator_edits_the_taxonomy_and_sees_it_everywhere(
    world: tuple[Runtime, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    rt, item = world
    external: list[str] = []
    with live_server(create_app(rt)) as url, browser_page(url, external, timeout_ms=30_000) as page:
        page.goto(f"{url}/taxonomie/concepts/naf:11")
        fill_sign_in(page, "carol@alpha.fr", PASSWORD)
        expect(page.locator("#tx-title")).to_have_text("Fabrication de boissons")

        page.get_by_text("Ajouter un mot-clé").click()
        page.locator("#r-pattern").fill("quizzbeverage")
        page.get_by_role("button", name="Ajouter le mot-clé").click()
        expect(page.locator(".alert-success")).to_contain_text("enregistrée")
        page.goto(f"{url}/items/{item}")
        expect(page.locator(".chips").first).to_contain_text("Fabrication de boissons")  # at once

        page.goto(f"{url}/taxonomie/concepts/naf:28")
        page.get_by_text("Fusionner dans un autre concept").click()
        page.locator("#f-target").fill("11")
        page.get_by_role("button", name="Fusionner").click()
        expect(page.locator("#tx-title")).to_have_text("Fabrication de boissons")
        page.goto(f"{url}/taxonomie/concepts/naf:28")
        expect(page.locator("#tx-deprecated")).to_contain_text("Fabrication de boissons")
        page.goto(f"{url}/taxonomie/concepts/naf:11")

        page.locator("#e-label").fill("Boissons et vins")
        page.locator("#e-reason").fill("usage du réseau")
        page.get_by_role("button", name="Enregistrer", exact=True).click()
        expect(page.locator("#tx-title")).to_have_text("Boissons et vins")
        page.goto(f"{url}/recherche?q=quizzbeverage")
        expect(page.locator('[data-facet="sector"]')).to_contain_text("Boissons et vins")

        page.goto(f"{url}/taxonomie/concepts/naf:01.15")
        page.locator("summary", has_text="Rendre obsolète").click()
        page.get_by_role("button", name="Rendre obsolète").click()
        expect(page.locator("#tx-deprecated")).to_be_visible()

        page.goto(f"{url}/taxonomie/historique")
        row = page.locator("#tx-changes tr", has_text="usage du réseau")
        row.get_by_role("link").first.click()
        expect(page.locator("#tx-diff")).to_contain_text("Boissons et vins")
        page.get_by_role("button", name="Annuler cette modification").click()
        expect(page.locator(".alert-success")).to_contain_text("Annulation")
        page.goto(f"{url}/taxonomie/concepts/naf:11")
        expect(page.locator("#tx-title")).to_have_text("Fabrication de boissons")
        page.screenshot(path=str(tmp_path / "concept.png"), full_page=True)
    assert not external, f"the page loaded external resources: {external}"
