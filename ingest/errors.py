"""The ingestion failure carried back to the runner: one clear, human-readable reason per input."""

from __future__ import annotations

from tfe.core.errors import TfeError

__all__ = ["IngestError"]


class IngestError(TfeError):
    """An input could not be ingested; ``reason`` is what the run report and ``IngestRecord`` show.

    ``step`` names the pipeline component that failed ("extractor", "writer", ...) when known.
    """

    code = "ingest_failed"
    http_status = 422

    def __init__(self, reason: str, *, step: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.step = step
