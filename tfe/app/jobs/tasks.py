"""The durable jobs of an installation: ``poll_source``, ``run_digests``, ``backfill``, ``housekeeping``,
the scheduler's tick.

Every tick also enqueues one ``run_digests`` (alert digests: instant ones each tick, daily and weekly ones
at their time, retries of messages), under the ``digests`` lease so that one run at a time is queued or
running across all workers; and, at most once an hour (the ``housekeeping`` lease lasts an hour and is
never given back early), one ``housekeeping`` job: the GED's expiry reminders (``ged.expiry``) and the
purge of documents in the trash past ``trash_retention_days`` (``ged.trash.purge_expired``, erasing each
through ``tfe.app.erasure.erase_document`` with the operator's signed receipt), and the audit chain's
signed anchor of the day (``tfe.app.jobs.anchor``), and the indicators' roll-ups of the weeks and months
closed since the last run (``tfe.app.rollups``).

Two leases make polling survive crashes without ever running twice at once (``tfe.app.jobs.leases``):

- ``enqueue-<id>`` (``enqueue_lease_s``, 10 min): taken by the scheduler when it enqueues a due source,
  its token travels in the job, and the job gives it back when the poll ends (or ends for good after its
  retries). While it is held the source is not enqueued again, whatever the number of schedulers.
  Huey removes a job from the queue before running it, so a worker killed mid-poll loses the job; the
  source stays due (the poller moves ``next_poll_at`` only when a poll finishes) and once the lease
  expires the next tick enqueues it again.
- ``poll-<id>`` (``run_lease_s``, 60 s, renewed every third of it while the poll runs): held during the
  poll. A second job for the same source gives up quietly (the first one is polling it); a killed
  worker's lease lapses within ``run_lease_s``. A job that waited in the queue past its enqueue lease,
  while a newer job for the source was enqueued, gives up too, and so does one whose source is no longer
  due (polled meanwhile by ``tfe poll --once`` or an explicit request). A job enqueued without a lease
  (``poll_source(id)``: an explicit "poll now") always polls.

Polls index new items without vectors (BM25 at once); a poll that stored items enqueues one ``backfill``
job (``backfill`` lease: one queued or running across all workers) that embeds the passages still
without a vector, a few at a time, in a thread of its own at a lower CPU priority (nice +10), so polls
keep the processor; it stops after ``backfill_max_s`` and enqueues itself again when some remain.

The scheduler's tick takes the enqueue leases of all due sources in one call (``acquire_many``: one
query for the live leases and one transaction, instead of a connection per due source).

A job that raises (database down, a bug) is retried by Huey (``retries`` times, ``retry_delay_s`` apart);
failures of the source itself are the poller's business: recorded on the source, never raised.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select

from tfe.app.jobs.leases import new_token
from tfe.app.jobs.queue import Queue, make_queue
from tfe.app.jobs.runtimes import register_runtime
from tfe.core.db import utcnow
from veille.models import Source

if TYPE_CHECKING:
    from huey.api import Task, TaskWrapper

    from tfe.app.runtime import Runtime

__all__ = ["Jobs", "PollerLike"]

log = logging.getLogger(__name__)


class PollerLike(Protocol):
    """What the jobs need of ``veille.poller.Poller``."""

    def poll(self, source_id: int, now: dt.datetime | None = None) -> Any: ...

    def due_sources(self, now: dt.datetime | None = None, limit: int | None = None) -> list[int]: ...


class Jobs:
    """The Huey queue of one installation with its tasks registered, capturing the runtime.

    ``poll_source(source_id)`` enqueues a poll (``poll_source.call_local(source_id)`` runs it here);
    ``enqueue_due()`` is one scheduler tick.
    """

    def __init__(
        self,
        rt: Runtime,
        *,
        queue: Queue | None = None,
        poller: PollerLike | None = None,
        enqueue_lease_s: float = 600.0,
        run_lease_s: float = 60.0,
        retries: int = 2,
        retry_delay_s: float = 10.0,
        backfill_batch: int = 8,
        backfill_max_s: float = 20.0,
    ) -> None:
        self.rt = rt
        register_runtime(rt)  # the reclassification job's runtime (``tfe.app.jobs.runtimes``)
        self.queue = queue or make_queue(rt.settings)
        self.huey = self.queue.huey
        self.leases = self.queue.leases
        self._poller = poller
        self.enqueue_lease_s = enqueue_lease_s
        self.run_lease_s = run_lease_s
        self.backfill_batch = backfill_batch
        self.backfill_max_s = backfill_max_s
        self.backfilled = 0  # passages given a vector by this instance's back-fill jobs
        self.poll_source: TaskWrapper = self.huey.task(
            retries=retries, retry_delay=retry_delay_s, context=True, name="poll_source"
        )(self._poll_source)
        self.run_digests: TaskWrapper = self.huey.task(name="run_digests")(self._run_digests)
        self.backfill: TaskWrapper = self.huey.task(name="backfill")(self._backfill)
        self.housekeeping: TaskWrapper = self.huey.task(name="housekeeping")(self._housekeeping)
        self.reclassify: TaskWrapper = self.huey.task(name="reclassify")(self._reclassify)
        self.retrain_classifier: TaskWrapper = self.huey.task(name="retrain_classifier")(
            self._retrain_classifier
        )

    @property
    def poller(self) -> PollerLike:
        return self._poller if self._poller is not None else self.rt.poller

    # -- the scheduler's tick ------------------------------------------------------------------------

    def enqueue_due(self, now: dt.datetime | None = None) -> list[int]:
        """Enqueue a poll of every due source not already enqueued (lease held); the ids enqueued.

        The due list is read again once the leases are taken: a poll that ended in between has moved
        its source's ``next_poll_at`` before giving its lease back, so it is not enqueued a second time.
        """
        due = self.poller.due_sources(now)
        if not due:
            return []
        tokens = {_enqueue_key(source_id): new_token() for source_id in due}
        got = self.leases.acquire_many(tokens, self.enqueue_lease_s)
        taken = {
            source_id: tokens[_enqueue_key(source_id)] for source_id in due if _enqueue_key(source_id) in got
        }
        if not taken:
            return []
        still_due = set(self.poller.due_sources(now))
        enqueued = []
        for source_id, token in taken.items():
            if source_id in still_due:
                self.poll_source(source_id, lease=token)
                enqueued.append(source_id)
            else:
                self.leases.release(_enqueue_key(source_id), token)
        if enqueued:
            log.debug("enqueued polls of %d source(s)", len(enqueued))
        return enqueued

    def enqueue_digests(self) -> bool:
        """Enqueue one digest run (instant alerts, daily/weekly ones when due, retries) unless one is
        already queued or running (``digests`` lease, whatever the number of schedulers)."""
        token = new_token()
        if not self.leases.acquire(DIGEST_LEASE, token, self.enqueue_lease_s):
            return False
        self.run_digests(lease=token)
        return True

    def _run_digests(self, lease: str | None = None) -> None:
        """Send what is due now (``veille.alerts.digests``), then give the lease back."""
        try:
            report = self.rt.digests.run()
        finally:
            if lease is not None:
                self.leases.release(DIGEST_LEASE, lease)
        if report.subscriptions or report.retried.get("retried"):
            log.info("digests %s retried=%s", report.as_dict(), report.retried.get("retried", 0))

    # -- the GED's hourly housekeeping: expiry reminders, trash purge ---------------------------------

    def enqueue_housekeeping(self) -> bool:
        """Enqueue one housekeeping job unless one was enqueued in the last hour (``housekeeping`` lease,
        whatever the number of schedulers)."""
        if not self.leases.acquire(HOUSEKEEPING_LEASE, new_token(), HOUSEKEEPING_EVERY_S):
            return False
        self.housekeeping()
        return True

    def _housekeeping(self) -> None:
        """Expiry reminders, then the trash purge; one failing does not stop the other."""
        from ged.expiry import send_expiry_reminders
        from ged.trash import PURGE_REASON, purge_expired
        from tfe.app.erasure import erase_document
        from tfe.core.security.audit import Actor

        rt = self.rt
        try:
            reminders = send_expiry_reminders(rt.session_factory, rt.settings)
            if reminders.sent or reminders.failed:
                log.info("expiry reminders %s", reminders.as_dict())
        except Exception:
            log.exception("expiry reminders failed; next try in an hour")
        purge = purge_expired(
            rt.session_factory,
            lambda doc_id: erase_document(rt, doc_id, actor=Actor.system(), reason=PURGE_REASON),
            retention_days=rt.settings.trash_retention_days,
        )
        if purge.purged or purge.failed:
            log.info("trash purge %s", purge.as_dict())
        try:
            from tfe.app.jobs.anchor import anchor_daily

            anchor_daily(rt)  # the audit chain's signed anchor, once a day
        except Exception:
            log.exception("audit anchor failed; next try in an hour")
        try:
            from tfe.app.rollups import run as roll_up

            rolled = roll_up(rt.session_factory)  # the indicators' weeks and months closed since
            if rolled["buckets"]:
                log.info("indicator roll-ups %s", rolled)
        except Exception:
            log.exception("indicator roll-ups failed; next try in an hour")

    # -- reclassification after a taxonomy change (issue 10 §4) ------------------------------------------

    def _reclassify(self, run_id: int) -> None:
        """Run (or resume) one reclassification (``tfe.app.jobs.reclassify.run``)."""
        from tfe.app.jobs.reclassify import run

        run(self.rt.session_factory, run_id, rt=self.rt)

    def _retrain_classifier(self, scheme: str = "naf") -> dict[str, Any]:
        """Retrain a scheme's learned classifier from the decisions (``tfe.app.jobs.train_classifier``)."""
        from tfe.app.jobs.train_classifier import retrain

        return retrain(self.rt, scheme)

    # -- vectors for what polls indexed ---------------------------------------------------------------

    def enqueue_backfill(self) -> bool:
        """Enqueue one back-fill job unless one is already queued or running (``backfill`` lease)."""
        token = new_token()
        if not self.leases.acquire(BACKFILL_LEASE, token, self.enqueue_lease_s):
            return False
        self.backfill(lease=token)
        return True

    def _backfill(self, lease: str | None = None) -> None:
        """Embed missing passage vectors for at most ``backfill_max_s`` in a low-priority thread; give the
        lease back, and enqueue the next job when passages are left."""
        from tfe.app.background import backfill_batch

        more = [False]

        def work() -> None:
            # Linux: a thread's nice value is its own (this thread ends with the job)
            with contextlib.suppress(AttributeError, OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
            deadline = time.monotonic() + self.backfill_max_s
            while time.monotonic() < deadline:
                done = backfill_batch(self.rt, self.backfill_batch)
                self.backfilled += done
                if not done:
                    return
            more[0] = True

        errors: list[BaseException] = []

        def run() -> None:
            try:
                work()
            except BaseException as exc:  # re-raised in the job's thread: Huey logs it
                errors.append(exc)

        thread = threading.Thread(target=run, name="tfe-backfill-job", daemon=True)
        try:
            thread.start()
            thread.join()
        finally:
            if lease is not None:
                self.leases.release(BACKFILL_LEASE, lease)
        if errors:
            raise errors[0]
        if more[0]:
            self.enqueue_backfill()

    # -- the task ------------------------------------------------------------------------------------

    def _poll_source(self, source_id: int, lease: str | None = None, task: Task | None = None) -> None:
        """Poll one source under its run lease; give the enqueue lease back when done for good."""
        if lease is not None:
            holder = self.leases.holder(_enqueue_key(source_id))
            if holder is not None and holder != lease:  # waited past its lease; a newer job will poll
                log.info("poll source=%s skipped: a newer job was enqueued", source_id)
                return
            if not self._still_due(source_id):  # polled since it was enqueued (``tfe poll --once``...)
                self.leases.release(_enqueue_key(source_id), lease)
                log.info("poll source=%s skipped: no longer due", source_id)
                return
        run_token = new_token()
        if not self.leases.acquire(_run_key(source_id), run_token, self.run_lease_s):
            log.info("poll source=%s skipped: already being polled by another worker", source_id)
            return
        try:
            with _Renewer(self.leases, _run_key(source_id), run_token, self.run_lease_s):
                outcome = self.poller.poll(source_id)
        except Exception:
            if lease is not None and (task is None or not task.retries):
                self.leases.release(_enqueue_key(source_id), lease)
            raise
        finally:
            self.leases.release(_run_key(source_id), run_token)
        if lease is not None:
            self.leases.release(_enqueue_key(source_id), lease)
        if getattr(outcome, "new", 0):
            try:
                self.enqueue_backfill()
            except Exception:  # the poll is done; vectors wait for the next poll's job or `tfe backfill`
                log.warning("could not enqueue the back-fill job", exc_info=True)
        log.info(
            "poll source=%s status=%s http=%s new=%s%s",
            source_id,
            getattr(outcome, "status", "?"),
            getattr(outcome, "http_status", None),
            getattr(outcome, "new", 0),
            f" error={redact(str(outcome.error))}" if getattr(outcome, "error", None) else "",
        )

    def _still_due(self, source_id: int) -> bool:
        with self.rt.session() as session:
            row = session.execute(
                select(Source.next_poll_at, Source.paused).where(Source.id == source_id)
            ).first()
        if row is None or row.paused:
            return False
        at = row.next_poll_at
        if at is None:
            return True
        return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)) <= utcnow()

    def flush(self) -> None:
        """Empty the queue, its schedule and its leases (tests; an operator's reset)."""
        self.huey.storage.flush_all()
        self.leases.clear()


DIGEST_LEASE = "digests"
HOUSEKEEPING_LEASE = "housekeeping"
HOUSEKEEPING_EVERY_S = 3600.0
BACKFILL_LEASE = "backfill"


def _enqueue_key(source_id: int) -> str:
    return f"enqueue-{source_id}"


def _run_key(source_id: int) -> str:
    return f"poll-{source_id}"


_URL_SECRETS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/\s@]*@|(?P<query>\?)[^\s'\"]*", re.I)


def redact(text: str) -> str:
    """``text`` with URLs' credentials and query strings (where tokens hide) masked, for the logs."""

    def mask(m: re.Match[str]) -> str:
        return f"{m.group('scheme')}***@" if m.group("scheme") else "?***"

    return _URL_SECRETS.sub(mask, text)[:300]


class _Renewer:
    """``with``: renews a lease every third of its TTL in a daemon thread until the block ends."""

    def __init__(self, leases: Any, key: str, token: str, ttl_s: float) -> None:
        self.leases, self.key, self.token, self.ttl_s = leases, key, token, ttl_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"tfe-lease-{key}", daemon=True)

    def __enter__(self) -> _Renewer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                if not self.leases.renew(self.key, self.token, self.ttl_s):
                    log.warning("lease %s lost while its job runs", self.key)
                    return
            except Exception:  # a store hiccup: try again at the next beat, the lease has time left
                log.warning("lease %s: renewal failed", self.key, exc_info=True)
