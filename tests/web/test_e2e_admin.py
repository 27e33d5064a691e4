"""End to end in Debian's chromium: the national administrator creates an account, which then signs in."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.web.conftest import Installation
from tests.web.test_e2e_browser import CHROMIUM, CHROMIUM_ARGS, _free_port
from tests.web.test_e2e_browser import pytestmark as browser_marks
from tfe.app.web.app import create_app

pytestmark = browser_marks  # the browser marker, and the skip where no chromium is installed (never in CI)
ADMIN = ("admin@tfe.local", "admin-password-123")  # tfe init's administrator (Business France)


@pytest.fixture
def live_url(installation: Installation) -> Iterator[str]:
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


def test_admin_creates_a_user_who_signs_in(live_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    email = f"conseillere-{uuid.uuid4().hex[:6]}@alpha.fr"
    external: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
            page.on("request", lambda r: None if r.url.startswith(live_url) else external.append(r.url))
            page.set_default_timeout(10_000)
            page.goto(f"{live_url}/login")
            page.get_by_label("Adresse e-mail").fill(ADMIN[0])
            page.get_by_label("Mot de passe").fill(ADMIN[1])
            page.get_by_role("button", name="Se connecter").click()

            page.get_by_role("link", name="Administration").click()
            expect(page.locator("h1")).to_have_text("Administration")
            page.get_by_role("link", name="CCI Alpha").click()
            expect(page.locator("h1")).to_have_text("CCI Alpha")
            expect(page.locator("#utilisateurs")).to_contain_text("alice@alpha.fr")

            page.get_by_label("Adresse e-mail").fill(email)
            page.get_by_label("Nom affiché").fill("Claire Conseillère")
            page.get_by_label("Rôle", exact=True).select_option("contributor")
            page.get_by_role("button", name="Créer le compte").click()
            expect(page.locator("h1")).to_have_text("Compte créé")
            password = page.locator("#one-time-password").inner_text().strip()
            assert len(password) >= 12
            page.screenshot(path=str(tmp_path / "compte-cree.png"), full_page=True)

            page.get_by_role("link", name="Retour aux utilisateurs").click()
            row = page.locator(f'tr[data-user="{email}"]')
            expect(row).to_contain_text("Claire Conseillère")
            expect(row.get_by_label(f"Rôle de {email}")).to_have_value("contributor")
            assert password not in page.content()
            page.screenshot(path=str(tmp_path / "utilisateurs.png"), full_page=True)

            page.get_by_role("button", name="Se déconnecter").click()
            expect(page).to_have_url(re.compile(r"/login"))
            page.get_by_label("Adresse e-mail").fill(email)
            page.get_by_label("Mot de passe").fill(password)
            page.get_by_role("button", name="Se connecter").click()
            expect(page.get_by_label("Rechercher dans la base documentaire et la veille")).to_be_visible()
            expect(page.locator(".user-name")).to_have_text("Claire Conseillère")
            expect(page.get_by_role("link", name="Administration")).to_have_count(0)
        finally:
            browser.close()
    assert not external, f"the pages loaded external resources: {external}"
