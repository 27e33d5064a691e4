"""The document page's extracted text with the search terms marked (``?q=``), the search result links
that carry the query, the text preview route; and no HTML injection through ``q``."""

from __future__ import annotations

from fastapi.testclient import TestClient
from markupsafe import Markup

from tests.web.conftest import Installation
from tests.web.test_pages import _sign_in
from tfe.app.web.pages.doc_panels.preview import highlight, query_terms


def test_highlight_escapes_then_marks_folded_words() -> None:
    body, marks = highlight("Le <b>marché</b> des VINS & spiritueux", query_terms("Marche vin"))
    assert isinstance(body, Markup)
    assert str(body) == "Le &lt;b&gt;<mark>marché</mark>&lt;/b&gt; des <mark>VINS</mark> &amp; spiritueux"
    assert marks == 2
    assert query_terms("les vins de France") == ["vins", "france"]  # stop words are not marked
    plain, none = highlight("<i>texte</i>", [])
    assert str(plain) == "&lt;i&gt;texte&lt;/i&gt;" and none == 0


def test_document_page_marks_the_query_terms(installation: Installation, client: TestClient) -> None:
    _sign_in(client)
    doc_id = installation.ids["doc-vins-de"]
    page = client.get(f"/documents/{doc_id}", params={"q": "vins allemagne"})
    assert page.status_code == 200
    html = page.text
    assert "<mark>vins</mark>" in html and "<mark>Allemagne</mark>" in html
    assert "occurrences de « vins allemagne »" in html
    accents = client.get(f"/documents/{doc_id}", params={"q": "MARCHE"}).text
    assert "<mark>marché</mark>" in accents  # case and accents folded
    plain = client.get(f"/documents/{doc_id}").text
    assert "<mark>" not in plain and 'id="doc-text"' in plain  # the text is shown without a query too
    assert 'id="preview-text"' in plain  # a text file: the text preview, no thumbnail


def test_query_cannot_inject_html(installation: Installation, client: TestClient) -> None:
    _sign_in(client)
    doc_id = installation.ids["doc-vins-de"]
    evil = '"><script>alert(1)</script><img src=x onerror=alert(2)> vins'
    html = client.get(f"/documents/{doc_id}", params={"q": evil}).text
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, escaped, in the summary
    assert "<mark>vins</mark>" in html
    assert "<mark>script</mark>" not in html  # the word is not in the document's text


def test_search_result_links_carry_the_query(installation: Installation, client: TestClient) -> None:
    _sign_in(client)
    html = client.get("/recherche", params={"q": "vins Allemagne"}).text
    doc_id = installation.ids["doc-vins-de"]
    assert f'href="/documents/{doc_id}?q=vins+Allemagne"' in html


def test_text_preview_route(installation: Installation, client: TestClient) -> None:
    doc_id = installation.ids["doc-vins-de"]
    answer = client.get(f"/api/documents/{doc_id}/preview", headers=installation.auth("alice"))
    assert answer.status_code == 200 and answer.headers["x-preview-kind"] == "text"
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.headers["cache-control"].startswith("private")
    assert "Les vins français en Allemagne" in answer.text
    secret = installation.ids["doc-beta-secret"]
    hidden = client.get(f"/api/documents/{secret}/preview", headers=installation.auth("alice"))
    assert hidden.status_code == 404
    missing = client.get(f"/api/documents/{doc_id}/preview?version=9", headers=installation.auth("alice"))
    assert missing.status_code == 404
