"""The vault: data keys wrapped by the operator's key-encryption key, and what seals with them.

- **Column key**: one data key for the database's sealed text columns (``SealedText``/``SealedJSON``),
  kept wrapped in ``<data_dir>/keys/columns.json`` and unwrapped once when the vault is built, so that
  sealing during a flush never touches the database.
- **Owner keys**: one data key per owner (a document: all its versions' blobs), rows of ``data_keys``
  read and created in the vault's own short sessions. ``destroy`` deletes an owner's key: whatever was
  sealed under it is gone for good (crypto-shredding). Call ``seal_bytes`` for a *new* owner outside a
  write transaction of your own: on SQLite the key's insert would wait for your transaction's lock.
- **Named keys** (``wrapped_key``): data keys of their own kept like the column key, in
  ``<data_dir>/keys/<name>.json`` (``WRAPPED_KEYS``: the audit chain's MAC key); rotation rewraps them
  with the column key, revocation shreds them.
- **Revocation** (``tfe keys revoke``) leaves a marker ``keys/REVOKED``; every process sees it (within
  a second) and every seal and open then raises ``KeyRevokedError``.

``build_vault(settings, engine)`` takes the provider the settings name (``keysource.build_provider``).
Rotation lives in ``rotation``, the receipt signer in ``signing``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tfe.core.crypto import envelope
from tfe.core.crypto.columns import PREFIX
from tfe.core.crypto.files import create_private, shred_file, write_private
from tfe.core.crypto.keysource import build_provider
from tfe.core.crypto.models import DataKey
from tfe.core.crypto.providers import KeyProvider, UnknownKekError
from tfe.core.errors import ConfigurationError, KeyRevokedError, NotFoundError, TamperedContentError

if TYPE_CHECKING:
    from tfe.core.crypto.rotation import Progress, RotationReport
    from tfe.core.crypto.signing import ReceiptSigner
    from tfe.core.settings import Settings

__all__ = ["Vault", "build_provider", "build_vault", "revoked_on"]

log = logging.getLogger(__name__)

COLUMN_KEY_FILE = "columns.json"
WRAPPED_KEYS = ("audit",)  # named data keys, each in keys/<name>.json (``Vault.wrapped_key``)
REVOKED_FILE = "REVOKED"
_RECHECK_S = 1.0
_MAX_CACHED = 50_000  # unwrapped data keys kept in memory


def revoked_on(keys_dir: Path) -> str | None:
    """When the keys of ``keys_dir`` were revoked (``YYYY-MM-DD HH:MM UTC``), or ``None``."""
    try:
        return (keys_dir / REVOKED_FILE).read_text().strip() or "?"
    except FileNotFoundError:
        return None


def build_vault(settings: Settings, engine: Engine) -> Vault:
    """The installation's vault (a revoked one when ``tfe keys revoke`` ran: it only says so)."""
    keys_dir = settings.keys_dir
    if revoked_on(keys_dir) is not None:
        return Vault(None, keys_dir, engine)
    return Vault(build_provider(settings), keys_dir, engine)


class Vault:
    """Seals and opens texts (column key) and bytes (owner keys); see the module docstring."""

    def __init__(self, provider: KeyProvider | None, keys_dir: Path, engine: Engine) -> None:
        self.provider = provider
        self.keys_dir = keys_dir
        self.engine = engine
        self.sessions: sessionmaker[Session] = sessionmaker(bind=engine, expire_on_commit=False)
        self._deks: dict[str, bytes] = {}  # data-key id -> key
        self._owners: dict[tuple[str, str], str] = {}  # (owner kind, owner id) -> data-key id
        self._lock = threading.Lock()
        self._revoked = revoked_on(keys_dir)
        self._checked = time.monotonic()
        self._signer: ReceiptSigner | None = None
        self.column_key_id = ""
        self._column_key = b""
        self._named: dict[str, bytes] = {}  # name -> unwrapped named key (``wrapped_key``)
        if provider is not None and self._revoked is None:
            self.column_key_id = self._load_column_key(provider)

    # -- state ---------------------------------------------------------------------------------------

    @property
    def provider_kind(self) -> str:
        return self.provider.kind if self.provider is not None else "revoked"

    def revoked_on(self, *, fresh: bool = False) -> str | None:
        """When the keys were revoked, or ``None``; re-reads the marker at most once a second."""
        now = time.monotonic()
        if self._revoked is None and (fresh or now - self._checked >= _RECHECK_S):
            self._checked = now
            self._revoked = revoked_on(self.keys_dir)
            if self._revoked is not None:
                self._forget_all()
        return self._revoked

    def check(self) -> KeyProvider:
        """The provider, or ``KeyRevokedError``."""
        when = self.revoked_on()
        if when is not None or self.provider is None:
            raise KeyRevokedError.since(when or "?")
        return self.provider

    def _forget_all(self) -> None:
        with self._lock:
            self._deks.clear()
            self._owners.clear()
            self._signer = None
            self._column_key = b""
            self._named.clear()

    # -- column key ----------------------------------------------------------------------------------

    @property
    def column_key_path(self) -> Path:
        return self.keys_dir / COLUMN_KEY_FILE

    def _load_column_key(self, provider: KeyProvider) -> str:
        key_id, self._column_key = _load_wrapped(self.column_key_path, provider, "the column key")
        return key_id

    def column_key_kek_id(self) -> str:
        return str(json.loads(self.column_key_path.read_bytes())["kek_id"])

    def rewrap_column_key(self) -> str:
        """Wrap the column key and the named keys under the current KEK (rotation); returns its id."""
        provider = self.check()
        kek_id, wrapped = provider.wrap(self._column_key)
        write_private(self.column_key_path, _column_doc(self.column_key_id, kek_id, wrapped))
        for name in WRAPPED_KEYS:
            path = self.keys_dir / f"{name}.json"
            if path.exists():
                key_id, key = _load_wrapped(path, provider, f"the {name} key")
                write_private(path, _column_doc(key_id, *provider.wrap(key)))
        return kek_id

    def wrapped_key(self, name: str) -> bytes:
        """The named data key ``name`` (one of ``WRAPPED_KEYS``), made on first use (see the module
        docstring); cached by this vault. ``KeyRevokedError`` once the keys are revoked."""
        if name not in WRAPPED_KEYS:
            raise ValueError(f"unknown named key {name!r}")
        provider = self.check()
        key = self._named.get(name)
        if key is None:
            key = _load_wrapped(self.keys_dir / f"{name}.json", provider, f"the {name} key")[1]
            with self._lock:
                self._named[name] = key
        return key

    # -- texts (TextSealer) --------------------------------------------------------------------------

    def seal_text(self, plaintext: str) -> str:
        self.check()
        sealed = envelope.seal(self._column_key, self.column_key_id, plaintext.encode())
        return PREFIX + base64.b64encode(sealed).decode("ascii")

    def open_text(self, sealed: str) -> str:
        self.check()
        try:
            data = base64.b64decode(sealed[len(PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise TamperedContentError(envelope.TAMPERED) from None
        if not self.column_key_id or envelope.key_id_of(data) != self.column_key_id:
            raise TamperedContentError(
                "a stored text is sealed under a column key this installation does not hold"
            )
        return envelope.open_(self._column_key, data).decode("utf-8")

    # -- bytes under owner keys ----------------------------------------------------------------------

    def seal_bytes(self, owner_kind: str, owner_id: str, data: bytes, context: bytes = b"") -> bytes:
        """An envelope of ``data`` under the owner's data key (created on first use)."""
        self.check()
        key_id, key = self._owner_key(owner_kind, owner_id)
        return envelope.seal(key, key_id, data, context)

    def open_bytes(self, token: bytes, context: bytes = b"", owner: tuple[str, str] | None = None) -> bytes:
        """The plaintext of an envelope made by ``seal_bytes``: ``NotFoundError`` if its data key was
        destroyed, ``TamperedContentError`` if altered. With ``owner`` (kind, id) known to the caller, an
        altered key id in the header is told from an erased owner (the owner still has its key)."""
        self.check()
        key_id = envelope.key_id_of(token)
        key = self._deks.get(key_id)
        if key is None:
            try:
                key = self._load_key(key_id)
            except NotFoundError:
                if owner is not None and self._find_owner(*owner) is not None:
                    raise TamperedContentError(envelope.TAMPERED) from None
                raise
        return envelope.open_(key, token, context)

    def _owner_key(self, owner_kind: str, owner_id: str) -> tuple[str, bytes]:
        cached = self._owners.get((owner_kind, owner_id))
        key = self._deks.get(cached) if cached is not None else None
        if cached is not None and key is not None:
            return cached, key
        for _attempt in range(3):
            row = self._find_owner(owner_kind, owner_id)
            if row is None:
                row = self._create_owner(owner_kind, owner_id)
            if row is not None:
                key = self._unwrap_row(row)
                self._remember(row, key)
                return row.id, key
        raise TamperedContentError(f"could not create the data key of {owner_kind} {owner_id}")

    def _find_owner(self, owner_kind: str, owner_id: str) -> DataKey | None:
        with self.sessions() as session:
            return session.scalar(
                select(DataKey).where(DataKey.owner_kind == owner_kind, DataKey.owner_id == owner_id)
            )

    def _create_owner(self, owner_kind: str, owner_id: str) -> DataKey | None:
        """Insert a new data key; ``None`` when another writer created the owner's first (re-read it)."""
        dek = envelope.new_key()
        kek_id, wrapped = self.check().wrap(dek)
        row = DataKey(
            id=uuid.uuid4().hex, owner_kind=owner_kind, owner_id=owner_id, wrapped=wrapped, kek_id=kek_id
        )
        with self.sessions() as session:
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return None
        self._remember(row, dek)
        return row

    def _load_key(self, key_id: str) -> bytes:
        for attempt in range(2):
            with self.sessions() as session:
                row = session.get(DataKey, key_id)
            if row is None:
                raise NotFoundError("this content was erased: its data key was destroyed")
            try:
                dek = self._unwrap_row(row)
            except UnknownKekError:
                if attempt:  # a rotation may have rewrapped the row since it was read: read it again
                    raise
                continue
            self._remember(row, dek)
            return dek
        raise AssertionError("unreachable")

    def _unwrap_row(self, row: DataKey) -> bytes:
        return self._deks.get(row.id) or self.check().unwrap(row.kek_id, row.wrapped)

    def _remember(self, row: DataKey, dek: bytes) -> None:
        with self._lock:
            if len(self._deks) >= _MAX_CACHED:  # bounded memory: start over
                self._deks.clear()
                self._owners.clear()
            self._deks[row.id] = dek
            self._owners[(row.owner_kind, row.owner_id)] = row.id

    def destroy(self, owner_kind: str, owner_id: str) -> int:
        """Delete the owner's data key(s): what they sealed can never be opened again. Returns how many."""
        with self.sessions() as session, session.begin():
            ids = list(
                session.scalars(
                    select(DataKey.id).where(DataKey.owner_kind == owner_kind, DataKey.owner_id == owner_id)
                )
            )
            if ids:
                session.execute(delete(DataKey).where(DataKey.id.in_(ids)))
        with self._lock:
            self._owners.pop((owner_kind, owner_id), None)
            for key_id in ids:
                self._deks.pop(key_id, None)
        return len(ids)

    # -- operator ------------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Provider, KEKs, data keys per KEK, the column key's KEK; no secret."""
        when = self.revoked_on(fresh=True)
        if when is not None or self.provider is None:
            return {"provider": "revoked", "revoked_on": when, "keys_dir": str(self.keys_dir)}
        with self.sessions() as session:
            per_kek = dict(
                session.execute(select(DataKey.kek_id, func.count()).group_by(DataKey.kek_id)).all()
            )
        return {
            "provider": self.provider.kind,
            "location": self.provider.describe(),
            "current_kek_id": self.provider.current_kek_id,
            "kek_ids": self.provider.kek_ids(),
            "column_key": {"id": self.column_key_id, "kek_id": self.column_key_kek_id()},
            "data_keys": {str(k): int(n) for k, n in per_kek.items()},
            "data_keys_total": int(sum(per_kek.values())),
            "revoked_on": None,
            "keys_dir": str(self.keys_dir),
        }

    def rotate(self, *, progress: Progress | None = None, grace_s: float = 2.0) -> RotationReport:
        """A new KEK; the column key and every data key rewrapped in batches while the service serves."""
        from tfe.core.crypto.rotation import rotate

        return rotate(self, progress=progress, grace_s=grace_s)

    def revoke(self) -> str:
        """Destroy every KEK and data key (irreversible); returns the revocation date."""
        provider = self.check()
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        write_private(self.keys_dir / REVOKED_FILE, (when + "\n").encode())  # first: all processes stop
        self._revoked = when
        self._forget_all()
        provider.destroy_all()
        try:
            with self.sessions() as session, session.begin():
                session.execute(delete(DataKey))
        except SQLAlchemyError as exc:  # no schema yet: nothing to delete
            log.warning("revoke: data keys not deleted error=%s", type(exc).__name__)
        for name in (COLUMN_KEY_FILE, "signing.key", *(f"{n}.json" for n in WRAPPED_KEYS)):
            shred_file(self.keys_dir / name)
        log.warning("encryption keys revoked by the operator on %s", when)
        return when

    def signer(self) -> ReceiptSigner:
        """The Ed25519 signer of erasure receipts (its private key sealed under the vault, made once)."""
        if self._signer is None:
            from tfe.core.crypto.signing import load_signer

            self._signer = load_signer(self)
        return self._signer


def _load_wrapped(path: Path, provider: KeyProvider, what: str) -> tuple[str, bytes]:
    """(key id, key) of the data key wrapped in ``path``, made first when the file does not exist."""
    if not path.exists():
        key_id = uuid.uuid4().hex
        kek_id, wrapped = provider.wrap(envelope.new_key())
        create_private(path, _column_doc(key_id, kek_id, wrapped))  # a racing process may win
    try:
        doc = json.loads(path.read_bytes())
        key_id, kek_id, wrapped = doc["id"], doc["kek_id"], base64.b64decode(doc["wrapped"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ConfigurationError(f"{what} file {path} is malformed") from None
    try:
        return str(key_id), provider.unwrap(kek_id, wrapped)
    except UnknownKekError:
        raise ConfigurationError(
            f"the installation's keys are wrapped by key-encryption key {kek_id}, which "
            f"{provider.describe()} does not hold (wrong TFE_MASTER_KEY_FILE or token?)"
        ) from None
    except TamperedContentError:
        raise ConfigurationError(
            f"{what} {path} cannot be unwrapped with {provider.describe()} (wrong key or tampered)"
        ) from None


def _column_doc(key_id: str, kek_id: str, wrapped: bytes) -> bytes:
    doc = {"id": key_id, "kek_id": kek_id, "wrapped": base64.b64encode(wrapped).decode()}
    return (json.dumps(doc) + "\n").encode()
