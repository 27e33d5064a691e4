"""Reclassification after a taxonomy change (issue 10 §4): preview, then a resumable run.

``preview(session, change, user_id)`` finds the targets the change can affect
(``taxonomy.reclassify.affected_targets``: holders of its concepts, and the search index's matches for
its old and new labels and rules), re-runs the classifier on the referential in force and stores a
``ReclassifyRun`` (status ``preview``) whose report says, per touched concept, how many documents and
items would gain or lose it. ``run(session_factory, run_id)`` applies it in batches: each target in its
own short transaction (its automatic rows of the touched concepts replaced, curator rows never touched,
its passages re-indexed so facets change at once), then the cursor moves; a run interrupted mid-way
(a crash, an error) resumes after its cursor. ``after_change(session, change)`` is what the editing
routes call once a change is committed: inline when at most ``INLINE_LIMIT`` targets, else a job.

The runtime (search backend, referential) is passed as ``rt``; without it, the one registered for the
session's engine by ``register_runtime`` (the web app, the CLI, the job worker) is used.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from search.types import SearchQuery
from taxonomy.models import ReclassifyRun, TaxonomyChange
from taxonomy.reclassify import (
    RECLASSIFIED_SCHEMES,
    TargetKey,
    affected_targets,
    compare,
    key_of,
    rules_of,
    search_terms,
    summary_fr,
    touched_concepts,
)
from tfe.app.jobs import reclassify_targets as targets
from tfe.app.jobs.runtimes import register_runtime, runtime_of
from tfe.core.db import session_scope, utcnow
from tfe.core.errors import NotFoundError
from tfe.core.security import audit
from tfe.core.security.audit import Actor
from tfe.core.security.scope import AccessScope

if TYPE_CHECKING:
    from tfe.app.runtime import Runtime

__all__ = [
    "BATCH",
    "INLINE_LIMIT",
    "after_change",
    "as_dict",
    "enqueue",
    "preview",
    "register_runtime",
    "run",
    "start",
]

log = logging.getLogger(__name__)

INLINE_LIMIT = 200  # targets reclassified in the request that made the change; more go to a job
BATCH = 64  # targets classified per spaCy pass; the cursor moves after each batch
Progress = Callable[[int, int], None]  # (done, total)

_PROPOSER = targets.Proposer()


def _runtime(bind_of: Session | sessionmaker[Session], rt: Runtime | None) -> Runtime:
    return rt if rt is not None else runtime_of(bind_of)


@dataclass
class _Plan:
    concepts: list[str]  # the touched concepts whose rows are rewritten
    keys: list[TargetKey]  # the targets, in processing order


def _text_search(rt: Runtime) -> Callable[[str, int], list[TargetKey]]:
    def search(term: str, limit: int) -> list[TargetKey]:
        query = SearchQuery(
            term, AccessScope.everything().with_archived(), limit=limit, mode="bm25", explain=False
        )
        hits = rt.backend.search(query).hits
        return [(str(h.meta.get("kind") or "document"), h.parent_id) for h in hits]

    return search


def _plan(session: Session, rt: Runtime, change: TaxonomyChange) -> _Plan:
    touched = touched_concepts(change)
    ref = rt.referential
    concepts = [c for c in touched if (ref.get(c) is None or ref.concept(c).scheme in RECLASSIFIED_SCHEMES)]
    keys = affected_targets(
        session,
        touched,
        rules_of(change, "before"),
        rules_of(change, "after"),
        change=change,
        terms=search_terms(change),
        text_search=_text_search(rt),
    )
    return _Plan(concepts, keys)


def _change(session: Session, change: TaxonomyChange | int) -> TaxonomyChange:
    if isinstance(change, TaxonomyChange):
        return change
    row = session.get(TaxonomyChange, change)
    if row is None:
        raise NotFoundError(f"modification du référentiel {change} introuvable")
    return row


def _merge(total: dict[str, dict[str, dict[str, int]]], part: dict[str, dict[str, dict[str, int]]]) -> None:
    for cid, kinds in part.items():
        for kind, counts in kinds.items():
            into = total.setdefault(cid, {}).setdefault(kind, {"gain": 0, "lose": 0})
            into["gain"] += counts["gain"]
            into["lose"] += counts["lose"]


def _report(rt: Runtime, counts: dict[str, dict[str, dict[str, int]]], *, done: bool) -> dict[str, Any]:
    """``{"concepts": {id: {"label", "gain", "lose", "document": {...}, "item": {...}}}, "summary"}``."""
    ref = rt.referential
    concepts = {
        cid: {
            "label": ref.label(cid) if cid in ref else cid,
            "gain": sum(k["gain"] for k in kinds.values()),
            "lose": sum(k["lose"] for k in kinds.values()),
            **kinds,
        }
        for cid, kinds in sorted(counts.items())
    }
    summary = summary_fr(counts, lambda c: str(concepts[c]["label"]), done=done)
    return {"concepts": concepts, "summary": summary}


def _batches(keys: Sequence[TargetKey]) -> list[Sequence[TargetKey]]:
    return [keys[i : i + BATCH] for i in range(0, len(keys), BATCH)]


def preview(
    session: Session, change: TaxonomyChange | int, user_id: int | None, *, rt: Runtime | None = None
) -> ReclassifyRun:
    """What reclassifying after ``change`` would do, stored as a run of status ``preview`` (flushed, in
    the caller's transaction); nothing else is written."""
    rt = _runtime(session, rt)
    row = _change(session, change)
    plan = _plan(session, rt, row)
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for batch in _batches(plan.keys):
        loaded = targets.load(session, batch)
        auto, curated = targets.current(session, batch, plan.concepts)
        proposals = _PROPOSER.propose(rt.referential, loaded)
        proposed = {t.key: set(p) for t, p in zip(loaded, proposals, strict=True)}
        _merge(counts, compare(auto, proposed, plan.concepts, curated))
    run_row = ReclassifyRun(
        change_id=row.id,
        status="preview",
        concepts=plan.concepts,
        total=len(plan.keys),
        done=0,
        report={"preview": _report(rt, counts, done=False), "targets": len(plan.keys)},
        created_by=user_id,
    )
    session.add(run_row)
    session.flush()
    return run_row


def _fail(factory: sessionmaker[Session], run_id: int, exc: BaseException) -> None:
    with session_scope(factory) as s:
        row = s.get(ReclassifyRun, run_id)
        if row is not None:
            row.status = "failed"
            row.error = f"{type(exc).__name__}: {exc}"[:2000]


def run(
    session_factory: sessionmaker[Session],
    run_id: int,
    progress: Progress | None = None,
    *,
    rt: Runtime | None = None,
) -> dict[str, Any]:
    """Apply run ``run_id`` (resuming after its cursor); its final state as ``as_dict``.

    Each target is rewritten in its own transaction, the cursor after each batch; an error marks the
    run ``failed`` with the error and is raised again (running it again resumes).
    """
    rt = _runtime(session_factory, rt)
    with session_scope(session_factory) as s:
        row = s.get(ReclassifyRun, run_id)
        if row is None:
            raise NotFoundError(f"reclassement {run_id} introuvable")
        if row.status == "done":
            return as_dict(row)
        change = _change(s, row.change_id or 0)
        plan = _plan(s, rt, change)
        cursor = row.cursor
        remaining = [k for k in plan.keys if cursor is None or key_of(k) > cursor]
        row.status, row.error, row.concepts = "running", "", plan.concepts
        row.total, row.done = len(plan.keys), len(plan.keys) - len(remaining)
        counts: dict[str, dict[str, dict[str, int]]] = copy.deepcopy((row.report or {}).get("counts") or {})
        audit.record(
            s,
            "taxonomy.reclassify",
            Actor.system(),
            target_kind="reclassify_run",
            target_id=str(run_id),
            detail={"change": change.id, "targets": row.total},
        )
        total, done = row.total, row.done
    try:
        for batch in _batches(remaining):
            with session_scope(session_factory) as s:
                loaded = targets.load(s, batch)
                auto, curated = targets.current(s, batch, plan.concepts)
            referential = rt.referential
            proposals = _PROPOSER.propose(referential, loaded)
            for target, proposed in zip(loaded, proposals, strict=True):
                with session_scope(session_factory) as s:
                    targets.apply(s, target.key, plan.concepts, proposed)
            # the index after the rows are committed (its passage texts are written by another
            # connection, which a SQLite write transaction held here would block); a crash in between
            # leaves the cursor before this batch, which is then done again
            deferred = targets.DeferredCommit(rt.backend)
            with session_scope(session_factory) as s:
                for target in loaded:
                    targets.reindex(s, deferred, referential, target.key)
            rt.backend.commit()
            _merge(
                counts,
                compare(
                    auto,
                    {t.key: set(p) for t, p in zip(loaded, proposals, strict=True)},
                    plan.concepts,
                    curated,
                ),
            )
            done += len(batch)
            with session_scope(session_factory) as s:
                row = s.get(ReclassifyRun, run_id)
                assert row is not None
                row.cursor, row.done = key_of(batch[-1]), done
                row.report = {**(row.report or {}), "counts": counts}
            if progress is not None:
                progress(done, total)
    except BaseException as exc:
        _fail(session_factory, run_id, exc)
        raise
    with session_scope(session_factory) as s:
        row = s.get(ReclassifyRun, run_id)
        assert row is not None
        row.status, row.finished_at, row.done = "done", utcnow(), done
        row.report = {**(row.report or {}), "counts": counts, "result": _report(rt, counts, done=True)}
        log.info("reclassify run=%s change=%s targets=%d", run_id, row.change_id, total)
        return as_dict(row)


def enqueue(rt: Runtime, run_id: int) -> None:
    """Hand the run to the job queue (``tfe.app.jobs.tasks.Jobs.reclassify``)."""
    from tfe.app.jobs.tasks import Jobs

    Jobs(rt).reclassify(run_id)


def start(
    session: Session, change: TaxonomyChange | int, user_id: int | None, *, rt: Runtime | None = None
) -> dict[str, Any]:
    """Reclassify after ``change``: previewed and run at once when it affects at most ``INLINE_LIMIT``
    targets, else stored and enqueued (status ``preview`` until a worker takes it); the run as
    ``as_dict``. Commits ``session`` (the run's rows are written by other transactions)."""
    rt = _runtime(session, rt)
    row = _change(session, change)
    plan = _plan(session, rt, row)
    if len(plan.keys) > INLINE_LIMIT:
        run_row = ReclassifyRun(
            change_id=row.id,
            status="preview",
            concepts=plan.concepts,
            total=len(plan.keys),
            report={"targets": len(plan.keys), "queued": True},
            created_by=user_id,
        )
        session.add(run_row)
        session.commit()
        enqueue(rt, run_row.id)
        return as_dict(run_row)
    run_row = preview(session, row, user_id, rt=rt)
    session.commit()
    return run(rt.session_factory, run_row.id, rt=rt)


def after_change(
    session: Session, change: TaxonomyChange | int, *, rt: Runtime | None = None
) -> dict[str, Any]:
    """What the editing routes call once a change is committed: ``start`` on behalf of its author."""
    row = _change(session, change)
    return start(session, row, row.user_id, rt=rt)


def as_dict(row: ReclassifyRun) -> dict[str, Any]:
    """The run as the API answers it."""
    report = row.report or {}
    shown = report.get("result") or report.get("preview") or {}
    return {
        "id": row.id,
        "change_id": row.change_id,
        "status": row.status,
        "concepts": list(row.concepts or []),
        "total": row.total,
        "done": row.done,
        "progress": round(row.done / row.total, 4) if row.total else 1.0,
        "cursor": row.cursor,
        "preview": report.get("preview"),
        "result": report.get("result"),
        "summary": shown.get("summary", ""),
        "error": row.error or "",
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }
