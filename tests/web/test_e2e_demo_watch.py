"""End to end in Debian's chromium: the demo's watch as a new user finds it once ``tfe demo`` has polled its
sources over HTTP: healthy sources, a queue to validate, stories told by several sources."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.web.browser import BROWSER_MARKS, browser_page, fill_sign_in, live_server
from tfe.app.demo.loader import demo_site, ensure_demo_accounts
from tfe.app.demo.site import stop_site
from tfe.app.demo.watch import DEMO_SOURCES, load_watch
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app

pytestmark = [*BROWSER_MARKS, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    rt = Runtime(make_settings(tmp_path_factory.mktemp("demo-watch-e2e")))
    report = init_installation(rt, channel="demo")
    ensure_demo_accounts(rt, report.admin_password)
    result = load_watch(rt, demo_site(rt))
    assert result["failed"] == 0 and result["new_items"] > 0
    yield rt
    stop_site(rt.settings.resolved_data_dir)
    rt.close()


@pytest.fixture
def server_url(demo: Runtime) -> Iterator[str]:
    with live_server(create_app(demo)) as url:
        yield url


def test_new_user_sees_sources_validates_an_item_and_reads_a_story(
    demo: Runtime, server_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    external: list[str] = []
    with browser_page(server_url, external) as page:
        page.goto(f"{server_url}/veille/sources")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        fill_sign_in(page, demo.settings.admin_email, "admin-password-123")

        expect(page.get_by_role("heading", name="Sources de veille")).to_be_visible()
        rows = page.locator("#sources tr[data-source]")
        expect(rows).to_have_count(len(DEMO_SOURCES))
        for source in DEMO_SOURCES:
            row = rows.filter(has_text=source.title)
            expect(row).to_have_count(1)
            expect(row.locator(".health")).to_have_text("OK")
        page.screenshot(path=str(tmp_path / "sources.png"), full_page=True)

        page.goto(f"{server_url}/veille/validation")
        expect(page.get_by_role("heading", name="File de validation")).to_be_visible()
        first = page.locator("tr[data-item]").first
        item_id = first.get_attribute("data-item")
        first.get_by_role("button", name=re.compile(r"^Accepter «")).click()
        expect(page.locator(".alert-success")).to_contain_text("accepté")
        expect(page.locator(f'tr[data-item="{item_id}"]')).to_have_count(0)

        page.goto(f"{server_url}/veille/actualites")
        expect(page.get_by_role("heading", name="Actualités")).to_be_visible()
        told = re.compile(r"de [2-9] sources")
        bilingual = page.locator(".story-card").filter(has_text=told).filter(has_text="Global Trade Wire")
        expect(bilingual.first).to_be_visible()
        bilingual.first.locator("h3 a").click()
        sources = page.locator("dd").filter(has_text="Global Trade Wire (démo, en anglais)")
        expect(sources).to_contain_text(re.compile(r"Veille (marchés|secteurs)|Actualités de l'export"))
        page.screenshot(path=str(tmp_path / "actualite.png"), full_page=True)
    assert not external, f"the page loaded external resources: {external}"
