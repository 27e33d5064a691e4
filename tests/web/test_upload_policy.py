"""The upload route under the one acceptance policy (issue 12 defects 2, 7, 8, 19, 21).

415 ``unsupported`` for what the policy refuses before extraction (the same refusals ``tfe ingest``
records), 422 for a file with the right header that cannot be read, 413 stating the configured
``TFE_MAX_UPLOAD_BYTES``, 400 for a document type outside the ``doctype`` scheme; sanitised names on
SQLite and PostgreSQL; every refusal leaves a failed ingest record (run kind ``upload``) and a
``document.upload`` audit event with status ``refused``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ged.service import DocumentService
from ingest.item import IngestItem, Processed
from ingest.models import IngestRecord, IngestRun
from ingest.runner import RESTARTED, IngestRunner, recover_interrupted
from tests.conftest import pg_schema
from tests.paths import SHARED_DATA
from tests.web.conftest import MAX_UPLOAD, Installation, make_installation
from tfe.app.cli.demo import server_app
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.app.web.app import create_app
from tfe.core.models import AuditEvent, User
from tfe.core.security import identity
from tfe.core.settings import Settings

DOCS = SHARED_DATA / "fixtures" / "documents"
HTML = b"<!DOCTYPE html><html><body><p>page web</p></body></html>"
TEXT = "Modèle de devis : accompagnement d'une PME au salon ProWein de Düsseldorf, vins et spiritueux.\n"


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    """An installation of this module's own: real uploads here must not add documents to the shared one."""
    rt, seed = make_installation(tmp_path_factory.mktemp("upload-policy"))
    with TestClient(create_app(rt)) as client:
        yield Installation(rt, client, seed.tokens, seed.users, seed.orgs, seed.ids)
    rt.close()


@pytest.fixture
def client(installation: Installation) -> TestClient:
    return installation.client


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    message: str = body["error"]["message"]
    return message


def _post(client: TestClient, headers: dict[str, str], name: str, data: bytes, **form: str) -> Any:
    return client.post(
        "/api/documents", files={"file": (name, data, "application/octet-stream")}, data=form, headers=headers
    )


def _raw_multipart(filename: bytes, data: bytes, **fields: str) -> tuple[bytes, dict[str, str]]:
    """A multipart body written byte by byte, so that the file name reaches the server as sent."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + filename
        + b'"\r\nContent-Type: text/plain\r\n\r\n'
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def _refusals(rt: Runtime, user_id: int) -> tuple[list[IngestRecord], list[AuditEvent]]:
    """The failed upload records of ``user_id`` and the refused upload audit events, oldest first."""
    with rt.session() as session:
        records = list(
            session.scalars(
                select(IngestRecord)
                .join(IngestRun, IngestRun.id == IngestRecord.run_id)
                .where(IngestRun.kind == "upload", IngestRecord.input_key.startswith(f"upload:{user_id}:"))
                .order_by(IngestRecord.id)
            )
        )
        events = [
            e
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "document.upload", AuditEvent.actor_user_id == user_id)
                .order_by(AuditEvent.id)
            )
            if e.detail.get("status") == "refused"
        ]
    return records, events


@pytest.mark.parametrize(
    ("name", "source", "reason"),
    [
        (
            "serveur.key",
            b"-----BEGIN PRIVATE KEY-----\nMIIE\n",
            "a private key or certificate (PEM) is not accepted",
        ),
        ("archive.zip", b"PK\x03\x04" + b"\x00" * 64, "unsupported file type '.zip'"),
        ("page.pdf", HTML, "content does not match the .pdf extension: it is an HTML page"),
        ("faux.pdf", b"quelques mots", "not a PDF file (no %PDF- header)"),
    ],
)
def test_unsupported_is_415_like_the_cli_and_recorded(
    installation: Installation, client: TestClient, name: str, source: bytes | str, reason: str
) -> None:
    if isinstance(source, bytes):
        data = source
    else:
        path = DOCS / source
        data = (path if path.is_file() else sorted(path.iterdir())[0]).read_bytes()[:8192]  # under the cap
    message = _error(_post(client, installation.auth("alice"), name, data), 415, "unsupported")
    assert message.startswith(f"{name}: {reason}")
    records, events = _refusals(installation.rt, installation.users["alice"])
    assert records[-1].status == "failed" and records[-1].reason is not None
    assert records[-1].reason.startswith(f"{name}: {reason}") or records[-1].reason.startswith(reason)
    assert records[-1].input_key == f"upload:{installation.users['alice']}:{name}"
    assert events[-1].detail["filename"] == name and events[-1].detail["reason"] == records[-1].reason


def test_right_header_broken_inside_is_422(installation: Installation, client: TestClient) -> None:
    """Screening passes (a PDF header), extraction fails: corrupt, not unsupported."""
    response = _post(client, installation.auth("alice"), "rapport.pdf", b"%PDF-1.4\nrien de lisible")
    _error(response, 422, "extraction_failed")


def test_413_states_the_configured_limit_and_is_recorded(
    installation: Installation, client: TestClient
) -> None:
    """Defect 8: the message gave the internal cap (setting + multipart slack), not the setting."""
    expected = f"upload over the {MAX_UPLOAD}-byte limit (TFE_MAX_UPLOAD_BYTES)"
    alice = installation.users["alice"]
    before = len(_refusals(installation.rt, alice)[1])
    big = b"%PDF-1.4\n" + b"x" * (MAX_UPLOAD * 3)  # over the body cap: refused by the middleware
    assert _error(_post(client, installation.auth("alice"), "gros.pdf", big), 413, "too_large") == expected
    just_over = b"a" * (MAX_UPLOAD + 10)  # within the multipart slack: refused while reading the file
    response = _post(client, installation.auth("alice"), "note.txt", just_over)
    assert _error(response, 413, "too_large") == expected
    records, events = _refusals(installation.rt, alice)
    assert [e.detail["reason"] for e in events[before:]] == [expected, expected]
    assert records[-1].reason == expected and records[-1].input_key == f"upload:{alice}:note.txt"
    assert records[-2].reason == expected and records[-2].input_key == f"upload:{alice}:document"
    exact = b"a" * MAX_UPLOAD  # the configured size itself passes the cap
    assert _post(client, installation.auth("reader"), "exact.txt", exact).status_code == 403


@pytest.mark.parametrize("value", ["banane", "naf:11", "country:DE"])
def test_unknown_doc_type_is_400_listing_the_types(
    installation: Installation, client: TestClient, value: str
) -> None:
    """Defects 2 and 21: ``banane`` was stored raw, ``naf:11`` as a document type."""
    response = _post(client, installation.auth("alice"), "note.txt", TEXT.encode(), doc_type=value)
    message = _error(response, 400, "invalid")
    assert f"unknown document type {value!r}" in message and "quote_template" in message
    _, events = _refusals(installation.rt, installation.users["alice"])
    assert events[-1].detail["doc_type"] == value


def _stored_filename(client: TestClient, headers: dict[str, str], response: Any) -> tuple[str, str | None]:
    assert response.status_code == 201, response.text
    meta = client.get(response.json()["url"], headers=headers).json()
    return meta["versions"][0]["filename"], (meta["type"] or {}).get("id")


def test_sanitised_name_and_doc_type_notation(installation: Installation, client: TestClient) -> None:
    """Defect 19 on SQLite: the NUL is dropped before anything is stored; ``quote_template`` is taken."""
    body, headers = _raw_multipart(b"a.exe\x00.txt", TEXT.encode(), doc_type="quote_template")
    response = client.post("/api/documents", content=body, headers={**headers, **installation.auth("alice")})
    assert _stored_filename(client, installation.auth("alice"), response) == (
        "a.exe.txt",
        "doctype:quote_template",
    )
    refused = _post(client, installation.auth("alice"), "\u202eexe.pdf\u202c.exe", b"MZ\x90\x00\x03\x00\x00")
    assert _error(refused, 415, "unsupported").startswith("exe.pdf.exe: unsupported file type '.exe'")


@pytest.fixture(scope="module")
def postgres_install(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with pg_schema() as url:
        settings = Settings(
            data_dir=tmp_path_factory.mktemp("pg-upload"),
            database_url=url,
            environment="test",
            max_upload_bytes=MAX_UPLOAD,
            admin_password="admin-password-123",
            secret_key="test-secret-key",
        )
        rt = Runtime(settings)
        init_installation(rt)
        with rt.session() as session:
            org = identity.get_or_create_org(session, "alpha", "CCI Alpha", "regional_chamber")
            user = identity.create_user(
                session, email="ana@alpha.fr", org=org, role="contributor", name="Ana", password="x" * 20
            )
            token = identity.create_token(session, user, name="tests")[1]
        with TestClient(create_app(rt)) as client:
            yield client, {"Authorization": f"Bearer {token}"}
        rt.close()


@pytest.mark.postgres
def test_nul_in_name_on_postgres_is_not_a_500(postgres_install: tuple[TestClient, dict[str, str]]) -> None:
    """Defect 19 on PostgreSQL, which refuses NUL in text: the upload answered 500."""
    client, auth = postgres_install
    body, headers = _raw_multipart(b"a.exe\x00.txt", TEXT.encode())
    response = client.post("/api/documents", content=body, headers={**headers, **auth})
    assert _stored_filename(client, auth, response)[0] == "a.exe.txt"
    body, headers = _raw_multipart(b"b.txt\x00.exe", b"MZ\x90\x00")  # refused, and recorded without the NUL
    assert client.post("/api/documents", content=body, headers={**headers, **auth}).status_code == 415
    refused = _post(client, auth, "c.txt", TEXT.encode(), doc_type="ban\x00ane")
    assert refused.status_code == 400, refused.text


class _Crash:
    """A pipeline whose process dies mid-upload (the server killed)."""

    def __init__(self, sink: Any) -> None:
        self.sink = sink

    def warm_up(self) -> None:
        pass

    def process(self, item: IngestItem) -> Processed:
        raise SystemExit("server killed")


def test_upload_cut_by_a_crash_is_failed_at_restart(installation: Installation, tmp_path: Path) -> None:
    """Defect 21: the upload stayed ``pending`` after a restart; ``recover_interrupted`` closes it."""
    rt = installation.rt
    sink = rt.pipeline("document", False).sink
    service = DocumentService(
        rt.session_factory,
        lambda embed: IngestRunner(rt.session_factory, _Crash(sink), rt.settings),
        default_org_slug="alpha",
        admin_email=rt.settings.admin_email,
        referential=lambda: rt.referential,
    )
    with rt.session() as session:
        user = session.get(User, installation.users["alice"])
        assert user is not None
    data = f"{TEXT} Note {uuid.uuid4().hex}.".encode()  # new bytes: no duplicate, so the pipeline runs
    with pytest.raises(SystemExit):
        service.upload(user, filename="coupe.txt", data=data, visibility="organisation", doc_type=None)
    key = f"upload:{user.id}:coupe.txt"
    with rt.session() as session:
        record = session.scalar(select(IngestRecord).where(IngestRecord.input_key == key))
        assert record is not None and record.status == "pending"
    server_app(rt, backfill=False)  # what `tfe serve` and `tfe demo` build: it recovers the pending upload
    with rt.session() as session:
        record = session.scalar(select(IngestRecord).where(IngestRecord.input_key == key))
        assert record is not None and (record.status, record.reason) == ("failed", RESTARTED)
    assert recover_interrupted(rt.session_factory) == 0  # nothing left to recover
