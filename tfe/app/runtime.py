"""The composition root shared by the web app and the CLI: builds and holds the long-lived parts.

Wiring only: the use cases live in their packages (``ged.service``, ``veille.service``, ``search.service``,
``tfe.app.install``). Heavy parts (spaCy, the embedding model, the index) are created on first use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from tfe.core.db import make_engine, make_session_factory, session_scope
from tfe.core.settings import Settings

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from ged.blobs import BlobStore
    from ged.previews import Previewer
    from ged.service import DocumentService
    from ged.versions import VersionService
    from ingest.pipeline import IngestPipeline
    from ingest.runner import IngestRunner
    from search.backend import SearchBackend
    from search.embeddings import Embedder
    from search.service import SearchService
    from taxonomy.live import ReferentialSource
    from taxonomy.referential import Referential
    from tfe.core.crypto.vault import Vault
    from veille.alerts.digests import DigestService
    from veille.alerts.subscriptions import SubscriptionService
    from veille.arrivals import Arrivals
    from veille.catalogue import SourceService
    from veille.poller import Poller
    from veille.service import WatchService

ADMIN_ORG_SLUG = "business-france"


@dataclass
class Runtime:
    settings: Settings
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _pipelines: dict[tuple[str, bool], IngestPipeline] = field(default_factory=dict, repr=False)
    ingest_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # one item at a time

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings)

    @property
    def vault(self) -> Vault:
        """The vault attached to the engine (encryption at rest: ``tfe.core.crypto.vault``)."""
        from tfe.core.crypto.columns import sealer_of
        from tfe.core.crypto.vault import Vault

        vault = sealer_of(self.engine.dialect)
        assert isinstance(vault, Vault), "make_engine attaches the vault"
        return vault

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def session(self) -> AbstractContextManager[Session]:
        """A unit of work that commits on success."""
        return session_scope(self.session_factory)

    @cached_property
    def referential_source(self) -> ReferentialSource:
        """The taxonomy from the database, rebuilt when its version stamp changes (any process's edit)."""
        from taxonomy.live import DatabaseReferential

        return DatabaseReferential(self.session_factory)

    @property
    def referential(self) -> Referential:
        """The referential in force now (a taxonomy edit shows here without a restart)."""
        return self.referential_source.current()

    @cached_property
    def backend(self) -> SearchBackend:
        from search.factory import make_backend

        return make_backend(self.settings, self.session_factory)  # passage texts sealed in the database

    @cached_property
    def embedder(self) -> Embedder:
        from search.embeddings import Embedder

        return Embedder(threads=self.settings.embedding_threads)

    @cached_property
    def search_service(self) -> SearchService:
        from search.service import SearchService
        from taxonomy.query_concepts import recognise

        return SearchService(
            self.backend,
            self.embedder,
            lambda concept_id: self.referential.label(concept_id),
            lambda value, scheme: self.referential.resolve(value, scheme),
            recogniser=lambda text: recognise(self.referential, text),  # built once per taxonomy version
        )

    @cached_property
    def blob_store(self) -> BlobStore:
        from ged.blobs import BlobStore

        return BlobStore(self.settings.blob_dir, self.vault)

    @cached_property
    def previewer(self) -> Previewer:
        """Thumbnails and text previews of document versions (``ged.previews``), cached as blobs."""
        from ged.previews import Previewer, capabilities

        return Previewer(
            self.blob_store,
            width=self.settings.preview_width,
            timeout_s=self.settings.preview_timeout_s,
            office=capabilities().office,
        )

    @cached_property
    def documents(self) -> DocumentService:
        from ged.service import DocumentService

        return DocumentService(
            self.session_factory,
            lambda embed: self.runner("document", embed),
            default_org_slug=ADMIN_ORG_SLUG,
            admin_email=self.settings.admin_email,
            referential=lambda: self.referential,
            near_duplicate_threshold=self.settings.near_duplicate_threshold,
        )

    @cached_property
    def versions(self) -> VersionService:
        """New versions, restores and check-out locks of documents (``ged.versions``)."""
        from ged.versions import VersionService

        return VersionService(
            self.session_factory,
            lambda embed: self.runner("document", embed),
            self.blob_store,
            self.backend,
            lambda: self.referential,
            lock_minutes=self.settings.version_lock_minutes,
            max_bytes=self.settings.max_file_bytes,
            record_similar=self.documents.record_similar,
        )

    @cached_property
    def watch(self) -> WatchService:
        from veille.service import WatchService

        return WatchService(self.session_factory, lambda embed: self.runner("item", embed), self.settings)

    @cached_property
    def sources(self) -> SourceService:
        """The source catalogue's use cases (hints resolved by the referential in force)."""
        from veille.catalogue import SourceService

        return SourceService(self.session_factory, self.settings, lambda: self.referential)

    @cached_property
    def poller(self) -> Poller:
        from veille.poller import Poller

        return Poller(
            self.session_factory,
            lambda embed: self.runner("item", embed),
            self.settings,
            on_new_items=self.after_new_items,
        )

    @cached_property
    def arrivals(self) -> Arrivals:
        """What follows a poll's new items: their stories, then automatic acceptance by the source's bar."""
        from veille.arrivals import Arrivals
        from veille.stories import StoryAssigner

        return Arrivals(
            self.session_factory, StoryAssigner(self.embedder), self.backend, lambda: self.referential
        )

    @cached_property
    def digests(self) -> DigestService:
        """Alert digests: due subscriptions matched on new items and documents, sent through the channels."""
        from veille.alerts.digests import DigestService

        return DigestService(self.session_factory, self.backend, self.settings, lambda: self.referential)

    @cached_property
    def subscriptions(self) -> SubscriptionService:
        """Alert subscriptions' use cases, previews computed by the digests (same matching as a run)."""
        from veille.alerts.subscriptions import SubscriptionService

        return SubscriptionService(
            self.settings,
            lambda: self.referential,
            previewer=lambda session, sub, scope, days: self.digests.preview(session, sub, scope, days=days),
        )

    def after_new_items(self, item_ids: list[str]) -> None:
        self.arrivals.process(item_ids)

    def pipeline(self, kind: str, embed: bool) -> IngestPipeline:
        """The ingestion pipeline into the GED ("document") or the watch ("item"), built once per variant."""
        with self._lock:
            if (kind, embed) not in self._pipelines:
                from ged.sink import DocumentSink
                from ingest.pipeline import IngestPipeline
                from veille.sink import ItemSink

                sink = (
                    DocumentSink(self.session_factory, self.blob_store)
                    if kind == "document"
                    else ItemSink(self.session_factory)
                )
                self._pipelines[(kind, embed)] = IngestPipeline(
                    self.settings,
                    sink,
                    self.backend,
                    embed=embed,
                    embedder=self.embedder if embed else None,
                    referential_source=self.referential_source,
                )
            return self._pipelines[(kind, embed)]

    def runner(self, kind: str, embed: bool) -> IngestRunner:
        from ingest.pipeline import SerialProcessor
        from ingest.runner import IngestRunner

        pipeline = SerialProcessor(self.pipeline(kind, embed), self.ingest_lock)
        return IngestRunner(self.session_factory, pipeline, self.settings)

    def close(self) -> None:
        if "poller" in self.__dict__:
            self.poller.close()
        if "backend" in self.__dict__:
            self.backend.close()
        if "engine" in self.__dict__:
            self.engine.dispose()
