"""BlobStore: every blob sealed under its document's data key, tamper-evident, shreddable, atomic writes;
blobs written before encryption at rest still read."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ged.blobs import BlobStore
from tests.conftest import make_settings
from tfe.core.crypto.columns import sealer_of
from tfe.core.crypto.vault import Vault
from tfe.core.db import make_engine, migrate
from tfe.core.errors import NotFoundError, TamperedContentError, ValidationError
from tfe.core.settings import Settings

SECRET = b"Tarif confidentiel MARQUEURBLOB 12 500 EUR HT pour le salon de Tokyo\n" * 20


@pytest.fixture
def engine(db_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(db_settings)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine, db_settings: Settings) -> BlobStore:
    vault = sealer_of(engine.dialect)
    assert isinstance(vault, Vault)
    return BlobStore(db_settings.blob_dir, vault)


def test_put_get_seals_under_the_owner_folder(store: BlobStore) -> None:
    owner = "a1" * 16
    key = store.put(SECRET, owner=owner)
    path = store.path(key)
    assert key.startswith(owner + ".") and path.parent == store.root / owner[:2] / owner
    raw = path.read_bytes()
    assert raw.startswith(b"TFE1") and b"MARQUEURBLOB" not in raw and len(raw) == len(SECRET) + 48
    assert store.get(key) == SECRET and store.exists(key)
    second = store.put(SECRET, owner=owner)  # a new version: a new blob in the same folder
    assert second != key and store.get(second) == SECRET
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]
    assert store.delete(key) and not store.exists(key) and not store.delete(key)
    with pytest.raises(NotFoundError):
        store.get(key)
    assert store.get(second) == SECRET


def test_a_flipped_byte_is_detected_never_served(store: BlobStore) -> None:
    key = store.put(SECRET, owner="doc-tamper")
    path = store.path(key)
    sealed = path.read_bytes()
    for where in (0, 10, 25, 40, 100, len(sealed) - 1):  # magic, key id, nonce, ciphertext, tag
        raw = bytearray(sealed)
        raw[where] ^= 0x01
        path.write_bytes(bytes(raw))
        with pytest.raises(TamperedContentError) as caught:
            store.get(key)
        assert caught.value.http_status == 409 and "integrity" in caught.value.message, where
    path.write_bytes(sealed)
    assert store.get(key) == SECRET


def test_a_blob_moved_under_another_key_fails_its_tag(store: BlobStore) -> None:
    first = store.put(b"version un", owner="doc-move")
    second = store.put(b"version deux", owner="doc-move")
    store.path(first).write_bytes(store.path(second).read_bytes())  # same data key, other blob key
    with pytest.raises(TamperedContentError):
        store.get(first)
    assert store.get(second) == b"version deux"


def test_shred_destroys_the_key_and_the_folder(store: BlobStore) -> None:
    keys = [store.put(SECRET + bytes([i]), owner="doc-shred") for i in range(3)]
    other = store.put(b"autre", owner="doc-keep")
    copy = store.path(keys[0]).read_bytes()
    assert store.shred("doc-shred") == 3
    assert not (store.root / "do" / "doc-shred").exists()
    for key in keys:
        with pytest.raises(NotFoundError):
            store.get(key)
    store.path(keys[0]).parent.mkdir(parents=True)
    store.path(keys[0]).write_bytes(copy)  # a copy kept elsewhere (a backup) is useless without the key
    with pytest.raises(NotFoundError, match="erased"):
        store.get(keys[0])
    assert store.get(other) == b"autre" and store.shred("doc-never") == 0


def test_legacy_plain_blobs_still_read(store: BlobStore) -> None:
    data = b"fichier d'avant le chiffrement"
    legacy = hashlib.sha256(data).hexdigest()
    path = store.path(legacy)
    assert path == store.root / legacy[:2] / legacy[2:4] / legacy
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    assert store.get(legacy) == data and store.delete(legacy)


def test_a_new_blob_without_an_envelope_is_tampered(store: BlobStore) -> None:
    key = store.put(b"x" * 100, owner="doc-strip")
    store.path(key).write_bytes(b"x" * 100)  # replaced by plain bytes
    with pytest.raises(TamperedContentError):
        store.get(key)


def test_rejects_bad_keys_and_owners(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    for key in ("../../etc/passwd", "abc", "doc.NOTHEX", "../x." + "0" * 32):
        with pytest.raises(ValidationError):
            store.path(key)
    for owner in ("../etc", "a/b", "", "x" * 65):
        with pytest.raises(ValidationError):
            store.put(b"x", owner=owner)


def test_a_bare_store_keeps_plain_bytes(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")  # no vault: only bare tests build this
    key = store.put(b"bonjour", owner="doc")
    assert store.path(key).read_bytes() == b"bonjour" and store.get(key) == b"bonjour"


def test_two_engines_of_one_installation_share_the_keys(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    first, second = make_engine(settings), make_engine(settings)
    migrate(first)
    stores = [BlobStore(settings.blob_dir, sealer_of(e.dialect)) for e in (first, second)]  # type: ignore[arg-type]
    key = stores[0].put(SECRET, owner="doc-shared")
    assert stores[1].get(key) == SECRET
    first.dispose()
    second.dispose()
