"""What an upload (``ged.service``) and a new version (``ged.versions``) share on their way in: one file
through the ingestion runner, and the ``document.*`` audit event of the outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ingest.item import IngestItem
from ingest.runner import IngestRunner
from tfe.core.db import session_scope
from tfe.core.models import User
from tfe.core.security import audit

__all__ = ["RunnerFactory", "audit_document", "ingest_one"]

RunnerFactory = Callable[[bool], IngestRunner]  # embed? -> a runner into the GED


def ingest_one(runner: RunnerFactory, item: IngestItem, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ingest ``item`` as a run of ``kind`` (embedded, no progress bar): the report and its one entry."""
    report = runner(True).run_items([item], kind=kind, progress=False)
    return report, report["items"][0]


def audit_document(
    sessions: sessionmaker[Session],
    user: User,
    channel: str,
    action: str,
    doc_id: str | None,
    detail: dict[str, Any],
) -> None:
    """Record ``action`` by ``user`` on the document ``doc_id`` (``None``: refused before it existed)."""
    with session_scope(sessions) as session:
        audit.record(
            session,
            action,
            audit.Actor.of_user(user, channel),
            target_kind="document",
            target_id=doc_id,
            detail=detail,
        )
