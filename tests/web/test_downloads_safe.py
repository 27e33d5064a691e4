"""Stored files come back as attachments with a type no browser runs: a real uploaded HTML page and an SVG
image (inside an ``.xml`` file: ``.svg`` itself is refused at upload) download as octet-stream, with the
RFC 6266 file name, ``nosniff`` and a sandboxing policy; passive formats keep their type."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import make_installation
from tfe.app.web.app import create_app
from tfe.app.web.downloads import OCTET_STREAM, content_disposition, safe_media_type

HTML_PAGE = (
    b"<!doctype html><html><head><title>Note export Canada</title></head><body>"
    b"<h1>Exporter au Canada</h1><p>Les salons professionnels de Toronto et Montreal.</p>"
    b"<img src=x onerror=\"alert(document.cookie)\"><script>fetch('/api/search?q=secret')</script>"
    b"</body></html>"
)
SVG_IMAGE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<title>Carte des ports du Vietnam</title><script>alert(document.domain)</script>"
    b"<text x='0' y='5'>Haiphong, Da Nang, Ho Chi Minh-Ville</text></svg>"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    rt, seed = make_installation(tmp_path_factory.mktemp("downloads"))
    with TestClient(create_app(rt)) as client:
        yield client, {"Authorization": f"Bearer {seed.tokens['alice']}"}
    rt.close()


def _upload(client: TestClient, auth: dict[str, str], name: str, data: bytes, mime: str) -> str:
    created = client.post("/api/documents", files={"file": (name, data, mime)}, headers=auth)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _assert_attachment(answer: object, media: str, filename: str) -> None:
    headers = answer.headers  # type: ignore[attr-defined]
    assert headers["content-type"].split(";")[0] == media
    assert headers["content-disposition"].startswith("attachment; filename=")
    assert f'filename="{filename}"' in headers["content-disposition"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize(
    ("name", "data", "sent_as"),
    [
        ("note-canada.html", HTML_PAGE, "text/html"),
        ("page-canada.xhtml", HTML_PAGE.replace(b"Canada", b"Quebec"), "application/xhtml+xml"),
        ("carte-vietnam.xml", SVG_IMAGE, "image/svg+xml"),
    ],
)
def test_scriptable_uploads_download_as_octet_stream(
    site: tuple[TestClient, dict[str, str]], name: str, data: bytes, sent_as: str
) -> None:
    client, auth = site
    doc_id = _upload(client, auth, name, data, sent_as)
    answer = client.get(f"/api/documents/{doc_id}/content", headers=auth)
    assert answer.status_code == 200 and answer.content == data  # the bytes untouched
    _assert_attachment(answer, OCTET_STREAM, name)
    version = client.get(f"/api/documents/{doc_id}/content", params={"version": 1}, headers=auth)
    assert version.status_code == 200
    _assert_attachment(version, OCTET_STREAM, name)


def test_svg_files_are_refused_at_upload(site: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = site
    refused = client.post(
        "/api/documents", files={"file": ("carte.svg", SVG_IMAGE, "image/svg+xml")}, headers=auth
    )
    assert refused.status_code == 415 and refused.json()["error"]["code"] == "unsupported"


def test_plain_text_keeps_its_type_and_odd_names_stay_in_the_header(
    site: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = site
    name = "rapport; v2 %41 été.txt"  # (a client sends quotes as %22 in multipart names)
    doc_id = _upload(client, auth, name, "Rapport sur la filière café au Brésil.\n".encode(), "text/plain")
    answer = client.get(f"/api/documents/{doc_id}/content", headers=auth)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="rapport v2 41 ete.txt"; filename*=UTF-8')
    assert "%C3%A9t%C3%A9.txt" in disposition and "\n" not in disposition


@pytest.mark.parametrize(
    ("stored", "served"),
    [
        ("text/html; charset=UTF-8", OCTET_STREAM),
        ("application/xhtml+xml", OCTET_STREAM),
        ("image/svg+xml", OCTET_STREAM),
        ("application/xml", OCTET_STREAM),
        ("text/xml", OCTET_STREAM),
        ("application/vnd.wap.xhtml+xml", OCTET_STREAM),
        ("application/javascript", OCTET_STREAM),
        ("", OCTET_STREAM),
        ("application/pdf", "application/pdf"),
        ("text/plain; charset=ISO-8859-1", "text/plain; charset=iso-8859-1"),
        ('text/plain; charset="x"; boundary=y', "text/plain"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", None),
    ],
)
def test_safe_media_type(stored: str, served: str | None) -> None:
    assert safe_media_type(stored) == (served or stored)


def test_content_disposition_never_breaks_the_header() -> None:
    header = content_disposition('a"b\\c;d\r\ne/f\x00.pdf')
    assert header == "attachment; filename=\"abcdef.pdf\"; filename*=UTF-8''a%22b%5Cc%3Bd%0D%0Ae%2Ff%00.pdf"
    assert "\r" not in header and "\n" not in header and "\x00" not in header
    assert content_disposition("...").startswith('attachment; filename="document"')
