"""TikaExtractor on real files: text and metadata, and a clear reason for every kind of failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.components.extractor import TikaExtractor
from ingest.components.normaliser import TextNormaliser
from ingest.errors import IngestError
from ingest.item import IngestItem, Processed
from tests.conftest import make_settings
from tests.paths import SHARED_DATA

DOCS = SHARED_DATA / "fixtures" / "documents"


@pytest.fixture(scope="module")
def extractor(tmp_path_factory: pytest.TempPathFactory) -> TikaExtractor:
    component = TikaExtractor(make_settings(tmp_path_factory.mktemp("x")))
    component.warm_up()
    return component


def _item(path: Path) -> IngestItem:
    return IngestItem(key=str(path), filename=path.name, data=path.read_bytes())


def _extract(extractor: TikaExtractor, path: Path) -> Processed:
    record: Processed = extractor.run(_item(path))["record"]
    return record


def test_docx_text_and_metadata(extractor: TikaExtractor) -> None:
    record = _extract(extractor, DOCS / "docx" / "testWORD_text_box.docx")
    assert record.mime == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "text box" in record.text.lower()
    assert record.size == (DOCS / "docx" / "testWORD_text_box.docx").stat().st_size
    assert len(record.content_hash) == 64


def test_pdf_text_title_author_dates(extractor: TikaExtractor) -> None:
    record = _extract(extractor, DOCS / "pdf" / "testPDF.pdf")
    assert record.mime == "application/pdf"
    assert "Apache Tika" in record.text
    assert record.title
    assert record.author
    assert record.created_at is not None and record.created_at.tzinfo is not None


def test_french_text_and_language(extractor: TikaExtractor) -> None:
    record = _extract(extractor, DOCS / "txt" / "french.txt")
    assert record.mime.startswith("text/plain")
    record = TextNormaliser().run(record)["record"]
    assert record.language == "fr"


@pytest.mark.parametrize(
    "relative",
    [
        "docx/testWORD_protected_passtika.docx",
        "pdf/testUnicodePassword.pdf",
        "doc/testWORD_protected_passtika.doc",
        "odt/testODTEncrypted.odt",
    ],
)
def test_encrypted_documents(extractor: TikaExtractor, relative: str) -> None:
    with pytest.raises(IngestError, match=r"^encrypted document$"):
        _extract(extractor, DOCS / relative)


def test_corrupt_file(extractor: TikaExtractor) -> None:
    with pytest.raises(IngestError, match=r"^corrupt file: "):
        _extract(extractor, DOCS / "docx" / "testWORD_truncated.docx")


def test_truncated_zip_made_here(extractor: TikaExtractor, tmp_path: Path) -> None:
    broken = tmp_path / "broken.docx"
    broken.write_bytes((DOCS / "docx" / "testWORD_text_box.docx").read_bytes()[:700])
    with pytest.raises(IngestError) as info:
        _extract(extractor, broken)
    assert info.value.reason.startswith(("corrupt file: ", "no text extracted", "unsupported type"))


def test_empty_file(extractor: TikaExtractor, tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(IngestError, match=r"^empty file$"):
        _extract(extractor, empty)


def test_binary_noise_is_unsupported(extractor: TikaExtractor, tmp_path: Path) -> None:
    noise = tmp_path / "noise.bin"
    noise.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(IngestError, match=r"^unsupported type application/octet-stream$"):
        _extract(extractor, noise)


def test_no_text(extractor: TikaExtractor) -> None:
    with pytest.raises(IngestError, match=r"^no text extracted$"):
        _extract(extractor, DOCS / "docx" / "testWORD_multi_authors.docx")


def test_oversized_file_is_refused_before_extraction(tmp_path: Path) -> None:
    small_cap = TikaExtractor(make_settings(tmp_path, max_file_bytes=1000))  # never warmed: Tika not needed
    path = DOCS / "pdf" / "testPDF.pdf"
    with pytest.raises(IngestError, match=r"^file too large \(\d+ bytes > 1000\)$"):
        small_cap.run(_item(path))


def test_feed_entry_passes_through(extractor: TikaExtractor) -> None:
    item = IngestItem(key="f#1", kind="item", text="Titre\n\nCorps", title="Titre")
    record: Processed = extractor.run(item)["record"]
    assert record.text == "Titre\n\nCorps" and record.title == "Titre" and record.mime == "text/plain"
