"""GED use cases: ingest files and folders, upload one document.

The CLI, the API, the pages and the demo loader call these same functions; each records its audit event
with the actor and channel it is given. Reads (``ged.documents.read_document``, ``download_document``)
live beside the read model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ingest.item import IngestItem
from ingest.runner import IngestRunner
from tfe.core.db import session_scope
from tfe.core.models import User
from tfe.core.security import audit, identity

__all__ = ["DocumentService", "UploadResult"]

RunnerFactory = Callable[[bool], IngestRunner]  # embed? -> a runner into the GED


@dataclass(frozen=True)
class UploadResult:
    """The outcome of one upload: ``ok`` (new document), ``duplicate`` (existing id) or ``failed``."""

    status: str
    id: str | None
    title: str | None
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "id": self.id, "title": self.title, "reason": self.reason}


class DocumentService:
    """Documents into the GED through the one ingestion pipeline, every run recorded and audited."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        runner: RunnerFactory,
        *,
        default_org_slug: str,
        admin_email: str,
    ) -> None:
        self._sessions = session_factory
        self._runner = runner
        self._default_org_slug = default_org_slug
        self._admin_email = admin_email

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
        channel: str = "cli",
    ) -> dict[str, Any]:
        """Ingest files and folders; every input ends ok, duplicate or failed (see ``IngestRunner``)."""
        with session_scope(self._sessions) as session:
            org_id = identity.find_org(session, org_slug or self._default_org_slug).id
            owner_id = identity.find_user(session, owner_email).id if owner_email else None
            if visibility == "private" and owner_id is None:
                owner_id = identity.find_user(session, self._admin_email).id
        report = self._runner(embed).run_paths(
            [str(p) for p in paths],
            org_id=org_id,
            owner_user_id=owner_id,
            visibility=visibility,
            doc_type=doc_type,
            progress=progress,
        )
        with session_scope(self._sessions) as session:
            audit.record(
                session,
                "ingest.files",
                audit.Actor(owner_id, org_id, channel),
                target_kind="run",
                target_id=report["run_id"],
                detail={k: report[k] for k in ("ok", "duplicate", "failed")},
            )
        return report

    def upload(
        self,
        user: User,
        *,
        filename: str,
        data: bytes,
        visibility: str,
        doc_type: str | None,
        channel: str = "api",
    ) -> UploadResult:
        """Ingest one uploaded file for ``user`` (already screened) and audit the upload."""
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
        report = self._runner(True).run_items([item], kind="upload", progress=False)
        entry = report["items"][0]
        result = UploadResult(entry["status"], entry["id"], entry["title"], entry["reason"])
        with session_scope(self._sessions) as session:
            audit.record(
                session,
                "document.upload",
                audit.Actor.of_user(user, channel),
                target_kind="document",
                target_id=result.id,
                detail={
                    "filename": filename,
                    "size": len(data),
                    "visibility": visibility,
                    "doc_type": doc_type,
                    "status": result.status,
                    "reason": result.reason,
                },
            )
        return result
