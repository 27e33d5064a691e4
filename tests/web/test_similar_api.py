"""Near-duplicates at upload through the API and the pages: the uploader is told « ressemble à N % à »,
the curator lists the pairs, the document page shows both directions; another organisation's documents
are never reported. Also the PDF thumbnail route on an uploaded PDF (one installation for both)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ged import previews
from tests.ged.test_neardup import EDITED, NOTE, UNRELATED
from tests.web.conftest import Installation, make_installation
from tests.web.test_pages import _csrf, _sign_in
from tfe.app.demo import CORPUS_DIR
from tfe.app.web.app import create_app
from tfe.core.models import AuditEvent


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    runtime, seed = make_installation(tmp_path_factory.mktemp("similar"))
    with TestClient(create_app(runtime)) as client:
        yield Installation(runtime, client, seed.tokens, seed.users, seed.orgs, seed.ids)
    runtime.close()


@pytest.fixture(scope="module")
def uploaded(web: Installation) -> dict[str, dict[str, object]]:
    """Alice uploads a note, an edited copy and an unrelated text; Bob (beta) uploads another copy."""

    def post(who: str, name: str, text: str, visibility: str = "organisation") -> dict[str, object]:
        files = {"file": (name, text.encode(), "text/plain")}
        response = web.client.post(
            "/api/documents", files=files, data={"visibility": visibility}, headers=web.auth(who)
        )
        assert response.status_code == 201, response.text
        body: dict[str, object] = response.json()
        return body

    return {
        "note": post("alice", "note-vins.txt", "Vins en Allemagne\n\n" + NOTE),
        "copy": post("alice", "note-vins-v2.txt", "Vins en Allemagne (mise à jour)\n\n" + EDITED),
        "other": post("alice", "cosmetiques.txt", "Cosmétiques au Japon\n\n" + UNRELATED),
        "beta": post("bob", "copie-beta.txt", "Note beta\n\n" + EDITED + " Version beta."),
    }


def test_upload_answers_the_near_duplicates_the_uploader_may_see(
    uploaded: dict[str, dict[str, object]],
) -> None:
    note, copy = uploaded["note"], uploaded["copy"]
    assert note["similar"] == []
    similar = copy["similar"]
    assert isinstance(similar, list) and len(similar) == 1
    assert similar[0]["id"] == note["id"] and similar[0]["title"] == note["title"]
    assert 0.8 <= similar[0]["score"] < 1.0
    assert similar[0]["url"] == f"/documents/{note['id']}"
    assert uploaded["other"]["similar"] == []
    # Bob's copy resembles Alice's notes, which beta may not see: nothing is disclosed
    assert uploaded["beta"]["similar"] == []


def test_curators_list_pairs_in_their_scope(
    web: Installation, uploaded: dict[str, dict[str, object]]
) -> None:
    listed = web.client.get("/api/documents/similar", headers=web.auth("carol"))
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total"] == 1
    pair = body["items"][0]
    assert pair["document"]["id"] == uploaded["copy"]["id"]
    assert pair["similar"]["id"] == uploaded["note"]["id"]
    assert pair["version"] == 1 and pair["score"] >= 0.8
    assert web.client.get("/api/documents/similar", headers=web.auth("alice")).status_code == 403
    assert web.client.get("/api/documents/similar", headers=web.auth("bob")).status_code == 403
    assert web.client.get("/api/documents/similar?limit=0", headers=web.auth("carol")).status_code == 400
    with web.rt.session() as session:
        upload = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "document.upload", AuditEvent.target_id == uploaded["copy"]["id"]
            )
        ).one()
        assert upload.detail["similar"][0]["id"] == uploaded["note"]["id"]


def test_document_pages_show_both_directions(
    web: Installation, uploaded: dict[str, dict[str, object]]
) -> None:
    client = web.client
    client.cookies.clear()
    _sign_in(client)
    note_id, copy_id = uploaded["note"]["id"], uploaded["copy"]["id"]
    copy_page = client.get(f"/documents/{copy_id}").text
    title = uploaded["note"]["title"]
    assert re.search(
        rf'ressemble à \d+ % à <a href="/documents/{note_id}">« {re.escape(str(title))} »</a>', copy_page
    )
    note_page = client.get(f"/documents/{note_id}").text
    assert "Ressemblent à ce document" in note_page and f'href="/documents/{copy_id}"' in note_page
    other_page = client.get(f"/documents/{uploaded['other']['id']}").text
    assert "Documents ressemblants" not in other_page
    assert 'href="/documents/ressemblances"' not in other_page  # not in a contributor's menu
    assert client.get("/documents/ressemblances").status_code == 403  # alice: a contributor
    client.cookies.clear()
    _sign_in(client, "carol@alpha.fr")
    listing = client.get("/documents/ressemblances")
    assert listing.status_code == 200
    assert 'href="/documents/ressemblances">Ressemblances</a>' in listing.text  # the curators' menu
    assert f'href="/documents/{copy_id}"' in listing.text and f'href="/documents/{note_id}"' in listing.text
    assert "ressemble à" in listing.text
    client.cookies.clear()


def test_upload_page_tells_the_uploader(web: Installation, uploaded: dict[str, dict[str, object]]) -> None:
    client = web.client
    client.cookies.clear()
    _sign_in(client)
    token = _csrf(client.get("/deposer").text)
    text = "Vins en Allemagne (troisième version)\n\n" + EDITED.replace("un point trimestriel", "un bilan")
    response = client.post(
        "/deposer",
        data={"csrf": token, "visibility": "organisation", "doc_type": ""},
        files={"files": ("note-v3.txt", text.encode(), "text/plain")},
    )
    assert response.status_code == 200, response.text
    assert re.search(r'Ressemble à \d+ % à <a href="/documents/[0-9a-f]+">« ', response.text)
    client.cookies.clear()


def test_pdf_thumbnail_route(web: Installation) -> None:
    client = web.client
    pdf = (CORPUS_DIR / "analyse-sectorielle-vins-allemagne.pdf").read_bytes()
    created = client.post(
        "/api/documents", files={"file": ("vins.pdf", pdf, "application/pdf")}, headers=web.auth("alice")
    )
    assert created.status_code in (200, 201), created.text
    doc_id = created.json()["id"]
    answer = client.get(f"/api/documents/{doc_id}/preview", headers=web.auth("alice"))
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    assert answer.headers["cache-control"].startswith("private")
    assert answer.headers["x-preview-kind"] == "image"
    assert answer.content[:8] == b"\x89PNG\r\n\x1a\n" and previews.png_size(answer.content)[0] == 300
    again = client.get(f"/api/documents/{doc_id}/preview?version=1", headers=web.auth("alice"))
    assert again.content == answer.content  # the cached drawing
    assert client.get(f"/api/documents/{doc_id}/preview", headers=web.auth("bob")).status_code == 404
    with web.rt.session() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "document.preview", AuditEvent.target_id == doc_id)
        ).all()
        assert [e.detail["kind"] for e in events] == ["image", "image"]
    client.cookies.clear()
    _sign_in(client)
    page = client.get(f"/documents/{doc_id}").text
    assert f'src="/api/documents/{doc_id}/preview?version=1"' in page and 'width="300"' in page
    client.cookies.clear()


def test_folder_ingest_records_near_duplicates(
    web: Installation, uploaded: dict[str, dict[str, object]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("dossier")
    (folder / "reprise.txt").write_text("Reprise de la note\n\n" + EDITED + " Annexe.", encoding="utf-8")
    (folder / "autre.txt").write_text("Autre sujet\n\n" + UNRELATED[::-1], encoding="utf-8")
    report = web.rt.documents.ingest_paths([folder], org_slug="alpha", embed=False, progress=False)
    by_name = {Path(str(i["input"])).name: i for i in report["items"]}
    assert by_name["reprise.txt"]["status"] == "ok"
    assert uploaded["note"]["id"] in {s["id"] for s in by_name["reprise.txt"]["similar"]}
    assert by_name["autre.txt"]["similar"] == []
    with web.rt.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "ingest.files").order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None and event.detail["similar"] == 1
