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

from tfe.db import make_engine, make_session_factory, migrate, session_scope
from tfe.models import Organisation, User
from tfe.security import audit, identity
from tfe.settings import Settings

if TYPE_CHECKING:
    from ingest.pipeline import IngestPipeline
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
    admin_token: str | None = None


@dataclass
class Runtime:
    settings: Settings
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @cached_property
    def engine(self):  # type: ignore[no-untyped-def]
        return make_engine(self.settings)

    @cached_property
    def session_factory(self):  # type: ignore[no-untyped-def]
        return make_session_factory(self.engine)

    def session(self):  # type: ignore[no-untyped-def]
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

        return SearchService(self.backend, self.embedder, self.referential.label)

    @cached_property
    def pipeline(self) -> IngestPipeline:
        from ingest.pipeline import IngestPipeline

        pipe = IngestPipeline(self.settings, backend=self.backend, embedder=self.embedder)
        pipe.warm_up()
        return pipe

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
    with rt.session() as session:
        counts = load_taxonomy(session)
        org = session.scalar(select(Organisation).where(Organisation.slug == ADMIN_ORG_SLUG))
        if org is None:
            org = identity.get_or_create_org(session, ADMIN_ORG_SLUG, "Business France", "national_agency")
        admin = session.scalar(select(User).where(User.email == settings.admin_email.lower()))
        if admin is None:
            password = settings.admin_password or secrets.token_urlsafe(12)
            generated = None if settings.admin_password else password
            admin = identity.create_user(
                session, email=settings.admin_email, org=org, role="admin", name="Administrateur",
                password=password,
            )
            audit.record(session, "user.create", actor_user_id=None, target_kind="user",
                         target_id=str(admin.id), detail={"email": admin.email, "role": "admin"})
    return InitReport(
        data_dir=settings.resolved_data_dir, database=_safe_url(settings.sqlalchemy_url), taxonomy=counts,
        admin_email=settings.admin_email, admin_password=generated,
    )


def _safe_url(url: str) -> str:
    """The database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def actor(user: User | None) -> dict[str, Any]:
    return {"actor_user_id": user.id if user else None, "actor_org_id": user.org_id if user else None}
