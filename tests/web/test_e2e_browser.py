"""End to end in Debian's chromium: sign in, search "vins Allemagne", read facets, filter, screenshot."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.web.conftest import PASSWORD, Installation
from tfe.app.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    # a developer without Debian's chromium may skip; CI installs it (scripts/test.sh) and must never skip
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs /usr/bin/chromium (apt-get install chromium)",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server_url(installation: Installation) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(installation.rt), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_sign_in_search_and_filter(server_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    external: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
            page.on("request", lambda r: None if r.url.startswith(server_url) else external.append(r.url))
            page.set_default_timeout(10_000)
            page.goto(f"{server_url}/recherche?q=vins")
            expect(page).to_have_url(re.compile(r"/login\?next="))
            page.get_by_label("Adresse e-mail").fill("alice@alpha.fr")
            page.get_by_label("Mot de passe").fill(PASSWORD)
            page.get_by_role("button", name="Se connecter").click()
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
        finally:
            browser.close()
    assert not external, f"the pages loaded external resources: {external}"
