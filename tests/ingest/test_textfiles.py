"""Issue 12 defect 22: UTF-16 (and UTF-32) text and e-mail files, with or without a BOM, are read as text.

They used to fail as "unsupported type application/octet-stream" (or, with a BOM, an e-mail came out as
plain text without its subject and sender).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingest.components.extractor import TikaExtractor
from ingest.errors import IngestError
from ingest.item import IngestItem
from ingest.textfiles import utf8_text
from tests.conftest import make_settings
from tests.paths import SHARED_DATA

DOCUMENTS = SHARED_DATA / "fixtures" / "documents"
ENCODINGS = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"]  # "utf-16"/"utf-32": with a BOM
NOTE = "Note pays : exportation au Mexique\n\nLe marché mexicain demande de la préparation. Déjà ça !\n"


@pytest.fixture(scope="module")
def extractor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TikaExtractor]:
    component = TikaExtractor(make_settings(tmp_path_factory.mktemp("textfiles")))
    component.warm_up()
    yield component
    component.close()


def _run(extractor: TikaExtractor, data: bytes, name: str) -> dict:
    return extractor.run(item=IngestItem(key=name, filename=name, data=data))


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_plain_text(extractor: TikaExtractor, encoding: str) -> None:
    data = NOTE.encode(encoding)
    out = _run(extractor, data, "note.txt")
    assert out["metadata"].mime == "text/plain"
    assert "Le marché mexicain demande" in out["text"] and "\ufeff" not in out["text"]
    assert out["metadata"].size == len(data)  # the original file, not the re-encoded copy


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_email(extractor: TikaExtractor, encoding: str) -> None:
    raw = (DOCUMENTS / "eml" / "testRFC822_dkim.eml").read_bytes().decode("latin-1")
    data = raw.encode(encoding)
    out = _run(extractor, data, "message.eml")
    assert out["metadata"].mime == "message/rfc822"
    assert out["title"] == "Is dinner ready?"
    assert out["metadata"].author == "Joe SixPack <joe@football.example.com>"
    assert "We lost the game" in out["text"]


def test_utf8_and_binary_files_are_left_to_tika() -> None:
    assert utf8_text(NOTE.encode("utf-8")) is None
    assert utf8_text(NOTE.encode("cp1252")) is None
    assert utf8_text(bytes(range(256)) * 8) is None  # noise with NUL bytes
    assert utf8_text(b"%PDF-1.4\x00\x00\x00") is None
    assert utf8_text(NOTE.encode("utf-16-le")) == NOTE.encode("utf-8")
    assert utf8_text(NOTE.encode("utf-16")) == NOTE.encode("utf-8")  # the BOM goes


def test_noise_is_still_unsupported(extractor: TikaExtractor) -> None:
    with pytest.raises(IngestError) as info:
        _run(extractor, bytes(range(256)) * 8, "noise.bin")
    assert info.value.reason == "unsupported type application/octet-stream"
