"""The exfiltration guard: budgets per role, counting in moving windows, the graded automatic response.

Every counted request (a read, download, export or search page: the web layer classifies routes) is
counted per user and per API token in three moving windows (minute, hour, day) of the shared ``limits``
store (``tfe.core.security.ratelimit``: process memory embedded, Redis at scale, so several processes
agree), against the budget of the user's role (``GuardBudget`` rows set by admins, else the defaults of
``data/guard_budgets.json``). The response is graded:

1. over the per-minute budget: ``RateLimitedError`` (429, ``Retry-After``: when a slot frees), audited
   ``guard.throttled``;
2. still going: ``throttled_before_suspend`` throttled requests within ``throttled_window_s``, or the hour
   or day budget spent: the token (``ApiToken.suspended_at``) or browser session
   (``UserSession.suspended_at``) is suspended, a ``SecurityAlert`` recorded (response ``suspended``,
   audited ``guard.suspended``) and mailed to the admins; this request and every later one with that
   credential answer ``SuspendedError`` (403 ``suspended``) until an admin lifts the alert;
3. the unusual-use rules (``tfe.core.security.anomaly``) run once an account's distinct documents pass a
   floor: one rule → an alert ``notified`` (mailed; nothing blocked), ``suspend_when_rules`` or more at
   once → suspended as above.

Cost: the common path reads no table (budgets are cached ``BUDGET_TTL_S``; the credential's row is the
one authentication just loaded) and makes one store call: every window of the request (minute, hour, day ×
user and token, then the network and distinct-document counters of a read) is one
``SharedLimiter.batch``, a single round trip (a Lua script) on Redis. Other users are never affected:
every key names the account (and the installation: ``ratelimit.namespace_for``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from limits import parse
from sqlalchemy.orm import Session

from tfe.core.db import utcnow
from tfe.core.errors import RateLimitedError, SuspendedError
from tfe.core.models import ApiToken, User
from tfe.core.security import anomaly, audit, security_alerts
from tfe.core.security.audit import Actor
from tfe.core.security.guard_policy import (
    BUDGET_TTL_S,
    Budget,
    BudgetCache,
    Policy,
    default_policy,
    list_budgets,
    set_budget,
)
from tfe.core.security.models import UserSession
from tfe.core.security.ratelimit import SharedLimiter, Step, namespace_for, shared_limiter
from tfe.core.settings import Settings

__all__ = [
    "BUDGET_TTL_S",
    "KINDS",
    "Budget",
    "Guard",
    "Policy",
    "Use",
    "default_policy",
    "list_budgets",
    "set_budget",
]

KINDS = ("read", "download", "export", "search")
_BIG = 10_000_000  # the distinct-documents counters never refuse


@dataclass(frozen=True)
class Use:
    """One counted request: its kind (``KINDS``), the document/item/story it targets, where from."""

    kind: str
    target: str | None = None
    address: str = "?"
    route: str = ""
    channel: str = "api"


@dataclass(frozen=True)
class _Counted:
    """A request ``Guard.check`` counted, as its responses (throttle, suspend, observe) need it."""

    session: Session
    user: User
    use: Use
    token_id: int | None
    session_id: str | None
    budget: Budget


_SUSPENDED = "this credential is suspended by the exfiltration guard pending an administrator's review"
_SLOWED = "over the read budget: suspended pending review"


class Guard:
    """One per application (``app.state.guard``): the limiter, the cached budgets and baselines.

    ``on_alert`` is called with each new alert's id after its transaction is committed (the web layer
    mails the admins in the background through it); ``clock`` gives the current UTC time (tests)."""

    def __init__(
        self,
        settings: Settings,
        policy: Policy | None = None,
        *,
        limiter: SharedLimiter | None = None,
        on_alert: Callable[[int], object] | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.policy = policy or default_policy()
        self.limiter = limiter or shared_limiter(settings)
        self.ns = f"{namespace_for(settings)}:guard"
        self.budgets = BudgetCache(self.policy)
        self.baselines = anomaly.BaselineCache(self.policy.rules)
        self.on_alert = on_alert
        self.clock = clock
        self._throttle_item = parse(
            f"{self.policy.throttled_before_suspend}/{self.policy.throttled_window_s} seconds"
        )
        self._seen_hour, self._seen_day = parse("1/hour"), parse("1/day")
        self._distinct_hour, self._distinct_day = parse(f"{_BIG}/hour"), parse(f"{_BIG}/day")
        self._once_a_minute = parse("1/minute")
        self._alert_item = parse(f"1/{self.policy.rules.alert_every_s} seconds")
        self._gate_cache: dict[tuple[int, int, int, int, int | None], tuple[Step, ...]] = {}

    # -- keys ---------------------------------------------------------------------------------------
    @staticmethod
    def _subjects(user_id: int, token_id: int | None) -> list[str]:
        return [f"user:{user_id}"] + ([f"token:{token_id}"] if token_id is not None else [])

    @staticmethod
    def _credential(user_id: int, token_id: int | None, session_id: str | None) -> str:
        if token_id is not None:
            return f"token:{token_id}"
        if session_id is not None:
            return f"session:{session_id[:32]}"
        return f"user:{user_id}"

    # -- the entry point ----------------------------------------------------------------------------
    def check(
        self, session: Session, user: User, use: Use | None, *, token_id: int | None, session_id: str | None
    ) -> None:
        """Count ``use`` (None: not a counted request) against ``user``'s budgets and respond: returns,
        or raises ``RateLimitedError`` / ``SuspendedError`` (having committed what it recorded)."""
        self._refuse_if_suspended(session, user, token_id, session_id, use)
        if not self.settings.guard_enabled or use is None:
            return
        budget = self.budgets.get(session, user.role)
        subjects = self._subjects(user.id, token_id)
        gates = self._gates(budget, user.id, token_id)
        steps = list(gates)
        observed = use.target is not None and use.kind in ("read", "download")
        network = anomaly.network_of(use.address) if observed else ""
        if observed:
            steps += self._observation_steps(user.id, use.target or "", network, len(gates))
        results = self.limiter.batch(steps)
        refused = 0 in results[: len(gates)]
        if not refused and not observed:
            return
        counted = _Counted(session, user, use, token_id, session_id, budget)
        if refused:
            window, subject = divmod(results.index(0), len(subjects))
            if window == 0:
                self._throttled(counted, subjects[subject])
            self._suspend(counted, "budget_hour" if window == 1 else "budget_day", {})
        self._observe(counted, network, results[len(gates) :])

    def _gates(self, budget: Budget, user_id: int, token_id: int | None) -> tuple[Step, ...]:
        """The budget windows of a request, in order: minute (each subject), then hour, then day; the
        first full one refuses and nothing after it counts. Cached per account and token (per-request
        cost otherwise)."""
        key = (budget.per_minute, budget.per_hour, budget.per_day, user_id, token_id)
        gates = self._gate_cache.get(key)
        if gates is None:
            subjects = self._subjects(user_id, token_id)
            gates = tuple(Step("gate", item, f"{self.ns}:{s}") for item in budget.items for s in subjects)
            if len(self._gate_cache) > 4096:
                self._gate_cache.clear()
            self._gate_cache[key] = gates
        return gates

    # -- suspended credentials ----------------------------------------------------------------------
    def _refuse_if_suspended(
        self, session: Session, user: User, token_id: int | None, session_id: str | None, use: Use | None
    ) -> None:
        suspended = False
        if token_id is not None:
            token = session.get(ApiToken, token_id)  # the row authentication loaded: no query
            suspended = token is not None and token.suspended_at is not None
        if not suspended and session_id is not None:
            row = session.get(UserSession, session_id)
            suspended = row is not None and row.suspended_at is not None
        if not suspended:
            return
        credential = self._credential(user.id, token_id, session_id)
        if self.limiter.hit(self._once_a_minute, f"{self.ns}:refused:{credential}"):
            audit.record(
                session,
                "guard.refused",
                Actor.of_user(user, use.channel if use else "api"),
                target_kind="user",
                target_id=str(user.id),
                detail={"credential": credential.split(":")[0], "route": use.route if use else ""},
            )
            session.commit()
        raise SuspendedError(_SUSPENDED)

    # -- graded response ----------------------------------------------------------------------------
    def counts(self, user: User, token_id: int | None, budget: Budget) -> dict[str, dict[str, int]]:
        """Requests counted in each window, per subject (for alerts and the admin page)."""
        out: dict[str, dict[str, int]] = {}
        for subject in self._subjects(user.id, token_id):
            key = f"{self.ns}:{subject}"
            out[subject.split(":")[0]] = {
                name: item.amount - self.limiter.window(item, key).remaining
                for name, item in zip(("minute", "hour", "day"), budget.items, strict=True)
            }
        return out

    def _throttled(self, counted: _Counted, subject: str) -> NoReturn:
        session, user, use, budget = counted.session, counted.user, counted.use, counted.budget
        credential = self._credential(user.id, counted.token_id, counted.session_id)
        if not self.limiter.hit(self._throttle_item, f"{self.ns}:throttled:{credential}"):
            self._suspend(
                counted,
                "budget_minute",
                {
                    "throttled": self.policy.throttled_before_suspend,
                    "window_s": self.policy.throttled_window_s,
                },
            )
        wait = self.limiter.wait_s(budget.items[0], f"{self.ns}:{subject}")
        audit.record(
            session,
            "guard.throttled",
            Actor.of_user(user, use.channel),
            target_kind="user",
            target_id=str(user.id),
            detail={
                "kind": use.kind,
                "route": use.route,
                "per_minute": budget.per_minute,
                "api_key_id": counted.token_id,
            },
        )
        session.commit()
        raise RateLimitedError(
            f"over the read budget of the {user.role} role ({budget.per_minute} per minute): slow down",
            retry_after_s=wait,
        )

    def _suspend(
        self, counted: _Counted, rule: str, extra: dict[str, Any], explanation: str = ""
    ) -> NoReturn:
        session, user, use, budget = counted.session, counted.user, counted.use, counted.budget
        token_id, session_id = counted.token_id, counted.session_id
        credential = self._credential(user.id, token_id, session_id)
        if (
            token_id is None
            and session_id is None
            and not self.limiter.hit(self._alert_item, f"{self.ns}:alerted:{credential}:{rule}")
        ):  # nothing to suspend and already alerted: keep slowing down, without a new alert
            raise RateLimitedError(_SLOWED, retry_after_s=60)
        now = utcnow()
        suspended = None
        if token_id is not None and (token := session.get(ApiToken, token_id)) is not None:
            token.suspended_at, suspended = now, "token"
        elif session_id is not None and (row := session.get(UserSession, session_id)) is not None:
            row.suspended_at, suspended = now, "session"
        detail = {
            **extra,
            "explanation": explanation or _budget_explanation(rule, budget, extra),
            "counts": self.counts(user, token_id, budget),
            "budget": budget.as_dict(),
            "kind": use.kind,
            "route": use.route,
            "address": use.address,
            "network": anomaly.network_of(use.address),
            "suspended": suspended,
        }
        self._alert(counted, rule, "suspended" if suspended else "throttled", detail)
        if suspended is None:  # no token or session to suspend: keep slowing the account down
            raise RateLimitedError(_SLOWED, retry_after_s=60)
        raise SuspendedError(_SUSPENDED)

    def _alert(self, counted: _Counted, rule: str, response: str, detail: dict[str, Any]) -> None:
        """Raise an alert about the request's account and credential, commit, then notify."""
        alert = security_alerts.raise_alert(
            counted.session,
            user=counted.user,
            token_id=counted.token_id,
            session_id=counted.session_id,
            rule=rule,
            response=response,
            detail=detail,
            channel=counted.use.channel,
        )
        counted.session.commit()
        if self.on_alert is not None:
            self.on_alert(alert.id)

    # -- unusual use ----------------------------------------------------------------------------------
    def _observation_steps(self, user_id: int, target: str, network: str, first: int) -> list[Step]:
        """The counters of a read, batched after the budgets' (``first``: the index of the first step).
        Results, in order: network new today; document new this hour; then, only if so: distinct this
        hour counted; document new today; distinct today counted (if new today); the two distinct counts."""
        ns = self.ns
        new_hour, new_day = first + 1, first + 3
        return [
            Step("hit", self._seen_day, f"{ns}:net:{user_id}:{network}"),
            Step("hit", self._seen_hour, f"{ns}:seen-h:{user_id}:{target}"),
            Step("hit", self._distinct_hour, f"{ns}:distinct-h:{user_id}", after=new_hour),
            Step("hit", self._seen_day, f"{ns}:seen-d:{user_id}:{target}", after=new_hour),
            Step("hit", self._distinct_day, f"{ns}:distinct-d:{user_id}", after=new_day),
            Step("count", self._distinct_hour, f"{ns}:distinct-h:{user_id}", after=new_hour),
            Step("count", self._distinct_day, f"{ns}:distinct-d:{user_id}", after=new_hour),
        ]

    def _observe(self, counted: _Counted, network: str, seen: list[int]) -> None:
        """Respond to the observation counted by ``_observation_steps`` (``seen``: its results)."""
        session, user, use = counted.session, counted.user, counted.use
        if seen[0] == 1:
            audit.record(
                session,
                anomaly.NETWORK_ACTION,
                Actor.of_user(user, use.channel),
                target_kind="user",
                target_id=str(user.id),
                detail={"network": network},
            )
            session.commit()
        if seen[1] != 1:
            return  # read this hour already: the counts did not change, nor the rules' verdict
        distinct_hour, distinct_day = seen[5], seen[6]
        config = self.policy.rules
        if not config.gated(distinct_hour, distinct_day):
            return
        now = self.clock()
        obs = anomaly.Observation(
            at=now, distinct_hour=distinct_hour, distinct_day=distinct_day, network=network
        )
        matches = anomaly.evaluate(
            obs,
            self.baselines.own(session, user.id, now),
            self.baselines.peers(session, user.org_id, user.role, now),
            config,
            work_hours=self.settings.guard_work_hours,
            timezone=self.settings.guard_timezone,
        )
        fresh = [
            m for m in matches if self.limiter.hit(self._alert_item, f"{self.ns}:alerted:{user.id}:{m.rule}")
        ]
        if not fresh:
            return
        detail = {
            "matches": [m.as_dict() for m in matches],
            "distinct_hour": distinct_hour,
            "distinct_day": distinct_day,
        }
        if len(matches) >= config.suspend_when_rules:
            self._suspend(
                counted,
                "rules" if len(matches) > 1 else matches[0].rule,
                detail,
                " ".join(m.explanation for m in matches),
            )
        for match in fresh:
            self._alert(
                counted,
                match.rule,
                "notified",
                {
                    **detail,
                    "explanation": match.explanation,
                    "counts": self.counts(user, counted.token_id, counted.budget),
                    "address": use.address,
                    "network": network,
                },
            )

    # -- review -----------------------------------------------------------------------------------------
    def forgive(self, user_id: int | None, token_id: int | None, session_id: str | None) -> None:
        """Clear the counters of a lifted alert's account and credential (so it is not suspended again by
        the same windows), and its cached baseline."""
        if user_id is None:
            return
        subjects = self._subjects(user_id, token_id)
        for budget in self.budgets.known():
            for item in budget.items:
                for subject in subjects:
                    self.limiter.clear(item, f"{self.ns}:{subject}")
        credential = self._credential(user_id, token_id, session_id)
        self.limiter.clear(self._throttle_item, f"{self.ns}:throttled:{credential}")
        self.baselines.forget(user_id)


def _budget_explanation(rule: str, budget: Budget, extra: dict[str, Any]) -> str:
    if rule == "budget_minute":
        return (
            f"{extra.get('throttled', '?')} requêtes refusées pour dépassement du budget de "
            f"{budget.per_minute} par minute en {int(extra.get('window_s', 0)) // 60} minutes : "
            "le client ne ralentit pas."
        )
    if rule == "budget_hour":
        return f"Budget horaire du rôle épuisé ({budget.per_hour} requêtes comptées par heure)."
    return f"Budget journalier du rôle épuisé ({budget.per_day} requêtes comptées par jour)."
