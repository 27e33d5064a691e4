"""Digest runs on SQLite and PostgreSQL: real items, stories, curation and index; channels that record.

One installation per database for the module (``world``); each test makes its own subscriptions, with a
watermark just before what it adds, and runs ``DigestService.run`` at an explicit ``now``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from ingest.components.splitter import split_passages
from ingest.components.writer import RecordWriter
from ingest.item import ExtractedMetadata, IngestItem
from search.models import SavedSearch
from search.types import Passage
from taxonomy.classifier import Scored
from taxonomy.live import StaticReferential
from tests.conftest import make_settings, pg_schema
from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.core.db import utcnow
from tfe.core.models import AuditEvent, User
from tfe.core.security import identity
from tfe.core.security.scope import AccessScope
from veille import curation
from veille.alerts.digest import Digest
from veille.alerts.digests import DigestService, parse_now
from veille.alerts.dispatch import ChannelSet, backoff_s
from veille.alerts.matching import document_candidates, read_passages
from veille.alerts.models import AlertMessage, Delivery, Subscription
from veille.channels.base import SendResult
from veille.models import Item, Source, Story
from veille.sink import ItemSink


class RecordingChannel:
    """A real channel that keeps what it is given and answers the outcomes it is told to (then ``sent``)."""

    def __init__(self, name: str, outcomes: list[str] | None = None, only: int | None = None) -> None:
        self.name = name
        self.outcomes = list(outcomes or [])
        self.only = only  # the subscription the outcomes are for (others are sent)
        self.calls: list[tuple[Digest, str | None, str | None]] = []

    def send(self, digest: Digest, *, target: str | None, secret: str | None = None) -> SendResult:
        self.calls.append((digest, target, secret))
        mine = self.only is None or digest.subscription_id == self.only
        outcome = self.outcomes.pop(0) if self.outcomes and mine else "sent"
        return SendResult(outcome, f"test {outcome}")  # type: ignore[arg-type]


@dataclass
class World:
    rt: Runtime
    users: dict[str, int]
    scopes: dict[str, AccessScope]
    sources: dict[str, int]
    channels: dict[str, RecordingChannel] = field(default_factory=dict)
    service: DigestService | None = None

    def reset_channels(self, only: int | None = None, **outcomes: list[str]) -> None:
        self.channels = {
            name: RecordingChannel(name, outcomes.get(name), only) for name in ("email", "atom", "webhook")
        }


def _seed(rt: Runtime) -> World:
    with rt.session() as session:
        alpha = identity.get_or_create_org(session, "alpha", "CCI Alpha", "regional_chamber")
        beta = identity.get_or_create_org(session, "beta", "Banque Beta", "bank")
        users: dict[str, int] = {}
        scopes: dict[str, AccessScope] = {}
        for key, org, role in (
            ("curator", alpha, "curator"),
            ("curator_b", beta, "curator"),
            ("reader", alpha, "reader"),
            ("reader_b", beta, "reader"),
            ("nomail", alpha, "reader"),
            ("paused", alpha, "reader"),
        ):
            user = identity.create_user(session, email=f"{key}@{org.slug}.fr", org=org, role=role)
            users[key], scopes[key] = user.id, identity.scope_for(user)
        session.get(User, users["nomail"]).email = ""  # type: ignore[union-attr]
        sources = {
            "lemonde": Source(url="https://a.example.org/rss", title="Le Monde Export"),
            "echos": Source(url="https://b.example.org/rss", title="Les Échos Export"),
            "moci": Source(url="https://c.example.org/rss", title="Le Moci"),
            "beta": Source(
                url="https://beta.example.org/rss",
                title="Beta interne",
                org_id=beta.id,
                visibility="organisation",
            ),
        }
        session.add_all(sources.values())
        session.flush()
        return World(rt, users, scopes, {k: s.id for k, s in sources.items()})


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp: Path = tmp_path_factory.mktemp(f"digests-{request.param}")
    if request.param == "sqlite":
        yield from _world(make_settings(tmp))
    else:
        with pg_schema() as url:
            yield from _world(make_settings(tmp, database_url=url))


def _world(settings: object) -> Iterator[World]:
    rt = Runtime(settings)  # type: ignore[arg-type]
    init_installation(rt)
    try:
        w = _seed(rt)
        w.reset_channels()
        w.service = DigestService(
            rt.session_factory,
            rt.backend,
            rt.settings,
            lambda: rt.referential,
            lambda: ChannelSet(dict(w.channels), {}),
        )
        yield w
    finally:
        rt.close()


def add_item(
    w: World,
    source: str,
    title: str,
    *,
    sector: str = "naf:11.02",
    countries: tuple[str, ...] = ("country:DE",),
    story: str | None = None,
    decision: str | None = "accept",
) -> tuple[str, str]:
    """Index one item through the ingest writer, put it in ``story`` (a new one by default), decide it."""
    org_id, visibility = None, "network"
    with w.rt.session() as session:
        src = session.get(Source, w.sources[source])
        assert src is not None
        org_id, visibility = src.org_id, src.visibility
    text = f"{title}. Un article de veille pour les conseillers export ({uuid.uuid4().hex[:6]})."
    writer = RecordWriter(ItemSink(w.rt.session_factory), w.rt.backend, StaticReferential(w.rt.referential))
    key = uuid.uuid4().hex[:10]
    saved = writer.run(
        item=IngestItem(
            key=f"feed#{key}",
            kind="item",
            text=text,
            title=title,
            guid=key,
            url=f"https://example.org/{key}",
            org_id=org_id,
            visibility=visibility,
            source_id=w.sources[source],
        ),
        metadata=ExtractedMetadata(content_hash=hashlib.sha256(text.encode()).hexdigest(), mime="text/plain"),
        text=text,
        title=title,
        language="fr",
        sectors=[Scored(sector, 0.9, ["test"])],
        countries=[Scored(c, 0.8, ["test"]) for c in countries],
        doc_type=Scored("doctype:news", 0.9, ["test"]),
        passages=split_passages(text),
        embeddings=None,
    )
    item_id = saved["target_id"]
    with w.rt.session() as session:
        item = session.get(Item, item_id)
        assert item is not None
        if story is None:
            story = uuid.uuid4().hex
            session.add(Story(id=story, title=title, item_count=0, source_count=0))
            session.flush()
        item.story_id = story
        row = session.get(Story, story)
        assert row is not None
        row.item_count += 1
    if decision is not None:
        curator = "curator_b" if source == "beta" else "curator"
        with w.rt.session() as session:
            curation.decide(
                session,
                w.scopes[curator],
                item_id,
                decision,
                backend=w.rt.backend,
                referential=w.rt.referential,
                channel="api",
            )
    return item_id, story


def subscribe(
    w: World,
    user: str,
    name: str,
    *,
    q: str = "",
    sector: tuple[str, ...] = (),
    country: tuple[str, ...] = (),
    channels: tuple[str, ...] = ("email", "atom"),
    frequency: str = "instant",
    paused: bool = False,
    watermark: dt.datetime | None = None,
) -> int:
    with w.rt.session() as session:
        search = SavedSearch(
            user_id=w.users[user],
            name=name,
            query=q,
            filters={k: list(v) for k, v in (("sector", sector), ("country", country)) if v},
        )
        session.add(search)
        session.flush()
        sub = Subscription(
            user_id=w.users[user],
            saved_search_id=search.id,
            frequency=frequency,
            channels=list(channels),
            webhook_url="https://hooks.example.org/tfe" if "webhook" in channels else None,
            webhook_secret="s3cret" if "webhook" in channels else None,
            paused=paused,
            watermark=watermark or utcnow() - dt.timedelta(seconds=1),
        )
        session.add(sub)
        session.flush()
        return sub.id


def run(w: World, now: dt.datetime | None = None, frequency: str | None = None) -> dict[str, int]:
    assert w.service is not None
    return w.service.run(frequency, now=now or utcnow()).as_dict()


def digests_for(w: World, channel: str, sub_id: int) -> list[Digest]:
    return [d for d, _t, _s in w.channels[channel].calls if d.subscription_id == sub_id]


def messages(w: World, sub_id: int) -> list[AlertMessage]:
    with w.rt.session() as session:
        rows = list(
            session.scalars(
                select(AlertMessage).where(AlertMessage.subscription_id == sub_id).order_by(AlertMessage.id)
            )
        )
        session.expunge_all()
        return rows


# -- the scenario of the issue -----------------------------------------------------------------------


def test_sector_11_germany_receives_its_stories_once_and_never_what_it_may_not_see(world: World) -> None:
    w = world
    w.reset_channels()
    sub = subscribe(w, "reader", "Boissons × Allemagne", sector=("11",), country=("Allemagne",))
    other = subscribe(w, "reader_b", "Boissons × Allemagne (beta)", sector=("11",), country=("DE",))
    wine, story = add_item(w, "lemonde", "Les vins français séduisent l'Allemagne")
    add_item(w, "echos", "Vins : l'Allemagne premier client", story=story)
    add_item(w, "beta", "Note interne beta : bière en Allemagne")  # another organisation's source
    add_item(w, "lemonde", "Spiritueux rejetés en Allemagne", decision="reject")
    add_item(w, "lemonde", "Bière allemande en attente", decision=None)  # never decided
    add_item(w, "moci", "Meubles en bois pour l'Allemagne", sector="naf:31")
    add_item(w, "moci", "Jus de fruits au Japon", sector="naf:11.07", countries=("country:JP",))

    report = run(w)
    assert report["subscriptions"] >= 2 and report["sent"] >= 2 and report["failed"] == 0

    [digest] = digests_for(w, "email", sub)
    assert [e.title for e in digest.entries] == ["Les vins français séduisent l'Allemagne"]
    entry = digest.entries[0]
    assert entry.kind == "story" and entry.id == story and entry.grown_by == 0
    assert sorted(entry.sources) == ["Le Monde Export", "Les Échos Export"]
    assert entry.item_count == 2
    assert entry.url.endswith(f"/veille/actualites/{story}")
    assert "Allemagne" in entry.countries
    assert entry.sectors and all("11" in s or "oisson" in s for s in entry.sectors)
    assert digest.recipient_email == "reader@alpha.fr"
    [(_d, target, _s)] = [c for c in w.channels["email"].calls if c[0].subscription_id == sub]
    assert target == "reader@alpha.fr"
    assert len(digests_for(w, "atom", sub)) == 1

    # the beta reader sees the beta item's story, and the shared one
    [beta_digest] = digests_for(w, "email", other)
    titles = {e.title for e in beta_digest.entries}
    assert titles == {"Les vins français séduisent l'Allemagne", "Note interne beta : bière en Allemagne"}
    assert not any("Beta interne" in e.sources for e in digest.entries)

    with w.rt.session() as session:
        ledger = list(session.scalars(select(Delivery).where(Delivery.subscription_id == sub)))
        assert [(d.target_kind, d.target_id, d.source_count) for d in ledger] == [("story", story, 2)]
        row = session.get(Subscription, sub)
        assert row is not None and row.last_sent_at is not None
    assert [m.status for m in messages(w, sub)] == ["sent", "sent"]
    assert wine

    # the same run again sends nothing
    again = run(w)
    assert again["sent"] == 0 and again["stories"] == 0 and again["skipped_empty"] >= 2
    assert len(digests_for(w, "email", sub)) == 1


def test_a_story_that_gains_a_source_comes_back_once_marked_grown(world: World) -> None:
    w = world
    w.reset_channels()
    sub = subscribe(w, "reader", "Vins Allemagne", q="vins Allemagne")
    _first, story = add_item(w, "lemonde", "Salon ProWein : les vins français en Allemagne")
    assert run(w)["sent"] >= 1
    assert [e.grown_by for e in digests_for(w, "email", sub)[0].entries] == [0]

    add_item(w, "lemonde", "ProWein : encore des vins pour l'Allemagne", story=story)  # same source
    run(w)
    assert len(digests_for(w, "email", sub)) == 1  # new items of a source already counted: not news

    add_item(w, "moci", "ProWein Düsseldorf : vins et Allemagne", story=story)  # a new source
    run(w)
    sent = digests_for(w, "email", sub)
    assert len(sent) == 2
    [entry] = sent[1].entries
    assert entry.id == story and entry.grown_by == 1 and entry.item_count == 3
    assert "Le Moci" in entry.sources

    run(w)
    assert len(digests_for(w, "email", sub)) == 2  # and never again
    with w.rt.session() as session:
        [row] = session.scalars(select(Delivery).where(Delivery.subscription_id == sub))
        assert (row.source_count, row.item_count) == (2, 3)


def test_paused_subscription_and_inactive_user_get_nothing(world: World) -> None:
    w = world
    w.reset_channels()
    paused = subscribe(w, "paused", "En pause", q="champagne", paused=True)
    add_item(w, "lemonde", "Le champagne en Allemagne")
    run(w)
    assert digests_for(w, "email", paused) == []
    with w.rt.session() as session:
        row = session.get(Subscription, paused)
        assert row is not None and row.last_sent_at is None
        assert list(session.scalars(select(Delivery).where(Delivery.subscription_id == paused))) == []


def test_subscriber_without_address_gets_a_recorded_failure_and_other_channels_still_deliver(
    world: World,
) -> None:
    w = world
    w.reset_channels()
    sub = subscribe(w, "nomail", "Sans adresse", q="cidre", channels=("email", "atom"))
    add_item(w, "lemonde", "Le cidre normand en Allemagne")
    report = run(w)
    assert report["failed"] >= 1
    assert digests_for(w, "email", sub) == []  # never handed to the e-mail channel
    assert len(digests_for(w, "atom", sub)) == 1
    email, atom = messages(w, sub)
    assert (email.channel, email.status, email.attempts) == ("email", "failed", 0)
    assert "adresse" in (email.error or "")
    assert (atom.channel, atom.status) == ("atom", "sent")


def test_temporary_failures_are_retried_with_backoff_then_failed_and_nothing_is_sent_twice(
    world: World,
) -> None:
    w = world
    attempts = w.rt.settings.alert_max_attempts
    sub = subscribe(w, "reader", "Relais en panne", q="whisky", channels=("email",))
    w.reset_channels(sub, email=["temporary"] * (attempts + 2))
    add_item(w, "echos", "Le whisky français en Allemagne")
    now = utcnow()
    run(w, now)
    [msg] = messages(w, sub)
    assert (msg.status, msg.attempts) == ("retrying", 1)
    assert msg.next_attempt_at is not None
    due = msg.next_attempt_at if msg.next_attempt_at.tzinfo else msg.next_attempt_at.replace(tzinfo=dt.UTC)
    assert abs((due - now).total_seconds() - backoff_s(1)) < 1
    assert w.service is not None
    assert w.service.retry(now=now + dt.timedelta(seconds=1))["retried"] == 0  # not due yet
    at = now
    for n in range(2, attempts + 1):
        at = at + dt.timedelta(seconds=backoff_s(n - 1) + 1)
        run(w, at)  # a run retries due messages first, and matches nothing new for this subscription
        [msg] = messages(w, sub)
        assert msg.attempts == n
    assert msg.status == "failed" and msg.next_attempt_at is None and "temporary" in (msg.error or "")
    assert len(digests_for(w, "email", sub)) == attempts  # one digest, tried ``attempts`` times
    run(w, at + dt.timedelta(hours=2))
    assert len(digests_for(w, "email", sub)) == attempts


def test_a_temporary_failure_then_success_delivers_once(world: World) -> None:
    w = world
    sub = subscribe(w, "reader", "Webhook", q="cognac", channels=("webhook",))
    w.reset_channels(sub, webhook=["temporary"])
    add_item(w, "echos", "Le cognac en Allemagne")
    now = utcnow()
    run(w, now)
    assert w.service is not None
    counts = w.service.retry(now=now + dt.timedelta(seconds=backoff_s(1) + 1))
    assert counts["retried"] == 1 and counts["sent"] == 1
    [msg] = messages(w, sub)
    assert (msg.status, msg.attempts) == ("sent", 2)
    calls = [c for c in w.channels["webhook"].calls if c[0].subscription_id == sub]
    assert [(t, s) for _d, t, s in calls] == [("https://hooks.example.org/tfe", "s3cret")] * 2
    with w.rt.session() as session:
        row = session.get(Subscription, sub)
        assert row is not None and row.channel_state["webhook"]["failures"] == 0


def test_every_digest_sent_is_audited_with_counts_only(world: World) -> None:
    w = world
    w.reset_channels()
    sub = subscribe(w, "reader", "Audit", q="armagnac")
    add_item(w, "lemonde", "L'armagnac en Allemagne")
    run(w)
    with w.rt.session() as session:
        events = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == "digest.send", AuditEvent.target_id == str(sub))
            )
        )
    assert len(events) == 1
    detail = events[0].detail
    assert detail["stories"] == 1 and detail["documents"] == 0 and detail["channels"] == ["email", "atom"]
    assert "armagnac" not in str(detail).lower()


def test_an_item_made_private_since_is_not_sent(world: World) -> None:
    w = world
    w.reset_channels()
    sub = subscribe(w, "reader", "Poiré", q="poiré")
    item_id, _story = add_item(w, "lemonde", "Le poiré en Allemagne")
    with w.rt.session() as session:
        item = session.get(Item, item_id)
        assert item is not None
        item.visibility, item.org_id = "organisation", identity.find_org(session, "beta").id
    run(w)
    assert digests_for(w, "email", sub) == []


def test_daily_digest_waits_for_its_time(world: World) -> None:
    w = world
    w.reset_channels()
    sub = subscribe(w, "reader", "Quotidienne", q="calvados", frequency="daily")
    add_item(w, "lemonde", "Le calvados en Allemagne")
    now = utcnow()
    with w.rt.session() as session:
        row = session.get(Subscription, sub)
        assert row is not None
        row.next_run_at = now + dt.timedelta(hours=1)
    run(w, now)
    assert digests_for(w, "email", sub) == []
    run(w, now + dt.timedelta(hours=1, minutes=1), frequency="instant")
    assert digests_for(w, "email", sub) == []  # --frequency instant leaves daily ones alone
    run(w, now + dt.timedelta(hours=1, minutes=1), frequency="daily")
    [digest] = digests_for(w, "email", sub)
    assert digest.frequency == "daily" and [e.title for e in digest.entries] == ["Le calvados en Allemagne"]
    with w.rt.session() as session:
        row = session.get(Subscription, sub)
        assert row is not None and row.next_run_at is not None
        nxt = row.next_run_at if row.next_run_at.tzinfo else row.next_run_at.replace(tzinfo=dt.UTC)
        assert nxt > now + dt.timedelta(hours=1, minutes=1)


def test_parse_now() -> None:
    assert parse_now("2025-03-03T08:00:00+01:00") == dt.datetime(2025, 3, 3, 7, tzinfo=dt.UTC)
    assert parse_now("2025-03-03T08:00:00") == dt.datetime(2025, 3, 3, 8, tzinfo=dt.UTC)
    assert parse_now(None) is None
    from tfe.core.errors import ValidationError

    with pytest.raises(ValidationError):
        parse_now("demain")


def test_the_worker_tick_enqueues_one_digest_run_that_sends_instant_alerts(world: World) -> None:
    from tfe.app.jobs import Jobs

    w = world
    w.reset_channels()
    w.rt.__dict__["digests"] = w.service  # the runtime's digest service, with the recording channels
    jobs = Jobs(w.rt)
    jobs.flush()
    sub = subscribe(w, "reader", "Par le worker", q="hydromel")
    add_item(w, "moci", "L'hydromel en Allemagne")
    assert jobs.enqueue_digests() is True
    assert jobs.enqueue_digests() is False  # one run queued or running at a time
    task = jobs.huey.dequeue()
    assert task is not None
    jobs.huey.execute(task)
    assert [e.title for d in digests_for(w, "email", sub) for e in d.entries] == ["L'hydromel en Allemagne"]
    assert jobs.enqueue_digests() is True  # the run gave its lease back
    jobs.flush()


def test_preview_shows_the_last_days_without_recording(world: World) -> None:
    w = world
    w.reset_channels()
    sub = subscribe(w, "reader", "Aperçu", q="absinthe", watermark=utcnow() + dt.timedelta(days=1))
    add_item(w, "lemonde", "L'absinthe en Allemagne")
    assert w.service is not None
    with w.rt.session() as session:
        row = session.get(Subscription, sub)
        assert row is not None
        entries = w.service.preview(session, row, w.scopes["reader"], days=7)
        assert [e.title for e in entries] == ["L'absinthe en Allemagne"]
        assert w.service.preview(session, row, w.scopes["reader_b"], days=7)[0].title == entries[0].title
        assert list(session.scalars(select(Delivery).where(Delivery.subscription_id == sub))) == []


def test_a_document_uploaded_now_with_an_old_date_is_news_and_a_draft_never_is(world: World) -> None:
    w = world
    w.reset_channels()
    sub = subscribe(w, "reader", "Documents kombucha", q="kombucha")
    with w.rt.session() as session:
        row = session.get(Subscription, sub)
        assert row is not None
        row.scope = "documents"
        reader = session.get(User, w.users["reader"])
        assert reader is not None
        org_id = reader.org_id
    old = dt.datetime(2019, 3, 1, tzinfo=dt.UTC)

    def document(name: str, **meta: str) -> IngestItem:
        text = f"Analyse sectorielle : le kombucha en Allemagne ({name}), distribution et réglementation."
        return IngestItem(
            key=f"upload:test:{name}",
            kind="document",
            filename=f"{name}.txt",
            data=text.encode(),
            title=name,
            published_at=old,
            org_id=org_id,
            visibility="network",
            meta=dict(meta),
        )

    report = w.rt.runner("document", False).run_items(
        [document("Kombucha validé", status="validated"), document("Kombucha brouillon")],
        kind="upload",
        progress=False,
    )
    assert report["ok"] == 2, report
    ids = {i["title"]: i["id"] for i in report["items"]}
    passages = read_passages(w.rt.backend, ids.values())
    validated = passages[ids["Kombucha validé"]][0].meta
    assert validated["status"] == "validated" and validated["date"].startswith("2019-03-01")
    assert dt.datetime.fromisoformat(validated["indexed_at"]) > utcnow() - dt.timedelta(minutes=5)
    assert passages[ids["Kombucha brouillon"]][0].meta["status"] == "draft"
    assert run(w)["sent"] >= 1
    assert [(e.kind, e.id) for d in digests_for(w, "email", sub) for e in d.entries] == [
        ("document", ids["Kombucha validé"])
    ]
    run(w)
    assert len(digests_for(w, "email", sub)) == 1  # sent once


def test_document_candidates_fall_back_on_the_date_of_passages_indexed_before_indexed_at(
    world: World,
) -> None:
    w = world
    now = utcnow()
    stamp = now - dt.timedelta(hours=1)

    def passage(pid: str, **meta: object) -> Passage:
        base = {"kind": "document", "visibility": "network", "org_id": None, "owner_user_id": None}
        return Passage(f"{pid}:0", pid, pid, "texte", 0, {**base, **meta}, None)

    w.rt.backend.write(
        [
            passage("legacy-validated", status="validated", date=stamp.isoformat()),
            passage("legacy-old", status="validated", date="2019-01-01T00:00:00+00:00"),
            passage("legacy-no-status", date=stamp.isoformat()),
            passage("fresh-archived", status="archived", indexed_at=stamp.isoformat()),
        ]
    )
    w.rt.backend.commit()
    try:
        found = {c.parent_id for c in document_candidates(w.rt.backend, now - dt.timedelta(hours=2), now)}
        assert {"legacy-validated"} <= found
        assert not found & {"legacy-old", "legacy-no-status", "fresh-archived"}
    finally:
        for pid in ("legacy-validated", "legacy-old", "legacy-no-status", "fresh-archived"):
            w.rt.backend.delete_parent(pid)
        w.rt.backend.commit()
