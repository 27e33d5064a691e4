"""Issue 12 defect 10: a heading or table cell never glues to the next line ("MexiqueAuteur").

Tika's OpenDocument parser drops the break after ``<text:h>``; ``ingest.odf`` restores it. Every file of
the demo corpus is checked for a lower-case letter directly followed by an upper-case one, apart from
the brand names the documents really spell that way.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

import pytest

from ingest.components.extractor import TikaExtractor
from ingest.components.normaliser import normalise_text
from ingest.item import IngestItem
from ingest.odf import break_headings
from tests.conftest import make_settings
from tests.paths import REPO

CORPUS = REPO / "tfe" / "app" / "demo" / "corpus"
MEXIQUE = CORPUS / "reference-client-ferroviaire-mexique.odt"
BRANDS = {"ProWein", "VerpackG", "OrthoNova", "SaaS", "WinMart", "kWc"}
_JUNCTION = re.compile(r"\w*[a-zà-ÿ][A-ZÀ-Ý]\w*")
FILES = sorted(
    p for p in CORPUS.iterdir() if p.suffix in {".docx", ".pptx", ".xlsx", ".odt", ".html", ".pdf"}
)


@pytest.fixture(scope="module")
def extractor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TikaExtractor]:
    component = TikaExtractor(make_settings(tmp_path_factory.mktemp("breaks")))
    component.warm_up()
    yield component
    component.close()


def _text(extractor: TikaExtractor, path: object) -> str:
    assert hasattr(path, "read_bytes")
    data = path.read_bytes()  # type: ignore[attr-defined]
    out = extractor.run(item=IngestItem(key=str(path), filename=str(path), data=data))
    return normalise_text(out["text"])


def test_heading_and_next_line_stay_apart(extractor: TikaExtractor) -> None:
    text = _text(extractor, MEXIQUE)
    assert "MexiqueAuteur" not in text
    assert "contrat de métro au Mexique\nAuteur : Sophie Castan" in text
    assert "Le projet au Mexique\nL'entreprise visait" in text


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_no_glued_words_in_the_demo_corpus(extractor: TikaExtractor, path: object) -> None:
    glued = set(_JUNCTION.findall(_text(extractor, path))) - BRANDS
    assert not glued


def test_break_headings_touches_only_odf_headings() -> None:
    data = MEXIQUE.read_bytes()
    rewritten = break_headings(data)
    with zipfile.ZipFile(io.BytesIO(data)) as before, zipfile.ZipFile(io.BytesIO(rewritten)) as after:
        assert (
            after.namelist()[0] == "mimetype"
            and after.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        )
        assert before.namelist() == after.namelist()
        assert after.read("content.xml").count(b"<text:line-break/></text:h>") == before.read(
            "content.xml"
        ).count(b"</text:h>")
        assert all(before.read(n) == after.read(n) for n in before.namelist() if n != "content.xml")
    docx = (CORPUS / "fiche-pays-cote-divoire.docx").read_bytes()
    assert break_headings(docx) is docx
    assert break_headings(b"PK\x03\x04 broken") == b"PK\x03\x04 broken"
