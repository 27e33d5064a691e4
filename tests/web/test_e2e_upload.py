"""End to end in Debian's chromium: upload two files by the page's script (one new, one a duplicate), see
each outcome, then edit the new document's title. One browser launch, an installation of its own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.browser import BROWSER_MARKS, browser_page, fill_sign_in, live_server
from tests.web.conftest import DOCS, PASSWORD, Seed, make_installation
from tfe.app.web.app import create_app

pytestmark = BROWSER_MARKS

NEW_TEXT = b"Panorama de la filiere quincaillerie zorglub en Patagonie : acteurs, prix, circuits.\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seed]]:
    rt, seed = make_installation(Path(tmp_path_factory.mktemp("e2e-upload")))
    with live_server(create_app(rt)) as url:
        yield url, seed
    rt.close()


def test_upload_two_files_then_edit_the_title(server: tuple[str, Seed], tmp_path: Path) -> None:
    from playwright.sync_api import FilePayload, expect

    server_url, seed = server
    external: list[str] = []
    with browser_page(server_url, external, timeout_ms=15_000) as page:
        page.goto(f"{server_url}/deposer")
        fill_sign_in(page, "alice@alpha.fr", PASSWORD)
        expect(page.get_by_role("heading", name="Déposer des documents")).to_be_visible()
        expect(page.get_by_role("button", name="Déposer", exact=True)).to_be_hidden()  # the script runs

        page.get_by_label("Visibilité").select_option("network")
        files: list[FilePayload] = [
            {"name": "zorglub.txt", "mimeType": "text/plain", "buffer": NEW_TEXT},
            {"name": "copie-vins.txt", "mimeType": "text/plain", "buffer": DOCS[0].data},
        ]
        page.locator("#files").set_input_files(files)
        items = page.locator(".upload-item")
        expect(items).to_have_count(2)
        ok, duplicate = items.nth(0), items.nth(1)
        expect(ok).to_have_class(re.compile("upload-ok"), timeout=120_000)
        expect(duplicate).to_have_class(re.compile("upload-duplicate"), timeout=60_000)
        expect(ok).to_contain_text("Ajouté")
        expect(duplicate).to_contain_text("Déjà présent")
        existing = f"/documents/{seed.ids[DOCS[0].key]}"
        expect(duplicate.get_by_role("link")).to_have_attribute("href", existing)
        page.screenshot(path=str(tmp_path / "depot.png"), full_page=True)

        ok.get_by_role("link").click()
        expect(page.get_by_role("link", name="Modifier", exact=True)).to_be_visible()
        page.get_by_role("link", name="Modifier", exact=True).click()
        page.get_by_label("Titre").fill("Quincaillerie zorglub : panorama")
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.locator("h1")).to_have_text("Quincaillerie zorglub : panorama")
        expect(page.locator(".meta").first).to_contain_text("Réseau")
        page.screenshot(path=str(tmp_path / "document-modifie.png"), full_page=True)
    assert not external, f"the pages loaded external resources: {external}"
