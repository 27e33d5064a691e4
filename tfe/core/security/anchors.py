"""Signed anchors of the audit chain: the head (``seq``, ``head_hash``) signed with the installation's
Ed25519 key (``Vault.signer()``, the key that signs erasure receipts), once a day by the jobs and on demand
by ``tfe audit anchor``.

The signed statement is the canonical JSON (``audit.canonical``) of
``{"format": "tfe-audit-anchor/1", "day": ..., "seq": ..., "head_hash": ...}``; ``key_id`` is the first
16 hex digits of the SHA-256 of the raw public key. ``audit.verify`` checks each anchor's signature and
that the event at its ``seq`` still has that hash: deleting the tail below the last anchor shows, and so
does rewriting history before it. Events after the last anchor are protected by the MAC and the head row
only (a day's tail at most, with the daily job).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from tfe.core.crypto.signing import verify_signature
from tfe.core.security import audit
from tfe.core.security.models import AuditAnchor

if TYPE_CHECKING:
    from tfe.core.crypto.vault import Vault

__all__ = ["FORMAT", "check_signatures", "key_id_of", "load", "sign_daily", "sign_head", "statement"]

FORMAT = "tfe-audit-anchor/1"


def statement(day: str, seq: int, head_hash: str) -> bytes:
    """The bytes an anchor signs."""
    return audit.canonical({"format": FORMAT, "day": day, "seq": seq, "head_hash": head_hash}).encode("ascii")


def key_id_of(public_key_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:16]


def today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def sign_head(
    session: Session, vault: Vault, *, actor: audit.Actor | None = None, day: str | None = None
) -> AuditAnchor:
    """Record ``audit.anchor`` and sign the head it makes (in the caller's transaction).

    Call it before the session writes anything else: the signer is loaded first, and on its first use it
    creates its key in the vault's own session (on SQLite that would wait for this session's lock)."""
    signer = vault.signer()
    day = day or today()
    event = audit.record(session, "audit.anchor", actor or audit.Actor.system(), detail={"day": day})
    assert event.seq is not None
    anchor = AuditAnchor(
        day=day,
        seq=event.seq,
        head_hash=event.hash,
        key_id=key_id_of(signer.public_key_hex),
        signature=signer.sign(statement(day, event.seq, event.hash)),
    )
    session.add(anchor)
    session.flush()
    return anchor


def sign_daily(session: Session, vault: Vault, *, day: str | None = None) -> AuditAnchor | None:
    """The day's anchor, unless one was signed already that day (``None`` then)."""
    day = day or today()
    if session.scalar(select(AuditAnchor.id).where(AuditAnchor.day == day).limit(1)) is not None:
        return None
    return sign_head(session, vault, day=day)


def load(session: Session) -> list[AuditAnchor]:
    return list(session.scalars(select(AuditAnchor).order_by(AuditAnchor.seq, AuditAnchor.id)))


def public_key_hex(vault: Vault | None) -> str | None:
    """The anchors' public key, or ``None`` without a vault or signing key (nothing is created here)."""
    if vault is None or vault.provider is None or vault.revoked_on() is not None:
        return None
    if not (vault.keys_dir / "signing.key").exists():
        return None
    return vault.signer().public_key_hex


def check_signatures(anchors: list[AuditAnchor], vault: Vault | None) -> dict[int, list[tuple[str, str]]]:
    """``seq -> [(head_hash, problem)]`` for each anchor; ``problem`` is "" when its signature verifies."""
    out: dict[int, list[tuple[str, str]]] = {}
    if not anchors:
        return out
    key = public_key_hex(vault)
    key_id = key_id_of(key) if key else None
    for anchor in anchors:
        if key is None:
            problem = "the signing key is missing: anchors cannot be checked"
        elif anchor.key_id != key_id:
            problem = f"anchor of {anchor.day} was signed by another key ({anchor.key_id})"
        elif not verify_signature(key, statement(anchor.day, anchor.seq, anchor.head_hash), anchor.signature):
            problem = f"the signature of the anchor of {anchor.day} does not verify"
        else:
            problem = ""
        out.setdefault(anchor.seq, []).append((anchor.head_hash, problem))
    return out
