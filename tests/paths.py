"""Where the tests find the project's shared data (``../shared`` beside the repository, as in CI)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TFE_SHARED_DIR", REPO.parent / "shared"))
SHARED_DATA = SHARED / "data"
