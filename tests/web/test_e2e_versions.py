"""End to end in Debian's chromium: on a document's page, lock it, upload a new version with a comment,
compare it with the first, then restore the first version. One browser launch, an installation of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.browser import BROWSER_MARKS, browser_page, fill_sign_in, live_server
from tests.web.conftest import DOCS, PASSWORD, Seed, make_installation
from tfe.app.web.app import create_app

pytestmark = BROWSER_MARKS

NEW_TEXT = (
    "Le marché des vins français en Allemagne : mise à jour capybara, distribution par les cavistes.\n"
).encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seed]]:
    rt, seed = make_installation(Path(tmp_path_factory.mktemp("e2e-versions")))
    with live_server(create_app(rt)) as url:
        yield url, seed
    rt.close()


def test_upload_a_new_version_then_restore_the_first(server: tuple[str, Seed], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    server_url, seed = server
    doc_id = seed.ids[DOCS[0].key]
    external: list[str] = []
    with browser_page(server_url, external, timeout_ms=15_000) as page:
        page.goto(f"{server_url}/documents/{doc_id}")
        fill_sign_in(page, "alice@alpha.fr", PASSWORD)
        expect(page.get_by_role("heading", name="Versions")).to_be_visible()

        page.get_by_role("button", name="Verrouiller pour modification").click()
        expect(page.locator("#version-lock")).to_contain_text("Verrouillé par Alice jusqu'à")

        page.get_by_label("Fichier de la nouvelle version").set_input_files(
            {"name": "vins-allemagne-2026.txt", "mimeType": "text/plain", "buffer": NEW_TEXT}
        )
        page.get_by_label("Commentaire", exact=True).fill("Mise à jour 2026")  # not the survey's
        # the form posts and waits for the pipeline, whose first run loads its models
        page.get_by_role("button", name="Déposer la version").click(timeout=120_000)
        expect(page.locator("#versions-notice")).to_contain_text("Version 2 ajoutée", timeout=120_000)
        expect(page.locator("#version-2")).to_contain_text("Mise à jour 2026")
        expect(page.locator("#version-2")).to_contain_text("Alice")
        expect(page.locator("#version-lock")).not_to_contain_text("Verrouillé par")  # the upload released it
        page.screenshot(path=str(tmp_path / "version-2.png"), full_page=True)

        page.get_by_role("button", name="Comparer").click()
        expect(page.get_by_role("heading", name="Comparer les versions 1 et 2")).to_be_visible()
        expect(page.locator("table.diff ins").first).to_be_visible()
        expect(page.locator("table.diff")).to_contain_text("capybara")
        page.screenshot(path=str(tmp_path / "diff.png"), full_page=True)
        page.get_by_role("link", name="‹ Retour au document").click()

        page.get_by_role("button", name="Restaurer la version 1").click(timeout=60_000)
        expect(page.locator("#versions-notice")).to_contain_text(
            "Version 1 restaurée : elle est désormais la version 3", timeout=60_000
        )
        expect(page.locator("#version-3")).to_contain_text("Restauration de la version 1")
        expect(page.locator("#version-3")).to_contain_text("Courante")
        page.screenshot(path=str(tmp_path / "restauration.png"), full_page=True)

        download = page.locator("#version-3 a[download]")
        expect(download).to_have_attribute("href", f"/api/documents/{doc_id}/content?version=3")
        content = page.request.get(f"{server_url}/api/documents/{doc_id}/content?version=3")
        assert content.ok and content.body() == DOCS[0].data
    assert not external, f"the pages loaded external resources: {external}"
