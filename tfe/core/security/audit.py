"""Audit trail: append-only events (who read, searched, changed, exported what, when) in one chain that
outsiders can check.

- **Serialised appends.** ``record`` first bumps the one ``audit_head`` row (``UPDATE ... SET seq = seq +
  1 ... RETURNING seq, head_hash``): on SQLite the UPDATE takes the database's write lock, on PostgreSQL
  the row lock, *before* anything is read, so two writers never link to the same previous event. The cost:
  the head stays locked until the caller's transaction commits (``docs/decisions.md``).
- **Hash** (public): SHA-256 over the previous event's hash followed by the canonical JSON of the event's
  content, ``seq`` included (``content_of``, ``canonical``): anyone can recompute it from an export.
- **MAC** (keyed): HMAC-SHA256 of the hash under the audit key (``audit_key``): editing a row and
  recomputing every later hash does not give the right MACs without the key.
- **Anchors** (``anchors``): the head signed (Ed25519) every day, so a truncated tail shows.
- **Legacy events**: those written before the keyed chain have a hash without ``seq`` and no MAC; ``verify``
  checks them as before and counts them; ``seal_legacy`` (``tfe audit seal-legacy``) gives them MACs.

Every event names its ``Actor`` (user, organisation and the channel: ``api``, ``web``, ``cli``, ``demo`` or
``system``), so a search from the page, the API and the CLI is one action told apart by ``detail["channel"]``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tfe.core.db import utcnow
from tfe.core.errors import ConflictError, ValidationError
from tfe.core.models import AuditEvent, User
from tfe.core.security import audit_key
from tfe.core.security.audit_key import key_of, mac_of, vault_of
from tfe.core.security.models import AuditHead
from tfe.core.security.scope import AccessScope

__all__ = [
    "CHANNELS",
    "Actor",
    "VerifyReport",
    "at_text",
    "canonical",
    "chain_hash",
    "content_of",
    "fingerprint",
    "legacy_hash",
    "record",
    "seal_legacy",
    "verify",
    "verify_chain",
]

CHANNELS = ("api", "web", "cli", "demo", "system")
HEAD_ID = 1
BATCH = 2000  # events read per query while verifying or exporting
SEAL_ACTION = "audit.seal_legacy"


@dataclass(frozen=True)
class Actor:
    """Who acts (user and organisation, both optional for system work) and through which channel."""

    user_id: int | None
    org_id: int | None
    channel: str

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown audit channel {self.channel!r}")

    @classmethod
    def of_user(cls, user: User | None, channel: str) -> Actor:
        return cls(user.id if user else None, user.org_id if user else None, channel)

    @classmethod
    def of_scope(cls, scope: AccessScope, channel: str) -> Actor:
        return cls(scope.user_id, scope.org_id, channel)

    @classmethod
    def system(cls, channel: str = "system", *, org_id: int | None = None) -> Actor:
        return cls(None, org_id, channel)


_SECRET_KEYS = ("password", "token", "secret", "authorization", "cookie")


def _clean(detail: dict[str, Any]) -> dict[str, Any]:
    masked = {k: ("***" if any(s in k.lower() for s in _SECRET_KEYS) else v) for k, v in detail.items()}
    return dict(json.loads(json.dumps(masked, default=str)))  # stored exactly as hashed


# -- the hash -----------------------------------------------------------------------------------------


def canonical(obj: Any) -> str:
    """JSON with sorted keys, no whitespace, non-ASCII escaped (``\\uXXXX``): what is hashed and signed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def at_text(at: dt.datetime) -> str:
    """An event's time as hashed: UTC, ISO 8601 without offset, microseconds."""
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def content_of(event: AuditEvent | Row[Any]) -> dict[str, Any]:
    """The hashed content of an event (every column but ``id``, ``prev_hash``, ``hash`` and ``mac``)."""
    return {
        "seq": event.seq,
        "at": at_text(event.at),
        "actor_user_id": event.actor_user_id,
        "actor_org_id": event.actor_org_id,
        "action": event.action,
        "target_kind": event.target_kind,
        "target_id": event.target_id,
        "detail": event.detail,
    }


def chain_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(content)).encode("utf-8")).hexdigest()


def legacy_hash(prev_hash: str, event: AuditEvent | Row[Any]) -> str:
    """The hash of an event written before the keyed chain (no ``seq``, Python's default separators)."""
    payload = {k: v for k, v in content_of(event).items() if k != "seq"}
    body = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


# -- appending ----------------------------------------------------------------------------------------


def _advance_head(session: Session) -> tuple[int, str]:
    """Take the chain's lock and the next ``seq``: the UPDATE comes before any read."""
    bump = (
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.head_hash)
        .execution_options(synchronize_session=False)
    )
    row = session.execute(bump).first()
    if row is None:  # no head row (a schema made without the migrations): start it from the events
        _create_head(session)
        row = session.execute(bump).one()
    return int(row[0]), str(row[1])


def _create_head(session: Session) -> None:
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq.desc())
    ).first()
    values = {
        "id": HEAD_ID,
        "seq": int(last[0] or 0) if last else 0,
        "head_hash": str(last[1]) if last else "",
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(AuditHead).values(**values).on_conflict_do_nothing(index_elements=["id"]))


def record(
    session: Session,
    action: str,
    actor: Actor,
    *,
    target_kind: str | None = None,
    target_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event by ``actor`` (in the caller's transaction); the channel goes into the detail.

    The chain's head stays locked until that transaction ends: commit soon after."""
    key = key_of(vault_of(session))  # before taking the lock (the first call may write the key file)
    seq, prev = _advance_head(session)
    event = AuditEvent(
        seq=seq,
        at=utcnow(),
        actor_user_id=actor.user_id,
        actor_org_id=actor.org_id,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        detail=_clean({**(detail or {}), "channel": actor.channel}),
        prev_hash=prev,
        hash="",
    )
    event.hash = chain_hash(prev, content_of(event))
    event.mac = mac_of(key, event.hash) if key is not None else ""
    session.add(event)
    session.flush()
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(head_hash=event.hash)
        .execution_options(synchronize_session=False)
    )
    return event


def fingerprint(session: Session, value: Any) -> str | None:
    """A keyed fingerprint of a sensitive value for an event's detail (``audit_key.fingerprint``)."""
    return audit_key.fingerprint(key_of(vault_of(session)), value)


# -- verifying ----------------------------------------------------------------------------------------

REASONS = {
    "hash": "its hash does not match its content (edited row)",
    "mac": "its MAC does not match (edited and re-chained without the audit key?)",
    "link": "it does not link to the previous event's hash",
    "gap": "the sequence has a gap (deleted or inserted rows)",
    "anchor": "a signed anchor does not match the chain",
    "truncated": "the chain ends before a signed anchor or the head (tail deleted)",
}


@dataclass
class VerifyReport:
    """What ``verify`` found; ``reason`` is one of ``REASONS`` when the chain is broken."""

    ok: bool = True
    events: int = 0
    legacy: int = 0  # events written before the keyed chain (hash without seq), sealed or not
    forks: list[int] = field(default_factory=list)  # legacy events forked by the old bug, accepted
    unkeyed: int = 0  # events without a MAC
    keyed: bool = False  # whether the MACs were checked (the audit key is held)
    anchors: int = 0
    head_seq: int | None = None
    first_broken_seq: int | None = None
    first_broken_id: int | None = None
    reason: str | None = None
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def broken(self, reason: str, seq: int | None, event_id: int | None, why: str = "") -> VerifyReport:
        self.ok, self.reason, self.first_broken_seq, self.first_broken_id = False, reason, seq, event_id
        where = f"event seq {seq} (id {event_id})" if event_id is not None else f"seq {seq}"
        self.message = f"audit chain broken at {where}: {why or REASONS[reason]}"
        return self


def stream_events(session: Session, *, first_seq: int = 0, last_seq: int | None = None) -> Iterator[Row[Any]]:
    """The chained events in ``seq`` order (batched keyset reads: nothing is held in memory)."""
    columns = select(
        AuditEvent.id,
        AuditEvent.seq,
        AuditEvent.at,
        AuditEvent.actor_user_id,
        AuditEvent.actor_org_id,
        AuditEvent.action,
        AuditEvent.target_kind,
        AuditEvent.target_id,
        AuditEvent.detail,
        AuditEvent.prev_hash,
        AuditEvent.hash,
        AuditEvent.mac,
    )
    after = first_seq - 1
    while True:
        query = columns.where(AuditEvent.seq > after)
        if last_seq is not None:
            query = query.where(AuditEvent.seq <= last_seq)
        rows = session.execute(query.order_by(AuditEvent.seq).limit(BATCH)).all()
        yield from rows
        if len(rows) < BATCH:
            return
        after = rows[-1].seq


def _accepted_forks(session: Session) -> set[int]:
    """Legacy forks the operator accepted when sealing (``seal_legacy(accept_forks=True)``); the event that
    lists them is checked like any other (a forged one fails its MAC)."""
    found: set[int] = set()
    for detail in session.scalars(select(AuditEvent.detail).where(AuditEvent.action == SEAL_ACTION)):
        found.update(int(seq) for seq in (detail or {}).get("forks", []))
    return found


def verify(session: Session, *, tolerate_forks: bool = False) -> VerifyReport:
    """Check the whole chain from the first event: links, hashes, MACs, sequence, anchors and head.

    ``tolerate_forks``: a legacy event linking to another event than its predecessor (the concurrency bug
    that the head row fixed) is counted in ``forks`` instead of breaking the chain (``seal_legacy``)."""
    from tfe.core.security import anchors

    vault = vault_of(session)
    key = key_of(vault)
    report = VerifyReport(keyed=key is not None)
    report.events = int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)
    report.head_seq = session.scalar(select(AuditHead.seq).where(AuditHead.id == HEAD_ID))
    signed = anchors.load(session)
    report.anchors = len(signed)
    at_seq = anchors.check_signatures(signed, vault)
    accepted = _accepted_forks(session)
    prev, expected, in_legacy, keyed_seen = "", 1, True, False
    for event in stream_events(session):
        if event.seq != expected:
            return report.broken("gap", expected, None, f"event seq {expected} is missing")
        legacy = False
        if event.prev_hash != prev:
            forked = in_legacy and (tolerate_forks or (event.seq in accepted and bool(event.mac)))
            if not forked or event.hash != legacy_hash(event.prev_hash, event):
                return report.broken("link", event.seq, event.id)
            legacy = True
            report.legacy += 1
            report.forks.append(event.seq)
        elif event.hash == chain_hash(prev, content_of(event)):
            in_legacy = False
        elif in_legacy and event.hash == legacy_hash(prev, event):
            legacy = True
            report.legacy += 1
        else:
            return report.broken("hash", event.seq, event.id)
        if event.mac:
            keyed_seen = True
            if key is not None and not hmac.compare_digest(event.mac, mac_of(key, event.hash)):
                return report.broken("mac", event.seq, event.id)
        else:
            report.unkeyed += 1
            if key is not None and (keyed_seen or not legacy):
                return report.broken("mac", event.seq, event.id, "it has no MAC (written without the key?)")
        for head_hash, problem in at_seq.pop(event.seq, []):
            if problem or head_hash != event.hash:
                why = problem or "the event's hash differs from the one a signed anchor holds"
                return report.broken("anchor", event.seq, event.id, why)
        prev, expected = event.hash, expected + 1
    last = expected - 1
    unsequenced = session.scalar(select(func.count()).where(AuditEvent.seq.is_(None))) or 0
    if unsequenced:
        return report.broken("gap", None, None, f"{unsequenced} event(s) are outside the chain (no seq)")
    if at_seq:
        seq = min(at_seq)
        return report.broken(
            "truncated", seq, None, f"a signed anchor covers seq {seq}, the chain ends at {last}"
        )
    if report.head_seq is not None and report.head_seq > last:
        return report.broken(
            "truncated", last + 1, None, f"the head is at seq {report.head_seq}, the chain ends at {last}"
        )
    if report.head_seq is not None and report.head_seq < last:
        return report.broken(
            "link", report.head_seq + 1, None, "events were appended without moving the head"
        )
    keyed = "" if report.keyed else " (unkeyed: no audit key, MACs not checked)"
    report.message = f"audit chain intact: {report.events} event(s), {report.anchors} anchor(s){keyed}"
    return report


def verify_chain(session: Session) -> int | None:
    """Id of the first event that does not verify (``None`` when the chain is intact; see ``verify``)."""
    report = verify(session)
    if report.ok:
        return None
    if report.first_broken_id is not None:
        return report.first_broken_id
    return -1 if report.first_broken_seq is None else report.first_broken_seq


@dataclass
class SealReport:
    sealed: int
    forks: list[int]


def seal_legacy(session: Session, actor: Actor, *, accept_forks: bool = False) -> SealReport:
    """Give the events written before the keyed chain their MAC, once the whole chain verifies, and record
    ``audit.seal_legacy`` (how many, and the forks accepted).

    ``accept_forks``: legacy events that the old concurrency bug linked to another event than their
    predecessor (their own hash intact) are sealed as they are and listed, so ``verify`` accepts them from
    then on. ``ConflictError`` when the chain is broken otherwise (nothing is sealed), ``ValidationError``
    without a key."""
    key = key_of(vault_of(session))
    if key is None:
        raise ValidationError("no audit key: the database has no vault (or its keys are revoked)")
    report = verify(session, tolerate_forks=accept_forks)
    if not report.ok:
        hint = (
            "" if accept_forks or report.reason != "link" else " (a fork of the old bug? see --accept-forks)"
        )
        raise ConflictError(f"not sealing: {report.message}{hint}")
    sealed = 0
    for event in stream_events(session):
        if event.mac:
            break  # the legacy events are a prefix of the chain
        session.execute(
            update(AuditEvent)
            .where(AuditEvent.id == event.id, AuditEvent.mac == "")
            .values(mac=mac_of(key, event.hash))
            .execution_options(synchronize_session=False)
        )
        sealed += 1
    forks = [seq for seq in report.forks if seq not in _accepted_forks(session)]
    record(session, SEAL_ACTION, actor, detail={"events": sealed, "forks": forks})
    return SealReport(sealed, forks)
