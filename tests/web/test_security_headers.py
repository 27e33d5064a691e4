"""Security headers on every answer, pages without inline code (checked in chromium too: no CSP violation),
the session cookie's ``Secure`` rule, and oversized or malformed request headers answered with a 4xx."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import socket
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.web.browser import BROWSER_MARKS, browser_page, live_server, sign_in_page, watch_console
from tests.web.conftest import PASSWORD, Installation
from tfe.app.web.app import create_app
from tfe.app.web.header_limits import MAX_HEADER_BYTES, MAX_QUERY_BYTES
from tfe.app.web.headers import HSTS, SecurityHeadersMiddleware, provider_origins, secure_cookies
from tfe.app.web.session import SignedSessionMiddleware
from tfe.app.web.templating import TEMPLATES_DIR
from tfe.core.models import AuditEvent
from tfe.core.settings import Settings

HTML = {"accept": "text/html"}
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
F = TypeVar("F", bound=Callable[..., Any])


def _browser(test: F) -> F:
    for mark in BROWSER_MARKS:
        test = mark(test)
    return test


def _assert_headers(answer: Any, policy: str = PAGE_POLICY) -> None:
    for name, value in EXPECTED.items():
        assert answer.headers.get(name) == value, (answer.request.url, name, answer.headers.get(name))
    assert answer.headers.get("content-security-policy") == policy, answer.request.url
    assert "strict-transport-security" not in answer.headers  # not in production


def test_every_kind_of_answer_carries_the_headers(installation: Installation) -> None:
    client = installation.client
    client.cookies.clear()
    bearer = installation.auth("alice")
    answers = {
        "page": client.get("/login", headers=HTML),
        "redirect": client.get("/recherche?q=vins", headers=HTML, follow_redirects=False),
        "error page": client.get("/documents/inconnu", headers=HTML, follow_redirects=False),
        "api": client.get("/api/search", params={"q": "vins"}, headers=bearer),
        "api error": client.get("/api/search", params={"q": "vins"}),
        "validation error": client.get("/api/search", params={"limit": "beaucoup"}, headers=bearer),
        "not found": client.get("/api/nulle-part"),
        "method": client.delete("/healthz"),
        "static": client.get("/static/tfe.css"),
        "favicon": client.get("/favicon.ico"),
        "openapi": client.get("/openapi.json"),
        "health": client.get("/healthz"),
    }
    expected_status = {"redirect": 303, "api error": 401, "validation error": 400, "not found": 404}
    for kind, answer in answers.items():
        assert answer.status_code == expected_status.get(kind, answer.status_code), kind
        assert answer.status_code < 500, (kind, answer.text[:200])
        _assert_headers(answer)


def test_an_unhandled_error_carries_the_headers_too(installation: Installation) -> None:
    app = create_app(installation.rt)

    def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/boom", boom, include_in_schema=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/boom")
        page = client.get("/boom", headers=HTML)
    assert answer.status_code == 500 and answer.json()["error"]["code"] == "internal"
    assert page.status_code == 500 and "Erreur interne" in page.text
    _assert_headers(answer)
    _assert_headers(page)


def test_a_download_keeps_its_own_sandbox_policy(installation: Installation) -> None:
    doc_id = installation.ids["doc-vins-de"]
    answer = installation.client.get(f"/api/documents/{doc_id}/content", headers=installation.auth("alice"))
    assert answer.status_code == 200
    _assert_headers(answer, policy="default-src 'none'; sandbox")


def _script_hash(page: str) -> str:
    inline = re.search(r"<script>(.*?)</script>", page, re.DOTALL)
    assert inline, "the docs page has no inline script any more: drop its exception"
    return base64.b64encode(hashlib.sha256(inline.group(1).encode()).digest()).decode()


def test_api_docs_pages_allow_only_their_own_inline_script(installation: Installation) -> None:
    client = installation.client
    docs = client.get("/docs")
    policy = docs.headers["content-security-policy"]
    assert docs.status_code == 200 and f"script-src 'self' 'sha256-{_script_hash(docs.text)}';" in policy
    assert "style-src 'self' 'unsafe-inline'" in policy and "frame-ancestors 'none'" in policy
    redoc = client.get("/redoc")
    redoc_policy = redoc.headers["content-security-policy"]
    assert redoc.status_code == 200 and "script-src 'self';" in redoc_policy  # no inline script there
    for answer in (docs, redoc):
        script_src = re.search(r"script-src ([^;]*)", answer.headers["content-security-policy"])
        assert script_src and "unsafe" not in script_src.group(1)
        assert answer.headers["x-frame-options"] == "DENY"


def _tiny_app(**middleware: Any) -> TestClient:
    def ok(request: Request) -> Response:
        return PlainTextResponse("ok")

    def framed(request: Request) -> Response:
        return PlainTextResponse("ok", headers={"X-Frame-Options": "SAMEORIGIN"})

    inner = Starlette(routes=[Route("/", ok), Route("/framed", framed)])
    return TestClient(SecurityHeadersMiddleware(inner, **middleware))


def test_hsts_in_production_only_and_route_headers_win() -> None:
    production = _tiny_app(production=True).get("/")
    assert production.headers["strict-transport-security"] == HSTS == "max-age=31536000; includeSubDomains"
    assert "strict-transport-security" not in _tiny_app(production=False).get("/").headers
    framed = _tiny_app(production=False).get("/framed")
    assert framed.headers["x-frame-options"] == "SAMEORIGIN"  # set by the route: kept
    assert framed.headers["x-content-type-options"] == "nosniff"


def test_form_action_admits_the_oidc_providers(tmp_path: Path) -> None:
    """RP-initiated logout redirects the ``POST /logout`` form to the provider: its origin is allowed."""
    providers = tmp_path / "oidc.json"
    providers.write_text(
        json.dumps(
            [
                {
                    "name": "proconnect",
                    "issuer": "https://auth.agentconnect.gouv.fr/api/v2",
                    "client_id": "x",
                },
                {"name": "local", "issuer": "http://127.0.0.1:9400/", "client_id": "y", "label": "Local"},
            ]
        ),
        encoding="utf-8",
    )
    origins = provider_origins(providers)
    assert origins == ["http://127.0.0.1:9400", "https://auth.agentconnect.gouv.fr"]
    policy = _tiny_app(production=False, form_origins=origins).get("/").headers["content-security-policy"]
    assert "form-action 'self' http://127.0.0.1:9400 https://auth.agentconnect.gouv.fr" in policy
    assert provider_origins(None) == [] and provider_origins(tmp_path / "absent.json") == []


def test_secure_cookie_outside_development_and_plain_http(tmp_path: Path) -> None:
    def settings(**values: Any) -> Settings:
        return Settings(data_dir=tmp_path, secret_key="s" * 32, **values)

    assert secure_cookies(settings(environment="production"))
    assert secure_cookies(settings(environment="production", host="127.0.0.1"))  # behind a TLS proxy
    assert secure_cookies(settings(environment="test", public_url="https://tfe.example.fr"))
    assert not secure_cookies(settings(environment="development"))
    assert not secure_cookies(settings(environment="test"))  # http://127.0.0.1:8000: TestClient, browsers

    def login(request: Request) -> Response:
        request.session["uid"] = 1
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", login)])
    for flag, expected in ((True, True), (False, False)):
        client = TestClient(SignedSessionMiddleware(app, secret_key="k", https_only=flag))
        cookie = client.get("/").headers["set-cookie"]
        assert ("; Secure" in cookie) is expected and "HttpOnly" in cookie and "SameSite=lax" in cookie


class _InlineCode(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._script_with_src = False
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style":
            self.found.append(f"<style> line {self.getpos()[0]}")
        if tag == "script":
            self._in, self._script_with_src = "script", "src" in names
        for name in names:
            if name == "style" or name.startswith("on"):
                self.found.append(f"{name}= on <{tag}> line {self.getpos()[0]}")

    def handle_data(self, data: str) -> None:
        if self._in == "script" and not self._script_with_src and data.strip():
            self.found.append(f"inline <script> line {self.getpos()[0]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in = None


def test_templates_hold_no_inline_code() -> None:
    offenders: dict[str, list[str]] = {}
    templates = sorted(TEMPLATES_DIR.rglob("*.html"))
    assert len(templates) > 30
    for path in templates:
        parser = _InlineCode()
        parser.feed(path.read_text(encoding="utf-8"))
        if parser.found:
            offenders[str(path.relative_to(TEMPLATES_DIR))] = parser.found
    assert not offenders, f"inline code the CSP would block: {offenders}"


def _refusals(installation: Installation) -> list[dict[str, Any]]:
    with installation.rt.session() as session:
        refused = select(AuditEvent).where(AuditEvent.action == "request.refused")
        rows = session.scalars(refused.order_by(AuditEvent.id))
        return [dict(row.detail) for row in rows]


def test_oversized_and_malformed_headers_get_a_4xx(installation: Installation) -> None:
    client = installation.client
    client.cookies.clear()
    before = len(_refusals(installation))
    big = "a" * (MAX_HEADER_BYTES + 1)
    huge_header = client.get("/api/search", params={"q": "vins"}, headers={"X-Padding": big})
    assert huge_header.status_code == 431 and huge_header.json()["error"]["code"] == "headers_too_large"
    _assert_headers(huge_header)
    huge_cookie = client.get("/login", headers={**HTML, "Cookie": f"tfe_session={big}"})
    assert huge_cookie.status_code == 431 and "En-têtes de requête trop volumineux" in huge_cookie.text
    many = {f"X-Many-{i}": "b" * 2000 for i in range(20)}  # each one small, 40 KB in all
    assert client.get("/healthz", headers=many).status_code == 431
    huge_query = client.get("/api/search", params={"q": "c" * (MAX_QUERY_BYTES + 1)})
    assert huge_query.status_code == 414 and huge_query.json()["error"]["code"] == "uri_too_long"
    for cookie in ('tfe_session="unterminated', "tfe_session=a.b.c; ;;=;\x7f", "=;=;tfe_session"):
        malformed = client.get("/recherche", headers={**HTML, "Cookie": cookie}, follow_redirects=False)
        assert malformed.status_code == 303 and "/login" in malformed.headers["location"]  # anonymous
        api = client.get("/api/search", params={"q": "vins"}, headers={"Cookie": cookie})
        assert api.status_code == 401
    refusals = _refusals(installation)[before:]
    assert [r["code"] for r in refusals] == ["headers_too_large"] * 3 + ["uri_too_long"]
    assert refusals[0]["header"] == "x-padding" and refusals[0]["path"] == "/api/search"
    assert refusals[1]["header"] == "cookie" and refusals[1]["header_bytes"] == len(f"tfe_session={big}")
    assert all(big not in str(r) for r in refusals)  # sizes and names only, never a value


def _raw(url: str, request: bytes) -> int | None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        with contextlib.suppress(OSError):  # the server may close before the whole request is sent
            sock.sendall(request)
        try:
            head = sock.recv(1024).decode("latin-1")
        except ConnectionResetError:  # the server dropped the connection: no answer at all, not a 500
            return None
    return int(head.split(" ", 2)[1]) if head else None


def test_a_real_server_answers_oversized_headers_with_a_4xx(installation: Installation) -> None:
    with live_server(create_app(installation.rt)) as url:
        with httpx.Client(base_url=url, timeout=10) as http:
            assert http.get("/healthz", headers={"X-Padding": "a" * 50_000}).status_code == 431
            assert http.get("/api/search", params={"q": "c" * 20_000}).status_code == 414
            assert http.get("/login", headers={"Cookie": "tfe_session=\x01\x02;;"}).status_code == 200
        # far over h11's buffer: uvicorn itself answers 400 (or drops the connection) before the app
        padding = b"X-Padding: " + b"a" * 2_000_000 + b"\r\n"
        status = _raw(url, b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + padding + b"\r\n")
        assert status is None or 400 <= status < 500, status


# Redoc's sidebar badge loads its logo from cdn.redoc.ly: the policy refuses it on purpose (offline docs).
ALLOWED_VIOLATIONS = {("/redoc", "img-src", "https://cdn.redoc.ly/redoc/logo-mini.svg")}


@_browser
def test_pages_raise_no_csp_violation_in_chromium(installation: Installation) -> None:
    """Signed in as alice: search, a document (versions section, trash button with its confirmation),
    sources, alerts, upload, then the API docs (their viewers start); no CSP violation is reported."""
    from playwright.sync_api import expect

    doc_id = installation.ids["doc-vins-de"]
    external: list[str] = []
    with live_server(create_app(installation.rt)) as url, browser_page(url, external) as page:
        console = watch_console(page)
        sign_in_page(page, url, "alice@alpha.fr", PASSWORD)
        expect(page.get_by_label("Rechercher dans la base documentaire et la veille")).to_be_visible()
        for path in ("/recherche?q=vins", "/veille/sources", "/mes-alertes", "/deposer"):
            page.goto(url + path)
        page.goto(f"{url}/documents/{doc_id}")
        assert page.locator("link[href='/static/versions.css']").count() == 1
        asked: list[str] = []

        def dismiss(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismiss)
        page.locator("#delete-form button").click()
        expect(page.locator("h1")).to_have_text("Le marché des vins français en Allemagne")
        assert asked and "corbeille" in asked[0]  # confirm.js asked; dismissed, the document stays
        page.goto(f"{url}/docs")
        # the API docs render in the browser from a large bundle: on a busy machine that takes more than
        # Playwright's default 5 s
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Team France Export", timeout=30_000)
        page.goto(f"{url}/redoc")
        expect(page.locator("h1").first).to_contain_text("Team France Export", timeout=30_000)
    violations = {tuple(m.split(" ", 3)[1:]) for m in console if m.startswith("CSP ")}
    assert not violations - ALLOWED_VIOLATIONS, console
    # attempted, not loaded: Redoc's worker is a local blob, its badge logo is refused by the policy above
    attempted = {u for u in external if not u.startswith(f"blob:{url}/")}
    assert attempted <= {blocked for _, _, blocked in ALLOWED_VIOLATIONS}, external
