"""End to end in Debian's chromium: the national administrator creates an account, which then signs in."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.browser import BROWSER_MARKS, browser_page, fill_sign_in, live_server
from tests.web.conftest import Installation
from tfe.app.web.app import create_app

pytestmark = BROWSER_MARKS  # the browser marker, and the skip where no chromium is installed (never in CI)
ADMIN = ("admin@tfe.local", "admin-password-123")  # tfe init's administrator (Business France)


@pytest.fixture
def live_url(installation: Installation) -> Iterator[str]:
    with live_server(create_app(installation.rt)) as url:
        yield url


def test_admin_creates_a_user_who_signs_in(live_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    email = f"conseillere-{uuid.uuid4().hex[:6]}@alpha.fr"
    external: list[str] = []
    with browser_page(live_url, external, timeout_ms=10_000) as page:
        page.goto(f"{live_url}/login")
        fill_sign_in(page, ADMIN[0], ADMIN[1])

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
        fill_sign_in(page, email, password)
        expect(page.get_by_label("Rechercher dans la base documentaire et la veille")).to_be_visible()
        expect(page.locator(".user-name")).to_have_text("Claire Conseillère")
        expect(page.get_by_role("link", name="Administration")).to_have_count(0)
    assert not external, f"the pages loaded external resources: {external}"
