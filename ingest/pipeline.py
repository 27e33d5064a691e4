"""The ingestion pipeline: extract → normalise → analyse → classify → split → embed → write.

``build_pipeline`` wires the Haystack components explicitly in one function; ``IngestPipeline`` wraps it
with ``warm_up()`` and ``process(item)``, turning any failure inside a component into an ``IngestError``
with a clear reason (the runner records it and goes on).
"""

from __future__ import annotations

import logging
from typing import Any

from haystack import Pipeline

from ingest.components.analyser import SpacyAnalyser
from ingest.components.classifier import TaxonomyClassifierComponent
from ingest.components.embedder import PassageEmbedder
from ingest.components.extractor import TikaExtractor
from ingest.components.normaliser import TextNormaliser
from ingest.components.splitter import PassageSplitter
from ingest.components.writer import RecordWriter
from ingest.errors import IngestError
from ingest.item import IngestItem, Processed
from ingest.sink import ContentSink
from search.backend import SearchBackend
from tfe.core.settings import Settings

__all__ = ["STEPS", "IngestPipeline", "build_pipeline"]

log = logging.getLogger(__name__)

STEPS = ("extractor", "normaliser", "analyser", "classifier", "splitter", "embedder", "writer")


def build_pipeline(
    settings: Settings,
    sink: ContentSink,
    backend: SearchBackend,
    *,
    embed: bool = False,
    embedder: Any = None,
    referential: Any = None,
) -> Pipeline:
    """The Haystack pipeline for one sink (documents or watch items) and one search backend.

    ``embed=False`` indexes passages without vectors (BM25 at once; ``ingest.backfill`` adds vectors);
    ``embedder`` lets callers share one warmed ``search.embeddings.Embedder``.
    """
    pipeline = Pipeline()
    pipeline.add_component("extractor", TikaExtractor(settings))
    pipeline.add_component("normaliser", TextNormaliser())
    pipeline.add_component("analyser", SpacyAnalyser())
    # with embeddings on, the classifier also compares the document with every NAF class (e5 similarity)
    embed_query = embedder.query if embed and embedder is not None else None
    pipeline.add_component("classifier", TaxonomyClassifierComponent(referential, embed_query=embed_query))
    pipeline.add_component(
        "splitter", PassageSplitter(settings.passage_words, settings.passage_overlap_words)
    )
    pipeline.add_component(
        "embedder",
        PassageEmbedder(
            embedder,
            enabled=embed,
            batch=settings.embed_batch,
            threads=settings.embed_threads,
            max_passages=settings.embed_inline_max_passages,
        ),
    )
    pipeline.add_component("writer", RecordWriter(sink, backend, referential))
    pipeline.connect("extractor.record", "normaliser.record")
    pipeline.connect("normaliser.record", "analyser.record")
    pipeline.connect("analyser.record", "classifier.record")
    pipeline.connect("classifier.record", "splitter.record")
    pipeline.connect("splitter.record", "embedder.record")
    pipeline.connect("embedder.record", "writer.record")
    return pipeline


def _root_cause(exc: BaseException) -> BaseException:
    """The first ``IngestError`` in the cause chain, else the innermost cause (Haystack wraps errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    last = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, IngestError):
            return current
        seen.add(id(current))
        last = current
        current = current.__cause__ or current.__context__
    return last


class IngestPipeline:
    """Process one ``IngestItem`` at a time through ``build_pipeline``; ``process`` raises ``IngestError``."""

    def __init__(
        self,
        settings: Settings,
        sink: ContentSink,
        backend: SearchBackend,
        *,
        embed: bool = False,
        embedder: Any = None,
        referential: Any = None,
    ) -> None:
        self.sink = sink
        self.backend = backend
        self.pipeline = build_pipeline(
            settings, sink, backend, embed=embed, embedder=embedder, referential=referential
        )
        self._warm = False

    @property
    def target_kind(self) -> str:
        return self.sink.target_kind

    def warm_up(self) -> None:
        """Load Tika, the language model, spaCy, the taxonomy and (if enabled) the embedding model."""
        if not self._warm:
            self.pipeline.warm_up()
            self._warm = True

    def process(self, item: IngestItem) -> Processed:
        """Run ``item`` through every step; the saved and indexed record, or ``IngestError(reason)``."""
        self.warm_up()
        try:
            result = self.pipeline.run({"extractor": {"item": item}})
        except Exception as exc:
            cause = _root_cause(exc)
            if isinstance(cause, IngestError):
                raise cause from exc
            reason = f"internal error: {type(cause).__name__}: {cause}"[:300]
            log.exception("ingest failed key=%s", item.key)
            raise IngestError(reason) from exc
        record: Processed = result["writer"]["record"]
        return record
