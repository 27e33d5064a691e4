"""Unusual-use rules of the exfiltration guard: an account's reading now, against its own history and its
peers' (same role, same organisation), computed from the audit trail.

The guard (``tfe.core.security.guard``) keeps the live counts (distinct documents read in the last hour
and day, the network of the request) in the shared store; this module holds what they are compared with
and the rules themselves:

- ``Baseline``: an account's usual volume (the 95th percentile of distinct documents in its active hours
  and days over ``history_days``, the last 24 hours excluded so a burst does not raise its own bar) and
  the networks it used (``guard.network`` events the guard records, 30 days);
- ``PeerBaseline``: the median of the same figures over the account's peers;
- ``evaluate``: the rules (``volume_hour``, ``distinct_day``, ``off_hours``, ``new_network``), a pure
  function of the observation, the baselines and the thresholds, so it is tested on synthetic history;
- ``BaselineCache``: baselines are computed at most every ``baseline_ttl_s`` per account (and per peer
  group), and only once an account passes a rule's floor: the audit table is never read per request.

Each rule and its thresholds are explained in docs/security.md ("Exfiltration guard and automatic
response"); the thresholds are data (``data/guard_budgets.json``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tfe.core.models import AuditEvent, User

__all__ = [
    "DOCUMENT_ACTIONS",
    "NETWORK_ACTION",
    "Baseline",
    "BaselineCache",
    "Observation",
    "PeerBaseline",
    "RuleConfig",
    "RuleMatch",
    "compute_baseline",
    "compute_peer_baseline",
    "daily_distinct",
    "evaluate",
    "hourly_distinct",
    "is_off_hours",
    "network_of",
    "percentile",
]

#: Audit actions that read one document, item or story (what "documents per hour" counts in the history;
#: ``document.fields_read`` goes with a ``document.read`` of the same page, so it is not counted twice).
DOCUMENT_ACTIONS = (
    "document.read",
    "document.download",
    "document.preview",
    "document.diff",
    "item.read",
    "story.read",
)
#: Recorded by the guard the first time in a day it sees an account on a network (detail: network).
NETWORK_ACTION = "guard.network"
RULES = ("volume_hour", "distinct_day", "off_hours", "new_network")


def network_of(address: str) -> str:
    """The network an address belongs to: its /24 (IPv4) or /64 (IPv6); other strings as they are."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:64] or "?"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def percentile(values: Iterable[float], q: float) -> float:
    """The nearest-rank ``q`` percentile (0 < q <= 1) of ``values``; 0 when there are none."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(q * len(ordered)))
    return float(ordered[rank - 1])


def _bucket(at: dt.datetime, hours: int) -> int:
    return int(_aware(at).timestamp()) // (3600 * hours)


def hourly_distinct(events: Iterable[tuple[dt.datetime, str]]) -> list[int]:
    """Distinct targets per clock hour, for the hours with any activity (``events``: (at, target))."""
    buckets: dict[int, set[str]] = defaultdict(set)
    for at, target in events:
        buckets[_bucket(at, 1)].add(target)
    return [len(targets) for targets in buckets.values()]


def daily_distinct(events: Iterable[tuple[dt.datetime, str]]) -> list[int]:
    """Distinct targets per UTC day, for the days with any activity."""
    buckets: dict[int, set[str]] = defaultdict(set)
    for at, target in events:
        buckets[_bucket(at, 24)].add(target)
    return [len(targets) for targets in buckets.values()]


def _work_hours(text: str) -> tuple[int, int]:
    start, _, end = text.partition("-")
    try:
        first, last = int(start), int(end)
    except ValueError:
        return 7, 20
    if not (0 <= first <= 24 and 0 <= last <= 24 and first < last):
        return 7, 20
    return first, last


def is_off_hours(at: dt.datetime, work_hours: str, timezone: str) -> bool:
    """Whether ``at`` (UTC) falls outside the working hours (``"07-20"``, local ``timezone``) or on a
    Saturday or Sunday."""
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("Europe/Paris")
    local = _aware(at).astimezone(zone)
    first, last = _work_hours(work_hours)
    return local.isoweekday() >= 6 or not first <= local.hour < last


@dataclass(frozen=True)
class RuleConfig:
    """Thresholds of the rules (``rules`` in data/guard_budgets.json)."""

    baseline_ttl_s: float = 600.0
    alert_every_s: int = 21600
    suspend_when_rules: int = 2
    volume_floor: int = 60
    volume_own_factor: float = 5.0
    volume_peer_factor: float = 3.0
    distinct_floor: int = 200
    distinct_own_factor: float = 3.0
    distinct_peer_factor: float = 3.0
    history_days: int = 14
    off_hours_floor: int = 30
    network_floor: int = 30
    network_history_days: int = 30
    network_new_for_hours: int = 24

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RuleConfig:
        volume = data.get("volume_hour", {})
        distinct = data.get("distinct_day", {})
        network = data.get("new_network", {})
        return cls(
            baseline_ttl_s=float(data.get("baseline_ttl_s", 600)),
            alert_every_s=int(data.get("alert_every_s", 21600)),
            suspend_when_rules=int(data.get("suspend_when_rules", 2)),
            volume_floor=int(volume.get("floor", 60)),
            volume_own_factor=float(volume.get("own_p95_factor", 5.0)),
            volume_peer_factor=float(volume.get("peer_median_factor", 3.0)),
            distinct_floor=int(distinct.get("floor", 200)),
            distinct_own_factor=float(distinct.get("own_p95_factor", 3.0)),
            distinct_peer_factor=float(distinct.get("peer_median_factor", 3.0)),
            history_days=int(volume.get("history_days", 14)),
            off_hours_floor=int(data.get("off_hours", {}).get("floor", 30)),
            network_floor=int(network.get("floor", 30)),
            network_history_days=int(network.get("history_days", 30)),
            network_new_for_hours=int(network.get("new_for_hours", 24)),
        )

    @property
    def hour_gate(self) -> int:
        """The fewest distinct documents in an hour that any hourly rule could match on."""
        return min(self.volume_floor, self.off_hours_floor, self.network_floor)

    def gated(self, distinct_hour: int, distinct_day: int) -> bool:
        """Whether the counts are high enough for some rule to match (below: no baseline is needed)."""
        return distinct_hour > self.hour_gate - 1 or distinct_day > self.distinct_floor


@dataclass(frozen=True)
class Baseline:
    """An account's own history (see the module docstring)."""

    hourly_p95: float = 0.0
    daily_p95: float = 0.0
    networks: frozenset[str] = frozenset()
    computed_at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class PeerBaseline:
    """The median of the peers' baselines (0 when they have no history) and how many peers had one."""

    hourly_median: float = 0.0
    daily_median: float = 0.0
    peers: int = 0
    computed_at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class Observation:
    """What the guard counted for an account at ``at``: distinct documents in the last hour and day."""

    at: dt.datetime
    distinct_hour: int
    distinct_day: int
    network: str


@dataclass(frozen=True)
class RuleMatch:
    """A rule that matched: the measured value, the threshold it passed and a French explanation."""

    rule: str
    measured: float
    threshold: float
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "measured": self.measured,
            "threshold": round(self.threshold, 2),
            "explanation": self.explanation,
        }


def evaluate(
    obs: Observation,
    own: Baseline,
    peers: PeerBaseline,
    config: RuleConfig,
    *,
    work_hours: str = "07-20",
    timezone: str = "Europe/Paris",
) -> list[RuleMatch]:
    """The rules ``obs`` matches, in ``RULES`` order (none when every count is under its threshold)."""
    matches: list[RuleMatch] = []
    volume = _threshold(
        config.volume_floor,
        (config.volume_own_factor, own.hourly_p95),
        (config.volume_peer_factor, peers.hourly_median),
    )
    if obs.distinct_hour > volume:
        matches.append(
            RuleMatch(
                "volume_hour",
                obs.distinct_hour,
                volume,
                f"{obs.distinct_hour} documents distincts lus en une heure, au-delà du seuil de {volume:.0f} "
                f"(habituel du compte : {own.hourly_p95:.0f}/h au 95e centile ; médiane des pairs : "
                f"{peers.hourly_median:.0f}/h).",
            )
        )
    distinct = _threshold(
        config.distinct_floor,
        (config.distinct_own_factor, own.daily_p95),
        (config.distinct_peer_factor, peers.daily_median),
    )
    if obs.distinct_day > distinct:
        matches.append(
            RuleMatch(
                "distinct_day",
                obs.distinct_day,
                distinct,
                f"{obs.distinct_day} documents distincts en 24 heures, au-delà du seuil de {distinct:.0f} "
                f"(habituel du compte : {own.daily_p95:.0f}/jour ; pairs : {peers.daily_median:.0f}/jour).",
            )
        )
    if obs.distinct_hour >= config.off_hours_floor and is_off_hours(obs.at, work_hours, timezone):
        matches.append(
            RuleMatch(
                "off_hours",
                obs.distinct_hour,
                config.off_hours_floor,
                f"{obs.distinct_hour} documents distincts en une heure hors des heures de travail "
                f"({work_hours}, {timezone}, ou le week-end).",
            )
        )
    if obs.distinct_hour >= config.network_floor and obs.network not in own.networks:
        matches.append(
            RuleMatch(
                "new_network",
                obs.distinct_hour,
                config.network_floor,
                f"{obs.distinct_hour} documents distincts en une heure depuis un réseau jamais vu pour ce "
                f"compte en {config.network_history_days} jours ({obs.network}).",
            )
        )
    return matches


def _threshold(floor: int, own: tuple[float, float], peers: tuple[float, float]) -> float:
    """A count rule's threshold: its floor, or (factor, usual value) of the account's own or its peers'."""
    return max(float(floor), own[0] * own[1], peers[0] * peers[1])


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def _history(
    session: Session, user_ids: list[int], since: dt.datetime, until: dt.datetime
) -> dict[int, list[tuple[dt.datetime, str]]]:
    rows = session.execute(
        select(AuditEvent.actor_user_id, AuditEvent.at, AuditEvent.target_kind, AuditEvent.target_id).where(
            AuditEvent.at >= since,
            AuditEvent.at < until,
            AuditEvent.actor_user_id.in_(user_ids),
            AuditEvent.action.in_(DOCUMENT_ACTIONS),
        )
    )
    per_user: dict[int, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for user_id, at, kind, target in rows.tuples():
        if user_id is not None and target:
            per_user[int(user_id)].append((_aware(at), f"{kind}:{target}"))
    return per_user


def compute_baseline(session: Session, user_id: int, now: dt.datetime, config: RuleConfig) -> Baseline:
    """``user_id``'s baseline from the audit trail (two queries on the indexed ``at`` range)."""
    recent = now - dt.timedelta(hours=24)
    events = _history(session, [user_id], now - dt.timedelta(days=config.history_days), recent).get(
        user_id, []
    )
    net_until = now - dt.timedelta(hours=config.network_new_for_hours)
    rows = session.scalars(
        select(AuditEvent.detail).where(
            AuditEvent.at >= now - dt.timedelta(days=config.network_history_days),
            AuditEvent.at < net_until,
            AuditEvent.actor_user_id == user_id,
            AuditEvent.action == NETWORK_ACTION,
        )
    )
    networks = frozenset(str(d["network"]) for d in rows if isinstance(d, dict) and d.get("network"))
    return Baseline(
        hourly_p95=percentile(hourly_distinct(events), 0.95),
        daily_p95=percentile(daily_distinct(events), 0.95),
        networks=networks,
    )


def compute_peer_baseline(
    session: Session, org_id: int, role: str, now: dt.datetime, config: RuleConfig
) -> PeerBaseline:
    """The median baseline of the active users of ``org_id`` with ``role`` who have a history."""
    peer_ids = list(
        session.scalars(
            select(User.id).where(User.org_id == org_id, User.role == role, User.active.is_(True)).limit(2000)
        )
    )
    if not peer_ids:
        return PeerBaseline()
    history = _history(
        session, peer_ids, now - dt.timedelta(days=config.history_days), now - dt.timedelta(hours=24)
    )
    hourly = [percentile(hourly_distinct(events), 0.95) for events in history.values() if events]
    daily = [percentile(daily_distinct(events), 0.95) for events in history.values() if events]
    if not hourly:
        return PeerBaseline()
    return PeerBaseline(
        hourly_median=float(statistics.median(hourly)),
        daily_median=float(statistics.median(daily)),
        peers=len(hourly),
    )


class BaselineCache:
    """Baselines per account and per peer group, recomputed at most every ``config.baseline_ttl_s``."""

    def __init__(self, config: RuleConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._own: dict[int, Baseline] = {}
        self._peers: dict[tuple[int, str], PeerBaseline] = {}

    def _fresh(self, computed_at: float) -> bool:
        return time.monotonic() - computed_at < self.config.baseline_ttl_s

    def own(self, session: Session, user_id: int, now: dt.datetime) -> Baseline:
        with self._lock:
            cached = self._own.get(user_id)
        if cached is not None and self._fresh(cached.computed_at):
            return cached
        baseline = compute_baseline(session, user_id, now, self.config)
        with self._lock:
            self._own[user_id] = baseline
        return baseline

    def peers(self, session: Session, org_id: int, role: str, now: dt.datetime) -> PeerBaseline:
        key = (org_id, role)
        with self._lock:
            cached = self._peers.get(key)
        if cached is not None and self._fresh(cached.computed_at):
            return cached
        baseline = compute_peer_baseline(session, org_id, role, now, self.config)
        with self._lock:
            self._peers[key] = baseline
        return baseline

    def forget(self, user_id: int) -> None:
        with self._lock:
            self._own.pop(user_id, None)
