"""The composition root shared by the web app and the CLI: builds and holds the long-lived parts.

Everything heavy (spaCy, the embedding model, the search index) is created on first use, so ``tfe --help``
and simple commands stay fast. One ``Runtime`` per process.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from tfe.core.db import make_engine, make_session_factory, migrate, session_scope
from tfe.core.models import Organisation, User
from tfe.core.security import audit, identity
from tfe.core.settings import Settings

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from ged.blobs import BlobStore
    from ingest.pipeline import IngestPipeline
    from ingest.runner import IngestRunner
    from search.backend import SearchBackend
    from search.embeddings import Embedder
    from search.service import SearchService
    from taxonomy.referential import Referential

log = logging.getLogger(__name__)

ADMIN_ORG_SLUG = "business-france"


@dataclass
class InitReport:
    data_dir: Path
    database: str
    taxonomy: dict[str, int]
    admin_email: str
    admin_password: str | None  # only when it was generated now
    admin_created: bool = False


@dataclass
class Runtime:
    settings: Settings
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _pipelines: dict[tuple[str, bool], IngestPipeline] = field(default_factory=dict, repr=False)
    _ingest_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def session(self) -> AbstractContextManager[Session]:
        """A unit of work that commits on success."""
        return session_scope(self.session_factory)

    @cached_property
    def referential(self) -> Referential:
        from taxonomy.referential import Referential

        return Referential.load()

    @cached_property
    def backend(self) -> SearchBackend:
        from search.factory import make_backend

        return make_backend(self.settings)

    @cached_property
    def embedder(self) -> Embedder:
        from search.embeddings import Embedder

        embedder = Embedder(threads=self.settings.embed_threads)
        return embedder

    @cached_property
    def search_service(self) -> SearchService:
        from search.service import SearchService

        return SearchService(self.backend, self.embedder, self.referential.label, self.referential.resolve)

    @cached_property
    def blob_store(self) -> BlobStore:
        from ged.blobs import BlobStore

        return BlobStore(self.settings.blob_dir)

    def _pipeline(self, kind: str, embed: bool) -> IngestPipeline:
        """The ingestion pipeline into the GED ("document") or the watch ("item"), built once per variant."""
        key = (kind, embed)
        with self._lock:
            if key not in self._pipelines:
                from ged.sink import DocumentSink
                from ingest.pipeline import IngestPipeline
                from veille.sink import ItemSink

                sink = (
                    DocumentSink(self.session_factory, self.blob_store)
                    if kind == "document"
                    else ItemSink(self.session_factory)
                )
                self._pipelines[key] = IngestPipeline(
                    self.settings,
                    sink,
                    self.backend,
                    embed=embed,
                    embedder=self.embedder if embed else None,
                    referential=self.referential,
                )
            return self._pipelines[key]

    def _runner(self, kind: str, embed: bool) -> IngestRunner:
        from ingest.runner import IngestRunner

        pipeline = self._pipeline(kind, embed)
        return IngestRunner(self.session_factory, pipeline, pipeline.sink, self.settings)

    def _org_id(self, slug: str | None) -> int | None:
        if slug is None:
            return None
        with self.session() as session:
            return identity.find_org(session, slug).id

    def ingest_paths(
        self,
        paths: list[Path],
        *,
        org_slug: str | None = None,
        visibility: str = "organisation",
        doc_type: str | None = None,
        owner_email: str | None = None,
        embed: bool = True,
        progress: bool = True,
    ) -> dict[str, Any]:
        """Ingest files and folders into the GED; every input ends ok, duplicate or failed."""
        org_id = self._org_id(org_slug or ADMIN_ORG_SLUG)
        owner_id = None
        if owner_email:
            with self.session() as session:
                owner_id = identity.find_user(session, owner_email).id
        if visibility == "private" and owner_id is None:
            with self.session() as session:
                owner_id = identity.find_user(session, self.settings.admin_email).id
        report = self._runner("document", embed).run_paths(
            [str(p) for p in paths],
            org_id=org_id,
            owner_user_id=owner_id,
            visibility=visibility,
            doc_type=doc_type,
            progress=progress,
        )
        with self.session() as session:
            audit.record(
                session,
                "ingest.files",
                actor_user_id=owner_id,
                actor_org_id=org_id,
                target_kind="run",
                target_id=report["run_id"],
                detail={k: report[k] for k in ("ok", "duplicate", "failed")},
            )
        return report

    def ingest_feed(
        self,
        url_or_path: str,
        *,
        org_slug: str | None = None,
        visibility: str = "network",
        embed: bool = True,
        progress: bool = True,
    ) -> dict[str, Any]:
        """Ingest the entries of one RSS/Atom feed as watch items."""
        from ingest.feeds import read_feed

        org_id = self._org_id(org_slug)
        feed = read_feed(url_or_path, self.settings)
        for entry in feed.entries:
            entry.org_id = org_id
            entry.visibility = visibility
        report = self._runner("item", embed).run_items(feed.entries, progress=progress)
        with self.session() as session:
            audit.record(
                session,
                "ingest.feed",
                actor_org_id=org_id,
                target_kind="run",
                target_id=report["run_id"],
                detail={"feed": feed.url, **{k: report[k] for k in ("ok", "duplicate", "failed")}},
            )
        return report

    def ingest_upload(
        self, *, filename: str, data: bytes, user: User, visibility: str, doc_type: str | None
    ) -> dict[str, Any]:
        """Ingest one uploaded file (the web layer audits the upload itself)."""
        from ingest.item import IngestItem

        item = IngestItem(
            key=f"upload:{user.id}:{filename}",
            kind="document",
            filename=filename,
            data=data,
            org_id=user.org_id,
            owner_user_id=user.id,
            visibility=visibility,
            doc_type=doc_type,
            meta={"uploaded_by": user.id},
        )
        with self._ingest_lock:  # one upload at a time through the pipeline (Tika and the index writer)
            report = self._runner("document", True).run_items([item], kind="upload", progress=False)
        entry = report["items"][0]
        return {
            "status": entry["status"],
            "id": entry["id"],
            "reason": entry["reason"],
            "title": entry["title"],
        }

    def search_as(
        self,
        text: str,
        *,
        email: str | None,
        sector: list[str],
        country: list[str],
        doc_type: list[str],
        limit: int = 10,
        offset: int = 0,
        mode: str = "hybrid",
    ) -> dict[str, Any]:
        """Search with one user's access scope (the CLI's way in), audited like the API."""
        with self.session() as session:
            user = identity.find_user(session, email or self.settings.admin_email)
            scope = identity.scope_for(user)
            result = self.search_service.search(
                text,
                scope,
                sector=sector,
                country=country,
                type=doc_type,
                limit=limit,
                offset=offset,
                mode=mode,  # type: ignore[arg-type]
            )
            audit.record(
                session,
                "search",
                **actor(user),
                detail={
                    "q": text,
                    "sector": sector,
                    "country": country,
                    "type": doc_type,
                    "total": result["total"],
                    "via": "cli",
                },
            )
        return result

    def backfill(self, batch: int = 64, progress: bool = False) -> int:
        """Embed passages indexed without a vector (a progress bar on stderr when asked)."""
        from tqdm import tqdm

        from ingest.backfill import backfill_embeddings

        with tqdm(desc="vectors", unit="passage", disable=not progress) as bar:
            return backfill_embeddings(self.backend, self.embedder, batch=batch, on_batch=bar.update)

    def close(self) -> None:
        if "backend" in self.__dict__:
            self.backend.close()
        if "engine" in self.__dict__:
            self.engine.dispose()


def open_runtime(settings: Settings) -> Runtime:
    return Runtime(settings)


def init_installation(rt: Runtime) -> InitReport:
    """Create the data dir, migrate, load the taxonomy, ensure the admin organisation and account."""
    from taxonomy.loader import load_taxonomy

    settings = rt.settings
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    settings.blob_dir.mkdir(parents=True, exist_ok=True)
    migrate(rt.engine)
    generated: str | None = None
    created = False
    with rt.session() as session:
        counts = load_taxonomy(session)
        org = session.scalar(select(Organisation).where(Organisation.slug == ADMIN_ORG_SLUG))
        if org is None:
            org = identity.get_or_create_org(session, ADMIN_ORG_SLUG, "Business France", "national_agency")
        admin = session.scalar(select(User).where(User.email == settings.admin_email.lower()))
        if admin is None:
            password = settings.admin_password or secrets.token_urlsafe(12)
            generated = None if settings.admin_password else password
            created = True
            admin = identity.create_user(
                session,
                email=settings.admin_email,
                org=org,
                role="admin",
                name="Administrateur",
                password=password,
            )
            audit.record(
                session,
                "user.create",
                actor_user_id=None,
                target_kind="user",
                target_id=str(admin.id),
                detail={"email": admin.email, "role": "admin"},
            )
    return InitReport(
        data_dir=settings.resolved_data_dir,
        database=_safe_url(settings.sqlalchemy_url),
        taxonomy=counts,
        admin_email=settings.admin_email,
        admin_password=generated,
        admin_created=created,
    )


def _safe_url(url: str) -> str:
    """The database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def actor(user: User | None) -> dict[str, Any]:
    return {"actor_user_id": user.id if user else None, "actor_org_id": user.org_id if user else None}
