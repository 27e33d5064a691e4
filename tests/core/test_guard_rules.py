"""The exfiltration guard's pieces without the web: the unusual-use rules on synthetic history, the
baselines read from a real audit trail, the budgets' validation and the counting, in a memory store and in
a real Redis (127.0.0.1:6379: each test's keys live under its installation's prefix and are removed
afterwards; two guards over two Redis connections stand for two server processes)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from limits.storage import MemoryStorage, Storage, storage_from_string

from tfe.app.install import init_installation
from tfe.app.runtime import Runtime
from tfe.core.errors import PermissionDeniedError, RateLimitedError, SuspendedError, ValidationError
from tfe.core.models import ApiToken, User
from tfe.core.security import anomaly, audit, identity, ratelimit
from tfe.core.security.anomaly import Baseline, Observation, PeerBaseline, RuleConfig
from tfe.core.security.audit import Actor
from tfe.core.security.guard import Guard, Use
from tfe.core.security.guard_policy import Budget, Policy, default_policy, list_budgets, set_budget
from tfe.core.security.models import SecurityAlert
from tfe.core.security.ratelimit import SharedLimiter, namespace_for
from tfe.core.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/0"

CONFIG = RuleConfig()
WEDNESDAY_10H_PARIS = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
WEDNESDAY_23H_PARIS = dt.datetime(2026, 12, 2, 22, 0, tzinfo=dt.UTC)
SATURDAY_11H_PARIS = dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC)


def _rules(obs: Observation, own: Baseline = Baseline(), peers: PeerBaseline = PeerBaseline()) -> list[str]:
    return [m.rule for m in anomaly.evaluate(obs, own, peers, CONFIG)]


def test_networks_percentiles_and_buckets() -> None:
    assert anomaly.network_of("203.0.113.77") == "203.0.113.0/24"
    assert anomaly.network_of("2001:db8:1:2:3::9") == "2001:db8:1:2::/64"
    assert anomaly.network_of("::ffff:198.51.100.4") == "198.51.100.0/24"
    assert anomaly.network_of("testclient") == "testclient"
    assert anomaly.percentile([], 0.95) == 0.0
    assert anomaly.percentile(range(1, 101), 0.95) == 95.0
    assert anomaly.percentile([3, 1, 2], 0.5) == 2.0
    base = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    events = [(base + dt.timedelta(minutes=m), f"document:{m % 7}") for m in range(0, 120, 3)]
    assert sorted(anomaly.hourly_distinct(events)) == [7, 7]  # two clock hours, 7 distinct each
    assert anomaly.daily_distinct(events) == [7]


def test_working_hours_and_weekends() -> None:
    assert not anomaly.is_off_hours(WEDNESDAY_10H_PARIS, "07-20", "Europe/Paris")
    assert anomaly.is_off_hours(WEDNESDAY_23H_PARIS, "07-20", "Europe/Paris")
    assert anomaly.is_off_hours(SATURDAY_11H_PARIS, "07-20", "Europe/Paris")
    assert not anomaly.is_off_hours(WEDNESDAY_23H_PARIS, "00-24", "Europe/Paris")
    assert not anomaly.is_off_hours(WEDNESDAY_10H_PARIS, "nonsense", "Not/AZone")  # defaults: 07-20, Paris


def test_normal_use_matches_no_rule() -> None:
    usual = Baseline(hourly_p95=12, daily_p95=40, networks=frozenset({"203.0.113.0/24"}))
    peers = PeerBaseline(hourly_median=10, daily_median=35, peers=8)
    obs = Observation(WEDNESDAY_10H_PARIS, distinct_hour=25, distinct_day=80, network="203.0.113.0/24")
    assert _rules(obs, usual, peers) == []
    assert not CONFIG.gated(5, 10)  # under every floor: no baseline is even computed


def test_far_more_documents_per_hour_than_usual_and_than_peers() -> None:
    quiet = Baseline(hourly_p95=4, daily_p95=10, networks=frozenset({"203.0.113.0/24"}))
    peers = PeerBaseline(hourly_median=5, daily_median=12, peers=5)
    obs = Observation(WEDNESDAY_10H_PARIS, distinct_hour=61, distinct_day=61, network="203.0.113.0/24")
    matches = anomaly.evaluate(obs, quiet, peers, CONFIG)
    assert [m.rule for m in matches] == ["volume_hour"]
    assert matches[0].threshold == 60 and "61 documents distincts" in matches[0].explanation
    # a heavy reader's own history raises the bar (5 × p95) ...
    heavy = Baseline(hourly_p95=20, daily_p95=100, networks=quiet.networks)
    assert _rules(obs, heavy, peers) == []
    assert _rules(Observation(obs.at, 101, 101, obs.network), heavy, peers) == ["volume_hour"]
    # ... and so do busy peers (3 × their median)
    busy = PeerBaseline(hourly_median=30, daily_median=200, peers=5)
    assert _rules(Observation(obs.at, 89, 89, obs.network), quiet, busy) == []


def test_many_distinct_documents_in_a_day() -> None:
    usual = Baseline(hourly_p95=30, daily_p95=50, networks=frozenset({"203.0.113.0/24"}))
    obs = Observation(WEDNESDAY_10H_PARIS, distinct_hour=40, distinct_day=201, network="203.0.113.0/24")
    assert _rules(obs, usual) == ["distinct_day"]
    assert _rules(Observation(obs.at, 40, 200, obs.network), usual) == []  # the floor itself is allowed


def test_bulk_outside_working_hours_and_from_a_new_network() -> None:
    usual = Baseline(hourly_p95=40, daily_p95=200, networks=frozenset({"203.0.113.0/24"}))
    night = Observation(WEDNESDAY_23H_PARIS, distinct_hour=30, distinct_day=30, network="203.0.113.0/24")
    assert _rules(night, usual) == ["off_hours"]
    assert _rules(Observation(SATURDAY_11H_PARIS, 30, 30, "203.0.113.0/24"), usual) == ["off_hours"]
    assert _rules(Observation(WEDNESDAY_23H_PARIS, 29, 29, "203.0.113.0/24"), usual) == []  # not bulk
    elsewhere = Observation(WEDNESDAY_10H_PARIS, distinct_hour=30, distinct_day=30, network="198.51.100.0/24")
    assert _rules(elsewhere, usual) == ["new_network"]
    both = Observation(WEDNESDAY_23H_PARIS, distinct_hour=35, distinct_day=35, network="198.51.100.0/24")
    assert _rules(both, usual) == ["off_hours", "new_network"]  # two rules: the guard suspends


def test_thresholds_are_read_from_the_data_file() -> None:
    policy = default_policy()
    assert policy.budgets["reader"] == Budget("reader", 120, 1500, 5000)
    assert policy.throttled_before_suspend == 10 and policy.rules.volume_floor == 60
    with pytest.raises(ValidationError):
        Budget("reader", 50, 10, 100).validate()
    with pytest.raises(ValidationError):
        Budget("boss", 1, 1, 1).validate()
    with pytest.raises(ValueError, match="miss the roles"):
        Policy.from_mapping({"budgets": {"reader": {"per_minute": 1, "per_hour": 1, "per_day": 1}}})


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("guard-rules")), environment="test", admin_password="x" * 12
    )
    runtime = Runtime(settings)
    init_installation(runtime)
    return runtime


def test_baselines_come_from_the_audit_trail(rt: Runtime) -> None:
    now = dt.datetime.now(dt.UTC)
    with rt.session() as s:
        org = identity.get_or_create_org(s, "rules", "Règles", "regional_chamber")
        me = identity.create_user(s, email="me@rules.fr", org=org, role="reader")
        peer = identity.create_user(s, email="peer@rules.fr", org=org, role="reader")
        for user, per_hour in ((me, 6), (peer, 10)):
            for day in range(2, 6):  # four past days, one busy hour each
                for n in range(per_hour):
                    event = audit.record(
                        s,
                        "document.read",
                        Actor.of_user(user, "api"),
                        target_kind="document",
                        target_id=f"d{n}",
                    )
                    event.at = (now - dt.timedelta(days=day)).replace(minute=30, second=n)
        net = audit.record(
            s, anomaly.NETWORK_ACTION, Actor.of_user(me, "api"), detail={"network": "203.0.113.0/24"}
        )
        net.at = now - dt.timedelta(days=3)
        recent = audit.record(
            s, anomaly.NETWORK_ACTION, Actor.of_user(me, "api"), detail={"network": "192.0.2.0/24"}
        )
        recent.at = now - dt.timedelta(hours=2)  # first seen today: still "new"
        s.flush()
        own = anomaly.compute_baseline(s, me.id, now, CONFIG)
        assert own.hourly_p95 == 6 and own.daily_p95 == 6
        assert own.networks == frozenset({"203.0.113.0/24"})
        peers = anomaly.compute_peer_baseline(s, org.id, "reader", now, CONFIG)
        assert peers.peers == 2 and peers.daily_median == 8
        cache = anomaly.BaselineCache(CONFIG)
        assert cache.own(s, me.id, now) is cache.own(s, me.id, now)  # cached, not recomputed


Guards = Callable[[Policy], Guard]  # a new guard over a new connection to the store (a new "process")


@pytest.fixture(params=["memory", "redis"])
def guards(request: pytest.FixtureRequest, rt: Runtime) -> Iterator[Guards]:
    if request.param == "memory":
        storage = MemoryStorage()  # one process's memory
        yield lambda policy: Guard(rt.settings, policy, limiter=SharedLimiter(storage, "memory://"))
        return

    def fresh(policy: Policy) -> Guard:
        made = storage_from_string(REDIS_URL)
        assert isinstance(made, Storage)
        return Guard(rt.settings, policy, limiter=SharedLimiter(made, REDIS_URL))

    yield fresh
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"LIMITS:LIMITER/{namespace_for(rt.settings)}:*"))
    if keys:
        client.delete(*keys)


def test_the_graded_response(rt: Runtime, guards: Guards, request: pytest.FixtureRequest) -> None:
    policy = Policy(
        budgets={**default_policy().budgets, "reader": Budget("reader", 3, 100, 1000)},
        throttled_before_suspend=2,
        throttled_window_s=600,
    )
    guard, twin = guards(policy), guards(policy)  # two processes on one store
    alerts: list[int] = []
    guard.on_alert = alerts.append
    store = request.node.callspec.params["guards"]
    with rt.session() as s:
        org = identity.get_or_create_org(s, "graded", "Graduée", "regional_chamber")
        user = identity.create_user(s, email=f"graded-{store}@rules.fr", org=org, role="reader")
        other = identity.create_user(s, email=f"other-{store}@rules.fr", org=org, role="reader")
        token = identity.create_token(s, user, name="t")[0]
        s.commit()
        use = Use(kind="download", target="document:a", address="192.0.2.1", route="/r")
        guard.check(s, user, use, token_id=token.id, session_id=None)
        twin.check(s, user, use, token_id=token.id, session_id=None)  # counted where the first counts
        budget = policy.budgets["reader"]
        assert twin.counts(user, token.id, budget) == guard.counts(user, token.id, budget)
        assert guard.counts(user, token.id, budget)["token"] == {"minute": 2, "hour": 2, "day": 2}
        if store == "redis":  # in Redis itself, in the very lists that limits' own calls read
            assert not guard.limiter.degraded and not twin.limiter.degraded
            key = "LIMITS:" + budget.items[0].key_for(f"{guard.ns}:token:{token.id}")
            assert redis.Redis.from_url(REDIS_URL).llen(key) == 2
        guard.check(s, user, use, token_id=token.id, session_id=None)
        with pytest.raises(RateLimitedError) as slow:  # the 4th of 3 a minute, whichever process sees it
            twin.check(s, user, use, token_id=token.id, session_id=None)
        assert 1 <= slow.value.retry_after_s <= 60
        with pytest.raises(RateLimitedError):
            guard.check(s, user, use, token_id=token.id, session_id=None)
        with pytest.raises(SuspendedError):
            guard.check(s, user, use, token_id=token.id, session_id=None)
        with pytest.raises(SuspendedError):  # and from now on, even a request that is not counted
            guard.check(s, user, None, token_id=token.id, session_id=None)
        for _ in range(3):  # another user of the same organisation is not affected
            guard.check(s, other, use, token_id=None, session_id=None)
        assert len(alerts) == 1
        alert = s.get(SecurityAlert, alerts[0])
        assert alert is not None and alert.rule == "budget_minute" and alert.response == "suspended"
        assert alert.detail["counts"]["token"]["minute"] == 3
        row = s.get(ApiToken, token.id)
        assert row is not None and row.suspended_at is not None
        row.suspended_at = None
        guard.forgive(user.id, token.id, None)  # what a lift does: counters cleared
        guard.check(s, user, use, token_id=token.id, session_id=None)


def test_redis_down_the_guard_counts_in_memory_with_one_warning(
    rt: Runtime, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "redis://127.0.0.1:1/7"  # nothing listens on port 1
    monkeypatch.setitem(ratelimit._down_until, url, 0.0)
    made = storage_from_string(url, **ratelimit._options_for(url))
    assert isinstance(made, Storage)
    policy = Policy(budgets={**default_policy().budgets, "reader": Budget("reader", 3, 100, 1000)})
    guard = Guard(rt.settings, policy, limiter=SharedLimiter(made, url))
    with rt.session() as s:
        org = identity.get_or_create_org(s, "down", "Panne", "regional_chamber")
        user = identity.create_user(s, email="down@rules.fr", org=org, role="reader")
        s.commit()
        with caplog.at_level(logging.WARNING, logger="tfe.core.security.ratelimit"):
            for n in range(3):
                guard.check(
                    s, user, Use("read", f"document:{n}", "192.0.2.1", "/r"), token_id=None, session_id=None
                )
            with pytest.raises(RateLimitedError):  # still counted: in this process's memory
                guard.check(
                    s, user, Use("read", "document:9", "192.0.2.1", "/r"), token_id=None, session_id=None
                )
    assert guard.limiter.degraded
    assert sum("unreachable" in r.getMessage() for r in caplog.records) == 1


def test_rules_notify_then_suspend_on_two_signals(
    rt: Runtime, guards: Guards, request: pytest.FixtureRequest
) -> None:
    rules = RuleConfig(volume_floor=3, off_hours_floor=4, network_floor=4, distinct_floor=1000)
    guard = guards(Policy(budgets=default_policy().budgets, rules=rules))
    alerts: list[int] = []
    guard.on_alert = alerts.append
    store = request.node.callspec.params["guards"]
    with rt.session() as s:
        org = identity.get_or_create_org(s, "signals", "Signaux", "regional_chamber")
        user = identity.create_user(s, email=f"signals-{store}@rules.fr", org=org, role="reader")
        token = identity.create_token(s, user, name="t")[0]
        s.commit()
        guard.clock = lambda: WEDNESDAY_10H_PARIS  # working hours: only the volume and the network speak
        for n in range(3):
            guard.check(
                s, user, Use("read", f"document:{n}", "192.0.2.1", "/r"), token_id=token.id, session_id=None
            )
        assert alerts == []  # under the floors
        with pytest.raises(SuspendedError):  # 4 distinct: volume over 3 and a network never seen → 2 rules
            guard.check(
                s, user, Use("read", "document:3", "192.0.2.1", "/r"), token_id=token.id, session_id=None
            )
        alert = s.get(SecurityAlert, alerts[-1])
        assert alert is not None and alert.rule == "rules" and alert.response == "suspended"
        assert {m["rule"] for m in alert.detail["matches"]} == {"volume_hour", "new_network"}
        # one rule alone only notifies
        solo = identity.create_user(s, email=f"solo-{store}@rules.fr", org=org, role="reader")
        s.commit()
        guard.policy = Policy(
            budgets=default_policy().budgets,
            rules=RuleConfig(volume_floor=2, off_hours_floor=99, network_floor=99, distinct_floor=1000),
        )
        before = len(alerts)
        for n in range(4):
            guard.check(
                s, solo, Use("read", f"document:{n}", "192.0.2.1", "/r"), token_id=None, session_id=None
            )
        notified = [s.get(SecurityAlert, a) for a in alerts[before:]]
        assert [(a.rule, a.response) for a in notified if a] == [
            ("volume_hour", "notified")
        ]  # once, not per read


def test_budgets_are_set_by_national_admins_only(rt: Runtime) -> None:
    with rt.session() as s:
        national = s.query(User).filter(User.email == "admin@tfe.local").one()
        org = identity.get_or_create_org(s, "budgets", "Budgets", "regional_chamber")
        local = identity.create_user(s, email="admin@budgets.fr", org=org, role="admin")
        with pytest.raises(PermissionDeniedError):
            set_budget(s, local, Budget("curator", 10, 100, 1000))
        set_budget(s, national, Budget("curator", 10, 100, 1000))
        assert Budget("curator", 10, 100, 1000) in list_budgets(s)
