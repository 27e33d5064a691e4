"""Documentation kept true by tests: every setting is documented."""

from __future__ import annotations

from pathlib import Path

from tfe.core.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`TFE_{name.upper()}`" not in text]
    assert missing == []
