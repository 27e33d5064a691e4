"""The envelope: AES-256-GCM ciphertext with a header naming its data key.

Layout (bytes)::

    b"TFE1" | data-key id (16, uuid bytes) | nonce (12, random) | ciphertext || tag (16)

The associated data is the magic, the key id and an optional caller ``context``, so a header edited to
name another key, or an envelope moved to another context, fails the tag like any flipped byte does.
A random 96-bit nonce per envelope is safe far beyond the number of envelopes one data key seals here.
"""

from __future__ import annotations

import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tfe.core.errors import TamperedContentError

__all__ = ["HEADER_BYTES", "KEY_BYTES", "MAGIC", "is_envelope", "key_id_of", "new_key", "open_", "seal"]

MAGIC = b"TFE1"
KEY_BYTES = 32
_ID_BYTES = 16
_NONCE_BYTES = 12
HEADER_BYTES = len(MAGIC) + _ID_BYTES + _NONCE_BYTES
_TAG_BYTES = 16
TAMPERED = "stored content failed its integrity check (tampered or corrupted)"


def new_key() -> bytes:
    """A fresh random AES-256 key."""
    return AESGCM.generate_key(bit_length=256)


def is_envelope(data: bytes) -> bool:
    """Whether ``data`` starts like an envelope (a legacy plain blob does not)."""
    return len(data) >= HEADER_BYTES + _TAG_BYTES and data[: len(MAGIC)] == MAGIC


def key_id_of(envelope: bytes) -> str:
    """The data-key id (uuid hex) in the header; ``TamperedContentError`` if it is no envelope."""
    if not is_envelope(envelope):
        raise TamperedContentError(TAMPERED)
    return envelope[len(MAGIC) : len(MAGIC) + _ID_BYTES].hex()


def seal(key: bytes, key_id: str, plaintext: bytes, context: bytes = b"") -> bytes:
    """Encrypt ``plaintext`` under ``key`` (named ``key_id``, a uuid hex) into an envelope."""
    kid = uuid.UUID(hex=key_id).bytes
    nonce = os.urandom(_NONCE_BYTES)
    head = MAGIC + kid
    return b"".join((head, nonce, AESGCM(key).encrypt(nonce, plaintext, head + context)))


def open_(key: bytes, envelope: bytes, context: bytes = b"") -> bytes:
    """Decrypt an envelope; ``TamperedContentError`` on a wrong key, context or any altered byte."""
    if not is_envelope(envelope):
        raise TamperedContentError(TAMPERED)
    head = envelope[: len(MAGIC) + _ID_BYTES]
    nonce = envelope[len(head) : HEADER_BYTES]
    try:
        body = memoryview(envelope)[HEADER_BYTES:]  # no copy of a large blob
        return AESGCM(key).decrypt(nonce, body, head + context)
    except InvalidTag as exc:
        raise TamperedContentError(TAMPERED) from exc
