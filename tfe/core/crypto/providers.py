"""Key-encryption-key providers: what wraps the data keys. The operator alone holds the KEK.

``KeyProvider`` is the protocol; ``FileKeyProvider`` keeps the KEKs in a small JSON keyring file that only
its owner may read (``TFE_MASTER_KEY_FILE``); ``tfe.core.crypto.pkcs11.Pkcs11KeyProvider`` keeps them on
an HSM token. Several KEKs live side by side during a rotation: every wrapped data key names its KEK
(``kek_id``), new ones are wrapped under ``current_kek_id``, and old KEKs go only when ``retire`` says so.

A provider re-reads its store when asked for a KEK it does not know, so a process that kept serving
through a rotation run by another process (``tfe keys rotate``) follows it.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from tfe.core.crypto.envelope import KEY_BYTES, new_key
from tfe.core.crypto.files import check_private, create_private, locked, shred_file, write_private
from tfe.core.errors import ConfigurationError, TamperedContentError

__all__ = ["FileKeyProvider", "KeyProvider", "UnknownKekError", "new_keyring"]

KEY_FILE_SETTING = "TFE_MASTER_KEY_FILE"


class UnknownKekError(TamperedContentError):
    """A wrapped key names a KEK the provider does not hold (retired, destroyed, or another operator's)."""


class KeyProvider(Protocol):
    """The operator's key-encryption keys (a key file or an HSM)."""

    kind: str  # "file" | "pkcs11"

    @property
    def current_kek_id(self) -> str: ...

    def kek_ids(self) -> list[str]: ...  # every KEK held now, current included

    def wrap(self, dek: bytes) -> tuple[str, bytes]: ...  # (kek id, wrapped) under the current KEK

    def unwrap(self, kek_id: str, wrapped: bytes) -> bytes: ...  # UnknownKekError, TamperedContentError

    def rotate(self) -> str: ...  # a new current KEK (the old ones stay until retired); its id

    def retire(self, kek_id: str) -> None: ...  # forget an old KEK (never the current one)

    def destroy_all(self) -> None: ...  # destroy every KEK (revocation): irreversible

    def describe(self) -> str: ...  # where the keys are, for status output (no secret)


def _new_kek_id() -> str:
    return f"file-{uuid.uuid4().hex[:16]}"


def new_keyring() -> bytes:
    """The bytes of a fresh keyring file holding one new KEK."""
    kek_id = _new_kek_id()
    doc = {"current": kek_id, "keys": {kek_id: base64.b64encode(new_key()).decode()}}
    return (json.dumps(doc, indent=2) + "\n").encode()


class FileKeyProvider:
    """KEKs in a JSON keyring ``{"current": id, "keys": {id: base64 of 32 bytes}}``, mode 0600.

    Wrapping is AES key wrap (RFC 3394) under the KEK. ``create=True`` makes the file when it is missing
    (the development default under the data dir); otherwise a missing file is a ``ConfigurationError``.
    """

    kind = "file"

    def __init__(self, path: Path, *, create: bool = False, name: str = KEY_FILE_SETTING) -> None:
        self.path = path
        self.name = name
        self._lock = threading.Lock()
        if create and not path.exists():
            create_private(path, new_keyring())
        self._current, self._keys = self._read()

    def _read(self) -> tuple[str, dict[str, bytes]]:
        check_private(self.path, self.name)
        malformed = f"{self.name} {self.path} is not a tfe keyring (expected JSON with current and keys)"
        try:
            doc = json.loads(self.path.read_bytes())
            current = doc["current"]
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in doc["keys"].items()}
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
            raise ConfigurationError(malformed) from None
        if not isinstance(current, str) or current not in keys:
            raise ConfigurationError(malformed)
        if any(len(k) != KEY_BYTES for k in keys.values()):
            raise ConfigurationError(f"{self.name} {self.path} holds a key that is not 32 bytes long")
        return current, keys

    def _write(self, current: str, keys: dict[str, bytes]) -> None:
        doc = {"current": current, "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()}}
        write_private(self.path, (json.dumps(doc, indent=2) + "\n").encode())
        self._current, self._keys = current, keys

    def reload(self) -> None:
        with self._lock:
            self._current, self._keys = self._read()

    @property
    def current_kek_id(self) -> str:
        return self._current

    def kek_ids(self) -> list[str]:
        return sorted(self._keys)

    def describe(self) -> str:
        return str(self.path)

    def wrap(self, dek: bytes) -> tuple[str, bytes]:
        self.reload()  # rare (a new data key): follow a rotation made by another process
        kek_id = self._current
        return kek_id, aes_key_wrap(self._keys[kek_id], dek)

    def unwrap(self, kek_id: str, wrapped: bytes) -> bytes:
        kek = self._keys.get(kek_id)
        if kek is None:
            self.reload()
            kek = self._keys.get(kek_id)
        if kek is None:
            raise UnknownKekError(f"a data key is wrapped by a key-encryption key not held: {kek_id}")
        try:
            return aes_key_unwrap(kek, wrapped)
        except InvalidUnwrap:
            raise TamperedContentError(
                "a wrapped data key failed its integrity check (tampered or wrong key file)"
            ) from None

    def rotate(self) -> str:
        with locked(self.path), self._lock:
            _current, keys = self._read()
            kek_id = _new_kek_id()
            self._write(kek_id, {**keys, kek_id: new_key()})
            return kek_id

    def retire(self, kek_id: str) -> None:
        with locked(self.path), self._lock:
            current, keys = self._read()
            if kek_id == current:
                raise ValueError("the current key-encryption key cannot be retired")
            keys.pop(kek_id, None)
            self._write(current, keys)

    def destroy_all(self) -> None:
        with locked(self.path), self._lock:
            shred_file(self.path)
            self._keys = {}
