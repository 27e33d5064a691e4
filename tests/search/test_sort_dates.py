"""Sorting by date, the date range and the organisation, language and status facets (issue 11 §4) on the
embedded backend, through the conformance mixin every backend inherits (``search.testing``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from search.embedded import EmbeddedBackend
from search.testing import SortAndDateTests, file_store


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[EmbeddedBackend]:
    b = EmbeddedBackend(tmp_path / "index", file_store(tmp_path / "texts.sqlite3"))
    yield b
    b.close()


class TestEmbeddedSortAndDates(SortAndDateTests):
    pass
