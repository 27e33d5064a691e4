"""The indicators' roll-ups kept current: each closed week and month of the audit trail summed per person,
and the watch's roll-up (``tfe.app.rollups_watch``, its summary under ``"watch"``).

A bucket is closed once its last day is over (UTC); ``run`` rolls up every closed bucket not rolled up yet
(``since``: every bucket from the one holding that day, again; ``rebuild``: all of them, again), from the
first audit event to yesterday. Each bucket is replaced in one transaction (its rows deleted and written
again with its ``indicator_rollups`` mark), so a run killed midway leaves whole buckets only, and running
again is harmless. The audit trail is never changed. Called by ``tfe indicators rollup`` and by the hourly
housekeeping job (``tfe.app.jobs.tasks``). ``forget_users`` deletes an erased account's rows, and an
erased account (``tfe.app.erasure``) is never rolled up again. Here, not in ``tfe.app.indicators``, so that
the jobs and the erasure reach it (the layers keep the jobs and the indicators apart); the indicators read
the rows (``tfe.app.indicators.rolled``) with the same vocabulary (``ACTIONS``, ``NOT_ACTIVITY``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Date, Integer, String, case, cast, delete, func, insert, literal, null, select
from sqlalchemy.orm import Session, sessionmaker

from tfe.core.db import refresh_statistics, utcnow
from tfe.core.models import AuditEvent, IndicatorRollup, IndicatorUserBucket, User

__all__ = [
    "ACTIONS",
    "ACTIVE",
    "EMPTY_SEARCH",
    "GRAINS",
    "METRIC",
    "METRIC_OF",
    "NOT_ACTIVITY",
    "bucket_bounds",
    "forget_users",
    "pending",
    "roll_bucket",
    "run",
]

# metric → the audit actions it counts (the indicators' use section, ``tfe.app.indicators.use``)
ACTIONS: dict[str, tuple[str, ...]] = {
    "searches": ("search",),
    "document_reads": ("document.read",),
    "document_downloads": ("document.download",),
    "uploads": ("document.upload",),
    "new_versions": ("document.version.add",),
    "unsubscriptions": ("subscription.unsubscribe", "subscription.delete", "subscription.delete_all"),
}
METRIC_OF = {action: metric for metric, actions in ACTIONS.items() for action in actions}
METRIC = case(METRIC_OF, value=AuditEvent.action, else_="")
EMPTY_SEARCH = (AuditEvent.action == "search") & (AuditEvent.detail["total"].as_integer() == 0)
# what does not make a person active (``tfe.app.indicators.adoption``)
NOT_ACTIVITY = ("auth.login_failed", "auth.login_throttled", "auth.login_held")
ACTIVE = "@active"  # the metric of a "this person was active in the bucket" row
# the tables the roll-ups and the dashboards read, whose planner statistics ``run`` keeps fresh
STATISTICS = (
    "organisations",
    "users",
    "audit_events",
    "indicator_user_buckets",
    "items",
    "classifications",
    "documents",
    "watch_rollup_rows",
    "quality_rollup_rows",
)
GRAINS = ("week", "month")
_COLUMNS = ("grain", "bucket", "user_id", "org_id", "metric", "events", "empty")


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _next(grain: str, day: dt.date) -> dt.date:
    if grain == "week":
        return day + dt.timedelta(days=7)
    return dt.date(day.year + 1, 1, 1) if day.month == 12 else dt.date(day.year, day.month + 1, 1)


def bucket_bounds(grain: str, since: dt.date, until: dt.date) -> list[tuple[dt.date, dt.date]]:
    """``(first day, next bucket's first day)`` of every bucket of ``grain`` meeting ``[since, until)``."""
    day = since - dt.timedelta(days=since.weekday()) if grain == "week" else since.replace(day=1)
    out = []
    while day < until:
        out.append((day, _next(grain, day)))
        day = _next(grain, day)
    return out


def pending(
    session: Session, today: dt.date, *, since: dt.date | None = None, rebuild: bool = False
) -> list[tuple[str, dt.date, dt.date]]:
    """``(grain, first day, next first day)`` of the closed buckets to roll up, oldest first."""
    first_at = session.scalar(select(func.min(AuditEvent.at)))
    if first_at is None:
        return []
    first = first_at.date()
    out: list[tuple[str, dt.date, dt.date]] = []
    for grain in GRAINS:
        done = set(session.scalars(select(IndicatorRollup.bucket).where(IndicatorRollup.grain == grain)))
        for start, end in bucket_bounds(grain, first, today):
            if end > today:
                continue  # still open: read live
            again = rebuild or (since is not None and end > since)
            if again or start not in done:
                out.append((grain, start, end))
    return sorted(out, key=lambda b: (b[1], b[0]))


def _rows(grain: str, start: dt.date, end: dt.date) -> Any:
    from tfe.app.erasure import ERASED_DOMAIN

    erased = select(User.id).where(User.email.like(f"%@{ERASED_DOMAIN}"))
    within = (
        (AuditEvent.at >= _utc(start))
        & (AuditEvent.at < _utc(end))
        & AuditEvent.actor_user_id.is_not(None)
        & AuditEvent.actor_user_id.not_in(erased)
    )
    head = (cast(literal(grain), String), literal(start, Date))
    uses = (
        select(
            *head,
            AuditEvent.actor_user_id,
            AuditEvent.actor_org_id,
            METRIC,
            func.count(AuditEvent.id),
            func.sum(case((EMPTY_SEARCH, 1), else_=0).cast(Integer)),
        )
        .where(within, AuditEvent.action.in_(list(METRIC_OF)))
        .group_by(AuditEvent.actor_user_id, AuditEvent.actor_org_id, METRIC)
    )
    active = (
        select(
            *head,
            AuditEvent.actor_user_id,
            cast(null(), Integer),
            cast(literal(ACTIVE), String),
            func.count(AuditEvent.id),
            cast(literal(0), Integer),
        )
        .where(within, AuditEvent.action.not_in(NOT_ACTIVITY))
        .group_by(AuditEvent.actor_user_id)
    )
    return uses, active


def roll_bucket(factory: sessionmaker[Session], grain: str, start: dt.date, end: dt.date) -> int:
    """Replace one bucket's rows (one transaction); the rows written."""
    with factory.begin() as session:
        session.execute(
            delete(IndicatorUserBucket).where(
                IndicatorUserBucket.grain == grain, IndicatorUserBucket.bucket == start
            )
        )
        session.execute(
            delete(IndicatorRollup).where(IndicatorRollup.grain == grain, IndicatorRollup.bucket == start)
        )
        for query in _rows(grain, start, end):
            session.execute(insert(IndicatorUserBucket).from_select(list(_COLUMNS), query))
        written = int(
            session.scalar(
                select(func.count(IndicatorUserBucket.id)).where(
                    IndicatorUserBucket.grain == grain, IndicatorUserBucket.bucket == start
                )
            )
            or 0
        )
        session.add(IndicatorRollup(grain=grain, bucket=start, rows=written, rolled_at=utcnow()))
    return written


def run(
    factory: sessionmaker[Session],
    *,
    today: dt.date | None = None,
    since: dt.date | None = None,
    rebuild: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Roll up what ``pending`` names, then the watch's roll-up; ``progress(done, total)`` after each
    bucket of either, counted together (both planned first: one progress bar for the whole run, the
    watch's first build being most of it). A summary."""
    from tfe.app import rollups_watch  # the watch's roll-up: the items' days, weeks, months, quarters, years

    day = today or utcnow().date()
    t0 = time.perf_counter()
    with factory.begin() as session:  # the day's roll and the dashboards' plans need them
        analysed = refresh_statistics(session, STATISTICS)
    with factory() as session:
        todo = pending(session, day, since=since, rebuild=rebuild)
        watch_plan = rollups_watch.plan(session, day, since=since, rebuild=rebuild)
    total = len(todo) + len(watch_plan.todo)
    rows = 0
    for n, (grain, start, end) in enumerate(todo, 1):
        rows += roll_bucket(factory, grain, start, end)
        if progress is not None:
            progress(n, total)
    seconds = round(time.perf_counter() - t0, 2)

    def watch_step(done: int, _: int) -> None:
        if progress is not None:
            progress(len(todo) + done, total)

    return {
        "buckets": len(todo),
        "weeks": sum(1 for g, _, _ in todo if g == "week"),
        "months": sum(1 for g, _, _ in todo if g == "month"),
        "rows": rows,
        "seconds": seconds,
        "analysed": analysed,
        "watch": rollups_watch.run(factory, today=day, progress=watch_step, planned=watch_plan),
    }


def forget_users(session: Session, user_ids: list[int]) -> dict[str, int]:
    """An erased account's roll-up rows deleted (the counts of closed buckets lose them too)."""
    if not user_ids:
        return {"indicator_rollup_rows": 0}
    result = session.execute(delete(IndicatorUserBucket).where(IndicatorUserBucket.user_id.in_(user_ids)))
    return {"indicator_rollup_rows": int(result.rowcount or 0)}  # type: ignore[attr-defined]
