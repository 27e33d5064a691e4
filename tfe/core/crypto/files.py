"""Private key files: written atomically with mode 0600, refused when others may read them."""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tfe.core.errors import ConfigurationError

__all__ = ["check_private", "create_private", "locked", "shred_file", "write_private"]


def check_private(path: Path, name: str) -> None:
    """``ConfigurationError`` unless ``path`` is a regular file that only its owner may read or write.

    ``name`` is how the operator knows the file (``TFE_MASTER_KEY_FILE``), quoted in the message.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigurationError(f"{name} {path} does not exist") from None
    except OSError as exc:
        raise ConfigurationError(f"{name} {path} cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConfigurationError(f"{name} {path} is not a regular file")
    if info.st_mode & 0o077:
        raise ConfigurationError(f"{name} {path} is readable by others: chmod 600 {path}")


def _temporary(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temporary file, fsync, rename), mode 0600."""
    tmp = _temporary(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def create_private(path: Path, data: bytes) -> bool:
    """Create ``path`` with ``data`` unless it exists (atomic, race-free between processes).

    Returns whether this call created it; a loser of a race reads the winner's file.
    """
    tmp = _temporary(path, data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        Path(tmp).unlink(missing_ok=True)
    return True


def shred_file(path: Path) -> bool:
    """Overwrite ``path`` with zeros, then remove it (best effort on copy-on-write storage)."""
    try:
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.write(b"\0" * size)
            handle.flush()
            os.fsync(handle.fileno())
        path.unlink()
    except FileNotFoundError:
        return False
    return True


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` + ``.lock`` (one key-file writer at a time, any process)."""
    lock = path.with_name(path.name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
