"""The sign-in and bad-token throttles on the shared ``limits`` store: process memory and a real Redis
(127.0.0.1:6379). Each test counts under its own key prefix and removes its Redis keys afterwards.

Two throttles over two separate storages on one Redis stand for two server processes; a throttle built
after another is gone stands for a restart. Redis down is a real unreachable port (127.0.0.1:1).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from limits.storage import MemoryStorage, Storage, storage_from_string

from tests.conftest import make_settings
from tfe.core.security import ratelimit
from tfe.core.security.ratelimit import SKIPPED, SharedLimiter, Step, namespace_for, shared_limiter
from tfe.core.security.throttle import (
    LoginPolicy,
    LoginThrottle,
    TokenThrottle,
    address_key,
    email_key,
)

REDIS_URL = "redis://127.0.0.1:6379/0"
ALICE = "alice@alpha.fr"
A, B = "192.0.2.10", "198.51.100.20"

Limiters = Callable[[], SharedLimiter]  # a new limiter over a new storage (a new "process") per call


def _redis_keys(namespace: str) -> list[bytes]:
    return list(redis.Redis.from_url(REDIS_URL).scan_iter(match=f"LIMITS:LIMITER/{namespace}*"))


@pytest.fixture
def namespace() -> str:
    return f"tfe-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["memory", "redis"])
def limiters(request: pytest.FixtureRequest, namespace: str) -> Iterator[Limiters]:
    if request.param == "memory":
        storage = MemoryStorage()  # one process's memory: every "process" here shares it
        yield lambda: SharedLimiter(storage, f"memory://{namespace}")
        return

    def fresh() -> SharedLimiter:
        made = storage_from_string(REDIS_URL)
        assert isinstance(made, Storage)
        return SharedLimiter(made, REDIS_URL)

    yield fresh
    client = redis.Redis.from_url(REDIS_URL)
    keys = _redis_keys(namespace)
    if keys:
        client.delete(*keys)


def _login(limiter: SharedLimiter, namespace: str, **policy: int) -> LoginThrottle:
    return LoginThrottle(limiter, LoginPolicy(**policy), namespace=namespace)


def test_pair_lock_leaves_the_account_open_from_another_address(limiters: Limiters, namespace: str) -> None:
    throttle = _login(limiters(), namespace)
    for _ in range(5):
        assert throttle.retry_after(ALICE, A) == 0
        throttle.failed(ALICE, A)
    wait = throttle.retry_after(ALICE, A)
    assert 290 < wait <= 300  # until the oldest failure leaves the five-minute window
    assert throttle.retry_after(" Alice@Alpha.FR ", A) > 290  # the same account, however it is typed
    assert throttle.retry_after(ALICE, B) == 0  # the real user elsewhere is not locked out
    assert throttle.retry_after("bob@beta.fr", A) == 0  # nor another account from the same address
    throttle.succeeded(ALICE, B)
    assert throttle.retry_after(ALICE, A) > 0  # a success elsewhere does not reopen the attacker's pair
    throttle.succeeded(ALICE, A)
    assert throttle.retry_after(ALICE, A) == 0  # a success from the pair itself clears it


def test_failures_leave_the_window(limiters: Limiters, namespace: str) -> None:
    throttle = _login(limiters(), namespace, pair_max=2, pair_window_s=1)
    throttle.failed(ALICE, A)
    assert throttle.retry_after(ALICE, A) == 0
    throttle.failed(ALICE, A)
    assert 0 < throttle.retry_after(ALICE, A) <= 1
    time.sleep(1.05)
    assert throttle.retry_after(ALICE, A) == 0


def test_per_address_limit_stops_spraying(limiters: Limiters, namespace: str) -> None:
    throttle = _login(limiters(), namespace, address_max=6)
    for n in range(6):  # one failure each for six accounts: no pair reaches its limit
        assert throttle.retry_after(f"user{n}@alpha.fr", A) == 0
        throttle.failed(f"user{n}@alpha.fr", A)
    assert throttle.retry_after("user99@alpha.fr", A) > 0  # the address is held for every account
    assert throttle.retry_after("user99@alpha.fr", B) == 0


def test_account_soft_lock_admits_one_attempt_per_delay(limiters: Limiters, namespace: str) -> None:
    throttle = _login(limiters(), namespace, account_max=4, account_delay_s=1)
    for n in range(4):  # four addresses, one failure each: no pair, no address at its limit
        throttle.failed(ALICE, f"203.0.113.{n}")
    assert throttle.retry_after(ALICE, B) == 0  # the one attempt of this second is admitted...
    throttle.failed(ALICE, B)
    assert throttle.account_failures(ALICE) == 5  # failures under the lock count: it stays on
    wait = throttle.retry_after(ALICE, "203.0.113.77")
    assert 0 < wait <= 1  # ...and the next one, from anywhere, waits for the delay
    assert throttle.retry_after(ALICE, B) > 0
    time.sleep(wait + 0.05)
    assert throttle.retry_after(ALICE, B) == 0  # never a hard lock: after the delay one more comes
    assert throttle.retry_after("bob@beta.fr", B) == 0  # other accounts are not slowed down


def test_known_address_is_not_held_by_the_soft_lock(limiters: Limiters, namespace: str) -> None:
    throttle = _login(limiters(), namespace, account_max=3, account_delay_s=60)
    throttle.succeeded(ALICE, B)  # alice signed in from B before the attack
    for n in range(3):
        throttle.failed(ALICE, f"203.0.113.{n}")
    assert throttle.retry_after(ALICE, "203.0.113.50") == 0  # takes the account's slot
    assert throttle.retry_after(ALICE, "203.0.113.51") > 0
    assert [throttle.retry_after(ALICE, B) for _ in range(3)] == [0, 0, 0]


def test_two_processes_agree_and_a_restart_remembers(limiters: Limiters, namespace: str) -> None:
    first, second = _login(limiters(), namespace), _login(limiters(), namespace)
    for throttle in (first, second, first, second, first):
        throttle.failed(ALICE, A)
    assert first.retry_after(ALICE, A) > 0 and second.retry_after(ALICE, A) > 0
    del first, second
    restarted = _login(limiters(), namespace)
    assert restarted.retry_after(ALICE, A) > 0
    assert restarted.retry_after(ALICE, B) == 0


def test_a_batch_gates_counts_and_skips_as_one_call_after_another(limiters: Limiters, namespace: str) -> None:
    two, big = ratelimit.parse_limit("2/minute"), ratelimit.parse_limit("100/hour")
    one, other = limiters(), limiters()
    steps = [
        Step("gate", two, f"{namespace}:a"),
        Step("hit", two, f"{namespace}:seen"),
        Step("hit", big, f"{namespace}:new", after=1),
        Step("count", big, f"{namespace}:new", after=1),
        Step("count", big, f"{namespace}:new"),
    ]
    assert one.batch(steps) == [1, 1, 1, 1, 1]
    assert other.batch(steps) == [1, 1, 1, 2, 2]  # another process counts in the same windows
    assert one.batch(steps) == [0] + [SKIPPED] * 4  # the gate is full: nothing after it runs
    assert other.count(two, f"{namespace}:a") == 2 and other.count(big, f"{namespace}:new") == 2
    other.clear(two, f"{namespace}:a")  # limits' own calls see the batch's counts
    assert one.batch(steps) == [1, 0, SKIPPED, SKIPPED, 2]  # "seen" full: the steps after it skipped
    assert not one.degraded and not other.degraded


def test_bad_tokens_per_address(limiters: Limiters, namespace: str) -> None:
    first = TokenThrottle(limiters(), max_failures=3, window_s=60, namespace=namespace)
    second = TokenThrottle(limiters(), max_failures=3, window_s=60, namespace=namespace)
    for throttle in (first, second, first):
        assert throttle.retry_after(A) == 0
        throttle.failed(A)
    assert 55 < second.retry_after(A) <= 60
    assert first.retry_after(B) == 0


def test_keys_hold_no_e_mail_and_share_an_ipv6_network(namespace: str) -> None:
    storage = storage_from_string(REDIS_URL)
    assert isinstance(storage, Storage)
    throttle = _login(SharedLimiter(storage, REDIS_URL), namespace)
    try:
        throttle.failed(ALICE, "2001:db8:1:2::1")
        keys = [k.decode() for k in _redis_keys(namespace)]
        assert keys and not any("alice" in k for k in keys)
        assert any(f"{namespace}:login:pair:{email_key(ALICE)}:2001:db8:1:2::/64" in k for k in keys)
        for _ in range(4):  # another host of the same /64 counts for the same pair
            throttle.failed(ALICE, "2001:db8:1:2:ffff::9")
        assert throttle.retry_after(ALICE, "2001:db8:1:2::1") > 0
        assert throttle.retry_after(ALICE, "2001:db8:1:3::1") == 0
    finally:
        redis.Redis.from_url(REDIS_URL).delete(*_redis_keys(namespace))
    assert email_key(" Alice@Alpha.fr ") == email_key(ALICE) and len(email_key(ALICE)) == 64
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1" and address_key("testclient") == "testclient"


def test_redis_down_falls_back_to_memory_with_a_warning(
    namespace: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "redis://:s3cret-pw@127.0.0.1:1/0"  # nothing listens on port 1
    limiter = shared_limiter(make_settings(Path("/nonexistent"), ratelimit_url=url))
    throttle = _login(limiter, namespace)
    with caplog.at_level(logging.WARNING, logger="tfe.core.security.ratelimit"):
        started = time.monotonic()
        for _ in range(5):
            assert throttle.retry_after(ALICE, A) == 0
            throttle.failed(ALICE, A)
        assert throttle.retry_after(ALICE, A) > 0  # still counted: in this process's memory
        assert throttle.retry_after(ALICE, B) == 0
        assert time.monotonic() - started < 5
    assert limiter.degraded
    warnings = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1 and "127.0.0.1:1" in warnings[0] and "s3cret" not in warnings[0]
    monkeypatch.setitem(ratelimit._down_until, url, 0.0)  # the outage period is over
    with caplog.at_level(logging.WARNING, logger="tfe.core.security.ratelimit"):
        assert throttle.retry_after(ALICE, A) > 0  # Redis is tried (and fails) again: still memory
    assert sum("unreachable" in r.getMessage() for r in caplog.records) == 2


def test_shared_limiter_and_namespace_follow_the_settings(tmp_path: Path) -> None:
    one = make_settings(tmp_path / "one", ratelimit_url=REDIS_URL)
    other = make_settings(tmp_path / "other", ratelimit_url=REDIS_URL)
    assert namespace_for(one) == namespace_for(make_settings(tmp_path / "one"))  # same installation
    assert namespace_for(one) != namespace_for(other) and namespace_for(one).startswith("tfe:")
    assert shared_limiter(one).primary.storage is shared_limiter(other).primary.storage  # one per URI
    assert not shared_limiter(one).degraded
    assert LoginThrottle.from_settings(one).policy == LoginPolicy()  # the documented defaults
    assert LoginPolicy.from_settings(make_settings(tmp_path, login_account_delay_s=7)).account_delay_s == 7
