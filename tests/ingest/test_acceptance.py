"""The one acceptance policy (``ingest.acceptance``) and the runner's use of it; refusals and crashes
recorded (``record_refused``, ``recover_interrupted``) on SQLite and PostgreSQL.

Issue 12 defects 7, 19 and 21.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import ged.models
import ingest.models
import taxonomy.models
import tfe.core.models
import veille.models
from ingest.acceptance import ALLOWED_EXTENSIONS, HEAD_BYTES, RefusedInput, clean_filename, screen, sniff
from ingest.models import IngestRecord, IngestRun
from ingest.runner import RESTARTED, IngestRunner, record_refused, recover_interrupted
from tests.conftest import tables
from tests.ingest.doubles import NeverPipeline
from tests.paths import SHARED_DATA
from tfe.core.errors import UnsupportedInputError
from tfe.core.settings import Settings

_TABLES = (tfe.core.models, taxonomy.models, ingest.models, ged.models, veille.models)  # registered on Base
DOCS = SHARED_DATA / "fixtures" / "documents"
PEM = b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def _refusal(name: str, data: bytes) -> str:
    with pytest.raises(RefusedInput) as caught:
        screen(name, data[:4096], len(data))
    return caught.value.reason


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        (
            "serveur.key",
            b"-----BEGIN PRIVATE KEY-----\nMIIE",
            "a private key or certificate (PEM) is not accepted",
        ),
        ("archive.zip", b"PK\x03\x04rest", "unsupported file type '.zip'"),
        ("lettre.wpd", b"plain words", "content does not match the .wpd extension: it is plain text"),
        ("vide.pdf", b"", "empty file"),
        ("page.pdf", HTML, "content does not match the .pdf extension: it is an HTML page"),
        ("faux.pdf", b"just some words", "not a PDF file (no %PDF- header)"),
        ("faux.pdf", b"MZ\x90\x00\x03\x00\x00\x00", "an executable program is not accepted"),
        ("note.txt", b"\x1f\x8b\x08\x00rest", "a compressed archive is not accepted"),
        ("note.txt", b"PK\x03\x04rest", "content does not match the .txt extension: it is a ZIP archive"),
        ("note.txt", b"%PDF-1.7\n", "content does not match the .txt extension: it is a PDF file"),
        ("archive.docx", b"not a zip", "content does not match the .docx extension: it is plain text"),
        ("classeur.xls", b"PK\x03\x04", "content does not match the .xls extension: it is a ZIP archive"),
        ("photo.odt", b"\xff\xd8\xff\xe0", "content does not match the .odt extension: it is an image"),
        ("texte.rtf", HTML, "content does not match the .rtf extension: it is an HTML page"),
    ],
)
def test_refusals_have_a_clear_reason(name: str, data: bytes, words: str) -> None:
    assert _refusal(name, data).startswith(words)


def test_refusal_is_an_unsupported_error() -> None:
    """415 ``unsupported`` on the API: the policy's error is the kernel's ``UnsupportedInputError``."""
    assert issubclass(RefusedInput, UnsupportedInputError) and RefusedInput("x").http_status == 415


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("rapport.pdf", b"%PDF-1.4\nbroken inside"),  # right header: extraction decides (422 if unreadable)
        ("protege.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),  # a password-protected OOXML file is OLE
        ("ancien.doc", b"{\\rtf1\\ansi hello}"),  # word processors save RTF under .doc
        ("page.txt", HTML),  # text formats take any text
        ("MZ-notes.txt", b"MZ Export: notes de salon"),
        ("bmw.txt", b"BMW en Allemagne"),
        ("utf16.csv", "a;b\n".encode("utf-16")),
    ],
)
def test_accepted(name: str, data: bytes) -> None:
    screen(name, data[:4096], len(data))


def test_every_allowed_fixture_of_the_shared_corpus_is_judged_by_content() -> None:
    """The real files of each allowed type pass, bar the few whose bytes are not that type."""
    refused = set()
    for path in sorted(DOCS.rglob("*")):
        if path.is_file() and path.suffix.lower() in ALLOWED_EXTENSIONS:
            data = path.read_bytes()
            try:
                screen(path.name, data[:4096], len(data))
            except RefusedInput:
                refused.add(path.name)
    assert "testODTnotaZipFile.odt" in refused and "testPDF.pdf" not in refused
    assert len(refused) <= 8


def test_sniff() -> None:
    assert sniff(b"%PDF-1.4") == "pdf" and sniff(b"  <html>") == "html" and sniff(b"a\x00b") == "binary"
    assert sniff(b"\xef\xbb\xbfbonjour") == "text" and sniff(b"#!/bin/sh\n") == "executable"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a.exe\x00.txt", "a.exe.txt"),
        ("rapport\u202efdp.exe", "rapportfdp.exe"),  # a right-to-left override that shows "exe.pdf"
        ("\u2066devis\u2069.docx", "devis.docx"),
        ("C:\\Users\\ana\\devis.docx", "devis.docx"),
        ("../../etc/passwd", "passwd"),
        ("note\r\n\t.txt", "note.txt"),
        ("rapport.pdf. . ", "rapport.pdf"),
        (".pdf", "document.pdf"),
        ("..", "document"),
        ("\x00\u202e", "document"),
        (None, "document"),
        ("e\u0301te\u0301.txt", "été.txt"),  # NFC
    ],
)
def test_clean_filename(raw: str | None, clean: str) -> None:
    assert clean_filename(raw) == clean


def test_clean_filename_defaults_by_content_and_caps_length() -> None:
    assert clean_filename("\u202e", b"%PDF-1.4") == "document.pdf"
    assert clean_filename("", b"bonjour") == "document.txt"
    long = clean_filename("x" * 500 + ".docx")
    assert len(long) == 200 and long.endswith(".docx")


# -- the runner ---------------------------------------------------------------------------------------


@pytest.fixture
def factory(db_settings: Settings) -> Iterator[sessionmaker[Session]]:
    with tables(db_settings) as made:
        yield made


def test_cli_runner_refuses_what_the_api_refuses(
    factory: sessionmaker[Session], db_settings: Settings, tmp_path: Path
) -> None:
    """Defect 7: ``tfe ingest`` and the API disagreed; one policy refuses the same files the same way."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "serveur.key").write_bytes(PEM)
    (folder / "archive.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    (folder / "page.pdf").write_bytes(HTML)
    runner = IngestRunner(factory, NeverPipeline(), db_settings)  # type: ignore[arg-type]
    report = runner.run_paths([folder], progress=False)
    assert report["failed"] == 3 and report["ok"] == 0
    reasons = {Path(i["input"]).suffix: i["reason"] for i in report["items"]}
    assert reasons[".key"] == "a private key or certificate (PEM) is not accepted"
    assert reasons[".zip"].startswith("unsupported file type '.zip'")
    assert reasons[".pdf"] == "content does not match the .pdf extension: it is an HTML page"
    with factory() as session:
        assert {r.status for r in session.scalars(select(IngestRecord))} == {"failed"}


def test_record_refused_and_recover_interrupted(factory: sessionmaker[Session]) -> None:
    """Defect 21: a refused upload is recorded; an upload a crash left pending is failed at restart,
    while an unfinished ``tfe ingest`` of another process is left to resume."""
    run_id = record_refused(factory, kind="upload", key="upload:1:a.exe", reason="unsupported file type")
    with factory() as session:
        run = session.get(IngestRun, run_id)
        assert run is not None and run.kind == "upload" and run.finished_at is not None
        record = session.scalar(select(IngestRecord).where(IngestRecord.run_id == run_id))
        assert record is not None and (record.status, record.reason) == ("failed", "unsupported file type")

        session.add_all(
            [
                IngestRun(id="crashed-upload", kind="upload"),
                IngestRun(id="live-cli-run", kind="files"),
            ]
        )
        session.flush()
        session.add_all(
            [
                IngestRecord(run_id="crashed-upload", input_key="upload:1:note.txt"),
                IngestRecord(run_id="live-cli-run", input_key="/data/a.pdf"),
            ]
        )
        session.commit()
    assert recover_interrupted(factory) == 1
    assert recover_interrupted(factory) == 0  # idempotent
    with factory() as session:
        states = {r.run_id: (r.status, r.reason) for r in session.scalars(select(IngestRecord))}
        assert states["crashed-upload"] == ("failed", RESTARTED)
        assert states["live-cli-run"] == ("pending", None)
        crashed = session.get(IngestRun, "crashed-upload")
        assert crashed is not None and crashed.finished_at is not None and crashed.counts["failed"] == 1
        live = session.get(IngestRun, "live-cli-run")
        assert live is not None and live.finished_at is None


@pytest.mark.parametrize(
    "ext", ["key", "pages", "numbers", "wpd", "docm", "pptm", "xlsb", "mbox", "rss", "atom"]
)
def test_formats_tika_reads_are_accepted(ext: str) -> None:
    """iWork, WordPerfect, macro-enabled and binary Office files, mailboxes and feeds saved as files."""
    for path in sorted((DOCS / ext).iterdir()):
        if path.suffix == f".{ext}" and path.stat().st_size:
            screen(path.name, path.read_bytes()[:HEAD_BYTES], path.stat().st_size)
