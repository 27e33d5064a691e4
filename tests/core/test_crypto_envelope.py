"""The AES-256-GCM envelope: round trip, and every altered part, key or context detected."""

from __future__ import annotations

import uuid

import pytest

from tfe.core.crypto import envelope
from tfe.core.errors import TamperedContentError

KEY = envelope.new_key()
KEY_ID = uuid.uuid4().hex


def test_round_trip_and_layout() -> None:
    sealed = envelope.seal(KEY, KEY_ID, b"note pays : Japon", b"ctx")
    assert sealed[:4] == b"TFE1" and sealed[4:20] == uuid.UUID(hex=KEY_ID).bytes
    assert len(sealed) == envelope.HEADER_BYTES + len(b"note pays : Japon") + 16
    assert envelope.key_id_of(sealed) == KEY_ID and envelope.is_envelope(sealed)
    assert envelope.open_(KEY, sealed, b"ctx") == b"note pays : Japon"
    assert envelope.seal(KEY, KEY_ID, b"same") != envelope.seal(KEY, KEY_ID, b"same")  # fresh nonce
    assert envelope.open_(KEY, envelope.seal(KEY, KEY_ID, b"")) == b""


def test_every_flipped_byte_fails_the_tag() -> None:
    sealed = envelope.seal(KEY, KEY_ID, b"x" * 40)
    for where in range(len(sealed)):
        raw = bytearray(sealed)
        raw[where] ^= 0x80
        with pytest.raises(TamperedContentError):
            envelope.open_(KEY, bytes(raw))


def test_wrong_key_context_or_truncation_fails() -> None:
    sealed = envelope.seal(KEY, KEY_ID, b"secret", b"blob:a")
    with pytest.raises(TamperedContentError):
        envelope.open_(envelope.new_key(), sealed, b"blob:a")
    with pytest.raises(TamperedContentError):
        envelope.open_(KEY, sealed, b"blob:b")
    for cut in (0, 4, envelope.HEADER_BYTES, len(sealed) - 1):
        with pytest.raises(TamperedContentError):
            envelope.open_(KEY, sealed[:cut], b"blob:a")
    assert not envelope.is_envelope(b"%PDF-1.7 plain file")
    with pytest.raises(TamperedContentError):
        envelope.key_id_of(b"%PDF-1.7 plain file" * 3)
