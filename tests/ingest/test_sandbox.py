"""Issue 12 defect 20: a zip bomb cannot grow or stall the server.

The bombs are built in memory (``tests.ingest.bombs``): the 4 MB ``.docx`` holding 4 GiB of the issue is
refused from its central directory before anything decompresses it; bombs that pass that check (a lying
directory, or the check switched off here) meet the Tika child's memory cap and time limit instead, and
the parent process never holds more than the file and the text.
"""

from __future__ import annotations

import os
import resource
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.archive import check_archive
from ingest.components.extractor import TikaExtractor
from ingest.errors import IngestError
from ingest.item import IngestItem
from tests.conftest import make_settings
from tests.ingest.bombs import attribute_bomb, paragraph_bomb, zero_bomb
from tests.paths import REPO

DOCX = REPO / "tfe" / "app" / "demo" / "corpus" / "fiche-pays-cote-divoire.docx"


def _item(data: bytes, name: str = "bomb.docx") -> IngestItem:
    return IngestItem(key=name, filename=name, data=data)


def _reason(extractor: TikaExtractor, data: bytes) -> str:
    with pytest.raises(IngestError) as info:
        extractor.run(item=_item(data))
    return info.value.reason


@pytest.fixture(scope="module")
def extractor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TikaExtractor]:
    """The default limits."""
    component = TikaExtractor(make_settings(tmp_path_factory.mktemp("sandbox")))
    component.warm_up()
    yield component
    component.close()


@pytest.fixture
def unchecked(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TikaExtractor]:
    """No archive check, a 320 MB memory cap and a time limit (indirect parameter, default 60 s): only
    the sandbox stands in the way."""
    component = TikaExtractor(
        make_settings(
            tmp_path,
            max_expansion_ratio=0,
            max_uncompressed_mb=0,
            extract_memory_mb=320,
            extract_timeout_s=getattr(request, "param", 60),
        )
    )
    yield component
    component.close()


def test_four_gib_bomb_is_refused_before_extraction(extractor: TikaExtractor) -> None:
    bomb = zero_bomb(DOCX, 4096)
    assert len(bomb) < 5_000_000  # the bomb: about 4 MB on disk, 4 GiB inside
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reason = _reason(extractor, bomb)
    assert reason.startswith("archive expands beyond 1024 MB"), reason
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KiB: nothing inflated


def test_expansion_ratio_cap(tmp_path: Path) -> None:
    bomb = zero_bomb(DOCX, 64)  # 64 MiB in about 70 KB: under the size cap, far over the ratio
    with pytest.raises(IngestError) as info:
        check_archive(bomb, max_expansion_ratio=200, max_uncompressed_mb=1024)
    assert info.value.reason.startswith("archive expands beyond 200 times its size")
    check_archive(bomb, max_expansion_ratio=0, max_uncompressed_mb=1024)  # 0 switches the ratio off
    check_archive(DOCX.read_bytes(), max_expansion_ratio=200, max_uncompressed_mb=1024)  # a normal docx
    check_archive(b"%PDF-1.4 not a zip", max_expansion_ratio=1, max_uncompressed_mb=1)
    check_archive(b"PK\x03\x04 truncated", max_expansion_ratio=1, max_uncompressed_mb=1)  # Tika's to report


@pytest.mark.slow
def test_memory_cap_stops_a_bomb_past_the_check(unchecked: TikaExtractor) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reason = _reason(unchecked, attribute_bomb(DOCX, 64))  # ~0.7 GB of Tika memory without a cap
    assert reason == "extraction exceeded the memory limit (320 MB)"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB, in the parent
    out = unchecked.run(item=_item(DOCX.read_bytes(), "fiche.docx"))  # a fresh child takes the next file
    assert "Côte d'Ivoire" in out["text"]


@pytest.mark.slow
@pytest.mark.parametrize("unchecked", [2], indirect=True)
def test_time_limit_stops_a_slow_file(unchecked: TikaExtractor) -> None:
    assert _reason(unchecked, paragraph_bomb(DOCX, 64)) == "extraction timed out after 2 s"  # ~8 s of Tika
    assert unchecked._sandbox is not None and unchecked._sandbox.pid is None  # the stuck child is gone
    out = unchecked.run(item=_item(DOCX.read_bytes(), "fiche.docx"))
    assert "Côte d'Ivoire" in out["text"]


def test_one_warm_child_serves_every_file(extractor: TikaExtractor) -> None:
    sandbox = extractor._sandbox
    assert sandbox is not None
    pid = sandbox.pid
    for _ in range(3):
        extractor.run(item=_item(DOCX.read_bytes(), "fiche.docx"))
    assert pid is not None and sandbox.pid == pid


def test_tika_is_not_loaded_in_the_parent(extractor: TikaExtractor) -> None:
    extractor.run(item=_item(DOCX.read_bytes(), "fiche.docx"))
    maps = Path("/proc/self/maps").read_text()
    assert "libtika_native" not in maps  # the native library lives in the child only


def test_a_dead_child_is_replaced(extractor: TikaExtractor) -> None:
    sandbox = extractor._sandbox
    assert sandbox is not None
    extractor.run(item=_item(DOCX.read_bytes(), "fiche.docx"))
    pid = sandbox.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # no wait: the next request may still find it "running"
    out = extractor.run(item=_item(DOCX.read_bytes(), "fiche.docx"))
    assert "Côte d'Ivoire" in out["text"] and sandbox.pid not in (None, pid)
