"""Poll one source: fetch politely, turn what is new into items through the one pipeline, reschedule.

``Poller.poll(source_id)`` is what a job runs (``tfe.app.jobs``) and what ``tfe poll --once`` runs for every
due source. Each poll ends recorded (a ``SourcePoll`` row, the source's health, last status and error) and
moves ``next_poll_at`` forward only when it finishes, so a worker killed mid-poll leaves the source due and
it is polled again. Feeds are fetched with the stored ETag / Last-Modified; listing pages are crawled
(``veille.crawl``); watched pages are compared with their last snapshot (``veille.pagewatch``). Entries
already stored for the source (same guid) never reach the pipeline; the sink dedupes the rest by content.
New items are indexed without vectors (searchable by BM25 as soon as the poll stores them); their vectors
are back-filled by the worker (``tfe.app.jobs``: a back-fill job after each poll that stored items).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from ingest.feeds import NEWS_DOCTYPE, FeedResult, parse_feed
from ingest.item import IngestItem
from ingest.runner import IngestRunner
from tfe.core.db import session_scope, utcnow
from tfe.core.errors import ValidationError
from tfe.core.settings import Settings
from veille import schedule
from veille.fetch import FEED_ACCEPT, HTML_ACCEPT, FetchError, FetchResult, fetch, make_client, retry_after_s
from veille.models import Item, Source, SourcePoll
from veille.politeness import HostGate

__all__ = ["PollOutcome", "Poller"]

log = logging.getLogger(__name__)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_FEED_ROOT = re.compile(rb"<(rss|feed|rdf:RDF)[\s>]")


@dataclass
class PollOutcome:
    source_id: int
    url: str
    status: str  # ok, not_modified, failed, deferred
    http_status: int | None = None
    new: int = 0
    next_poll_at: dt.datetime | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["id"] = out.pop("source_id")
        out["next_poll_at"] = self.next_poll_at.isoformat() if self.next_poll_at else None
        return out


@dataclass
class _Snapshot:
    """What a poll needs of its source, read in a short transaction before any network I/O."""

    id: int
    url: str
    kind: str
    config: dict[str, Any]
    etag: str | None
    last_modified: str | None
    org_id: int | None
    visibility: str
    language: str | None
    full_text: bool
    failures: int
    min_s: int
    max_s: int


@dataclass
class _Fetched:
    """What the fetch and parse produced, before anything is stored."""

    status: str
    http_status: int | None = None
    entries: list[IngestItem] | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    retry_after: float | None = None
    gone: bool = False
    new_url: str | None = None
    slow: bool = False
    max_age: int | None = None
    publisher_interval: int | None = None
    size: int = 0
    config: dict[str, Any] | None = None  # an updated config (a watched page's new snapshot)


def _newest(entries: list[IngestItem], limit: int) -> list[IngestItem]:
    """The ``limit`` newest entries (undated ones last, in feed order): a feed that dumps its whole
    archive, or a first poll of a long feed, does not flood the queue; older entries stay unread."""
    if len(entries) <= limit:
        return entries
    order = sorted(
        range(len(entries)),
        key=lambda i: (entries[i].published_at is None, -(_timestamp(entries[i].published_at)), i),
    )
    return [entries[i] for i in sorted(order[:limit])]


def _timestamp(when: dt.datetime | None) -> float:
    if when is None:
        return 0.0
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()


class Poller:
    """Polls sources; thread-safe (one HTTP client and one host gate shared by the worker's threads)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        runner: Callable[[bool], IngestRunner],
        settings: Settings,
        *,
        on_new_items: Callable[[list[str]], None] | None = None,
    ) -> None:
        self._sessions = session_factory
        self._runner = runner
        self._settings = settings
        self._on_new_items = on_new_items
        self._gate = HostGate(settings.poll_host_concurrency, settings.poll_host_delay_s)
        self._client_lock = threading.Lock()
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                self._client = make_client(self._settings)
            return self._client

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # -- scheduling -------------------------------------------------------------------------------

    def due_sources(self, now: dt.datetime | None = None, limit: int | None = None) -> list[int]:
        """Ids of the sources to poll now (not paused, never polled or due), most overdue first."""
        now = now or utcnow()
        query = (
            select(Source.id)
            .where(Source.paused.is_(False), (Source.next_poll_at.is_(None)) | (Source.next_poll_at <= now))
            .order_by(Source.next_poll_at.is_(None).desc(), Source.next_poll_at, Source.id)
        )
        if limit:
            query = query.limit(limit)
        with session_scope(self._sessions) as session:
            return list(session.scalars(query))

    def poll_due(self, now: dt.datetime | None = None, *, progress: bool = False) -> dict[str, Any]:
        """Poll every due source once (threads of ``worker_threads``); the ``tfe poll --once`` report."""
        ids = self.due_sources(now)
        outcomes: list[PollOutcome] = []
        with (
            ThreadPoolExecutor(max_workers=self._settings.worker_threads) as pool,
            tqdm(total=len(ids), desc="Sources", unit="source", disable=not progress) as bar,
        ):
            for outcome in pool.map(self.poll, ids):
                outcomes.append(outcome)
                bar.update()
        return {
            "polled": len(outcomes),
            "not_modified": sum(o.status == "not_modified" for o in outcomes),
            "new_items": sum(o.new for o in outcomes),
            "failed": sum(o.status == "failed" for o in outcomes),
            "sources": [o.as_dict() for o in outcomes],
        }

    # -- one poll ---------------------------------------------------------------------------------

    def poll(self, source_id: int, now: dt.datetime | None = None) -> PollOutcome:
        """Poll one source now (paused or unknown sources are ``deferred``); never raises for the source's
        own problems: they end in the outcome and the source's health."""
        snap = self._snapshot(source_id)
        if snap is None:
            return PollOutcome(source_id, "", "deferred", error="source inconnue ou en pause")
        started = time.perf_counter()
        started_at = now or utcnow()
        try:
            with self._gate.slot(snap.url):
                fetched = self._fetch(snap)
        except FetchError as exc:
            fetched = _Fetched("failed", error=str(exc))
        except ValidationError as exc:
            fetched = _Fetched("failed", error=exc.message)
        new_ids: list[str] = []
        if fetched.status == "ok" and fetched.entries:
            try:
                new_ids = self._store(snap, fetched.entries)
            except Exception as exc:  # the poll is recorded failed; the worker goes on
                log.exception("storing the entries of source %s failed", source_id)
                fetched = _Fetched("failed", http_status=fetched.http_status, error=f"stockage : {exc}")
        outcome = self._finish(snap, fetched, new_ids, started_at, time.perf_counter() - started)
        if new_ids and self._on_new_items is not None:
            try:
                self._on_new_items(new_ids)
            except Exception:  # stories and auto-acceptance must not lose the stored items
                log.exception("post-processing new items of source %s failed", source_id)
        return outcome

    def _snapshot(self, source_id: int) -> _Snapshot | None:
        with session_scope(self._sessions) as session:
            source = session.get(Source, source_id)
            if source is None or source.paused:
                return None
            return _Snapshot(
                id=source.id,
                url=source.url,
                kind=source.kind,
                config=dict(source.config or {}),
                etag=source.etag,
                last_modified=source.last_modified,
                org_id=source.org_id,
                visibility=source.visibility,
                language=source.language,
                full_text=source.full_text,
                failures=source.failures,
                min_s=source.min_interval_s,
                max_s=source.max_interval_s,
            )

    def _fetch(self, snap: _Snapshot) -> _Fetched:
        if snap.kind == "page":
            return self._crawl(snap)
        accept = HTML_ACCEPT if snap.kind == "watch" else FEED_ACCEPT
        max_bytes = self._settings.max_page_bytes if snap.kind == "watch" else self._settings.max_feed_bytes
        result = fetch(
            self.client,
            snap.url,
            self._settings,
            etag=snap.etag,
            last_modified=snap.last_modified,
            accept=accept,
            max_bytes=max_bytes,
        )
        fetched = self._judge(result, snap)
        if fetched.status != "ok":
            return fetched
        if snap.kind == "watch":
            return self._watch(snap, result, fetched)
        if result.content_type in _HTML_TYPES and not _FEED_ROOT.search(result.body[:4000]):
            fetched.status, fetched.error = "failed", "la réponse est une page HTML, pas un flux"
            return fetched
        feed: FeedResult = parse_feed(result.body, snap.url)
        fetched.publisher_interval = feed.publisher_interval_s
        fetched.entries = feed.entries
        if snap.full_text:
            self._add_full_text(feed.entries)
        return fetched

    def _judge(self, result: FetchResult, snap: _Snapshot) -> _Fetched:
        """The HTTP answer's meaning for the schedule: not modified, throttled, gone, failed or ok."""
        fetched = _Fetched(
            "ok",
            http_status=result.status,
            etag=result.headers.get("etag"),
            last_modified=result.headers.get("last-modified"),
            new_url=result.permanent_url,
            slow=result.elapsed_s > schedule.SLOW_S,
            max_age=schedule.max_age_s(result.headers.get("cache-control")),
            size=len(result.body),
        )
        if result.status == 304:
            fetched.status = "not_modified"
        elif result.status in (429, 503):
            fetched.status = "failed"
            fetched.retry_after = retry_after_s(result.headers.get("retry-after"))
            wait = f", réessai dans {int(fetched.retry_after)} s" if fetched.retry_after is not None else ""
            fetched.error = f"HTTP {result.status} (le serveur demande d'attendre{wait})"
        elif result.status == 410:
            fetched.status, fetched.gone = "failed", True
            fetched.error = "HTTP 410 Gone : la source n'existe plus, elle est mise en pause"
        elif result.status != 200:
            fetched.status, fetched.error = "failed", f"HTTP {result.status}"
        return fetched

    def _crawl(self, snap: _Snapshot) -> _Fetched:
        from veille.crawl import crawl_listing

        with session_scope(self._sessions) as session:
            known = set(
                session.scalars(select(Item.url).where(Item.source_id == snap.id, Item.url.is_not(None)))
            )
        result = crawl_listing(
            snap.url, snap.config, self._settings, known_urls=frozenset(u for u in known if u)
        )
        if result.robots_refused:
            return _Fetched(
                "failed", http_status=result.listing_status, error="robots.txt interdit cette page"
            )
        if not result.articles and result.errors:
            return _Fetched("failed", http_status=result.listing_status, error="; ".join(result.errors)[:500])
        entries = [
            IngestItem(
                key=f"{snap.url}#{article.url}",
                kind="item",
                text="\n\n".join(p for p in (article.title, article.text) if p),
                title=article.title,
                url=article.url,
                published_at=article.published_at,
                doc_type=NEWS_DOCTYPE,
                guid=article.url,
                meta={"feed_url": snap.url, "content_origin": "page"},
            )
            for article in result.articles
        ]
        return _Fetched("ok", http_status=result.listing_status, entries=entries)

    def _watch(self, snap: _Snapshot, result: FetchResult, fetched: _Fetched) -> _Fetched:
        from veille.pagewatch import watch_region

        outcome = watch_region(result.body, result.url, snap.config, snap.config.get("snapshot"))
        fetched.config = {**snap.config, "snapshot": outcome.text}
        fetched.entries = []
        if outcome.changed:
            digest = hashlib.sha256(outcome.text.encode("utf-8")).hexdigest()[:16]
            title = f"Modification : {outcome.title or snap.url}"[:1000]
            fetched.entries.append(
                IngestItem(
                    key=f"{snap.url}#{digest}",
                    kind="item",
                    text=f"{title}\n\n{outcome.diff}",
                    title=title,
                    url=result.url,
                    doc_type=NEWS_DOCTYPE,
                    guid=f"{snap.url}#{digest}",
                    meta={"feed_url": snap.url, "summary": outcome.diff[:5000], "content_origin": "diff"},
                )
            )
        return fetched

    def _add_full_text(self, entries: list[IngestItem]) -> None:
        from veille.fulltext import extract_fulltext

        for entry in entries:
            if not entry.url:
                continue
            summary = str(entry.meta.get("summary") or "")
            with self._gate.slot(entry.url):
                full = extract_fulltext(self.client, entry.url, self._settings, min_chars=len(summary) + 1)
            if full is not None:
                entry.text = f"{entry.title}\n\n{full.text}" if entry.title else full.text
                entry.meta["content_origin"] = "full_text"

    def _store(self, snap: _Snapshot, entries: list[IngestItem]) -> list[str]:
        """Run the entries not already stored for this source through the pipeline; the new item ids."""
        with session_scope(self._sessions) as session:
            guids = [e.guid for e in entries if e.guid]
            known = (
                set(session.scalars(select(Item.guid).where(Item.source_id == snap.id, Item.guid.in_(guids))))
                if guids
                else set()
            )
        fresh: list[IngestItem] = []
        seen: set[str] = set()
        for entry in entries:
            if entry.guid in known or (entry.guid and entry.guid in seen):
                continue
            seen.add(entry.guid or entry.key)
            entry.source_id = snap.id
            entry.org_id = snap.org_id
            entry.visibility = snap.visibility
            fresh.append(entry)
        if not fresh:
            return []
        fresh = _newest(fresh, self._settings.poll_max_entries)
        # BM25 at once, vectors later: the worker's back-fill job (``tfe.app.jobs``), ``tfe serve``'s
        # BackfillWorker or ``tfe backfill`` embeds the passages (inline e5 cost ~0.4 s CPU per item)
        report = self._runner(False).run_items(fresh, progress=False)
        return [row["id"] for row in report["items"] if row["status"] == "ok" and row.get("id")]

    def _finish(
        self, snap: _Snapshot, fetched: _Fetched, new_ids: list[str], started_at: dt.datetime, seconds: float
    ) -> PollOutcome:
        """Record the poll and move the schedule: health, validators, interval, next poll."""
        now = utcnow()
        with session_scope(self._sessions) as session:
            source = session.get(Source, snap.id)
            if source is None:  # removed while we polled
                return PollOutcome(snap.id, snap.url, "deferred", error="source supprimée pendant la relève")
            source.last_polled_at = now
            source.last_status = fetched.http_status
            if fetched.status in ("ok", "not_modified"):
                self._on_success(session, source, fetched, now, new_ids)
            else:
                self._on_failure(source, fetched, now)
            session.add(
                SourcePoll(
                    source_id=source.id,
                    started_at=started_at,
                    duration_ms=int(seconds * 1000),
                    status=fetched.status,
                    http_status=fetched.http_status,
                    new_items=len(new_ids),
                    bytes=fetched.size,
                    error=fetched.error,
                )
            )
            return PollOutcome(
                source.id,
                source.url,
                fetched.status,
                http_status=fetched.http_status,
                new=len(new_ids),
                next_poll_at=source.next_poll_at,
                error=fetched.error,
            )

    def _on_success(
        self, session: Session, source: Source, fetched: _Fetched, now: dt.datetime, new_ids: list[str]
    ) -> None:
        source.failures = 0
        source.last_error = None
        source.last_success_at = now
        source.health = "slow" if fetched.slow else "ok"
        if fetched.status == "ok":
            source.etag = fetched.etag[:300] if fetched.etag else None
            source.last_modified = fetched.last_modified[:100] if fetched.last_modified else None
        if fetched.config is not None:
            source.config = fetched.config
        if new_ids:
            source.last_new_at = now
        if fetched.new_url and fetched.new_url != source.url:
            taken = session.scalar(select(Source.id).where(Source.url == fetched.new_url))
            if taken is None:
                source.url = fetched.new_url  # a permanent redirect: poll the new address from now on
        recent = session.scalars(
            select(Item.published_at)
            .where(Item.source_id == source.id)
            .order_by(Item.fetched_at.desc())
            .limit(100)
        )
        interval = schedule.success_interval_s(
            schedule.entry_interval_s(recent, now, source.min_interval_s, source.max_interval_s),
            source.max_interval_s,
            max_age=fetched.max_age,
            publisher_interval=fetched.publisher_interval,
        )
        source.interval_s = interval
        source.next_poll_at = now + dt.timedelta(seconds=interval)

    def _on_failure(self, source: Source, fetched: _Fetched, now: dt.datetime) -> None:
        source.failures += 1
        source.last_error = (fetched.error or "échec")[:2000]
        if fetched.gone:
            source.health = "gone"
            source.paused = True
            source.next_poll_at = None
            return
        source.health = schedule.health_after_failure(source.failures, self._settings.poll_dead_after)
        delay = schedule.backoff_s(
            source.failures, source.min_interval_s, source.max_interval_s, retry_after=fetched.retry_after
        )
        source.next_poll_at = now + dt.timedelta(seconds=delay)
