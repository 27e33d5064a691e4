"""The French pages: sign-in with CSRF, redirects, search with facets, document page, API sessions."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, Installation
from tfe.core.models import AuditEvent

HTML = {"Accept": "text/html"}


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the form"
    return match.group(1)


def _sign_in(client: TestClient, email: str = "alice@alpha.fr", next_url: str = "/") -> None:
    token = _csrf(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf": token, "next": next_url},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == next_url


def test_pages_redirect_to_login(client: TestClient) -> None:
    response = client.get("/recherche?q=vins", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Frecherche%3Fq%3Dvins"


def test_login_page_is_french_and_sets_lax_cookie(client: TestClient) -> None:
    response = client.get("/login")
    assert '<html lang="fr">' in response.text and "Mot de passe" in response.text
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_login_rejects_missing_csrf_and_bad_password(installation: Installation, client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"email": "alice@alpha.fr", "password": PASSWORD, "csrf": "forged"})
    assert response.status_code == 400 and "session a expiré" in response.text
    token = _csrf(client.get("/login").text)
    response = client.post(
        "/login", data={"email": "alice@alpha.fr", "password": "mauvais-mot-de-passe", "csrf": token}
    )
    assert response.status_code == 401 and "Adresse e-mail ou mot de passe incorrect." in response.text
    with installation.rt.session() as session:
        failed = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).all()
        assert failed and all("mauvais" not in str(e.detail) for e in failed)


def test_login_search_document_logout(installation: Installation, client: TestClient) -> None:
    _sign_in(client, next_url="/recherche?q=vins")
    page = client.get("/recherche", params={"q": "vins Allemagne"})
    assert page.status_code == 200
    html = page.text
    assert "Rechercher dans la base documentaire et la veille" in html
    assert re.search(r"\d+</strong> résultats?", html)
    for facet in ("Secteur", "Pays", "Type de document"):
        assert f"<h2>{facet}</h2>" in html
    assert "Le marché des vins français en Allemagne" in html
    assert "<mark>" in html  # highlighted snippet rendered as HTML
    assert "Note confidentielle" not in html and "Japon</span>" not in html
    assert 'href="/recherche?q=vins+Allemagne&amp;country=country%3ADE"' in html
    filtered = client.get(
        "/recherche", params=[("q", "vins Allemagne"), ("type", "doctype:sector_analysis")]
    ).text
    assert "Filtres actifs" in filtered and "Machines agricoles" not in filtered
    assert 'href="/recherche?q=vins+Allemagne"' in filtered  # removing the only filter keeps the query
    doc_id = installation.ids["doc-vins-de"]
    doc = client.get(f"/documents/{doc_id}")
    assert (
        doc.status_code == 200 and "Allemagne" in doc.text and f"/api/documents/{doc_id}/content" in doc.text
    )
    assert client.get(f"/documents/{installation.ids['doc-beta-secret']}", headers=HTML).status_code == 404
    # the session cookie works on the API too; unsafe requests need the CSRF header
    assert client.get(f"/api/documents/{doc_id}").status_code == 200
    response = client.post("/api/documents", files={"file": ("a.txt", b"x", "text/plain")})
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    token = _csrf(client.get("/logout").text)
    response = client.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get(f"/api/documents/{doc_id}").status_code == 401


def test_open_redirect_refused(client: TestClient) -> None:
    _sign_in(client, next_url="/")
    response = client.get("/login", params={"next": "//evil.example/"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_forged_session_cookie_is_ignored(client: TestClient) -> None:
    client.cookies.set("tfe_session", "eyJ0IjoxLCJkIjp7InVpZCI6MX19.forged")
    assert client.get("/api/search", params={"q": "vins"}).status_code == 401


def test_html_error_page(client: TestClient) -> None:
    _sign_in(client)
    response = client.get("/documents/inconnu", headers=HTML)
    assert (
        response.status_code == 404 and "Page introuvable" in response.text and 'lang="fr"' in response.text
    )
