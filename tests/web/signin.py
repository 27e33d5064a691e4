"""Signing in for the page tests: the CSRF field of a page and the password sign-in form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD

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
