"""The digest run (``tfe digest run``, the worker's schedule): due subscriptions → matches → channels.

One run, at ``now``:

1. **Due subscriptions**: not paused, owner active; instant ones every run, daily and weekly ones when
   ``next_run_at`` (``veille.alerts.schedule.next_run``) has passed. ``frequency`` restricts the run.
2. **One batch for all of them** (``veille.alerts.matching``): the items accepted or auto-accepted since
   the oldest window's start, and the documents indexed since then; each subscription's query runs on that
   batch with its owner's scope computed *now* from their current organisation and role.
3. **Story-level entries** per subscription: the matched items' stories, each rebuilt from the story's
   accepted items the subscriber may see now (SQL scope clause: an item made private since is left out,
   and a story none of whose matched items is still visible is dropped); the best title is the story's
   representative title when that item is visible, else the oldest visible item's; sources, the newest
   item's snippet and link, sectors and countries (labels) come from visible items only.
4. **The ledger** (``Delivery``) decides what is news. A story or document never sent to this
   subscription is new. A story already sent appears again only when the number of distinct sources the
   subscriber sees has grown since (``grown_by`` = the difference, « 2 nouvelles sources »); new items
   from sources already counted never bring it back. A document is sent once.
5. **Recording**: in one transaction per subscription, the watermark moves to ``now`` (a conditional
   update: a concurrent run on the same subscription loses and sends nothing), the ledger rows and one
   ``AlertMessage`` per channel are written, and ``digest.send`` is audited (counts only, no content).
   An empty digest is not sent (``skipped_empty``) but its watermark moves too. Delivery
   (``veille.alerts.dispatch``) happens after the commit: a crash before it leaves pending messages that
   the next run retries; a crash before the commit leaves nothing, and the next run matches again.

Windows overlap by ``OVERLAP`` (a decision committed late, a clock a little behind), never back before
the subscription's creation, and reach back at most ``LOOKBACK``: the ledger keeps the overlap from
sending anything twice. A digest holds the newest
``Settings.digest_max_stories`` entries at most.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from sqlalchemy import ColumnElement, Integer, null, select, update
from sqlalchemy.orm import Session, sessionmaker

from search.backend import SearchBackend
from search.models import SavedSearch
from taxonomy.referential import Referential
from tfe.core.db import session_scope, utcnow
from tfe.core.errors import ValidationError
from tfe.core.models import Organisation, User
from tfe.core.security import audit, identity
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings
from veille.alerts.digest import Digest, DigestEntry
from veille.alerts.dispatch import ChannelSet, Dispatcher, registry_channels
from veille.alerts.matching import (
    ACCEPTED,
    Candidate,
    CandidateBatch,
    MatchRequest,
    document_candidates,
    item_candidates,
    read_passages,
    resolve_filters,
)
from veille.alerts.models import FREQUENCIES, Delivery, Subscription
from veille.alerts.schedule import next_run
from veille.alerts.subscriptions import DraftSubscription
from veille.models import Item, Source, Story

__all__ = ["LOOKBACK", "OVERLAP", "DigestService", "RunReport", "parse_now"]

log = logging.getLogger(__name__)

LOOKBACK = dt.timedelta(days=8)  # a window reaches back this far at most (a weekly digest and a day)
OVERLAP = dt.timedelta(minutes=5)  # windows start this much before the watermark (the ledger dedupes)
SNIPPET_CHARS = 280
MANAGE_PATH = "/alertes"
STORY_PATH = "/veille/actualites/"
_KINDS = {
    "items": frozenset({"item"}),
    "documents": frozenset({"document"}),
    "both": frozenset({"item", "document"}),
}


def parse_now(value: str | None) -> dt.datetime | None:
    """``--now``: an ISO 8601 instant (a naive one is UTC); ``ValidationError`` otherwise."""
    if value is None or not value.strip():
        return None
    try:
        when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(
            f"--now : date ISO 8601 invalide {value!r} (ex. 2025-03-01T08:00:00+01:00)"
        ) from exc
    return _utc(when)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass
class RunReport:
    """What one run did: the ``tfe digest run --json`` document (``as_dict``)."""

    subscriptions: int = 0  # due subscriptions examined
    sent: int = 0  # digests delivered on at least one channel
    stories: int = 0  # entries (stories and documents) in the digests recorded
    skipped_empty: int = 0  # due subscriptions with nothing new
    failed: int = 0  # digests with a channel that did not deliver (failed, or waiting for a retry)
    retried: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {
            "subscriptions": self.subscriptions,
            "sent": self.sent,
            "stories": self.stories,
            "skipped_empty": self.skipped_empty,
            "failed": self.failed,
        }


@dataclass
class _Due:
    """A due subscription as the run needs it (read once, outside the per-subscription transactions)."""

    id: int
    name: str
    query: str
    filters: dict[str, Any]
    scope_kind: str
    frequency: str
    send_time: str
    weekday: int | None
    timezone: str
    watermark: dt.datetime | None
    start: dt.datetime  # the window's start (aware UTC)
    user_id: int
    email: str | None
    user_name: str
    scope: AccessScope = field(default_factory=AccessScope)


class DigestService:
    """Runs digests (``run``), retries messages (``retry``); see the module docstring."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        backend: SearchBackend,
        settings: Settings,
        referential: Callable[[], Referential],
        channels: Callable[[], ChannelSet] | None = None,
    ) -> None:
        self._sessions = session_factory
        self.backend = backend
        self.settings = settings
        self._referential = referential
        self.dispatcher = Dispatcher(
            session_factory, settings, channels or (lambda: registry_channels(settings, session_factory))
        )
        self.last_batch: dict[str, Any] = {}  # sizes of the last run's batch (for the bench and logs)

    # -- the run -----------------------------------------------------------------------------------------

    def run(self, frequency: str | None = None, *, now: dt.datetime | None = None) -> RunReport:
        """Send what is due at ``now`` (default: the current time); retries due messages first."""
        if frequency is not None and frequency not in FREQUENCIES:
            raise ValidationError(f"fréquence inconnue {frequency!r} (instant, daily ou weekly)")
        at = _utc(now) or utcnow()
        report = RunReport()
        report.retried = self.dispatcher.retry_due(now=at)
        due = self._due(at, (frequency,) if frequency else FREQUENCIES)
        report.subscriptions = len(due)
        if not due:
            return report
        referential = self._referential()
        candidates = self._candidates(due, at)
        requests = [self._request(d, referential) for d in due]
        with CandidateBatch(candidates) as batch:
            matched = batch.match(requests)
            self.last_batch = {"candidates": len(candidates), "queries": batch.queries}
        by_id = {c.parent_id: c for c in candidates}
        for d in due:
            parents = self._sources_kept(d, matched.get(d.id, []), by_id)
            outcome = self._send_one(d, [by_id[p] for p in parents], referential, at)
            if outcome is None:
                continue
            entries, statuses = outcome
            if not entries:
                report.skipped_empty += 1
                continue
            report.stories += entries
            if any(s == "sent" for s in statuses):
                report.sent += 1
            if any(s != "sent" for s in statuses):
                report.failed += 1
        log.info("digest run at=%s %s", at.isoformat(timespec="seconds"), report.as_dict())
        return report

    def preview(
        self,
        session: Session,
        sub: Subscription | DraftSubscription,
        scope: AccessScope,
        *,
        days: int = 7,
        now: dt.datetime | None = None,
    ) -> list[DigestEntry]:
        """What ``sub`` (saved, or a draft from the form) would have received over the last ``days`` days in
        ``scope`` (ledger ignored, nothing recorded): the same batch matching and entries as a run, newest
        first."""
        at = _utc(now) or utcnow()
        if isinstance(sub, DraftSubscription):
            key, name, query, filters = 0, "", sub.query, dict(sub.filters)
        else:
            search = session.get(SavedSearch, sub.saved_search_id)
            if search is None:
                return []
            key, name, query, filters = sub.id, search.name, search.query or "", dict(search.filters or {})
        d = _Due(
            id=key,
            name=name,
            query=query,
            filters=filters,
            scope_kind=sub.scope,
            frequency="instant",
            send_time="",
            weekday=None,
            timezone="",
            watermark=None,
            start=at - dt.timedelta(days=days),
            user_id=sub.user_id,
            email=None,
            user_name="",
            scope=scope,
        )
        referential = self._referential()
        candidates = self._candidates([d], at)
        with CandidateBatch(candidates) as batch:
            matched = batch.match([self._request(d, referential)])
        by_id = {c.parent_id: c for c in candidates}
        chosen = [by_id[p] for p in self._sources_kept(d, matched.get(d.id, []), by_id)]
        found = [
            (w, e)
            for w, e, _n in self._story_entries(
                session, scope, [c for c in chosen if c.kind == "item"], referential, at
            )
        ]
        found += self._document_entries(session, [c for c in chosen if c.kind == "document"], referential)
        found.sort(key=lambda pair: (pair[0], pair[1].id), reverse=True)
        return [e for _w, e in found[: self.settings.digest_max_stories]]

    def retry(self, *, now: dt.datetime | None = None) -> dict[str, int]:
        """Try again the messages whose next attempt is due (the worker calls it every tick)."""
        return self.dispatcher.retry_due(now=_utc(now) or utcnow())

    def _due(self, now: dt.datetime, frequencies: Sequence[str]) -> list[_Due]:
        with session_scope(self._sessions) as session:
            rows = session.execute(
                select(Subscription, SavedSearch, User)
                .join(SavedSearch, SavedSearch.id == Subscription.saved_search_id)
                .join(User, User.id == Subscription.user_id)
                .where(
                    Subscription.paused.is_(False),
                    User.active.is_(True),
                    Subscription.frequency.in_(list(frequencies)),
                )
                .order_by(Subscription.id)
            ).all()
            out = []
            for sub, search, user in rows:
                if sub.frequency != "instant" and not self._is_due(session, sub, now):
                    continue
                created = _utc(sub.created_at) or now
                begin = _utc(sub.watermark) or created
                # the overlap never reaches before the subscription itself: only what came after is sent
                start = max(begin - OVERLAP, created - dt.timedelta(microseconds=1), now - LOOKBACK)
                out.append(
                    _Due(
                        id=sub.id,
                        name=search.name,
                        query=search.query or "",
                        filters=dict(search.filters or {}),
                        scope_kind=sub.scope,
                        frequency=sub.frequency,
                        send_time=sub.send_time,
                        weekday=sub.weekday,
                        timezone=sub.timezone,
                        watermark=sub.watermark,
                        start=start,
                        user_id=user.id,
                        email=(user.email or "").strip() or None,
                        user_name=user.name or "",
                        scope=identity.scope_for(user),
                    )
                )
            return out

    def _is_due(self, session: Session, sub: Subscription, now: dt.datetime) -> bool:
        at = _utc(sub.next_run_at)
        if at is None:  # never scheduled: from its creation
            try:
                at = next_run(
                    sub.frequency, sub.send_time, sub.weekday, sub.timezone, _utc(sub.created_at) or now
                )
            except ValidationError:
                log.warning("subscription=%s has an invalid schedule; skipped", sub.id)
                return False
            sub.next_run_at = at
        return at <= now

    def _candidates(self, due: Sequence[_Due], now: dt.datetime) -> list[Candidate]:
        start = min(d.start for d in due)
        out: list[Candidate] = []
        if any("item" in _KINDS.get(d.scope_kind, frozenset()) for d in due):
            with session_scope(self._sessions) as session:
                rows = item_candidates(session, start, now)
                sources = self._sources_of(session, [r[0] for r in rows])
            passages = read_passages(self.backend, [r[0] for r in rows])
            for item_id, story_id, at in rows:
                found = passages.get(item_id)
                if found:  # an item not indexed cannot be matched through the backend
                    out.append(Candidate(item_id, "item", at, story_id, tuple(found), sources.get(item_id)))
        if any("document" in _KINDS.get(d.scope_kind, frozenset()) for d in due):
            out.extend(document_candidates(self.backend, start, now))
        return out

    @staticmethod
    def _sources_of(session: Session, ids: list[str]) -> dict[str, int | None]:
        out: dict[str, int | None] = {}
        for i in range(0, len(ids), 5000):
            chunk = ids[i : i + 5000]
            found = session.execute(select(Item.id, Item.source_id).where(Item.id.in_(chunk)))
            out.update({row[0]: row[1] for row in found})
        return out

    def _request(self, d: _Due, referential: Referential) -> MatchRequest:
        facets = {k: v for k, v in d.filters.items() if k != "source"}
        filters, problem = resolve_filters(facets, referential.resolve)
        if problem:
            log.warning("subscription=%s matches nothing: %s", d.id, problem)
        return MatchRequest(
            subscription_id=d.id,
            text=d.query,
            filters=filters,
            scope=d.scope,
            kinds=_KINDS.get(d.scope_kind, frozenset({"item"})),
            since=d.start,
            problem=problem,
        )

    @staticmethod
    def _sources_kept(d: _Due, parents: list[str], by_id: dict[str, Candidate]) -> list[str]:
        """The ``source`` filter (source ids, not a search facet): items of those sources only."""
        wanted = d.filters.get("source")
        if not wanted:
            return parents
        ids = {int(s) for s in wanted if str(s).isdigit()}
        return [p for p in parents if by_id[p].kind != "item" or by_id[p].source_id in ids]

    # -- one subscription --------------------------------------------------------------------------------

    def _send_one(
        self, d: _Due, matched: list[Candidate], referential: Referential, now: dt.datetime
    ) -> tuple[int, list[str]] | None:
        """Record the digest of ``d`` (or its emptiness), then deliver it; (entries, message statuses)."""
        with session_scope(self._sessions) as session:
            if not self._advance(session, d, now):
                log.info("subscription=%s already handled by another run", d.id)
                return None
            sub = session.get(Subscription, d.id)
            assert sub is not None
            entries, ledger = self._entries(session, sub, d, matched, referential, now)
            if not entries:
                return 0, []
            digest = Digest(
                subscription_id=sub.id,
                name=d.name,
                frequency=d.frequency,
                recipient_email=d.email,
                recipient_name=d.user_name,
                entries=entries,
                generated_at=now,
                manage_url=self.settings.public_url.rstrip("/") + MANAGE_PATH,
                unsubscribe_url=self._unsubscribe_url(sub),
            )
            for row in ledger:
                session.add(row)
            sub.last_sent_at = now
            messages = self.dispatcher.prepare(session, sub, digest, now=now)
            audit.record(
                session,
                "digest.send",
                audit.Actor.system(),
                target_kind="subscription",
                target_id=str(sub.id),
                detail={
                    "user_id": d.user_id,
                    "frequency": d.frequency,
                    "stories": sum(1 for e in entries if e.kind == "story"),
                    "documents": sum(1 for e in entries if e.kind == "document"),
                    "grown": sum(1 for e in entries if e.grown_by),
                    "channels": [m.channel for m in messages],
                },
            )
            ids = [m.id for m in messages]
        statuses = self.dispatcher.deliver(ids, now=now)
        return len(entries), [statuses.get(i, "pending") for i in ids]

    def _advance(self, session: Session, d: _Due, now: dt.datetime) -> bool:
        """Move the watermark (and the next run) from what this run read to ``now``; False if it moved."""
        same = (
            Subscription.watermark.is_(None) if d.watermark is None else Subscription.watermark == d.watermark
        )
        values: dict[str, Any] = {"watermark": now}
        if d.frequency != "instant":
            values["next_run_at"] = next_run(d.frequency, d.send_time, d.weekday, d.timezone, now)
        result = session.execute(
            update(Subscription)
            .where(Subscription.id == d.id, same)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    def _unsubscribe_url(self, sub: Subscription) -> str:
        try:
            from veille.alerts.unsubscribe import unsubscribe_url
        except ImportError:  # the one-click link lands with the subscriptions' own work
            return self.settings.public_url.rstrip("/") + MANAGE_PATH
        return unsubscribe_url(self.settings, sub)

    # -- entries -------------------------------------------------------------------------------------------

    def _entries(
        self,
        session: Session,
        sub: Subscription,
        d: _Due,
        matched: list[Candidate],
        referential: Referential,
        now: dt.datetime,
    ) -> tuple[list[DigestEntry], list[Delivery]]:
        items = [c for c in matched if c.kind == "item"]
        documents = [c for c in matched if c.kind == "document"]
        keys = {("story", c.story_id or c.parent_id) for c in items} | {
            ("document", c.parent_id) for c in documents
        }
        if not keys:
            return [], []
        sent = {
            (row.target_kind, row.target_id): row
            for row in session.scalars(
                select(Delivery).where(
                    Delivery.subscription_id == sub.id, Delivery.target_id.in_([k[1] for k in keys])
                )
            )
        }
        found: list[tuple[dt.datetime, DigestEntry, int, Delivery | None]] = []
        for when, entry, sources in self._story_entries(session, d.scope, items, referential, now):
            previous = sent.get(("story", entry.id))
            if previous is not None:
                grown = sources - int(previous.source_count or 0)
                if grown <= 0:
                    continue  # already sent, and no new source since: not news
                entry = replace(entry, grown_by=grown)
            found.append((when, entry, sources, previous))
        for when, entry in self._document_entries(session, documents, referential):
            if ("document", entry.id) not in sent:
                found.append((when, entry, 1, None))
        found.sort(key=lambda row: (row[0], row[1].id), reverse=True)
        cap = self.settings.digest_max_stories
        if len(found) > cap:  # the rest stays out of the ledger: it is in the platform, not in this digest
            log.info("subscription=%s digest capped at %d of %d entries", sub.id, cap, len(found))
        fresh: list[Delivery] = []
        for _when, entry, sources, previous in found[:cap]:
            if previous is not None:
                previous.source_count, previous.item_count, previous.last_sent_at = (
                    sources,
                    entry.item_count,
                    now,
                )
                continue
            fresh.append(
                Delivery(
                    subscription_id=sub.id,
                    target_kind=entry.kind,
                    target_id=entry.id,
                    item_count=entry.item_count,
                    source_count=sources,
                    first_sent_at=now,
                    last_sent_at=now,
                )
            )
        return [row[1] for row in found[:cap]], fresh

    def _story_entries(
        self,
        session: Session,
        scope: AccessScope,
        items: list[Candidate],
        referential: Referential,
        now: dt.datetime,
    ) -> Iterable[tuple[dt.datetime, DigestEntry, int]]:
        """(newest time, entry, visible source count) per story of the matched items, in ``scope`` now."""
        if not items:
            return []
        matched_by_story: dict[str, list[Candidate]] = {}
        for c in items:
            matched_by_story.setdefault(c.story_id or c.parent_id, []).append(c)
        story_ids = list(dict.fromkeys(c.story_id for c in items if c.story_id is not None))
        lone_ids = [c.parent_id for c in items if c.story_id is None]
        owner = cast("ColumnElement[int | None]", null().cast(Integer))
        visible = [
            Item.curator_status.in_(ACCEPTED),
            Item.decided_at <= now,
            scope.sql_clause(Item.visibility, Item.org_id, owner),
        ]
        rows: list[tuple[Item, str | None]] = []
        for chunk in _chunks(story_ids):
            rows.extend(
                (r[0], r[1])
                for r in session.execute(
                    select(Item, Source.title)
                    .outerjoin(Source, Source.id == Item.source_id)
                    .where(Item.story_id.in_(chunk), *visible)
                    .order_by(Item.fetched_at, Item.id)
                )
            )
        for chunk in _chunks(lone_ids):
            rows.extend(
                (r[0], r[1])
                for r in session.execute(
                    select(Item, Source.title)
                    .outerjoin(Source, Source.id == Item.source_id)
                    .where(Item.id.in_(chunk), Item.story_id.is_(None), *visible)
                )
            )
        members: dict[str, list[tuple[Item, str | None]]] = {}
        for item, source_title in rows:
            members.setdefault(item.story_id or item.id, []).append((item, source_title))
        titles = {
            s.id: s.title
            for chunk in _chunks(story_ids)
            for s in session.scalars(select(Story).where(Story.id.in_(chunk)))
        }
        base = self.settings.public_url.rstrip("/")
        out = []
        for key, candidates in matched_by_story.items():
            group = members.get(key, [])
            visible_ids = {i.id for i, _t in group}
            if not any(c.parent_id in visible_ids for c in candidates):
                continue  # none of the matched items may be seen now (made private, rejected since)
            group_items = [i for i, _t in group]
            newest = max(group_items, key=lambda i: (_utc(i.fetched_at) or now, i.id))
            story_title = titles.get(key)
            title = story_title if story_title and any(i.title == story_title for i in group_items) else ""
            title = title or next((i.title for i in group_items if i.title), "") or newest.title
            source_titles = list(dict.fromkeys(t or "" for i, t in group if i.source_id is not None))
            sectors: list[str] = []
            countries: list[str] = []
            for c in candidates:
                if c.parent_id in visible_ids:
                    for p in c.passages:
                        sectors.extend(_as_list(p.meta.get("sector_facet")))
                        countries.extend(_as_list(p.meta.get("countries")))
            is_story = key in titles
            entry = DigestEntry(
                kind="story",
                id=key,
                title=title,
                url=f"{base}{STORY_PATH}{key}" if is_story else f"{base}/items/{key}",
                snippet=_snippet(newest.summary or newest.text or ""),
                sources=[t for t in source_titles if t],
                sectors=_labels(referential, sectors),
                countries=_labels(referential, countries),
                item_count=len(group_items),
                original_url=newest.url,
                published_at=_utc(newest.published_at) or _utc(newest.fetched_at),
            )
            sources = len({i.source_id for i in group_items if i.source_id is not None}) or 1
            when = max(c.at for c in candidates)
            out.append((when, entry, sources))
        return out

    def _document_entries(
        self, session: Session, documents: list[Candidate], referential: Referential
    ) -> list[tuple[dt.datetime, DigestEntry]]:
        if not documents:
            return []
        base = self.settings.public_url.rstrip("/")
        org_ids = {p.meta.get("org_id") for c in documents for p in c.passages[:1]}
        orgs = {
            o.id: o.name
            for o in session.scalars(
                select(Organisation).where(Organisation.id.in_([i for i in org_ids if isinstance(i, int)]))
            )
        }
        out = []
        for c in documents:
            head = min(c.passages, key=lambda p: p.position)
            meta = head.meta
            org_id = meta.get("org_id")
            org = orgs.get(org_id) if isinstance(org_id, int) else None
            out.append(
                (
                    c.at,
                    DigestEntry(
                        kind="document",
                        id=c.parent_id,
                        title=head.title or c.parent_id,
                        url=f"{base}/documents/{c.parent_id}",
                        snippet=_snippet(head.text),
                        sources=[org] if org else [],
                        sectors=_labels(referential, _as_list(meta.get("sector_facet"))),
                        countries=_labels(referential, _as_list(meta.get("countries"))),
                        item_count=1,
                        published_at=c.at,
                    ),
                )
            )
        return out


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _labels(referential: Referential, concept_ids: Iterable[str]) -> list[str]:
    out: list[str] = []
    for cid in dict.fromkeys(concept_ids):
        try:
            label = referential.label(cid)
        except Exception:  # a retired concept keeps its id rather than breaking a digest
            label = cid
        out.append(label or cid)
    return out


def _snippet(text: str) -> str:
    clean = " ".join((text or "").split())
    if len(clean) <= SNIPPET_CHARS:
        return clean
    cut = clean.rfind(" ", 0, SNIPPET_CHARS)
    return clean[: cut if cut > 0 else SNIPPET_CHARS] + "…"
