"""BlobStore: content-addressed, idempotent and atomic writes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ged.blobs import BlobStore
from tfe.core.errors import NotFoundError, ValidationError


def test_put_get_delete(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    key = store.put(b"bonjour")
    assert key == hashlib.sha256(b"bonjour").hexdigest()
    assert store.path(key) == tmp_path / "blobs" / key[:2] / key[2:4] / key
    assert store.get(key) == b"bonjour" and store.exists(key)
    assert store.put(b"bonjour") == key  # same content, same blob, no second write
    assert not [p for p in store.path(key).parent.iterdir() if p.name.startswith(".tmp-")]
    assert store.delete(key) and not store.exists(key) and not store.delete(key)
    with pytest.raises(NotFoundError):
        store.get(key)


def test_rejects_bad_keys(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        BlobStore(tmp_path).path("../../etc/passwd")
