"""Content-addressed storage of original file bytes under ``settings.blob_dir``.

A blob's key is the SHA-256 of its bytes, stored at ``<root>/<k[:2]>/<k[2:4]>/<k>``: identical files are
stored once, and a write is atomic (temporary file in the same folder, fsync, rename), so a crash never
leaves a half-written blob under a valid key. Encryption at rest wraps this store in a later issue.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from tfe.core.errors import NotFoundError, ValidationError

__all__ = ["BlobStore"]


class BlobStore:
    """Put, get and delete immutable blobs by content hash."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """Where the blob ``key`` lives (whether or not it exists)."""
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValidationError(f"invalid blob key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes, *, owner: str | None = None) -> str:
        """Store ``data`` (no-op if already there); returns its key. ``owner``: the document id (sealing
        under the owner's data key lands with the vault)."""
        key = hashlib.sha256(data).hexdigest()
        target = self.path(key)
        if target.exists():
            return key
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        """The bytes of blob ``key``; ``NotFoundError`` if absent."""
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(f"blob {key} not found") from exc

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def delete(self, key: str) -> bool:
        """Remove blob ``key``; returns whether it existed."""
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return False
        return True
