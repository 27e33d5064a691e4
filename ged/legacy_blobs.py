"""Seal the blobs an installation stored before encryption at rest (content-addressed, in clear).

Each version whose ``blob_key`` is a legacy key is copied into a blob sealed under its document's data key
and pointed at it (one short transaction per version); the clear file is deleted once no version names it
any more. Idempotent and resumable: a crash leaves at worst a sealed copy nobody names yet (removed with the
document's blobs) or a clear file still named (sealed by the next run).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ged.blobs import BlobStore, is_legacy_key
from ged.models import DocumentVersion
from tfe.core.db import session_scope

__all__ = ["seal_legacy_blobs"]

Progress = Callable[[int, int], None]  # (versions sealed so far, versions to seal)


def _legacy_versions(session: Session) -> list[tuple[int, str, str]]:
    rows = session.execute(
        select(DocumentVersion.id, DocumentVersion.document_id, DocumentVersion.blob_key).order_by(
            DocumentVersion.id
        )
    ).all()
    return [(vid, doc, key) for vid, doc, key in rows if is_legacy_key(key)]


def seal_legacy_blobs(
    sessions: sessionmaker[Session], blobs: BlobStore, *, progress: Progress | None = None
) -> dict[str, int]:
    """Seal every legacy blob: ``{"versions": sealed, "files_removed": clear files deleted,
    "missing": versions whose clear file is gone}``."""
    with session_scope(sessions) as session:
        todo = _legacy_versions(session)
    report = {"versions": 0, "files_removed": 0, "missing": 0}
    for done, (version_id, document_id, old_key) in enumerate(todo, 1):
        if not blobs.exists(old_key):
            report["missing"] += 1
            continue
        new_key = blobs.put(blobs.get(old_key), owner=document_id)  # outside the write transaction
        with session_scope(sessions) as session:
            version = session.get(DocumentVersion, version_id)
            if version is None or version.blob_key != old_key:  # erased or changed meanwhile
                blobs.delete(new_key)
                continue
            version.blob_key = new_key
            session.flush()
            still_named = session.scalar(
                select(func.count()).select_from(DocumentVersion).where(DocumentVersion.blob_key == old_key)
            )
        report["versions"] += 1
        if not still_named and blobs.delete(old_key):
            report["files_removed"] += 1
        if progress is not None:
            progress(done, len(todo))
    return report
