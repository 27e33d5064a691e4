"""Search: the SearchBackend protocol, the embedded backend (Tantivy + vector matrix), hybrid ranking,
facets, evaluation, and the conformance mixins every backend passes (search/testing.py)."""

from __future__ import annotations

import os

# Haystack phones home unless told not to; set before anything in this package imports haystack.
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
