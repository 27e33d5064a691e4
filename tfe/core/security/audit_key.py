"""The audit chain's MAC key: a random 32-byte key held like the encryption keys.

It is the vault's named key ``audit`` (``Vault.wrapped_key``): kept in ``<data_dir>/keys/audit.json``
wrapped by the operator's key-encryption key, made on first use, rewrapped by ``tfe keys rotate``,
shredded by ``tfe keys revoke``. The engine carries its vault (``tfe.core.db.make_engine``), so the key is
found from a session's bind; the vault caches it. A bare engine (tests without settings) or revoked keys
give no key: events are then written unkeyed (``mac`` empty) and ``verify`` says the chain is unkeyed.

The key also fingerprints sensitive values recorded in the trail (``fingerprint``: a field's old and new
value), so a fingerprint cannot be reversed by trying candidate values without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from sqlalchemy.orm import Session

from tfe.core.crypto.columns import sealer_of
from tfe.core.crypto.vault import Vault

__all__ = ["KEY_NAME", "fingerprint", "key_of", "mac_of", "vault_of"]

KEY_NAME = "audit"


def vault_of(session: Session) -> Vault | None:
    """The vault attached to the session's engine (``None`` for a bare engine)."""
    sealer = sealer_of(session.get_bind().dialect)
    return sealer if isinstance(sealer, Vault) else None


def key_of(vault: Vault | None) -> bytes | None:
    """The MAC key of ``vault`` (made on first use), or ``None`` without a vault or once revoked."""
    if vault is None or vault.provider is None or vault.revoked_on() is not None:
        return None
    return vault.wrapped_key(KEY_NAME)


def mac_of(key: bytes, event_hash: str) -> str:
    """HMAC-SHA256 (hex) of an event's hash under the audit key."""
    return hmac.new(key, event_hash.encode("ascii"), hashlib.sha256).hexdigest()


def fingerprint(key: bytes | None, value: Any) -> str | None:
    """A fingerprint of ``value`` for the trail (``None`` for no value): ``hmac-sha256:<hex>`` of its
    canonical JSON under the audit key, or ``sha256:<hex>`` on an unkeyed engine."""
    if value is None:
        return None
    body = ("field-value:" + json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)).encode()
    if key is None:
        return "sha256:" + hashlib.sha256(body).hexdigest()
    return "hmac-sha256:" + hmac.new(key, body, hashlib.sha256).hexdigest()
