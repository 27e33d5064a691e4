"""TikaExtractor (in-process iscc-tika) against the extractor conformance suite, ``ingest.testing``."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.components.extractor import TikaExtractor, parse_date
from ingest.testing import ExtractorTests
from tests.conftest import make_settings
from tests.paths import REPO, SHARED_DATA


class TestTikaExtractor(ExtractorTests):
    @pytest.fixture(scope="class")
    def extractor(self, tmp_path_factory: pytest.TempPathFactory) -> TikaExtractor:
        component = TikaExtractor(make_settings(tmp_path_factory.mktemp("tika")))
        component.warm_up()
        return component

    @pytest.fixture
    def documents_dir(self) -> Path:
        return SHARED_DATA / "fixtures" / "documents"

    @pytest.fixture
    def corpus_dir(self) -> Path:
        return REPO / "tfe" / "app" / "demo" / "corpus"


def test_parse_date() -> None:
    assert parse_date("2015-10-07T18:14:00Z") == parse_date("2015-10-07T18:14:00+00:00")
    assert parse_date("2015-10-07T18:14:00") == parse_date("2015-10-07T18:14:00Z")  # naive: UTC
    assert parse_date("hier") is None and parse_date(None) is None
