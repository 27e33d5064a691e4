"""Settings are read when loaded, not when the module is imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfe.core.errors import ConfigurationError
from tfe.core.settings import load_settings


def test_settings_file_named_after_import_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TFE_DATA_DIR", raising=False)
    monkeypatch.delenv("TFE_PASSAGE_WORDS", raising=False)
    path = tmp_path / "tfe.env"
    path.write_text(f"TFE_DATA_DIR={tmp_path / 'data'}\nTFE_PASSAGE_WORDS=77\n", encoding="utf-8")
    monkeypatch.setenv("TFE_SETTINGS_FILE", str(path))
    settings = load_settings()
    assert settings.passage_words == 77
    assert settings.resolved_data_dir == (tmp_path / "data").resolve()


def test_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tfe.env"
    path.write_text("TFE_PASSAGE_WORDS=77\n", encoding="utf-8")
    monkeypatch.setenv("TFE_SETTINGS_FILE", str(path))
    monkeypatch.setenv("TFE_PASSAGE_WORDS", "99")
    assert load_settings().passage_words == 99


def test_missing_settings_file_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TFE_SETTINGS_FILE", str(tmp_path / "absent.env"))
    with pytest.raises(ConfigurationError, match="settings file not found"):
        load_settings()
