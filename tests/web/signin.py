"""Signing in for the page tests: the CSRF field of a page, the password sign-in form, a fresh reader and
its own browser."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD, Installation
from tfe.core.security import identity

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The session's CSRF token, from the hidden ``csrf`` field every form of a page carries."""
    match = _CSRF.search(html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Post the sign-in form (303 expected); returns the CSRF token of the login page it was sent with."""
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login", data={"email": email, "password": password, "csrf": token}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return token


def new_reader(installation: Installation, prefix: str) -> str:
    """A new reader of organisation ``alpha`` (a fresh e-mail each call), signed in by nobody yet."""
    email = f"{prefix}{uuid.uuid4().hex[:8]}@alpha.fr"
    with installation.rt.session() as s:
        identity.create_user(
            s, email=email, org=identity.find_org(s, "alpha"), role="reader", password=PASSWORD
        )
    return email


def browser_of(installation: Installation, email: str) -> tuple[TestClient, str]:
    """A browser of its own (cookies apart from the shared client's) signed in as ``email``, with the CSRF
    token of its account page."""
    browser = TestClient(installation.client.app, headers={"User-Agent": "Navigateur de test/1.0"})
    sign_in(browser, email)
    return browser, csrf_of(browser.get("/compte", headers={"Accept": "text/html"}).text)
