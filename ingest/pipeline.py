"""The ingestion pipeline: extract → normalise → analyse → classify → split → embed → write.

``build_pipeline`` wires the Haystack components explicitly in one function, socket by socket, so the
flow of every value (text, title, language, metadata, lemmas, entities, concepts, passages, embeddings)
reads there; the ``IngestItem`` itself is a pipeline input of the extractor, the classifier and the
writer. ``IngestPipeline`` wraps it with ``warm_up()`` and ``process(item)``, turning any failure inside a
component into an ``IngestError`` with a clear reason (the runner records it and goes on).

The search index is committed by the wrapper, not the writer, through a ``GroupCommit`` shared by the
pipelines of one backend: a commit (a Tantivy commit and a new vector-table generation, ~0.1 s and growing
with the index) covers every passage written before it started, so threads whose items finished while
another commit ran share the next one instead of queueing one each. ``SerialProcessor`` runs the steps
under the process's ingest lock and the commit after releasing it.
"""

from __future__ import annotations

import logging
import threading
import weakref
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
from taxonomy.live import ReferentialSource, StaticReferential
from taxonomy.training import model_path
from tfe.core.settings import Settings

__all__ = ["STEPS", "GroupCommit", "IngestPipeline", "SerialProcessor", "build_pipeline"]

log = logging.getLogger(__name__)

STEPS = ("extractor", "normaliser", "analyser", "classifier", "splitter", "embedder", "writer")
ITEM_INPUTS = ("extractor", "classifier", "writer")  # the components that take the ``IngestItem`` itself


def build_pipeline(
    settings: Settings,
    sink: ContentSink,
    backend: SearchBackend,
    *,
    embed: bool = False,
    embedder: Any = None,
    referential_source: ReferentialSource | None = None,
    commit: bool = True,
) -> Pipeline:
    """The Haystack pipeline for one sink (documents or watch items) and one search backend.

    ``embed=False`` indexes passages without vectors (BM25 at once; ``ingest.backfill`` adds vectors);
    ``embedder`` lets callers share one warmed ``search.embeddings.Embedder``; the classifier and the
    writer ask ``referential_source`` (default: ``StaticReferential()``, the packaged taxonomy) for the
    referential in force on every item; ``commit=False`` leaves the backend commit to the caller.
    """
    source = referential_source or StaticReferential()
    pipeline = Pipeline()
    pipeline.add_component("extractor", TikaExtractor(settings))
    pipeline.add_component("normaliser", TextNormaliser())
    pipeline.add_component("analyser", SpacyAnalyser(settings.analysis_sample_chars))
    # with embeddings on, the classifier also compares the document with every NAF class (e5 similarity)
    embed_query = embedder.query if embed and embedder is not None else None
    classifier = TaxonomyClassifierComponent(
        source, embed_query=embed_query, sample_chars=settings.analysis_sample_chars,
        model_file=model_path(settings.resolved_data_dir, "naf"),
    )
    pipeline.add_component("classifier", classifier)
    pipeline.add_component(
        "splitter", PassageSplitter(settings.passage_words, settings.passage_overlap_words)
    )
    pipeline.add_component(
        "embedder",
        PassageEmbedder(
            embedder,
            enabled=embed,
            batch=settings.embed_batch,
            threads=settings.embedding_threads,
            max_passages=settings.embed_inline_max_passages,
        ),
    )
    pipeline.add_component("writer", RecordWriter(sink, backend, source, commit=commit))
    pipeline.connect("extractor.text", "normaliser.text")
    pipeline.connect("extractor.title", "normaliser.title")
    pipeline.connect("extractor.language", "normaliser.language")  # declared; the normaliser detects
    pipeline.connect("normaliser.text", "analyser.text")
    pipeline.connect("normaliser.title", "analyser.title")
    pipeline.connect("normaliser.text", "classifier.text")
    pipeline.connect("normaliser.title", "classifier.title")
    pipeline.connect("analyser.lemmas", "classifier.lemmas")
    pipeline.connect("analyser.entities", "classifier.entities")
    pipeline.connect("normaliser.text", "splitter.text")
    pipeline.connect("splitter.passages", "embedder.passages")
    pipeline.connect("extractor.metadata", "writer.metadata")
    pipeline.connect("normaliser.text", "writer.text")
    pipeline.connect("normaliser.title", "writer.title")
    pipeline.connect("normaliser.language", "writer.language")
    pipeline.connect("classifier.sectors", "writer.sectors")
    pipeline.connect("classifier.countries", "writer.countries")
    pipeline.connect("classifier.doc_type", "writer.doc_type")
    pipeline.connect("classifier.filieres", "writer.filieres")
    pipeline.connect("classifier.signals", "writer.signals")
    pipeline.connect("splitter.passages", "writer.passages")
    pipeline.connect("embedder.embeddings", "writer.embeddings")
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


class GroupCommit:
    """Commits of one search backend, shared: ``wrote()`` after a write gives a ticket, ``commit(ticket)``
    returns once a commit begun after that write has succeeded (its own, or one another thread ran).

    One commit runs at a time; the threads waiting meanwhile find their writes covered by the next one
    (the backend commits every operation pending when the commit starts). A failed commit raises in each
    thread whose write it was to cover.
    """

    def __init__(self, backend: SearchBackend) -> None:
        self.backend = backend
        self.commits = 0  # backend commits run (tests, benchmarks)
        self._state = threading.Lock()
        self._committing = threading.Lock()
        self._written = 0  # tickets given
        self._committed = 0  # every ticket up to this one is committed

    def wrote(self) -> int:
        with self._state:
            self._written += 1
            return self._written

    def commit(self, ticket: int) -> None:
        with self._committing:
            with self._state:
                if self._committed >= ticket:
                    return
                covered = self._written
            self.backend.commit()
            with self._state:
                self._committed = max(self._committed, covered)
                self.commits += 1


_GROUPS: weakref.WeakKeyDictionary[Any, GroupCommit] = weakref.WeakKeyDictionary()
_GROUPS_LOCK = threading.Lock()


def group_commit(backend: SearchBackend) -> GroupCommit:
    """The ``GroupCommit`` of ``backend`` (one per backend object, shared by its pipelines)."""
    with _GROUPS_LOCK:
        try:
            group = _GROUPS.get(backend)
            if group is None:
                group = _GROUPS[backend] = GroupCommit(backend)
        except TypeError:  # a backend without weak references: its pipelines commit on their own
            group = GroupCommit(backend)
        return group


class IngestPipeline:
    """Process one ``IngestItem`` at a time through ``build_pipeline``; ``process`` raises ``IngestError``.

    ``process`` = ``write`` (every step; passages written, not committed) + ``settle`` (the commit, shared
    with other threads' writes; on failure the item's rows and passages are undone).
    """

    def __init__(
        self,
        settings: Settings,
        sink: ContentSink,
        backend: SearchBackend,
        *,
        embed: bool = False,
        embedder: Any = None,
        referential_source: ReferentialSource | None = None,
    ) -> None:
        self.sink = sink
        self.backend = backend
        self.referential_source = referential_source or StaticReferential()
        self.pipeline = build_pipeline(
            settings,
            sink,
            backend,
            embed=embed,
            embedder=embedder,
            referential_source=self.referential_source,
            commit=False,
        )
        self.commits = group_commit(backend)
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
        record, ticket = self.write(item)
        return self.settle(record, ticket)

    def write(self, item: IngestItem) -> tuple[Processed, int]:
        """Every step up to the index write (saved, passages written, not yet searchable) and the commit
        ticket to ``settle``; ``IngestError(reason)`` when a step fails (nothing left behind)."""
        self.warm_up()
        try:
            result = self.pipeline.run({name: {"item": item} for name in ITEM_INPUTS})
        except Exception as exc:
            cause = _root_cause(exc)
            if isinstance(cause, IngestError):
                raise cause from exc
            reason = f"internal error: {type(cause).__name__}: {cause}"[:300]
            log.exception("ingest failed key=%s", item.key)
            raise IngestError(reason) from exc
        record: Processed = result["writer"]["record"]
        return record, self.commits.wrote()

    def settle(self, record: Processed, ticket: int) -> Processed:
        """Commit the index (or see another thread's commit cover ``ticket``); when that fails, undo the
        record's passages and rows and raise ``IngestError`` (as the writer does for a failed write)."""
        try:
            self.commits.commit(ticket)
        except Exception as exc:
            target_id = record.target_id
            log.warning("index commit failed target=%s: %s; discarding the saved rows", target_id, exc)
            if target_id:
                try:
                    self.backend.delete_parent(target_id)
                except Exception:  # the backend is already failing; the discard below matters more
                    log.exception("could not remove passages of %s", target_id)
                self.sink.discard(target_id)
            raise IngestError(f"indexing failed: {type(exc).__name__}: {exc}"[:300], step="writer") from exc
        return record


class SerialProcessor:
    """Lets one item at a time through ``pipeline``, under a lock shared by every pipeline of a process.

    Tika, the spaCy model and the embedding model are shared by the pipelines of one process and are not
    safe to run from two threads at once; a server that loads the demo corpus in the background while it
    answers uploads passes both through the same lock (held per item, so neither waits for a whole run).
    The index commit runs after the lock is released: the next item's steps go on meanwhile, and the
    threads whose items finished during a commit share the next one (``GroupCommit``).
    """

    def __init__(self, pipeline: IngestPipeline, lock: threading.Lock) -> None:
        self.pipeline = pipeline
        self.lock = lock

    @property
    def sink(self) -> ContentSink:
        return self.pipeline.sink

    def warm_up(self) -> None:
        with self.lock:
            self.pipeline.warm_up()

    def process(self, item: IngestItem) -> Processed:
        with self.lock:
            record, ticket = self.pipeline.write(item)
        return self.pipeline.settle(record, ticket)
