"""``ged.legacy_blobs.seal_legacy_blobs``: clear content-addressed blobs of an older installation sealed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

import tfe.core.models  # noqa: F401  (users, organisations: the documents table refers to them)
from ged.blobs import BlobStore, is_legacy_key
from ged.legacy_blobs import seal_legacy_blobs
from ged.models import Document, DocumentVersion
from tfe.core.crypto.columns import sealer_of
from tfe.core.crypto.vault import Vault
from tfe.core.db import make_engine, make_session_factory, migrate
from tfe.core.settings import Settings

MARKER = b"Marqueurancien : tarif confidentiel 1 234 EUR pour le salon de Hanovre"


@pytest.fixture
def engine(db_settings: Settings) -> Iterator[Engine]:
    db_settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(db_settings)
    migrate(engine)
    yield engine
    engine.dispose()


def test_legacy_blobs_are_sealed_and_the_clear_file_goes(engine: Engine, db_settings: Settings) -> None:
    vault = sealer_of(engine.dialect)
    assert isinstance(vault, Vault)
    store = BlobStore(db_settings.blob_dir, vault)
    sessions: sessionmaker[Session] = make_session_factory(engine)
    old_key = hashlib.sha256(MARKER).hexdigest()
    legacy = store.path(old_key)
    legacy.parent.mkdir(parents=True, exist_ok=True)
    legacy.write_bytes(MARKER)  # as the store wrote it before encryption at rest
    with sessions.begin() as session:
        for doc_id in ("d1", "d2"):  # the same file in two documents: one shared clear blob
            session.add(Document(id=doc_id, title=f"note {doc_id}"))
            session.flush()
            session.add(
                DocumentVersion(
                    document_id=doc_id,
                    number=1,
                    content_hash=old_key,
                    filename="n.txt",
                    size=len(MARKER),
                    blob_key=old_key,
                )
            )
    progress: list[tuple[int, int]] = []

    report = seal_legacy_blobs(sessions, store, progress=lambda done, total: progress.append((done, total)))

    assert report == {"versions": 2, "files_removed": 1, "missing": 0}
    assert progress[-1] == (2, 2) and not legacy.exists()
    with sessions() as session:
        keys = dict(
            session.execute(select(DocumentVersion.document_id, DocumentVersion.blob_key)).tuples().all()
        )
    assert set(keys) == {"d1", "d2"} and not any(is_legacy_key(k) for k in keys.values())
    for doc_id, key in keys.items():
        assert key.startswith(f"{doc_id}.") and store.get(key) == MARKER
        assert MARKER not in store.path(key).read_bytes()  # sealed at rest
    store.shred("d1")  # each document now has its own key: shredding one leaves the other
    assert store.get(keys["d2"]) == MARKER
    assert seal_legacy_blobs(sessions, store) == {"versions": 0, "files_removed": 0, "missing": 0}
