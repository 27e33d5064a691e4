"""The ingestion failure carried back to the runner: one clear, human-readable reason per input."""

from __future__ import annotations

from tfe.core.errors import ExtractionError

__all__ = ["IngestError"]


class IngestError(ExtractionError):
    """An input could not be ingested; ``reason`` is what the run report and ``IngestRecord`` show.

    ``step`` names the pipeline component that failed ("extractor", "writer", ...) when known. It is an
    ``ExtractionError`` (``extraction_failed``, 422) wherever it would reach a client.
    """

    def __init__(self, reason: str, *, step: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.step = step
