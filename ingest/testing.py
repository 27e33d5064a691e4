"""Conformance tests every extractor's test class inherits; the class only supplies fixtures.

``ExtractorTests`` (in the style of ``haystack.testing.document_store``) checks the extractor contract of
``ingest.components.extractor``: ``run(item=IngestItem)`` gives ``text``, ``title``, ``language`` (the one
the file declares) and ``metadata`` (``ExtractedMetadata``), and every unreadable input fails with an
``IngestError`` whose reason is one of the documented ones ("empty file", "encrypted document",
"no text extracted", "unsupported type <mime>", "corrupt file: ...", "archive expands beyond ...").
It also checks what users saw go wrong (issue 12): UTF-16 text and e-mail read as text, a heading never
glued to the next line, text beyond Tika's default 500,000-character cap kept. The inheriting class supplies:

- ``extractor``: a warmed extractor component (module or class scope is best: Tika starts once);
- ``documents_dir``: the Tika test documents (``shared/data/fixtures/documents``, one folder per format);
- ``corpus_dir``: the demo corpus (``tfe/app/demo/corpus``: small French files with full metadata).

The files are small, so the whole class runs in a few seconds once the extractor is warm.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ingest.errors import IngestError
from ingest.item import ExtractedMetadata, IngestItem

__all__ = ["ExtractorTests"]

Load = Callable[[str], IngestItem]

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"

# (file: "documents/..." or "corpus/...", expected MIME, words the text must contain)
FORMATS = [
    ("documents/pdf/testPDF.pdf", "application/pdf", "Apache Tika"),
    ("corpus/fiche-pays-cote-divoire.docx", DOCX, "Côte d'Ivoire"),
    ("documents/xlsx/testEXCEL.xlsx", XLSX, "Sample Excel Worksheet"),
    ("corpus/presentation-cosmetiques-japon.pptx", PPTX, "cosmétiques"),
    ("corpus/reference-client-ferroviaire-mexique.odt", ODT, "ferroviaire"),
    ("corpus/fiche-pays-allemagne.html", "text/html", "Allemagne"),
    ("documents/txt/french.txt", "text/plain", "comme ça"),
    ("documents/eml/testRFC822_dkim.eml", "message/rfc822", "We lost the game"),
]

ENCRYPTED = [
    "documents/pdf/testUnicodePassword.pdf",
    "documents/docx/testWORD_protected_passtika.docx",
    "documents/doc/testWORD_protected_passtika.doc",
    "documents/xlsx/testEXCEL_protected_passtika.xlsx",
    "documents/odt/testODTEncrypted.odt",
]


def _lying_zip() -> bytes:
    """A ZIP whose central directory declares a 4 GiB member (the zip-bomb check reads only that)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
    data = bytearray(out.getvalue())
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 0xFFFFFFF0)  # the declared uncompressed size
    return bytes(data)


class ExtractorTests:
    """Formats, metadata and failure reasons of an extractor (fixtures: see the module docstring)."""

    @pytest.fixture
    def load(self, documents_dir: Path, corpus_dir: Path) -> Load:
        """``load("documents/pdf/x.pdf")`` or ``load("corpus/y.odt")``: an ``IngestItem`` of that file."""
        roots = {"documents": documents_dir, "corpus": corpus_dir}

        def item(ref: str) -> IngestItem:
            root, _, relative = ref.partition("/")
            path = roots[root] / relative
            return IngestItem(key=str(path), filename=path.name, data=path.read_bytes())

        return item

    @staticmethod
    def extract(extractor: Any, item: IngestItem) -> dict[str, Any]:
        """Run the extractor and check the shape of what it gives."""
        out: dict[str, Any] = extractor.run(item=item)
        assert set(out) == {"text", "title", "language", "metadata"}
        assert isinstance(out["metadata"], ExtractedMetadata)
        return out

    @staticmethod
    def fails(extractor: Any, item: IngestItem) -> str:
        """The reason the extractor refuses ``item`` (fails the test if it does not)."""
        with pytest.raises(IngestError) as info:
            extractor.run(item=item)
        return info.value.reason

    # -- formats ---------------------------------------------------------------------------------------

    @pytest.mark.parametrize(("ref", "mime", "words"), FORMATS, ids=[f[0].rsplit(".", 1)[1] for f in FORMATS])
    def test_format_text_and_mime(self, extractor: Any, load: Load, ref: str, mime: str, words: str) -> None:
        item = load(ref)
        out = self.extract(extractor, item)
        assert words in out["text"]
        metadata: ExtractedMetadata = out["metadata"]
        assert metadata.mime == mime
        assert metadata.size == len(item.data or b"")
        assert metadata.content_hash == hashlib.sha256(item.data or b"").hexdigest()
        assert metadata.tika_meta.get("Content-Type", "").startswith(mime)

    # -- metadata --------------------------------------------------------------------------------------

    def test_pdf_title_author_dates(self, extractor: Any, load: Load) -> None:
        out = self.extract(extractor, load("documents/pdf/testPDF.pdf"))
        metadata: ExtractedMetadata = out["metadata"]
        assert out["title"] == "Apache Tika - Apache Tika"
        assert metadata.author == "Bertrand Delacrétaz"
        assert metadata.created_at == dt.datetime(2007, 9, 15, 9, 2, 31, tzinfo=dt.UTC)
        assert metadata.modified_at == metadata.created_at
        assert out["language"] is None  # the file declares none

    def test_office_title_author_dates_language(self, extractor: Any, load: Load) -> None:
        out = self.extract(extractor, load("corpus/presentation-cosmetiques-japon.pptx"))
        metadata: ExtractedMetadata = out["metadata"]
        assert out["title"] == "Le marché des cosmétiques au Japon : présentation filière"
        assert metadata.author == "Hugo Lefèvre (CCI France Japon)"
        assert metadata.created_at == dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)
        assert metadata.modified_at == metadata.created_at
        assert out["language"] == "fr-FR"

    def test_naive_dates_are_utc(self, extractor: Any, load: Load) -> None:
        metadata: ExtractedMetadata = self.extract(
            extractor, load("corpus/reference-client-ferroviaire-mexique.odt")
        )["metadata"]
        assert metadata.created_at == dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)  # "2026-01-15T09:00:00"

    def test_html_title_author_language(self, extractor: Any, load: Load) -> None:
        out = self.extract(extractor, load("corpus/fiche-pays-allemagne.html"))
        assert out["title"] == "Fiche pays : Allemagne — repères pour les exportateurs français"
        assert out["metadata"].author == "Camille Roussel (Business France)"
        assert out["language"] == "fr"

    def test_email_subject_sender_date(self, extractor: Any, load: Load) -> None:
        out = self.extract(extractor, load("documents/eml/testRFC822_dkim.eml"))
        assert out["title"] == "Is dinner ready?"
        assert out["metadata"].author == "Joe SixPack <joe@football.example.com>"
        assert out["metadata"].created_at == dt.datetime(2003, 7, 12, 4, 0, 37, tzinfo=dt.UTC)

    def test_feed_entry_passes_through(self, extractor: Any) -> None:
        item = IngestItem(key="f#1", kind="item", text="Titre\n\nCorps", title="Titre", author="Rédaction")
        out = self.extract(extractor, item)
        assert (out["text"], out["title"], out["language"]) == ("Titre\n\nCorps", "Titre", None)
        metadata: ExtractedMetadata = out["metadata"]
        assert (metadata.mime, metadata.author, metadata.content_hash) == (
            "text/plain",
            "Rédaction",
            item.content_hash(),
        )
        assert metadata.size == len(b"Titre\n\nCorps")

    # -- failures --------------------------------------------------------------------------------------

    @pytest.mark.parametrize("ref", ENCRYPTED, ids=[r.rsplit(".", 1)[1] for r in ENCRYPTED])
    def test_encrypted(self, extractor: Any, load: Load, ref: str) -> None:
        assert self.fails(extractor, load(ref)) == "encrypted document"

    def test_corrupt(self, extractor: Any, load: Load) -> None:
        reason = self.fails(extractor, load("documents/docx/testWORD_truncated.docx"))
        assert reason.startswith("corrupt file: ")

    def test_truncated_zip(self, extractor: Any, load: Load) -> None:
        whole = load("corpus/fiche-pays-cote-divoire.docx")
        cut = IngestItem(key="cut.docx", filename="cut.docx", data=(whole.data or b"")[:700])
        reason = self.fails(extractor, cut)
        assert reason.startswith(("corrupt file: ", "no text extracted", "unsupported type "))

    def test_empty(self, extractor: Any) -> None:
        empty = IngestItem(key="empty.pdf", filename="empty.pdf", data=b"")
        assert self.fails(extractor, empty) == "empty file"

    def test_no_text(self, extractor: Any, load: Load) -> None:
        reason = self.fails(extractor, load("documents/docx/testWORD_multi_authors.docx"))
        assert reason == "no text extracted"  # a document with metadata and no body

    def test_blank_text_file_has_no_text(self, extractor: Any) -> None:
        blank = IngestItem(key="blank.txt", filename="blank.txt", data=b" \n\t\n ")
        assert self.fails(extractor, blank) == "no text extracted"

    # -- issue 12 ------------------------------------------------------------------------------------------

    @pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
    def test_utf16_email(self, extractor: Any, load: Load, encoding: str) -> None:
        raw = (load("documents/eml/testRFC822_dkim.eml").data or b"").decode("latin-1")
        item = IngestItem(key="utf16.eml", filename="utf16.eml", data=raw.encode(encoding))
        out = self.extract(extractor, item)
        assert (out["metadata"].mime, out["title"]) == ("message/rfc822", "Is dinner ready?")
        assert "We lost the game" in out["text"]

    def test_heading_not_glued_to_next_line(self, extractor: Any, load: Load) -> None:
        text = self.extract(extractor, load("corpus/reference-client-ferroviaire-mexique.odt"))["text"]
        assert "MexiqueAuteur" not in text and "Auteur : Sophie Castan" in text

    def test_text_beyond_half_a_million_characters(self, extractor: Any) -> None:
        data = ("Le marché mexicain demande de la préparation. " * 14_000).encode("utf-8")  # 658,000 chars
        item = IngestItem(key="long.txt", filename="long.txt", data=data)
        assert len(self.extract(extractor, item)["text"].strip()) == len(data.decode("utf-8").strip())

    def test_zip_bomb_directory_is_refused(self, extractor: Any) -> None:
        reason = self.fails(extractor, IngestItem(key="bomb.docx", filename="bomb.docx", data=_lying_zip()))
        assert reason.startswith("archive expands beyond ")

    def test_binary_noise_is_unsupported(self, extractor: Any) -> None:
        noise = IngestItem(key="noise.bin", filename="noise.bin", data=bytes(range(256)) * 8)
        assert self.fails(extractor, noise) == "unsupported type application/octet-stream"
