"""End to end in Debian's chromium: upload two files by the page's script (one new, one a duplicate), see
each outcome, then edit the new document's title. One browser launch, an installation of its own."""

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

from tests.web.conftest import DOCS, PASSWORD, Seed, make_installation
from tests.web.test_e2e_browser import CHROMIUM, CHROMIUM_ARGS
from tfe.app.web.app import create_app

pytestmark = [
    pytest.mark.browser,
    # a developer without Debian's chromium may skip; CI installs it (scripts/test.sh) and must never skip
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs /usr/bin/chromium (apt-get install chromium)",
    ),
]

NEW_TEXT = b"Panorama de la filiere quincaillerie zorglub en Patagonie : acteurs, prix, circuits.\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seed]]:
    rt, seed = make_installation(Path(tmp_path_factory.mktemp("e2e-upload")))
    port = _free_port()
    config = uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", seed
    server.should_exit = True
    thread.join(timeout=10)
    rt.close()


def test_upload_two_files_then_edit_the_title(server: tuple[str, Seed], tmp_path: Path) -> None:
    from playwright.sync_api import FilePayload, expect, sync_playwright

    server_url, seed = server
    external: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
            page.on("request", lambda r: None if r.url.startswith(server_url) else external.append(r.url))
            page.set_default_timeout(15_000)
            page.goto(f"{server_url}/deposer")
            page.get_by_label("Adresse e-mail").fill("alice@alpha.fr")
            page.get_by_label("Mot de passe").fill(PASSWORD)
            page.get_by_role("button", name="Se connecter").click()
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
            expect(page.get_by_role("link", name="Modifier")).to_be_visible()
            page.get_by_role("link", name="Modifier").click()
            page.get_by_label("Titre").fill("Quincaillerie zorglub : panorama")
            page.get_by_role("button", name="Enregistrer").click()
            expect(page.locator("h1")).to_have_text("Quincaillerie zorglub : panorama")
            expect(page.locator(".meta")).to_contain_text("Réseau")
            page.screenshot(path=str(tmp_path / "document-modifie.png"), full_page=True)
        finally:
            browser.close()
    assert not external, f"the pages loaded external resources: {external}"
