"""CSRF on every form: each ``<form method="post">`` of the templates carries the session's token, and every
POST page route refuses a signed-in request without it (real POSTs, nothing changed).

The one exception is the unsubscribe button (``/alertes/desabonnement/{token}``): RFC 8058's one-click
POST comes from mail clients without a session; the signed token in its URL is the credential and names
one subscription only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi import UploadFile
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ged.models import Document
from tests.web.conftest import PASSWORD, Installation
from tfe.app.web.templating import TEMPLATES_DIR
from veille.alerts.models import Subscription

HTML = {"accept": "text/html"}
FILE = ("note.txt", b"bonjour")
EXEMPT_TEMPLATES = {"unsubscribe.html"}  # RFC 8058 one-click: the signed URL token is the credential
EXEMPT_ROUTES = {"/alertes/desabonnement/{token}", "/login"}  # /login: checked below on its own
# What a refused form says: the French page's message, or the error's English message.
CSRF_REFUSAL = re.compile(r"CSRF|formulaire n(&#39;|')est pas valide|Votre session a expiré")


class _Forms(HTMLParser):
    """The POST forms of one template (Jinja tags are plain text to this parser), with their field names."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._open: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            method = (values.get("method") or "get").lower()
            self._open = {"line": self.getpos()[0], "method": method, "fields": set()}
            self.forms.append(self._open)
        elif tag in ("input", "button") and self._open is not None and values.get("name"):
            self._open["fields"].add(values["name"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def _post_forms() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(TEMPLATES_DIR.rglob("*.html")):
        parser = _Forms()
        parser.feed(path.read_text(encoding="utf-8"))
        for form in parser.forms:
            assert form["method"] in ("get", "post"), (path.name, form)
            if form["method"] == "post":
                yield str(path.relative_to(TEMPLATES_DIR)), form


def test_every_post_form_carries_the_csrf_field() -> None:
    forms = list(_post_forms())
    assert len(forms) >= 30  # the walk found the templates' forms
    missing = [
        (name, form["line"])
        for name, form in forms
        if "csrf" not in form["fields"] and name not in EXEMPT_TEMPLATES
    ]
    assert not missing, f"POST forms without the csrf hidden input: {missing}"


def _routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included router
            yield from _routes(route.original_router.routes)
        else:
            yield route


def _sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    client.cookies.clear()
    token = _csrf_of(client.get("/login", headers=HTML).text)
    answer = client.post(
        "/login",
        data={"email": email, "password": password, "csrf": token, "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return _csrf_of(client.get("/mes-recherches", headers=HTML).text)


def _csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no csrf field on the page"
    return found.group(1)


def _required_fields(dependant: Any) -> Iterator[tuple[str, Any]]:
    """The required form fields of a route (its own and its dependencies'), with their types."""
    for field in dependant.body_params:
        if field.field_info.is_required():
            yield field.alias, field.field_info.annotation
    for sub in dependant.dependencies:
        yield from _required_fields(sub)


def _body(route: Any) -> tuple[dict[str, str], dict[str, tuple[str, bytes]] | None]:
    """Every usual field, plus the route's required ones with a plausible value: only the token lacks."""
    data = {"name": "x", "email": "x@alpha.fr", "comment": "x", "status": "validated"}
    files: dict[str, tuple[str, bytes]] = {}
    for name, kind in _required_fields(route.dependant):
        if kind is UploadFile:
            files[name] = FILE
        else:
            data[name] = "1" if kind in (int, float) else "reader"
    return data, files or None


def _fill(path: str, installation: Installation) -> str:
    path = path.replace("{doc_id}", installation.ids["doc-vins-de"])
    path = path.replace("{public_id}", "0" * 16)
    return re.sub(r"\{[a-z_]+\}", "1", path)


def test_every_post_page_route_refuses_a_request_without_the_token(installation: Installation) -> None:
    """Signed in (alice for the document pages she owns, the admin elsewhere), a POST with every usual
    field (and a file for uploads) but no ``csrf`` is refused with the CSRF message (403, or 400 where the
    form comes back with what was typed), whatever the route."""
    client = installation.client
    routes = {
        route.path: route
        for route in _routes(installation.client.app.routes)  # type: ignore[attr-defined]
        if "POST" in getattr(route, "methods", ()) and not route.path.startswith("/api/")
    }
    posts = sorted(routes)
    assert len(posts) >= 40 and "/logout" in posts
    refused: dict[str, int] = {}
    for who, email, password in (
        ("alice", "alice@alpha.fr", PASSWORD),
        ("admin", "admin@tfe.local", "admin-password-123"),
    ):
        _sign_in(client, email, password)
        for path in posts:
            if path in EXEMPT_ROUTES or path in refused or path == "/logout":
                continue
            if (who == "alice") != path.startswith("/documents/"):
                continue
            data, files = _body(routes[path])
            answer = client.post(
                _fill(path, installation),
                data=data,
                files=files,
                headers=HTML,
                follow_redirects=False,
            )
            assert answer.status_code in (400, 403) and CSRF_REFUSAL.search(answer.text), (
                path,
                answer.status_code,
                answer.text[:300],
            )
            refused[path] = answer.status_code
    assert len(refused) == len(posts) - len(EXEMPT_ROUTES) - 1
    print(f"\n{len(refused)} POST page routes refused a request without the CSRF token")
    client.cookies.clear()


def test_refused_posts_change_nothing(installation: Installation) -> None:
    """A trash request, a new alert and a sign-out without (or with another session's) token: nothing
    happens, the session stays signed in."""
    client = installation.client
    other = _sign_in(client, "carol@alpha.fr")  # another session's valid token
    own = _sign_in(client, "alice@alpha.fr")
    doc_id = installation.ids["doc-vins-it"]
    with installation.rt.session() as session:
        alerts_before = session.scalar(select(func.count(Subscription.id)))
    for token in ("", other, own[:-2] + "xx"):
        trash = client.post(f"/documents/{doc_id}/supprimer", data={"csrf": token}, headers=HTML)
        assert trash.status_code == 403
        alert = client.post("/mes-alertes", data={"csrf": token, "name": "Alerte forgée", "q": "vins"})
        assert alert.status_code == 403
        logout = client.post("/logout", data={"csrf": token}, follow_redirects=False)
        assert logout.status_code == 303 and logout.headers["location"] == "/logout"  # the confirmation
    with installation.rt.session() as session:
        document = session.get(Document, doc_id)
        assert document is not None and document.deleted_at is None
        assert session.scalar(select(func.count(Subscription.id))) == alerts_before
    page = client.get("/mes-recherches", headers=HTML, follow_redirects=False)
    assert page.status_code == 200  # still signed in: the forged sign-out did nothing
    client.cookies.clear()


@pytest.mark.parametrize("token", ["", "forged-token"])
def test_sign_in_form_needs_its_token(installation: Installation, token: str) -> None:
    client = installation.client
    client.cookies.clear()
    client.get("/login", headers=HTML)
    answer = client.post(
        "/login",
        data={"email": "alice@alpha.fr", "password": PASSWORD, "csrf": token, "next": "/"},
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code in (400, 403) and "location" not in answer.headers
    assert client.get("/mes-recherches", follow_redirects=False).status_code == 303  # not signed in
    client.cookies.clear()
