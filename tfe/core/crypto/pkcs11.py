"""``Pkcs11KeyProvider``: the key-encryption keys live on a PKCS#11 token (an HSM; SoftHSM2 in tests).

Each KEK is an AES-256 secret key object on the token, labelled ``<key label>-v<n>`` (that label is its
kek id); the highest version is current. KEKs never leave the token (sensitive, not extractable): a data
key is wrapped and unwrapped by the token with ``CKM_AES_KEY_WRAP`` (RFC 3394), as a session object that
disappears with the session. PKCS#11 logs in per process and token, so one logged-in session per
token is shared by every provider of the process, used under one lock.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import Any

from tfe.core.crypto.providers import UnknownKekError
from tfe.core.errors import ConfigurationError, TamperedContentError

__all__ = ["Pkcs11KeyProvider"]

_SESSIONS: dict[tuple[str, str], tuple[Any, threading.Lock, str]] = {}  # (library, token) -> shared
_OPENING = threading.Lock()


def _shared_session(library: Path, token_label: str, pin: str, where: str) -> tuple[Any, threading.Lock]:
    """The process's logged-in session on the token (opened on first use; the PIN checked each time)."""
    import pkcs11
    from pkcs11.exceptions import PKCS11Error

    digest = hashlib.sha256(pin.encode()).hexdigest()
    with _OPENING:
        shared = _SESSIONS.get((str(library), token_label))
        if shared is not None:
            if shared[2] != digest:
                raise ConfigurationError(f"cannot log in to {where}: PinIncorrect")
            return shared[0], shared[1]
        try:
            token = pkcs11.lib(str(library)).get_token(token_label=token_label)
            session = token.open(user_pin=pin, rw=True)
        except pkcs11.NoSuchToken:
            raise ConfigurationError(f"no PKCS#11 token labelled {token_label!r} in {library}") from None
        except PKCS11Error as exc:  # wrong PIN, locked token...: never quote the PIN
            raise ConfigurationError(f"cannot log in to {where}: {type(exc).__name__}") from None
        lock = threading.Lock()
        _SESSIONS[(str(library), token_label)] = (session, lock, digest)
        return session, lock


class Pkcs11KeyProvider:
    """KEKs on a PKCS#11 token found by its label, logged in with the user PIN."""

    kind = "pkcs11"

    def __init__(self, library: Path, token_label: str, pin: str, key_label: str) -> None:
        self.key_label = key_label
        self._pattern = re.compile(re.escape(key_label) + r"-v(\d+)")
        self._where = f"PKCS#11 token {token_label!r} ({library})"
        if not library.is_file():
            raise ConfigurationError(f"TFE_PKCS11_LIBRARY {library} does not exist")
        self._session, self._lock = _shared_session(library, token_label, pin, self._where)
        self._keys: dict[str, Any] = {}
        with self._lock:
            self._scan()
            if not self._keys:
                self._generate(1)

    # -- token objects -------------------------------------------------------------------------------

    def _scan(self) -> None:
        from pkcs11 import Attribute, ObjectClass

        found: dict[str, Any] = {}
        for obj in self._session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}):
            label = obj.label or ""
            if self._pattern.fullmatch(label):
                found[label] = obj
        self._keys = found

    def _version(self, kek_id: str) -> int:
        match = self._pattern.fullmatch(kek_id)
        return int(match.group(1)) if match else 0

    def _generate(self, version: int) -> str:
        from pkcs11 import Attribute, KeyType

        label = f"{self.key_label}-v{version}"
        template = {
            Attribute.WRAP: True,
            Attribute.UNWRAP: True,
            Attribute.ENCRYPT: False,
            Attribute.DECRYPT: False,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
        }
        self._keys[label] = self._session.generate_key(
            KeyType.AES, 256, label=label, store=True, template=template
        )
        return label

    # -- KeyProvider ---------------------------------------------------------------------------------

    @property
    def current_kek_id(self) -> str:
        return max(self._keys, key=self._version)

    def kek_ids(self) -> list[str]:
        return sorted(self._keys, key=self._version)

    def describe(self) -> str:
        return self._where

    def wrap(self, dek: bytes) -> tuple[str, bytes]:
        from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

        with self._lock:
            self._scan()  # rare (a new data key): follow a rotation made by another process
            kek_id = self.current_kek_id
            temp = self._session.create_object(
                {
                    Attribute.CLASS: ObjectClass.SECRET_KEY,
                    Attribute.KEY_TYPE: KeyType.AES,
                    Attribute.VALUE: dek,
                    Attribute.TOKEN: False,
                    Attribute.SENSITIVE: False,
                    Attribute.EXTRACTABLE: True,
                }
            )
            try:
                wrapped = bytes(self._keys[kek_id].wrap_key(temp, mechanism=Mechanism.AES_KEY_WRAP))
            finally:
                temp.destroy()
        return kek_id, wrapped

    def unwrap(self, kek_id: str, wrapped: bytes) -> bytes:
        from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
        from pkcs11.exceptions import PKCS11Error

        with self._lock:
            for attempt in range(2):
                if attempt or kek_id not in self._keys:
                    self._scan()  # a rotation or a retirement by another process
                kek = self._keys.get(kek_id)
                if kek is None:
                    raise UnknownKekError(f"a data key is wrapped by a key-encryption key not held: {kek_id}")
                try:
                    temp = kek.unwrap_key(
                        ObjectClass.SECRET_KEY,
                        KeyType.AES,
                        wrapped,
                        mechanism=Mechanism.AES_KEY_WRAP,
                        store=False,
                        template={Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True},
                    )
                    break
                except PKCS11Error:
                    if attempt:
                        raise TamperedContentError(
                            "a wrapped data key failed its integrity check (tampered or wrong token)"
                        ) from None
            try:
                return bytes(temp[Attribute.VALUE])
            finally:
                temp.destroy()

    def rotate(self) -> str:
        with self._lock:
            self._scan()
            return self._generate(self._version(self.current_kek_id) + 1)

    def retire(self, kek_id: str) -> None:
        with self._lock:
            self._scan()
            if kek_id == self.current_kek_id:
                raise ValueError("the current key-encryption key cannot be retired")
            obj = self._keys.pop(kek_id, None)
            if obj is not None:
                obj.destroy()

    def destroy_all(self) -> None:
        with self._lock:
            self._scan()
            for obj in self._keys.values():
                obj.destroy()
            self._keys = {}
