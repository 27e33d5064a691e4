"""GED use cases: ingest files and folders, upload one document.

The CLI, the API, the pages and the demo loader call these same functions; each records its audit event
with the actor and channel it is given. Reads (``ged.documents.read_document``, ``download_document``)
live beside the read model.

An upload ends in a recorded state whatever happens: its name is sanitised, its document type checked
against the referential (``ged.doctypes``) and its bytes screened by the acceptance policy
(``ingest.acceptance``) before ingestion; a refusal is recorded (a failed ingest record, run kind
``upload``, and a ``document.upload`` audit event with status ``refused``) before the error is raised.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ged import neardup
from ged.doctypes import ReferentialGetter, resolve_doc_type
from ged.intake import RunnerFactory, audit_document, ingest_one
from ingest.acceptance import HEAD_BYTES, RefusedInput, clean_filename, clean_text, screen
from ingest.item import IngestItem
from ingest.runner import record_refused
from tfe.core.db import session_scope
from tfe.core.errors import ValidationError
from tfe.core.models import User
from tfe.core.security import audit, identity
from tfe.core.security.scope import AccessScope

__all__ = ["DocumentService", "UploadResult"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadResult:
    """The outcome of one upload: ``ok`` (new document), ``duplicate`` (existing id) or ``failed``."""

    status: str
    id: str | None
    title: str | None
    reason: str | None
    filename: str | None = None  # the sanitised name it was stored under
    # near-duplicates the uploader may see (``ged.neardup``), best first; never merged
    similar: list[neardup.SimilarRef] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "id": self.id,
            "title": self.title,
            "reason": self.reason,
            "similar": [s.as_dict() for s in self.similar],
        }


class DocumentService:
    """Documents into the GED through the one ingestion pipeline, every run recorded and audited."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        runner: RunnerFactory,
        *,
        default_org_slug: str,
        admin_email: str,
        referential: ReferentialGetter,
        near_duplicate_threshold: float = neardup.DEFAULT_THRESHOLD,
    ) -> None:
        """``referential`` answers the referential in force (``lambda: runtime.referential``);
        ``near_duplicate_threshold`` is the estimated Jaccard that reports a near-duplicate."""
        self._sessions = session_factory
        self._near_threshold = near_duplicate_threshold
        self._runner = runner
        self._default_org_slug = default_org_slug
        self._admin_email = admin_email
        self._referential = referential

    def check_doc_type(self, value: str | None) -> str | None:
        """The document type concept id for ``value`` (``quote_template`` or ``doctype:quote_template``),
        ``None`` for none; ``ValidationError`` listing the accepted types for anything else."""
        return resolve_doc_type(self._referential(), value)

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
        """Ingest files and folders; every input ends ok, duplicate or failed (see ``IngestRunner``).

        An unknown ``doc_type`` raises ``ValidationError`` before the run starts."""
        doc_type = self.check_doc_type(doc_type)
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
        scope = AccessScope.member(org_id, owner_id)  # the scope of exact de-duplication (ged.sink)
        similar = 0
        for entry in report["items"]:
            if entry["status"] == "ok" and entry["id"]:
                found = self.record_similar(entry["id"], 1, scope)
                entry["similar"] = [s.as_dict() for s in found]
                similar += bool(found)
        with session_scope(self._sessions) as session:
            audit.record(
                session,
                "ingest.files",
                audit.Actor(owner_id, org_id, channel),
                target_kind="run",
                target_id=report["run_id"],
                detail={**{k: report[k] for k in ("ok", "duplicate", "failed")}, "similar": similar},
            )
        return report

    def record_similar(self, doc_id: str, version: int, scope: AccessScope) -> list[neardup.SimilarRef]:
        """Near-duplicates of a stored version among what ``scope`` may see, recorded (``ged.neardup``).

        A failure here never undoes the stored document: it is logged and reported as no match."""
        try:
            with session_scope(self._sessions) as session:
                return neardup.record_similar(session, doc_id, version, scope, threshold=self._near_threshold)
        except Exception as exc:  # the document is stored; the notice is best effort, and logged
            log.warning("near-duplicate check failed doc=%s error=%s", doc_id, type(exc).__name__)
            return []

    def upload(
        self,
        user: User,
        *,
        filename: str | None,
        data: bytes,
        visibility: str,
        doc_type: str | None,
        channel: str = "api",
    ) -> UploadResult:
        """Ingest one uploaded file for ``user`` and audit the upload.

        Screened first by ``screen_upload`` (which records and raises a refusal); a file that passes and
        cannot be read comes back ``failed`` (the caller answers 422).
        """
        name, concept = self._screen(user, filename, data, visibility, doc_type, channel)
        item = IngestItem(
            key=f"upload:{user.id}:{name}",
            kind="document",
            filename=name,
            data=data,
            org_id=user.org_id,
            owner_user_id=user.id,
            visibility=visibility,
            doc_type=concept,
            meta={"uploaded_by": user.id},
        )
        _report, entry = ingest_one(self._runner, item, "upload")
        similar: list[neardup.SimilarRef] = []
        if entry["status"] == "ok" and entry["id"]:
            similar = self.record_similar(entry["id"], 1, identity.scope_for(user))
        result = UploadResult(entry["status"], entry["id"], entry["title"], entry["reason"], name, similar)
        self._audit_upload(
            user,
            channel,
            result.id,
            filename=name,
            size=len(data),
            visibility=visibility,
            doc_type=concept,
            status=result.status,
            reason=result.reason,
            similar=[{"id": s.id, "score": round(s.score, 4)} for s in similar],
        )
        return result

    def screen_upload(
        self,
        user: User,
        *,
        filename: str | None,
        data: bytes,
        visibility: str,
        doc_type: str | None,
        channel: str = "api",
    ) -> str:
        """The sanitised name of an upload that passes screening; otherwise the refusal is recorded
        (``refuse``) and raised: ``ValidationError`` (400) for an unknown document type, ``RefusedInput``
        (415, "name: reason") for a file the acceptance policy does not take. ``upload`` screens too; a
        caller may screen first to answer before any ingestion work."""
        return self._screen(user, filename, data, visibility, doc_type, channel)[0]

    def _screen(
        self,
        user: User,
        filename: str | None,
        data: bytes,
        visibility: str,
        doc_type: str | None,
        channel: str,
    ) -> tuple[str, str | None]:
        name = clean_filename(filename, data[:HEAD_BYTES])
        try:
            concept = self.check_doc_type(doc_type)
            screen(name, data[:HEAD_BYTES], len(data))
        except ValidationError as exc:
            self.refuse(
                user,
                filename=name,
                size=len(data),
                reason=exc.message,
                channel=channel,
                visibility=visibility,
                doc_type=doc_type,
            )
            if isinstance(exc, RefusedInput):
                raise RefusedInput(f"{name}: {exc.reason}") from exc
            raise
        return name, concept

    def refuse(
        self,
        user: User,
        *,
        filename: str | None,
        size: int,
        reason: str,
        channel: str = "api",
        visibility: str | None = None,
        doc_type: str | None = None,
    ) -> str:
        """Record an upload refused at screening (bad type, too large, unknown document type): a failed
        ingest record (run kind ``upload``) and a ``document.upload`` audit event with status ``refused``.
        Returns the sanitised name."""
        name = clean_filename(filename)
        clean_type = clean_text(doc_type) if doc_type else None  # the user's raw text, made storable
        record_refused(
            self._sessions,
            kind="upload",
            key=f"upload:{user.id}:{name}",
            reason=reason,
            args={"filename": name, "size": size, "channel": channel},
        )
        self._audit_upload(
            user,
            channel,
            None,
            filename=name,
            size=size,
            visibility=visibility,
            doc_type=clean_type,
            status="refused",
            reason=reason,
        )
        return name

    def _audit_upload(self, user: User, channel: str, target_id: str | None, **detail: Any) -> None:
        audit_document(self._sessions, user, channel, "document.upload", target_id, detail)
