"""Typed document fields over HTTP: ``/api/doctypes``, ``/api/documents/{id}/fields`` (GET, PUT, accept),
the search filter ``field.<name>=<value>``, and the document page's fields section and form.

A module installation of its own (``make_installation``): these tests change documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.conftest import PASSWORD, Seed, make_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.models import AuditEvent
from tfe.core.security import audit

HTML = {"Accept": "text/html"}
Env = tuple[Runtime, Seed, TestClient]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    rt, seed = make_installation(Path(tmp_path_factory.mktemp("fields-api")))
    with TestClient(create_app(rt)) as client:
        yield rt, seed, client
    rt.close()


def bearer(seed: Seed, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {seed.tokens[who]}"}


def put(client: TestClient, seed: Seed, who: str, doc_id: str, values: dict[str, Any]) -> Any:
    return client.put(f"/api/documents/{doc_id}/fields", json={"values": values}, headers=bearer(seed, who))


def found(client: TestClient, seed: Seed, who: str, **params: Any) -> Any:
    return client.get(
        "/api/search", params={"mode": "bm25", "limit": 50, **params}, headers=bearer(seed, who)
    )


def test_doctypes_list_their_fields_in_french(env: Env) -> None:
    _rt, seed, client = env
    assert client.get("/api/doctypes").status_code == 401
    body = client.get("/api/doctypes", headers=bearer(seed, "reader")).json()
    by_notation = {t["notation"]: t for t in body["types"]}
    quote = by_notation["quote_template"]
    assert quote["label"] == "Modèle de devis" and quote["id"] == "doctype:quote_template"
    currency = next(f for f in quote["fields"] if f["name"] == "currency")
    assert currency["label"] == "Devise" and currency["type"] == "choice" and currency["filterable"]
    assert {"value": "EUR", "label": "Euro (EUR)"} in currency["choices"]
    assert by_notation["news"]["fields"] == []  # a type without fields is listed too
    one = client.get("/api/doctypes/doctype:client_reference", headers=bearer(seed, "reader")).json()
    consent = next(f for f in one["fields"] if f["name"] == "consent")
    assert consent == {
        **consent,
        "required": True,
        "type": "boolean",
        "label": "Accord du client pour être cité",
    }
    response = client.get("/api/doctypes/unknown_type", headers=bearer(seed, "reader"))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_rights_and_scope(env: Env) -> None:
    _rt, seed, client = env
    network, org_only = seed.ids["doc-vins-de"], seed.ids["doc-vins-it"]
    assert client.put(f"/api/documents/{network}/fields", json={"values": {}}).status_code == 401
    assert put(client, seed, "reader", network, {"sector": "11"}).status_code == 403
    assert put(client, seed, "bob", network, {"sector": "11"}).status_code == 403  # sees it, not his
    response = put(client, seed, "bob", org_only, {"sector": "11"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/documents/{org_only}/fields", headers=bearer(seed, "bob")).status_code == 404
    response = client.post(f"/api/documents/{org_only}/fields/accept", json={}, headers=bearer(seed, "bob"))
    assert response.status_code == 404
    body = client.get(f"/api/documents/{network}/fields", headers=bearer(seed, "bob")).json()
    assert body["editable"] is False and body["doc_type"]["label"] == "Analyse sectorielle"


def test_invalid_values_answer_400_with_a_french_message_per_field(env: Env) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-machines-de"]
    retyped = client.patch(
        f"/api/documents/{doc_id}", json={"doc_type": "quote_template"}, headers=bearer(seed, "alice")
    )
    assert retyped.status_code == 200
    response = put(
        client, seed, "alice", doc_id, {"currency": "XYZ", "price_min": "beaucoup", "colour": "bleu"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    messages = {e["field"]: e["message"] for e in error["fields"]}
    assert messages["currency"].startswith("valeur non autorisée : XYZ (autorisées : EUR, USD")
    assert messages["service"] == "ce champ est obligatoire"
    assert messages["price_min"] == "un nombre est attendu"
    assert messages["colour"] == "champ inconnu pour ce type de document"
    assert (
        client.put(
            f"/api/documents/{doc_id}/fields", json={"vals": {}}, headers=bearer(seed, "alice")
        ).status_code
        == 400
    )
    body = client.get(f"/api/documents/{doc_id}/fields", headers=bearer(seed, "alice")).json()
    assert body["values"] == {}  # nothing saved


def test_saved_values_are_found_by_a_field_filter(env: Env) -> None:
    rt, seed, client = env
    doc_id = seed.ids["doc-machines-de"]  # a quote template since the test above (public)
    values = {
        "service": "Mission de prospection",
        "price_min": "1 500",
        "price_max": 3000,
        "currency": "EUR",
        "valid_until": "30/06/2027",
    }
    response = put(client, seed, "alice", doc_id, values)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["values"]["currency"] == "EUR" and body["values"]["valid_until"] == "2027-06-30"
    shown = {f["name"]: f["display"] for f in body["fields"]}
    assert shown["currency"] == "Euro (EUR)" and shown["valid_until"] == "30/06/2027"
    hits = found(client, seed, "bob", **{"field.currency": "EUR"}).json()["hits"]
    assert [h["id"] for h in hits] == [doc_id]  # bob sees the public document through the filter
    assert found(client, seed, "bob", **{"field.currency": "USD"}).json()["hits"] == []
    typed = found(client, seed, "bob", type="quote_template", **{"field.currency": "EUR"}).json()
    assert [h["id"] for h in typed["hits"]] == [doc_id]
    bad = found(client, seed, "bob", **{"field.currency": "XYZ"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    assert found(client, seed, "bob", **{"field.service": "Mission"}).status_code == 400  # text: no filter
    with rt.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "document.fields", AuditEvent.target_id == doc_id)
        ).one()
        assert "currency" in event.detail["fields"] and "changes" not in event.detail  # no values in clear
        change = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "document.field_change", AuditEvent.target_id == doc_id
            )
        ).all()
        currency = next(e.detail for e in change if e.detail["field"] == "currency")
        assert currency["old"] is None and currency["new"] == audit.fingerprint(session, "EUR")


def test_search_page_filters_on_a_field_and_shows_it(env: Env) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-machines-de"]  # a quote template in EUR since the test above (public)
    _sign_in(client, "bob@beta.fr")
    page = client.get(f"/documents/{doc_id}", headers=HTML)
    link = "/recherche?type=doctype%3Aquote_template&amp;field.currency=EUR"
    assert "Euro (EUR)" in page.text and link in page.text
    results = client.get(
        "/recherche", params={"type": "doctype:quote_template", "field.currency": "EUR"}, headers=HTML
    )
    assert results.status_code == 200
    assert "Devise : Euro (EUR)" in results.text and f"/documents/{doc_id}" in results.text
    other = client.get("/recherche", params={"field.currency": "USD"}, headers=HTML)
    assert "Devise : Dollar américain (USD)" in other.text and f"/documents/{doc_id}" not in other.text
    assert client.get("/recherche", params={"field.currency": "XYZ"}, headers=HTML).status_code == 400
    typed = client.get("/recherche", params={"type": "quote_template"}, headers=HTML).text
    facet = typed.split('data-facet="field.currency"', 1)[1].split("</section>", 1)[0]
    assert "<h2>Devise</h2>" in facet and "Euro (EUR)" in facet and "USD" not in facet  # counted values only
    assert re.search(r'<span class="count">1</span>', facet) and "field.currency=EUR" in facet
    assert 'data-facet="field.' not in client.get("/recherche", params={"q": "machines"}, headers=HTML).text


def test_proposals_are_accepted_through_the_api(env: Env) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-vins-de"]  # sector analysis: naf:11, country:DE
    body = client.get(f"/api/documents/{doc_id}/fields", headers=bearer(seed, "alice")).json()
    proposals = {p["name"]: p for p in body["proposals"]}
    assert (
        proposals["countries"]["value"] == ["country:DE"] and proposals["countries"]["display"] == "Allemagne"
    )
    assert proposals["sector"]["origin"] == "classification" and body["values"] == {}
    response = client.post(
        f"/api/documents/{doc_id}/fields/accept", json={"names": ["countries"]}, headers=bearer(seed, "alice")
    )
    assert response.status_code == 200 and response.json()["values"] == {"countries": ["country:DE"]}
    again = client.post(
        f"/api/documents/{doc_id}/fields/accept", json={"names": ["countries"]}, headers=bearer(seed, "alice")
    )
    assert again.status_code == 400
    hits = found(client, seed, "alice", **{"field.countries": "Allemagne"}).json()["hits"]
    assert doc_id in [h["id"] for h in hits]


# ------------------------------------------------------------------ the document page (no browser)
def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _sign_in(client: TestClient, email: str) -> None:
    client.cookies.clear()
    token = _csrf(client.get("/login").text)
    data = {"email": email, "password": PASSWORD, "csrf": token, "next": "/"}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


def test_document_page_shows_fields_and_accepts_a_proposal(env: Env) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-vins-de"]
    _sign_in(client, "alice@alpha.fr")
    page = client.get(f"/documents/{doc_id}", headers=HTML)
    assert page.status_code == 200
    assert "Champs du type « Analyse sectorielle »" in page.text and "Pays couverts" in page.text
    assert "Valeurs proposées" in page.text and "Fabrication de boissons" in page.text
    assert f'action="/documents/{doc_id}/champs/accepter"' in page.text and ">Accepter<" in page.text
    response = client.post(
        f"/documents/{doc_id}/champs/accepter",
        data={"csrf": _csrf(page.text), "name": "sector"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = client.get(f"/documents/{doc_id}", headers=HTML)
    assert "Proposition acceptée : Secteur." in page.text
    assert "Valeurs proposées" not in page.text  # sector accepted, countries accepted through the API
    forged = client.post(f"/documents/{doc_id}/champs/accepter", data={"csrf": "forged"}, headers=HTML)
    assert forged.status_code == 403
    _sign_in(client, "bob@beta.fr")  # sees the network document, may not edit it
    page = client.get(f"/documents/{doc_id}", headers=HTML)
    assert "Champs du type" in page.text and "Modifier les champs" not in page.text
    assert client.get(f"/documents/{doc_id}/champs", headers=HTML).status_code == 403


def test_fields_form_validates_in_french_and_saves(env: Env) -> None:
    _rt, seed, client = env
    doc_id = seed.ids["doc-beta-secret"]  # bob's country note
    _sign_in(client, "bob@beta.fr")
    form_page = client.get(f"/documents/{doc_id}/champs", headers=HTML)
    assert form_page.status_code == 200 and 'name="f_country"' in form_page.text
    data = {"csrf": _csrf(form_page.text), "f_country": "Atlantide", "f_note_date": "2025-03-01"}
    response = client.post(f"/documents/{doc_id}/champs", data=data, headers=HTML)
    assert response.status_code == 400
    assert "inconnu parmi les pays : Atlantide" in response.text and 'value="Atlantide"' in response.text
    data["f_country"] = "Japon"
    response = client.post(f"/documents/{doc_id}/champs", data=data, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("#champs")
    page = client.get(f"/documents/{doc_id}", headers=HTML)
    assert "Champs enregistrés." in page.text and "Japon" in page.text and "01/03/2025" in page.text
    _sign_in(client, "alice@alpha.fr")
    assert client.get(f"/documents/{doc_id}/champs", headers=HTML).status_code == 404  # beta's private note
