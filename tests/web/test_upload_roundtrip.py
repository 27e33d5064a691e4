"""A real upload through the API: Tika, spaCy, classifier, embeddings, database, blob and index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import make_installation
from tfe.app.demo import CORPUS_DIR
from tfe.app.web.app import create_app

DOCX = CORPUS_DIR / "devis-accompagnement-salon-prowein-allemagne.docx"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    rt, seed = make_installation(tmp_path_factory.mktemp("upload"))
    with TestClient(create_app(rt)) as client:
        yield client, seed.tokens
    rt.close()


def bearer(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


def test_upload_classify_read_download_and_scope(fresh: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = fresh
    data = Path(DOCX).read_bytes()
    files = {
        "file": (DOCX.name, data, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    }
    created = client.post(
        "/api/documents", files=files, data={"visibility": "organisation"}, headers=bearer(tokens, "alice")
    )
    assert created.status_code == 201, created.text
    doc_id = created.json()["id"]

    meta = client.get(f"/api/documents/{doc_id}", headers=bearer(tokens, "alice")).json()
    concepts = {c["id"] for c in meta["classifications"]}
    assert "country:DE" in concepts
    assert any(c.startswith("naf:11") for c in concepts)  # wine: beverages
    content = client.get(f"/api/documents/{doc_id}/content", headers=bearer(tokens, "alice"))
    assert content.status_code == 200 and content.content == data

    mine = client.get(
        "/api/search", params={"q": "ProWein Düsseldorf"}, headers=bearer(tokens, "alice")
    ).json()
    assert doc_id in [h["id"] for h in mine["hits"]]
    theirs = client.get(
        "/api/search", params={"q": "ProWein Düsseldorf"}, headers=bearer(tokens, "bob")
    ).json()
    assert doc_id not in [h["id"] for h in theirs["hits"]]
    assert client.get(f"/api/documents/{doc_id}", headers=bearer(tokens, "bob")).status_code == 404

    again = client.post("/api/documents", files=files, headers=bearer(tokens, "alice"))
    assert again.status_code == 200 and again.json()["status"] == "duplicate" and again.json()["id"] == doc_id


def test_corrupt_upload_is_422_and_recorded(fresh: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = fresh
    files = {"file": ("rapport.pdf", b"%PDF-1.4\nthis is not really a pdf", "application/pdf")}
    response = client.post("/api/documents", files=files, headers=bearer(tokens, "alice"))
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "extraction_failed" and body["error"]["message"]


def test_same_bytes_from_another_organisation_is_stored_as_its_own(
    fresh: tuple[TestClient, dict[str, str]],
) -> None:
    """Issue 12 defect 1: de-duplication never reports a document the uploader may not see."""
    client, tokens = fresh
    data = b"Note interne alpha : tarifs de prospection en Allemagne, salon ProWein, vins du Bordelais.\n"
    files = {"file": ("footnotes.txt", data, "text/plain")}
    alpha = client.post(
        "/api/documents", files=files, data={"visibility": "organisation"}, headers=bearer(tokens, "alice")
    )
    assert alpha.status_code == 201, alpha.text
    beta = client.post(
        "/api/documents", files=files, data={"visibility": "organisation"}, headers=bearer(tokens, "bob")
    )
    assert beta.status_code == 201, beta.text
    assert beta.json()["status"] == "ok" and beta.json()["id"] != alpha.json()["id"]
    own, other = beta.json()["id"], alpha.json()["id"]
    assert client.get(f"/api/documents/{own}", headers=bearer(tokens, "bob")).status_code == 200
    assert client.get(f"/api/documents/{other}", headers=bearer(tokens, "bob")).status_code == 404
    # within one organisation the same bytes are still a duplicate of the visible copy
    again = client.post("/api/documents", files=files, headers=bearer(tokens, "bob"))
    assert again.status_code == 200 and again.json()["id"] == beta.json()["id"]
