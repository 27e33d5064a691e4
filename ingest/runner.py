"""Batch ingestion with a recorded final state for every input.

Each input gets an ``IngestRecord`` created ``pending`` before any work, then ends ``ok`` (new target id),
``duplicate`` (content already stored: re-running is idempotent) or ``failed`` (with a reason; the run
goes on). An interrupted run leaves ``pending`` records behind: re-running the same command processes
what was not done (the done inputs are found by content hash and reported ``duplicate``) and closes the
interrupted run, marking its leftover records failed with "interrupted (resumed by run ...)".

Every file is screened by the one acceptance policy (``ingest.acceptance``, the upload route's too)
before extraction; a refusal is a ``failed`` record with the policy's reason. ``record_refused`` records
an input refused before any run (an upload refused at screening); ``recover_interrupted`` closes, at
server start, the uploads a crash left ``pending``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from ingest.acceptance import HEAD_BYTES, RefusedInput, clean_filename, screen
from ingest.errors import IngestError
from ingest.item import IngestItem, Processed
from ingest.models import IngestRecord, IngestRun
from ingest.sink import ContentSink
from tfe.core.db import session_scope, utcnow
from tfe.core.settings import Settings

__all__ = ["IngestRunner", "ItemProcessor", "record_refused", "recover_interrupted", "walk_paths"]

RESTARTED = "interrupted (server restarted)"

log = logging.getLogger(__name__)


def _walk(folder: Path) -> list[Path]:
    """Files under ``folder``, sorted, hidden names skipped; unreadable sub-folders are listed as inputs
    (they fail later with a reason)."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder, onerror=lambda e: found.append(Path(e.filename or ""))):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / f for f in files if not f.startswith("."))
    return sorted(found)


def walk_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files under ``paths`` (sorted, hidden names skipped), absolute; missing paths and broken links are
    kept so that the run records them as failed rather than silently dropping them."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser().absolute()
        out.extend(_walk(path) if path.is_dir() else [path])
    return list(dict.fromkeys(out))


class ItemProcessor(Protocol):
    """What the runner needs of a pipeline (``ingest.pipeline.IngestPipeline`` is one): the sink it
    writes to (asked for duplicates before processing), a warm-up, and ``process`` raising
    ``IngestError``."""

    @property
    def sink(self) -> ContentSink: ...

    def warm_up(self) -> None: ...

    def process(self, item: IngestItem) -> Processed: ...


class IngestRunner:
    """Feed inputs through an ``IngestPipeline`` (into the sink it owns) and record every outcome."""

    def __init__(
        self, session_factory: sessionmaker[Session], pipeline: ItemProcessor, settings: Settings
    ) -> None:
        self.session_factory = session_factory
        self.pipeline = pipeline
        self.settings = settings

    @property
    def sink(self) -> ContentSink:
        """The pipeline's sink: duplicates are looked up where the pipeline writes."""
        return self.pipeline.sink

    # -- public API ------------------------------------------------------------------------------------

    def run_paths(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        org_id: int | None = None,
        owner_user_id: int | None = None,
        visibility: str = "organisation",
        doc_type: str | None = None,
        progress: bool = True,
    ) -> dict[str, Any]:
        """Ingest files and folders; returns the run report (see ``_report``)."""
        given = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
        files = walk_paths(given)
        args = {
            "paths": [str(p) for p in given],
            "org_id": org_id,
            "owner_user_id": owner_user_id,
            "visibility": visibility,
            "doc_type": doc_type,
        }
        ownership = {
            "org_id": org_id,
            "owner_user_id": owner_user_id,
            "visibility": visibility,
            "doc_type": doc_type,
        }

        def load(key: str) -> IngestItem:
            return self._read_file(Path(key), ownership)

        return self._run("files", [str(f) for f in files], load, args, progress, unit="file")

    def run_items(
        self, items: list[IngestItem], *, kind: str = "feed", progress: bool = True
    ) -> dict[str, Any]:
        """Ingest prepared items (feed entries, or ``kind="upload"`` for API uploads); their ``key``
        identifies them in the records."""
        by_key = {item.key: item for item in items}
        args = {"keys": len(by_key), "feed": items[0].meta.get("feed_url") if items else None}
        return self._run(kind, list(by_key), by_key.__getitem__, args, progress, unit="item")

    # -- internals -------------------------------------------------------------------------------------

    def _read_file(self, path: Path, ownership: dict[str, Any]) -> IngestItem:
        """Read one file into an item; ``IngestError`` for missing, unreadable or oversized files,
        ``RefusedInput`` for a file the acceptance policy does not take.

        This is the one place the file size cap is checked (before reading, so a huge file costs no
        memory); uploads are capped by the web layer before they become items.
        """
        try:
            if not path.exists():
                raise IngestError("broken link" if path.is_symlink() else "not found")
            if not path.is_file():
                raise IngestError("not a regular file")
            size = path.stat().st_size
            if size > self.settings.max_file_bytes:
                raise IngestError(f"file too large ({size} bytes > {self.settings.max_file_bytes})")
            data = path.read_bytes()
        except OSError as exc:
            raise IngestError(f"unreadable: {exc.strerror or type(exc).__name__}") from exc
        screen(path.name, data[:HEAD_BYTES], len(data))
        return IngestItem(
            key=str(path),
            kind="document",
            filename=clean_filename(path.name),  # the display name: no control or bidi characters
            data=data,
            url=None,
            meta={"path": str(path)},
            **ownership,
        )

    def _run(
        self, kind: str, keys: list[str], load: Any, args: dict[str, Any], progress: bool, unit: str
    ) -> dict[str, Any]:
        started = time.perf_counter()
        run_id = uuid.uuid4().hex
        with session_scope(self.session_factory) as session:
            session.add(IngestRun(id=run_id, kind=kind, args=args))
            session.flush()
            self._close_interrupted(session, run_id, kind, keys)
            records = [
                IngestRecord(run_id=run_id, input_key=key, target_kind=self.sink.target_kind) for key in keys
            ]
            session.add_all(records)
            session.flush()
            record_ids = {r.input_key: r.id for r in records}
        log.info("ingest run started run_id=%s kind=%s inputs=%d", run_id, kind, len(keys))
        warmed = False
        items: list[dict[str, Any]] = []
        with tqdm(total=len(keys), unit=unit, file=sys.stderr, disable=not progress, desc="ingest") as bar:
            for key in keys:
                if not warmed:
                    self.pipeline.warm_up()
                    warmed = True
                items.append(self._one(run_id, record_ids[key], key, load))
                bar.update(1)
        return self._finish(run_id, items, time.perf_counter() - started)

    def _one(self, run_id: str, record_id: int, key: str, load: Any) -> dict[str, Any]:
        """Process one input and store its final state; never raises (except KeyboardInterrupt & co)."""
        status, reason, target, title, content_hash = "failed", None, None, None, None
        try:
            item: IngestItem = load(key)
            title = item.title or item.filename or None
            content_hash = item.content_hash()
            target = self.sink.find_duplicate(item, content_hash)
            if target is not None:
                status = "duplicate"
            else:
                processed = self.pipeline.process(item)
                status, target, title = "ok", processed.target_id, processed.display_title
        except (IngestError, RefusedInput) as exc:
            reason = exc.reason
        except Exception as exc:  # a bug in a step must cost one input, not the run
            log.exception("unexpected ingest error run_id=%s input=%s", run_id, key)
            reason = f"internal error: {type(exc).__name__}: {exc}"[:300]
        with session_scope(self.session_factory) as session:
            session.execute(
                update(IngestRecord)
                .where(IngestRecord.id == record_id)
                .values(
                    status=status,
                    reason=reason,
                    target_id=target,
                    content_hash=content_hash,
                    updated_at=utcnow(),
                )
            )
        # a failed input is an outcome, recorded and reported to the caller: not an operational warning
        log.log(
            logging.INFO if status == "failed" else logging.DEBUG,
            "ingest run_id=%s input=%s status=%s reason=%s id=%s",
            run_id,
            key,
            status,
            reason,
            target,
        )
        return {"input": key, "status": status, "reason": reason, "id": target, "title": title}

    def _close_interrupted(self, session: Session, run_id: str, kind: str, keys: list[str]) -> None:
        """Close earlier unfinished runs' ``pending`` records for the inputs this run takes over."""
        stale = select(IngestRun.id).where(
            IngestRun.kind == kind, IngestRun.finished_at.is_(None), IngestRun.id != run_id
        )
        stale_ids = list(session.scalars(stale))
        if not stale_ids:
            return
        wanted = set(keys)
        for record in session.scalars(
            select(IngestRecord).where(IngestRecord.run_id.in_(stale_ids), IngestRecord.status == "pending")
        ):
            if record.input_key in wanted:
                record.status = "failed"
                record.reason = f"interrupted (resumed by run {run_id})"
        for run in session.scalars(select(IngestRun).where(IngestRun.id.in_(stale_ids))):
            still = session.scalar(
                select(IngestRecord.id)
                .where(IngestRecord.run_id == run.id, IngestRecord.status == "pending")
                .limit(1)
            )
            if still is None:
                run.finished_at = utcnow()
                log.info("closed interrupted run_id=%s (resumed by %s)", run.id, run_id)

    def _finish(self, run_id: str, items: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
        counts = Counter(i["status"] for i in items)
        reasons = Counter(i["reason"] for i in items if i["status"] == "failed")
        report: dict[str, Any] = {
            "run_id": run_id,
            "ok": counts.get("ok", 0),
            "duplicate": counts.get("duplicate", 0),
            "failed": counts.get("failed", 0),
            "items": items,
            "failures_by_reason": dict(reasons.most_common()),
            "seconds": round(seconds, 3),
            "files_per_second": round(len(items) / seconds, 2) if seconds > 0 else 0.0,
        }
        with session_scope(self.session_factory) as session:
            run = session.get(IngestRun, run_id)
            if run is not None:
                run.finished_at = utcnow()
                run.counts = {k: report[k] for k in ("ok", "duplicate", "failed")}
        log.info(
            "ingest run finished run_id=%s ok=%d duplicate=%d failed=%d seconds=%.1f",
            run_id,
            report["ok"],
            report["duplicate"],
            report["failed"],
            seconds,
        )
        return report


def record_refused(
    session_factory: sessionmaker[Session],
    *,
    kind: str,
    key: str,
    reason: str,
    target_kind: str = "document",
    args: dict[str, Any] | None = None,
) -> str:
    """Record an input refused before it could enter a run (an upload refused at screening): a finished
    run of ``kind`` with one ``failed`` record carrying ``reason``, so that nothing refused goes unrecorded.
    Returns the run id."""
    run_id = uuid.uuid4().hex
    with session_scope(session_factory) as session:
        session.add(
            IngestRun(
                id=run_id,
                kind=kind,
                args=args or {},
                finished_at=utcnow(),
                counts={"ok": 0, "duplicate": 0, "failed": 1},
            )
        )
        session.flush()
        session.add(
            IngestRecord(
                run_id=run_id, input_key=key, status="failed", reason=reason, target_kind=target_kind
            )
        )
    log.info("ingest refused run_id=%s kind=%s input=%s reason=%s", run_id, kind, key, reason)
    return run_id


def recover_interrupted(session_factory: sessionmaker[Session], kinds: Iterable[str] = ("upload",)) -> int:
    """At server start: mark ``failed`` ("interrupted (server restarted)") the ``pending`` records that
    no process will finish, and close their runs; returns how many records were marked.

    Those are the pending records of every run already finished, and of the unfinished runs of ``kinds``
    (by default the uploads, which only the server runs: a restarted server is not running any). Unfinished
    runs of other kinds (``tfe ingest`` in another process, a feed poll) are left alone: they may still be
    running, and re-running their command resumes them.
    """
    kinds = tuple(kinds)
    with session_scope(session_factory) as session:
        abandoned = select(IngestRun.id).where(
            (IngestRun.finished_at.is_not(None)) | (IngestRun.kind.in_(kinds))
        )
        pending = list(
            session.scalars(
                select(IngestRecord).where(
                    IngestRecord.status == "pending", IngestRecord.run_id.in_(abandoned)
                )
            )
        )
        for record in pending:
            record.status, record.reason = "failed", RESTARTED
        session.flush()
        run_ids = {r.run_id for r in pending} | set(
            session.scalars(
                select(IngestRun.id).where(IngestRun.finished_at.is_(None), IngestRun.kind.in_(kinds))
            )
        )
        for run in session.scalars(select(IngestRun).where(IngestRun.id.in_(run_ids))):
            states = Counter(
                session.scalars(select(IngestRecord.status).where(IngestRecord.run_id == run.id))
            )
            run.finished_at = run.finished_at or utcnow()
            run.counts = {k: states.get(k, 0) for k in ("ok", "duplicate", "failed")}
    if pending:
        log.warning("marked %d interrupted ingest record(s) failed: %s", len(pending), RESTARTED)
    return len(pending)
