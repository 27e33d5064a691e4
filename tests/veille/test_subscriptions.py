"""Subscriptions: the schedule of digests (pure, across DST) and the subscription use cases."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import ged.models  # noqa: F401  (every table, for create_all)
import ingest.models  # noqa: F401
import taxonomy.models  # noqa: F401
import veille.alerts.models
import veille.models  # noqa: F401
from ingest.components.splitter import split_passages
from ingest.components.writer import RecordWriter
from ingest.item import ExtractedMetadata, IngestItem
from search.embedded import EmbeddedBackend
from search.models import SavedSearch
from taxonomy.classifier import Scored
from taxonomy.live import StaticReferential
from taxonomy.referential import Referential
from tests.conftest import make_settings, tables
from tfe.core.db import utcnow
from tfe.core.errors import NotFoundError, ValidationError
from tfe.core.models import AuditEvent, Organisation, User
from tfe.core.settings import Settings
from veille.alerts.digests import DigestService
from veille.alerts.models import AlertMessage, Delivery, Subscription
from veille.alerts.schedule import next_run
from veille.alerts.subscriptions import PREVIEW_UNAVAILABLE, SubscriptionService, SubscriptionSpec
from veille.channels.atom import feed_token_hash
from veille.models import Item, Source
from veille.sink import ItemSink

UTC = dt.UTC


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- schedule -----------------------------------------------------------------------------------------


def test_instant_is_due_at_once() -> None:
    now = _utc(2026, 1, 5, 10, 0)
    assert next_run("instant", "08:00", None, "Europe/Paris", now) == now


def test_daily_later_today_then_tomorrow() -> None:
    # 06:00 UTC = 07:00 Paris (winter): 08:00 Paris is still ahead today
    assert next_run("daily", "08:00", None, "Europe/Paris", _utc(2026, 1, 5, 6, 0)) == _utc(2026, 1, 5, 7, 0)
    # exactly at send time: strictly after, so tomorrow
    assert next_run("daily", "08:00", None, "Europe/Paris", _utc(2026, 1, 5, 7, 0)) == _utc(2026, 1, 6, 7, 0)


def test_daily_keeps_local_wall_clock_across_spring_forward() -> None:
    # Paris switches to summer time on Sunday 29 March 2026 at 02:00 → 03:00
    before = next_run("daily", "08:00", None, "Europe/Paris", _utc(2026, 3, 28, 8, 0))
    assert before == _utc(2026, 3, 29, 6, 0)  # 08:00 CEST = 06:00 UTC
    winter = next_run("daily", "08:00", None, "Europe/Paris", _utc(2026, 3, 27, 8, 0))
    assert winter == _utc(2026, 3, 28, 7, 0)


def test_nonexistent_local_time_is_shifted_forward() -> None:
    # 02:30 does not exist in Paris on 29 March 2026: sent at 01:30 UTC (03:30 local)
    got = next_run("daily", "02:30", None, "Europe/Paris", _utc(2026, 3, 29, 0, 0))
    assert got == _utc(2026, 3, 29, 1, 30)


def test_repeated_local_time_is_its_first_occurrence() -> None:
    # Paris falls back on Sunday 25 October 2026 at 03:00 → 02:00: 02:30 happens twice
    got = next_run("daily", "02:30", None, "Europe/Paris", _utc(2026, 10, 24, 23, 0))
    assert got == _utc(2026, 10, 25, 0, 30)  # 02:30 CEST
    after_first = next_run("daily", "02:30", None, "Europe/Paris", got)
    assert after_first == _utc(2026, 10, 26, 1, 30)  # next day, 02:30 CET, not the repeated 02:30


def test_daily_across_fall_back_keeps_wall_clock() -> None:
    got = next_run("daily", "08:00", None, "Europe/Paris", _utc(2026, 10, 24, 7, 0))
    assert got == _utc(2026, 10, 25, 7, 0)  # 08:00 CET


def test_weekly_next_weekday_and_time() -> None:
    # Monday 5 January 2026, 10:00 UTC; weekly on Friday (4) at 09:15 Paris = 08:15 UTC
    assert next_run("weekly", "09:15", 4, "Europe/Paris", _utc(2026, 1, 5, 10, 0)) == _utc(2026, 1, 9, 8, 15)
    # same weekday, time already passed: one week later
    assert next_run("weekly", "09:00", 0, "Europe/Paris", _utc(2026, 1, 5, 10, 0)) == _utc(2026, 1, 12, 8, 0)


def test_weekly_across_dst_change() -> None:
    # Friday 27 March 2026 08:00 Paris (07:00 UTC) → next Friday 3 April 08:00 CEST = 06:00 UTC
    got = next_run("weekly", "08:00", 4, "Europe/Paris", _utc(2026, 3, 27, 7, 0))
    assert got == _utc(2026, 4, 3, 6, 0)


def test_other_timezone_and_naive_after() -> None:
    got = next_run("daily", "08:00", None, "Asia/Ho_Chi_Minh", dt.datetime(2026, 1, 5, 2, 0))
    assert got == _utc(2026, 1, 6, 1, 0)  # 08:00 in Vietnam (UTC+7); 09:00 local already passed
    assert got.tzinfo is not None


@pytest.mark.parametrize(
    ("frequency", "send_time", "weekday", "timezone"),
    [
        ("hourly", "08:00", None, "Europe/Paris"),
        ("daily", "8h", None, "Europe/Paris"),
        ("daily", "24:00", None, "Europe/Paris"),
        ("daily", "08:00", None, "Mars/Olympus"),
        ("weekly", "08:00", None, "Europe/Paris"),
        ("weekly", "08:00", 7, "Europe/Paris"),
    ],
)
def test_bad_schedule_is_refused(frequency: str, send_time: str, weekday: int | None, timezone: str) -> None:
    with pytest.raises(ValidationError):
        next_run(frequency, send_time, weekday, timezone, _utc(2026, 1, 5, 10, 0))


# --- use cases (SQLite and PostgreSQL) ----------------------------------------------------------------


@dataclass
class Env:
    service: SubscriptionService
    sessions: sessionmaker[Session]
    users: dict[str, int]
    source_ids: dict[str, int]

    def user(self, session: Session, key: str) -> User:
        user = session.get(User, self.users[key])
        assert user is not None
        return user


@pytest.fixture
def env(db_settings: Settings) -> Iterator[Env]:
    with tables(db_settings) as factory:
        users: dict[str, int] = {}
        sources: dict[str, int] = {}
        with factory.begin() as session:
            orgs = {}
            for name in ("alpha", "beta"):
                org = Organisation(slug=name, name=name.capitalize(), kind="regional_chamber")
                session.add(org)
                session.flush()
                orgs[name] = org
            for key, slug, role in (("alice", "alpha", "reader"), ("bob", "beta", "reader")):
                user = User(email=f"{key}@{slug}.fr", name=key, org_id=orgs[slug].id, role=role)
                session.add(user)
                session.flush()
                users[key] = user.id
            owned = (("shared", "alpha", "network"), ("beta-own", "beta", "organisation"))
            for key, slug, visibility in owned:
                src = Source(
                    url=f"https://{key}.example.org/rss",
                    kind="feed",
                    title=key,
                    org_id=orgs[slug].id,
                    visibility=visibility,
                )
                session.add(src)
                session.flush()
                sources[key] = src.id
        referential = Referential.load()
        yield Env(SubscriptionService(db_settings, lambda: referential), factory, users, sources)


NOW = _utc(2026, 1, 5, 10, 0)  # a Monday


def _events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_create_resolves_facets_sets_watermark_schedule_and_audits(env: Env) -> None:
    spec = SubscriptionSpec(
        query="vins",
        name="Vins × Allemagne",
        sectors=["11"],
        countries=["Allemagne", "Europe"],
        frequency="daily",
        send_time="08:00",
        channels=["email"],
    )
    with env.sessions.begin() as session:
        created = env.service.create(session, env.user(session, "alice"), spec, now=NOW)
        data = created.as_dict()
    assert data["name"] == "Vins × Allemagne"
    assert [c["id"] for c in data["sectors"]] == ["naf:11"]
    assert [c["id"] for c in data["countries"]] == ["country:DE", "region:150"]
    assert data["countries"][0]["label"] == "Allemagne"
    assert data["watermark"].startswith("2026-01-05T10:00")
    assert data["next_run_at"].startswith("2026-01-06T07:00")  # 08:00 Paris the next morning
    assert created.atom_url is None and created.webhook_secret is None
    with env.sessions() as session:
        sub = session.get(Subscription, data["id"])
        assert sub is not None
        search = session.get(SavedSearch, sub.saved_search_id)
        assert search is not None and search.query == "vins"
        assert search.filters == {"sector": ["naf:11"], "country": ["country:DE", "region:150"]}
        events = _events(session, "subscription.create")
        assert len(events) == 1 and events[0].target_id == str(sub.id)


def test_instant_and_weekly_schedules(env: Env) -> None:
    with env.sessions.begin() as session:
        alice = env.user(session, "alice")
        instant = env.service.create(
            session, alice, SubscriptionSpec(query="vins", frequency="instant"), now=NOW
        )
        weekly = env.service.create(
            session,
            alice,
            SubscriptionSpec(query="vins", frequency="weekly", weekday=4, send_time="09:15"),
            now=NOW,
        )
    assert instant.view.as_dict()["next_run_at"].startswith("2026-01-05T10:00")
    assert weekly.view.as_dict()["next_run_at"].startswith("2026-01-09T08:15")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (SubscriptionSpec(query='"vins'), "requête illisible"),
        (SubscriptionSpec(query="vins AND"), "requête illisible"),
        (SubscriptionSpec(query="vins", sectors=["99.99Z"]), "secteur inconnu : '99.99Z'"),
        (SubscriptionSpec(query="vins", countries=["Atlantide"]), "pays ou zone inconnu : 'Atlantide'"),
        (SubscriptionSpec(query="vins", types=["grimoire"]), "type de document inconnu"),
        (SubscriptionSpec(query=""), "texte de recherche ou au moins un filtre"),
        (SubscriptionSpec(query="vins", frequency="hourly"), "fréquence"),
        (SubscriptionSpec(query="vins", frequency="weekly"), "hebdomadaire"),
        (SubscriptionSpec(query="vins", send_time="8h"), "Heure d'envoi"),
        (SubscriptionSpec(query="vins", timezone="Mars/Olympus"), "Fuseau horaire"),
        (SubscriptionSpec(query="vins", channels=[]), "au moins un canal"),
        (SubscriptionSpec(query="vins", channels=["sms"]), "canal"),
        (SubscriptionSpec(query="vins", channels=["webhook"]), "webhook demande une adresse"),
        (
            SubscriptionSpec(query="vins", channels=["webhook"], webhook_url="ftp://93.184.216.34/x"),
            "http(s)",
        ),
        (
            SubscriptionSpec(query="vins", channels=["webhook"], webhook_url="http://127.0.0.1:8000/api/x"),
            "plateforme elle-même",
        ),
        (SubscriptionSpec(query="vins", scope="everything"), "périmètre"),
    ],
)
def test_bad_input_is_refused(env: Env, spec: SubscriptionSpec, message: str) -> None:
    with env.sessions.begin() as session, pytest.raises(ValidationError) as caught:
        env.service.create(session, env.user(session, "alice"), spec, now=NOW)
    assert message in caught.value.message
    with env.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0


def test_private_webhook_refused_unless_allowed(env: Env, tmp_path: Path) -> None:
    spec = SubscriptionSpec(query="vins", channels=["webhook"], webhook_url="http://10.1.2.3/hook")
    strict = SubscriptionService(make_settings(tmp_path, fetch_allow_private=False), Referential.load)
    with env.sessions.begin() as session, pytest.raises(ValidationError):
        strict.create(session, env.user(session, "alice"), spec, now=NOW)
    with env.sessions.begin() as session:  # the env's settings allow private addresses (tests)
        created = env.service.create(session, env.user(session, "alice"), spec, now=NOW)
    assert created.webhook_secret is not None and len(created.webhook_secret) == 64


def test_email_channel_needs_an_address(env: Env) -> None:
    with env.sessions.begin() as session:
        alice = env.user(session, "alice")
        alice.email = "alice-sans-adresse"
        with pytest.raises(ValidationError, match="adresse e-mail"):
            env.service.create(session, alice, SubscriptionSpec(query="vins", channels=["email"]), now=NOW)


def test_sources_must_be_visible(env: Env) -> None:
    with env.sessions.begin() as session:
        alice = env.user(session, "alice")
        with pytest.raises(ValidationError, match="source inconnue"):
            env.service.create(
                session, alice, SubscriptionSpec(sources=[env.source_ids["beta-own"]]), now=NOW
            )
        created = env.service.create(
            session, alice, SubscriptionSpec(sources=[env.source_ids["shared"]]), now=NOW
        )
    assert created.view.as_dict()["sources"] == [env.source_ids["shared"]]


def test_atom_token_shown_once_hashed_and_regenerated(env: Env) -> None:
    with env.sessions.begin() as session:
        alice = env.user(session, "alice")
        created = env.service.create(
            session, alice, SubscriptionSpec(query="vins", channels=["atom"]), now=NOW
        )
        assert created.atom_url is not None
        assert created.atom_url.startswith("http://127.0.0.1:8000/alertes/atom/")
        token = created.atom_url.rsplit("/", 1)[1]
        sub = session.get(Subscription, created.view.sub.id)
        assert sub is not None and sub.atom_token_hash == feed_token_hash(token)
        assert token not in str(created.view.as_dict())
        new_url = env.service.regenerate_atom_token(session, alice, sub.id)
        assert new_url != created.atom_url
        assert sub.atom_token_hash == feed_token_hash(new_url.rsplit("/", 1)[1])
        with pytest.raises(ValidationError):
            no_atom = env.service.create(session, alice, SubscriptionSpec(query="vins"), now=NOW)
            env.service.regenerate_atom_token(session, alice, no_atom.view.sub.id)
        assert len(_events(session, "subscription.atom_token")) == 1


def test_owner_only_list_edit_pause_resume_delete(env: Env) -> None:
    with env.sessions.begin() as session:
        alice, bob = env.user(session, "alice"), env.user(session, "bob")
        sub_id = env.service.create(session, alice, SubscriptionSpec(query="vins"), now=NOW).view.sub.id
        assert [v.sub.id for v in env.service.list(session, alice)] == [sub_id]
        assert env.service.list(session, bob) == []
        assert len(env.service.list_all(session)) == 1
        for call in (
            lambda: env.service.get(session, bob, sub_id),
            lambda: env.service.update(session, bob, sub_id, {"paused": True}),
            lambda: env.service.delete(session, bob, sub_id),
            lambda: env.service.history(session, bob, sub_id),
        ):
            with pytest.raises(NotFoundError):
                call()
        later = NOW + dt.timedelta(days=2)
        edited = env.service.update(
            session,
            alice,
            sub_id,
            {
                "query": "spiritueux",
                "sectors": ["11.01Z"],
                "frequency": "weekly",
                "weekday": 0,
                "channels": ["atom"],
            },
            now=later,
        )
        data = edited.as_dict()
        assert data["query"] == "spiritueux" and [s["id"] for s in data["sectors"]] == ["naf:11.01Z"]
        assert data["next_run_at"].startswith("2026-01-12T07:00")  # Monday 08:00 Paris
        assert edited.atom_url is not None  # new channel: its address shown once
        with pytest.raises(ValidationError):
            env.service.update(session, alice, sub_id, {"query": "(vins"})
        with pytest.raises(ValidationError):
            env.service.update(session, alice, sub_id, {"colour": "red"})
        paused = env.service.set_paused(session, alice, sub_id, True)
        assert paused.sub.paused
        resumed_at = NOW + dt.timedelta(days=5)
        env.service.update(session, alice, sub_id, {"paused": False}, now=resumed_at)
        sub = session.get(Subscription, sub_id)
        assert sub is not None and not sub.paused
        assert sub.watermark is not None and sub.watermark.replace(tzinfo=UTC) == resumed_at
        for action in ("subscription.update", "subscription.pause", "subscription.resume"):
            assert _events(session, action), action
        search_id = sub.saved_search_id
        env.service.delete(session, alice, sub_id)
        assert session.get(Subscription, sub_id) is None
        assert session.get(SavedSearch, search_id) is None
        assert _events(session, "subscription.delete")


def test_history_export_and_delete_all(env: Env) -> None:
    with env.sessions.begin() as session:
        alice, bob = env.user(session, "alice"), env.user(session, "bob")
        first = env.service.create(session, alice, SubscriptionSpec(query="vins"), now=NOW).view.sub.id
        env.service.create(session, alice, SubscriptionSpec(query="cosmétiques"), now=NOW)
        bobs = env.service.create(session, bob, SubscriptionSpec(query="vins"), now=NOW).view.sub.id
        session.add(
            AlertMessage(
                subscription_id=first,
                channel="email",
                status="failed",
                subject="Vins : 2 sujets",
                error="550 boîte inconnue",
                recipient="alice@alpha.fr",
                payload={"entries": [{"id": "1"}, {"id": "2"}]},
            )
        )
        session.flush()
        history = env.service.history(session, alice, first)
        assert [(h["channel"], h["status"], h["error"], h["entries"]) for h in history] == [
            ("email", "failed", "550 boîte inconnue", 2)
        ]
        exported = env.service.export(session, alice)
        assert exported["user"]["email"] == "alice@alpha.fr"
        assert [s["query"] for s in exported["subscriptions"]] == ["vins", "cosmétiques"]
        assert exported["subscriptions"][0]["history"][0]["subject"] == "Vins : 2 sujets"
        json.dumps(exported)  # a JSON document
        assert env.service.delete_all(session, alice) == 2
        assert env.service.list(session, alice) == []
        assert [v.sub.id for v in env.service.list(session, bob)] == [bobs]
        assert session.scalar(select(func.count()).select_from(AlertMessage)) == 0
        for action in ("subscription.export", "subscription.delete_all", "subscription.history"):
            assert _events(session, action), action


def _indexed_item(env: Env, backend: EmbeddedBackend, source: str, title: str, *, accept: bool) -> str:
    """One item through the ingest writer (rows, then passages), accepted now when ``accept``."""
    with env.sessions() as session:
        src = session.get(Source, env.source_ids[source])
        assert src is not None
        org_id, visibility = src.org_id, src.visibility
    text = f"{title}. Un article de veille pour les conseillers export."
    writer = RecordWriter(ItemSink(env.sessions), backend, StaticReferential(Referential.load()))
    key = hashlib.sha256(title.encode()).hexdigest()[:10]
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
            source_id=env.source_ids[source],
        ),
        metadata=ExtractedMetadata(content_hash=hashlib.sha256(text.encode()).hexdigest(), mime="text/plain"),
        text=text,
        title=title,
        language="fr",
        sectors=[Scored("naf:11.02", 0.9, ["test"])],
        countries=[Scored("country:DE", 0.8, ["test"])],
        doc_type=None,
        passages=split_passages(text),
        embeddings=None,
    )
    item_id = str(saved["target_id"])
    if accept:
        with env.sessions.begin() as session:
            item = session.get(Item, item_id)
            assert item is not None
            item.curator_status, item.decided_at = "accepted", utcnow() - dt.timedelta(hours=1)
    return item_id


def test_preview_shows_what_the_last_days_brought_in_the_owners_scope(
    env: Env, db_settings: Settings
) -> None:
    backend = EmbeddedBackend(db_settings.resolved_data_dir / "index")
    referential = Referential.load()
    digests = DigestService(env.sessions, backend, db_settings, lambda: referential)
    service = SubscriptionService(
        db_settings,
        lambda: referential,
        previewer=lambda session, sub, scope, days: digests.preview(session, sub, scope, days=days),
    )
    try:
        _indexed_item(env, backend, "shared", "Les vins français en Allemagne", accept=True)
        _indexed_item(env, backend, "beta-own", "Les vins de Beta en Allemagne", accept=True)  # beta only
        _indexed_item(env, backend, "shared", "Les vins non encore validés", accept=False)  # still new
        with env.sessions.begin() as session:
            alice = env.user(session, "alice")
            sub_id = service.create(
                session, alice, SubscriptionSpec(query="vins", sectors=["11"])
            ).view.sub.id
            saved = service.preview(session, alice, sub_id)
            draft = service.preview_spec(
                session, alice, SubscriptionSpec(query="vins", countries=["Allemagne"])
            )
            bobs = service.preview_spec(session, env.user(session, "bob"), SubscriptionSpec(query="vins"))
            nothing = service.preview_spec(session, alice, SubscriptionSpec(query="cosmétiques"))
        # the subscription was created just now, yet its preview shows the last 7 days
        for result in (saved, draft):
            assert result["available"] is True and result["days"] == 7
            assert [e["title"] for e in result["entries"]] == ["Les vins français en Allemagne"]
            assert result["total"] == 1 and result["entries"][0]["sources"] == ["shared"]
        assert sorted(e["title"] for e in bobs["entries"]) == [
            "Les vins de Beta en Allemagne",
            "Les vins français en Allemagne",
        ]
        assert nothing["available"] is True and nothing["entries"] == []
        with env.sessions() as session:
            assert _events(session, "subscription.preview")
            assert session.scalar(select(func.count()).select_from(Delivery)) == 0  # nothing recorded
    finally:
        backend.close()


def test_preview_without_a_previewer_says_unavailable(env: Env) -> None:
    with env.sessions.begin() as session:
        alice = env.user(session, "alice")
        sub_id = env.service.create(session, alice, SubscriptionSpec(query="vins"), now=NOW).view.sub.id
        result = env.service.preview(session, alice, sub_id)
    assert result == {
        "available": False,
        "days": 7,
        "message": PREVIEW_UNAVAILABLE,
        "total": 0,
        "entries": [],
    }


def test_filieres_and_signals_resolve_and_are_saved_as_filters(env: Env) -> None:
    spec = SubscriptionSpec(
        name="Vins, appels d'offres", filieres=["Vins et spiritueux"], signals=["signal:tender"]
    )
    with env.sessions.begin() as session:
        data = env.service.create(session, env.user(session, "alice"), spec, now=NOW).as_dict()
    assert [c["id"] for c in data["filieres"]] == ["filiere:agri-agro.vins"]
    assert [c["id"] for c in data["signals"]] == ["signal:tender"]
    assert data["signals"][0]["label"] != "signal:tender"  # a French label, not the id
    with env.sessions() as session:
        sub = session.get(Subscription, data["id"])
        assert sub is not None
        search = session.get(SavedSearch, sub.saved_search_id)
        assert search is not None
        assert search.filters == {"filiere": ["filiere:agri-agro.vins"], "signal": ["signal:tender"]}
    with env.sessions.begin() as session, pytest.raises(ValidationError, match="filière"):
        bad = SubscriptionSpec(filieres=["pas une filière"])
        env.service.create(session, env.user(session, "alice"), bad)
