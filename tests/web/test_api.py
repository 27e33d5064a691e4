"""The JSON API through the real app: authentication, access scope, parameter checks, error shape."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ged.service import UploadResult
from tests.web.conftest import MAX_UPLOAD, Installation
from tfe.core.models import AuditEvent

VISIBLE_TO_ALICE = {"doc-vins-de", "doc-vins-it", "doc-machines-de"}  # keys of conftest.DOCS
BETA_ONLY = {"doc-beta-secret", "doc-beta-org"}


def _ids(installation: Installation, keys: set[str]) -> set[str]:
    return {installation.ids[key] for key in keys}


def _assert_error(response, status: int, code: str | None = None) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    office = (shutil.which("soffice") or shutil.which("libreoffice")) is not None
    body = response.json()
    assert body["status"] == "ok" and body["db"] == "ok"
    assert body["previews"] == {"pdf": True, "office": office}


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer tfe_nope_nope"}, {"Authorization": "Basic x"}]
)
def test_search_requires_authentication(client: TestClient, headers: dict[str, str]) -> None:
    _assert_error(client.get("/api/search", params={"q": "vins"}, headers=headers), 401, "unauthenticated")


def test_search_shape_and_facets(installation: Installation, client: TestClient) -> None:
    response = client.get("/api/search", params={"q": "vins Allemagne"}, headers=installation.auth("alice"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"total", "hits", "facets", "suggestions", "understood"}
    assert body["total"] >= 1 and body["hits"]
    assert {s["kind"] for s in body["suggestions"]} <= {"filter"}  # the recognised concepts, as filters
    for hit in body["hits"]:
        assert {"id", "title", "snippet", "score", "type", "sectors", "countries", "url"} <= set(hit)
        assert all({"id", "label"} <= set(s) for s in hit["sectors"] + hit["countries"])
    assert set(body["facets"]) == {"sector", "country", "type", "org", "language", "filiere", "signal"}
    assert all({"id", "label", "count"} <= set(e) for entries in body["facets"].values() for e in entries)
    assert installation.ids["doc-vins-de"] in {h["id"] for h in body["hits"]}


def test_other_organisations_documents_never_leak(installation: Installation, client: TestClient) -> None:
    cases: tuple[dict[str, Any], ...] = (
        {"q": "vins Japon confidentielle", "limit": 100},
        {"q": "cosmétiques Japon", "limit": 100},
        {"q": "vins", "country": "country:JP", "limit": 100},
    )
    for params in cases:
        body = client.get("/api/search", params=params, headers=installation.auth("alice")).json()
        ids = {h["id"] for h in body["hits"]}
        assert not ids & _ids(installation, BETA_ONLY)
        assert ids <= _ids(installation, VISIBLE_TO_ALICE)
        assert body["total"] <= len(VISIBLE_TO_ALICE)
        countries = {e["id"]: e["count"] for e in body["facets"]["country"]}
        assert "country:JP" not in countries
        types = {e["id"] for e in body["facets"]["type"]}
        assert not types & {"doctype:country_note", "doctype:regulation"}
    # bob sees his own private note and his organisation's document
    body = client.get(
        "/api/search", params={"q": "vins Japon", "limit": 100}, headers=installation.auth("bob")
    ).json()
    ids = {h["id"] for h in body["hits"]}
    assert _ids(installation, {"doc-beta-secret", "doc-beta-org"}) <= ids
    assert installation.ids["doc-vins-it"] not in ids  # alpha's organisation-only document


def test_search_filters_repeatable(installation: Installation, client: TestClient) -> None:
    params: list[tuple[str, str | int | float | bool | None]] = [
        ("q", "vins"),
        ("country", "country:DE"),
        ("country", "country:IT"),
        ("limit", "100"),
    ]
    body = client.get("/api/search", params=params, headers=installation.auth("alice")).json()
    assert {h["id"] for h in body["hits"]} <= _ids(installation, VISIBLE_TO_ALICE)
    assert _ids(installation, {"doc-vins-de", "doc-vins-it"}) <= {h["id"] for h in body["hits"]}
    body = client.get(
        "/api/search",
        params={"q": "vins", "type": "doctype:sector_analysis"},
        headers=installation.auth("alice"),
    ).json()
    assert {h["id"] for h in body["hits"]} == {installation.ids["doc-vins-de"]}


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 1000}, {"offset": -1}, {"mode": "psychic"}, {"limit": "ten"}]
)
def test_search_bad_parameters(
    installation: Installation, client: TestClient, params: dict[str, Any]
) -> None:
    response = client.get("/api/search", params={"q": "vins", **params}, headers=installation.auth("alice"))
    _assert_error(response, 400, "invalid")
    assert re.search(r"limit|offset|mode", response.json()["error"]["message"])


def test_search_is_audited(installation: Installation, client: TestClient) -> None:
    client.get(
        "/api/search", params={"q": "audit vins", "country": "country:DE"}, headers=installation.auth("alice")
    )
    with installation.rt.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "search").order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None and event.actor_user_id == installation.users["alice"]
        assert event.detail["q"] == "audit vins" and event.detail["country"] == ["country:DE"]
        assert "total" in event.detail
        assert not any(
            installation.tokens["alice"] in str(e.detail) for e in session.scalars(select(AuditEvent))
        )


def test_document_metadata(installation: Installation, client: TestClient) -> None:
    doc_id = installation.ids["doc-vins-de"]
    response = client.get(f"/api/documents/{doc_id}", headers=installation.auth("alice"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == doc_id and body["title"].startswith("Le marché des vins")
    assert body["type"]["id"] == "doctype:sector_analysis" and body["type"]["label"]
    labels = {c["id"]: c for c in body["classifications"]}
    assert labels["country:DE"]["label"] == "Allemagne" and labels["country:DE"]["evidence"] == ["vins"]
    assert body["versions"][0]["number"] == 1 and body["versions"][0]["mime"] == "text/plain"


def test_document_content_download(installation: Installation, client: TestClient) -> None:
    doc_id = installation.ids["doc-vins-de"]
    response = client.get(f"/api/documents/{doc_id}/content", headers=installation.auth("reader"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''doc-vins-de-%C3%A9.txt" in disposition
    assert response.content.startswith(b"Le march")
    with installation.rt.session() as session:
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"document.download", "document.read"} <= actions


@pytest.mark.parametrize(
    ("key", "suffix"),
    [
        ("nope", ""),
        ("doc-beta-secret", ""),
        ("doc-beta-org", ""),
        ("doc-beta-secret", "/content"),
    ],
)
def test_unknown_or_out_of_scope_document_is_404(
    installation: Installation, client: TestClient, key: str, suffix: str
) -> None:
    doc_id = installation.ids.get(key, key)  # "nope" is no document's key: requested as is
    response = client.get(f"/api/documents/{doc_id}{suffix}", headers=installation.auth("alice"))
    _assert_error(response, 404, "not_found")
    assert doc_id not in response.json()["error"]["message"] or "unknown document" in response.text


def test_private_document_visible_to_owner(installation: Installation, client: TestClient) -> None:
    doc_id = installation.ids["doc-beta-secret"]
    assert client.get(f"/api/documents/{doc_id}", headers=installation.auth("bob")).status_code == 200


def test_unknown_route_and_method(client: TestClient) -> None:
    _assert_error(client.get("/api/nothing-here"), 404, "not_found")
    _assert_error(client.delete("/healthz"), 405, "method_not_allowed")


def test_oversized_upload_is_413(installation: Installation, client: TestClient) -> None:
    big = b"%PDF-1.4\n" + b"x" * (MAX_UPLOAD * 3)
    response = client.post(
        "/api/documents",
        files={"file": ("gros.pdf", big, "application/pdf")},
        headers=installation.auth("alice"),
    )
    _assert_error(response, 413, "too_large")
    just_over = b"a" * (MAX_UPLOAD + 10)  # under the multipart slack of the body cap: caught while reading
    response = client.post(
        "/api/documents",
        files={"file": ("note.txt", just_over, "text/plain")},
        headers=installation.auth("alice"),
    )
    _assert_error(response, 413, "too_large")


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("vide.pdf", b"", 415),
        ("programme.exe", b"MZ\x90\x00", 415),
        ("faux.pdf", b"MZ\x90\x00rest", 415),
        ("archive.docx", b"not a zip", 415),
        ("photo.jpg", b"\xff\xd8\xff", 415),
    ],
)
def test_bad_uploads_rejected(
    installation: Installation, client: TestClient, name: str, data: bytes, status: int
) -> None:
    response = client.post(
        "/api/documents",
        files={"file": (name, data, "application/octet-stream")},
        headers=installation.auth("alice"),
    )
    _assert_error(response, status, "unsupported")


def test_upload_missing_file_is_400(installation: Installation, client: TestClient) -> None:
    _assert_error(
        client.post("/api/documents", data={"visibility": "network"}, headers=installation.auth("alice")),
        400,
        "invalid",
    )


def test_upload_needs_contributor_role(installation: Installation, client: TestClient) -> None:
    response = client.post(
        "/api/documents",
        files={"file": ("a.txt", b"bonjour", "text/plain")},
        headers=installation.auth("reader"),
    )
    _assert_error(response, 403, "forbidden")


def test_upload_calls_ingest(
    installation: Installation, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    results: Iterator[dict[str, Any]] = iter(
        [
            {"status": "ok", "id": "doc-new", "reason": None, "title": "Nouveau"},
            {"status": "duplicate", "id": "doc-new", "reason": "same content", "title": "Nouveau"},
            {"status": "failed", "id": None, "reason": "no text could be extracted", "title": None},
        ]
    )

    def fake_upload(user: Any, **kwargs: Any) -> UploadResult:
        calls.append(kwargs)
        return UploadResult(**next(results))

    monkeypatch.setattr(installation.rt.documents, "upload", fake_upload)
    files = {"file": ("note vins.txt", b"Vins en Allemagne", "text/plain")}
    first = client.post(
        "/api/documents",
        files=files,
        data={"visibility": "network", "doc_type": "doctype:news"},
        headers=installation.auth("alice"),
    )
    assert first.status_code == 201 and first.json()["id"] == "doc-new" and first.json()["status"] == "ok"
    assert calls[0]["filename"] == "note vins.txt" and calls[0]["visibility"] == "network"
    assert calls[0]["data"] == b"Vins en Allemagne" and calls[0]["doc_type"] == "doctype:news"
    second = client.post("/api/documents", files=files, headers=installation.auth("alice"))
    assert second.status_code == 200 and second.json()["status"] == "duplicate"
    _assert_error(
        client.post("/api/documents", files=files, headers=installation.auth("alice")),
        422,
        "extraction_failed",
    )
    _assert_error(
        client.post(
            "/api/documents", files=files, data={"visibility": "everyone"}, headers=installation.auth("alice")
        ),
        400,
        "invalid",
    )


def test_taxonomy_endpoints(installation: Installation, client: TestClient) -> None:
    _assert_error(client.get("/api/taxonomy/schemes"), 401)
    schemes = client.get("/api/taxonomy/schemes", headers=installation.auth("alice")).json()
    assert {"naf", "country", "doctype"} <= {s["id"] for s in schemes["items"]}
    body = client.get(
        "/api/taxonomy/concepts",
        params={"scheme": "country", "q": "allem"},
        headers=installation.auth("alice"),
    ).json()
    assert "country:DE" in {c["id"] for c in body["items"]} and body["total"] >= 1
    _assert_error(
        client.get("/api/taxonomy/concepts", params={"limit": 0}, headers=installation.auth("alice")), 400
    )
    _assert_error(
        client.get("/api/taxonomy/concepts", params={"scheme": "zzz"}, headers=installation.auth("alice")),
        404,
        "not_found",
    )


def test_openapi_and_offline_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {
        "/api/search",
        "/api/documents",
        "/api/documents/{doc_id}",
        "/api/documents/{doc_id}/content",
        "/api/taxonomy/schemes",
        "/api/taxonomy/concepts",
        "/healthz",
    } <= set(spec["paths"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    for host in re.findall(r"(?:src|href)=[\"'](https?://[^\"'/]+)", docs.text):
        pytest.fail(f"/docs loads an asset from {host}")
    assert "cdn" not in docs.text.lower()
    asset = re.search(r"src=[\"']([^\"']+\.js)", docs.text)
    assert asset and client.get(asset.group(1)).status_code == 200


def test_concept_search_matches_words_not_substrings(installation: Installation, client: TestClient) -> None:
    """Issue 12 defect 11: ``q=vin`` finds wine concepts first and never "bovins"."""
    body = client.get(
        "/api/taxonomy/concepts", params={"q": "vin", "scheme": "naf"}, headers=installation.auth("alice")
    ).json()
    labels = [c["label"].lower() for c in body["items"]]
    assert labels and "vin" in labels[0]
    assert not any("bovin" in label for label in labels)
