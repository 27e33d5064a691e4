"""Shared parts of the browser tests: Debian's chromium, a live uvicorn server, a page that records every
request leaving the server (the pages must load nothing from outside)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn

if TYPE_CHECKING:
    from playwright.sync_api import Page

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
BROWSER_MARKS = [
    pytest.mark.browser,
    # a developer without Debian's chromium may skip; CI installs it (scripts/test.sh) and must never skip
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs /usr/bin/chromium (apt-get install chromium)",
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def browser_page(base_url: str, external: list[str], *, timeout_ms: int = 10_000) -> Iterator[Page]:
    """A French desktop page in a fresh chromium; requests outside ``base_url`` land in ``external``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
            page.on("request", lambda r: None if r.url.startswith(base_url) else external.append(r.url))
            page.set_default_timeout(timeout_ms)
            yield page
        finally:
            browser.close()


def watch_console(page: Page) -> list[str]:
    """The page's console messages, as they come; a CSP violation is logged as
    ``CSP <path> <directive> <blocked URI>`` (so a test asserts none starts with ``CSP ``)."""
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "['CSP', location.pathname, e.violatedDirective, e.blockedURI].join(' ')))"
    )
    return console


def fill_sign_in(page: Page, email: str, password: str) -> None:
    """Fill and send the sign-in form the page shows (after a redirect to ``/login?next=…``, say)."""
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def sign_in_page(page: Page, base_url: str, email: str, password: str) -> None:
    """Open ``/login`` and sign in (the caller waits for what should follow)."""
    page.goto(f"{base_url}/login")
    fill_sign_in(page, email, password)
