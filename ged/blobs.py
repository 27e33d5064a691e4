"""Storage of original file bytes under ``settings.blob_dir``, sealed per document (encryption at rest).

``put(data, owner=document_id)`` seals the bytes under the document's own data key (AES-256-GCM, the
vault's ``seal_bytes("document", owner, ...)``) and writes the envelope at
``<root>/<owner[:2]>/<owner>/<random>``; its key is ``<owner>.<random>``, so every version of a document
lies in one folder and ``shred(owner)`` destroys the data key (crypto-shredding) and the folder. The
blob key is bound to the envelope as associated data: a file renamed or moved fails its tag like a
flipped byte, and a tampered blob raises ``TamperedContentError``, never served.

Writes are atomic (temporary file in the same folder, fsync, rename): a crash never leaves a
half-written blob under a valid key. Blobs written before encryption at rest (64-hex SHA-256 keys at
``<root>/<k[:2]>/<k[2:4]>/<k>``, plain bytes) are still read as they are. A store built without a vault
(bare tests only) writes plain bytes in the new layout.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Protocol

from tfe.core.errors import NotFoundError, TamperedContentError, ValidationError

__all__ = ["OWNER_KIND", "BlobSealer", "BlobStore", "is_legacy_key"]

OWNER_KIND = "document"
_LEGACY = re.compile(r"[0-9a-f]{64}")
_OWNER = re.compile(r"[0-9A-Za-z_-]{1,64}")
_KEY = re.compile(r"([0-9A-Za-z_-]{1,64})\.([0-9a-f]{32})")
_MAGIC = b"TFE1"


class BlobSealer(Protocol):
    """What the store needs from ``tfe.core.crypto.vault.Vault``."""

    def seal_bytes(self, owner_kind: str, owner_id: str, data: bytes, context: bytes = b"") -> bytes: ...

    def open_bytes(
        self, token: bytes, context: bytes = b"", owner: tuple[str, str] | None = None
    ) -> bytes: ...

    def destroy(self, owner_kind: str, owner_id: str) -> int: ...


class BlobStore:
    """Put, get, delete and shred immutable blobs (see the module docstring)."""

    def __init__(self, root: str | os.PathLike[str], vault: BlobSealer | None = None) -> None:
        self.root = Path(root)
        self.vault = vault

    def path(self, key: str) -> Path:
        """Where the blob ``key`` lives (whether or not it exists)."""
        if _LEGACY.fullmatch(key):
            return self.root / key[:2] / key[2:4] / key
        match = _KEY.fullmatch(key)
        if match is None:
            raise ValidationError(f"invalid blob key: {key!r}")
        return self._owner_dir(match.group(1)) / match.group(2)

    def _owner_dir(self, owner: str) -> Path:
        if not _OWNER.fullmatch(owner):
            raise ValidationError(f"invalid blob owner: {owner!r}")
        return self.root / owner[:2] / owner

    def put(self, data: bytes, *, owner: str) -> str:
        """Seal ``data`` under ``owner``'s data key and store it; returns the new blob's key.

        ``owner`` is the document id. For a document's first blob the vault creates its data key in a
        short transaction of its own: call this before opening a write transaction (SQLite locks).
        """
        key = f"{owner}.{uuid.uuid4().hex}"
        target = self._owner_dir(owner) / key.rsplit(".", 1)[1]
        body = data
        if self.vault is not None:
            body = self.vault.seal_bytes(OWNER_KIND, owner, data, context=_context(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        """The plain bytes of blob ``key``: ``NotFoundError`` if absent or shredded,
        ``TamperedContentError`` if it fails its integrity check."""
        try:
            body = self.path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(f"blob {key} not found") from exc
        if _LEGACY.fullmatch(key):
            return body  # written before encryption at rest
        if self.vault is None:
            return body
        if body[: len(_MAGIC)] != _MAGIC:
            raise TamperedContentError("stored content failed its integrity check (tampered or corrupted)")
        owner = (OWNER_KIND, key.rsplit(".", 1)[0])
        return self.vault.open_bytes(body, context=_context(key), owner=owner)

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def delete(self, key: str) -> bool:
        """Remove blob ``key``; returns whether it existed (the owner's data key stays: see ``shred``)."""
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def shred(self, owner: str) -> int:
        """Destroy ``owner``'s data key, then its blobs' folder; returns how many blob files were removed.

        Once the key is gone the files could not be read anyway; removing them frees the space.
        """
        folder = self._owner_dir(owner)
        if self.vault is not None:
            self.vault.destroy(OWNER_KIND, owner)
        count = sum(1 for p in folder.iterdir() if p.is_file()) if folder.is_dir() else 0
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            folder.parent.rmdir()  # the <owner[:2]> folder, when it was the last one there
        return count


def is_legacy_key(key: str) -> bool:
    """Whether ``key`` names a blob stored before encryption at rest (content-addressed, in clear)."""
    return _LEGACY.fullmatch(key) is not None


def _context(key: str) -> bytes:
    return b"blob:" + key.encode("ascii")
