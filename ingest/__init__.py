"""The one ingestion pipeline: Haystack components (one per module), the pipelines that chain them, and the
batch runner that records a state for every input."""

from __future__ import annotations

import os

# Haystack phones home unless told not to; set before anything imports haystack.
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
