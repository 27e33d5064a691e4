"""Test doubles for the runner: a pipeline that fails the test if any input reaches it."""

from __future__ import annotations

from ingest.item import IngestItem, Processed


class NeverSink:
    """A sink that holds nothing (no input is a duplicate)."""

    target_kind = "document"

    def find_duplicate(self, item: IngestItem, content_hash: str) -> str | None:
        return None


class NeverPipeline:
    """Inputs refused before extraction must never be processed."""

    sink = NeverSink()

    def warm_up(self) -> None:
        pass

    def process(self, item: IngestItem) -> Processed:
        raise AssertionError(f"{item.key} reached the pipeline")
