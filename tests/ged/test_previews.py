"""``ged.previews``: PDF thumbnails (a real PDF and one made with fpdf2), the cache, the text preview of
a broken PDF or a text file, office detection (the route: ``tests/web/test_preview_page.py``)."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Iterator

import pytest
from fpdf import FPDF
from sqlalchemy import select

from ged import previews
from ged.models import Document, DocumentVersion
from tests.conftest import make_settings
from tfe.app.demo import CORPUS_DIR
from tfe.app.runtime import Runtime
from tfe.core.db import Base
from tfe.core.errors import NotFoundError
from tfe.core.models import Organisation
from tfe.core.security.scope import AccessScope

DEMO_PDF = CORPUS_DIR / "analyse-sectorielle-vins-allemagne.pdf"
BROKEN_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer garbage\n%%EOF\n"
TEXT = "Marché des vins\n\nLes vins français en Allemagne : premier marché export.\nSalon ProWein."


def _made_pdf() -> bytes:
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", size=24)
    pdf.cell(text="Note pays : Allemagne")
    return bytes(pdf.output())


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = Runtime(make_settings(tmp_path_factory.mktemp("previews")))
    runtime.settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    Base.metadata.create_all(runtime.engine)
    with runtime.session() as session:
        session.add(Organisation(id=1, slug="a", name="A"))
    yield runtime
    runtime.close()


def _store(rt: Runtime, data: bytes, filename: str, mime: str, text: str = TEXT) -> str:
    doc_id = uuid.uuid4().hex
    blob_key = rt.blob_store.put(data, owner=doc_id)  # before the write transaction (the vault's own)
    with rt.session() as session:
        session.add(Document(id=doc_id, title=filename, org_id=1, visibility="organisation"))
        session.flush()
        session.add(
            DocumentVersion(
                document_id=doc_id,
                number=1,
                content_hash=hashlib.sha256(data).hexdigest(),
                filename=filename,
                mime=mime,
                size=len(data),
                blob_key=blob_key,
                text=text,
            )
        )
    return doc_id


def _preview(rt: Runtime, doc_id: str, version: int | None = None) -> previews.Preview:
    with rt.session() as session:
        return rt.previewer.preview(session, doc_id, AccessScope.member(1), version)


def _meta(rt: Runtime, doc_id: str) -> dict[str, object]:
    with rt.session() as session:
        row = session.scalar(select(DocumentVersion).where(DocumentVersion.document_id == doc_id))
        assert row is not None
        return dict(row.meta or {})


@pytest.mark.parametrize("data", [DEMO_PDF.read_bytes(), _made_pdf()], ids=["demo-pdf", "fpdf2"])
def test_pdf_thumbnail_is_a_png_of_the_set_width_and_cached(rt: Runtime, data: bytes) -> None:
    doc_id = _store(rt, data, "note.pdf", "application/pdf")
    shown = _preview(rt, doc_id)
    assert shown.kind == "image" and shown.png is not None
    assert shown.png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (shown.width, shown.height) == previews.png_size(shown.png)
    assert shown.width == rt.settings.preview_width == 300
    assert 400 <= shown.height <= 450  # A4 portrait: 300 x 424
    assert shown.text.startswith("Marché des vins")
    meta = _meta(rt, doc_id)
    assert isinstance(meta["preview_blob"], str)
    assert rt.blob_store.get(meta["preview_blob"]) == shown.png  # cached as a blob (sealed under the doc)
    again = _preview(rt, doc_id)
    assert again.png == shown.png and again.kind == "image"


def test_broken_pdf_falls_back_to_text_and_is_not_retried(rt: Runtime) -> None:
    doc_id = _store(rt, BROKEN_PDF, "rapport.pdf", "application/pdf")
    with pytest.raises(previews.RenderError):
        rt.previewer.pdf_thumbnail(BROKEN_PDF)
    shown = _preview(rt, doc_id)
    assert shown.kind == "text" and shown.png is None
    assert shown.text.splitlines() == [line for line in TEXT.splitlines() if line]
    assert _meta(rt, doc_id)["preview_failed"]  # remembered: the next view does not start the renderer
    assert _preview(rt, doc_id).kind == "text"


def test_text_file_and_office_without_converter_get_the_text_preview(rt: Runtime) -> None:
    doc_id = _store(rt, TEXT.encode(), "note.txt", "text/plain")
    assert _preview(rt, doc_id).kind == "text"
    assert "preview_failed" not in _meta(rt, doc_id)
    docx = (CORPUS_DIR / "devis-accompagnement-salon-prowein-allemagne.docx").read_bytes()
    docx_mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    office = _store(rt, docx, "devis.docx", docx_mime)
    expected = "image" if previews.capabilities().office else "text"
    assert _preview(rt, office).kind == expected
    if expected == "text":  # seen without a converter: not marked failed, drawn once one is installed
        assert "preview_failed" not in _meta(rt, office)


def test_out_of_scope_or_missing_version_is_not_found(rt: Runtime) -> None:
    doc_id = _store(rt, TEXT.encode(), "interne.txt", "text/plain")
    with rt.session() as session, pytest.raises(NotFoundError):
        rt.previewer.preview(session, doc_id, AccessScope.member(2))
    with pytest.raises(NotFoundError):
        _preview(rt, doc_id, version=7)


def test_text_preview_keeps_first_lines() -> None:
    text = "\n".join(f"ligne {i}" for i in range(100))
    assert previews.text_preview(text).splitlines() == [f"ligne {i}" for i in range(previews.TEXT_LINES)]
    assert previews.text_preview("") == ""


def test_capabilities_match_what_is_installed() -> None:
    found = previews.capabilities()
    assert found.pdf is True
    installed = shutil.which("soffice") or shutil.which("libreoffice")
    assert (found.office is not None) == (installed is not None)
