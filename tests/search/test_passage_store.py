"""``PassageStore``: sealed passage texts in the database, the only source of titles and snippets."""

from __future__ import annotations

import base64
import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from search.embedded import EmbeddedBackend
from search.factory import make_backend
from search.models import PassageText
from search.passage_store import PassageStore
from search.testdata import ANONYMOUS, corpus_passages, parents, run
from search.types import Passage
from tfe.core.crypto.columns import PREFIX, attach
from tfe.core.db import make_engine, make_session_factory, migrate
from tfe.core.errors import BackendError
from tfe.core.settings import Settings


class _Sealer:
    """AES-256-GCM with one key, as the vault seals a column (``tfe.core.crypto.columns.TextSealer``)."""

    def __init__(self) -> None:
        self.key = AESGCM(AESGCM.generate_key(bit_length=256))
        self.revoked = False

    def seal_text(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        return PREFIX + base64.b64encode(nonce + self.key.encrypt(nonce, plaintext.encode(), None)).decode()

    def open_text(self, sealed: str) -> str:
        if self.revoked:
            raise RuntimeError("key destroyed")
        raw = base64.b64decode(sealed[len(PREFIX) :])
        return self.key.decrypt(raw[:12], raw[12:], None).decode()


def _factory(path: Path, timeout: float = 30) -> sessionmaker[Session]:
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": timeout})
    PassageText.metadata.create_all(engine, tables=[PassageText.__table__])  # type: ignore[list-item]
    return sessionmaker(bind=engine, expire_on_commit=False)


def _p(pid: str, parent: str, text: str, position: int = 0) -> Passage:
    return Passage(
        pid, parent, f"Titre {parent}", text, position, {"visibility": "public", "date": "2024-01-02"}
    )


def test_put_get_delete_and_iterate(tmp_path: Path) -> None:
    store = PassageStore(_factory(tmp_path / "db.sqlite3"))
    store.put([_p("a:0", "a", "un"), _p("a:1", "a", "deux", 1), _p("b:0", "b", "trois")])
    store.put([_p("a:1", "a", "deux bis", 1)])  # replaced by id
    got = store.get(["b:0", "a:1", "zz:0", "a:1"])
    assert sorted(got) == ["a:1", "b:0"] and got["a:1"].text == "deux bis" and got["a:1"].position == 1
    assert got["b:0"].meta == {"visibility": "public", "date": "2024-01-02"} and got["b:0"].title == "Titre b"
    assert store.missing(["a:0", "c:0"]) == {"c:0"} and sorted(store.ids_of_parents(["a"])) == ["a:0", "a:1"]
    assert [[p.id for p in batch] for batch in store.iter_all(batch=2)] == [["a:0", "a:1"], ["b:0"]]
    store.delete_parents(["a"])
    assert store.count() == 1 and store.get(["a:0", "a:1"]) == {}


def test_texts_are_sealed_at_rest_and_a_revoked_key_says_so(tmp_path: Path) -> None:
    factory = _factory(tmp_path / "db.sqlite3")
    sealer = _Sealer()
    attach(factory.kw["bind"], sealer)
    backend = EmbeddedBackend(tmp_path / "index", PassageStore(factory))
    backend.write([replace(p) for p in corpus_passages()])
    backend.commit()
    result = run(backend, "vins Allemagne", scope=ANONYMOUS, mode="bm25")
    assert "doc-vin" in parents(result) and "<mark>" in result.hits[0].snippet
    with sqlite3.connect(tmp_path / "db.sqlite3") as raw:
        rows = raw.execute("SELECT title, text FROM passage_texts").fetchall()
    assert rows and all(t.startswith(PREFIX) and x.startswith(PREFIX) for t, x in rows)
    assert not any("Allemagne" in t + x for t, x in rows)

    sealer.revoked = True
    with pytest.raises(BackendError, match="key may be revoked"):
        run(backend, "vins Allemagne", scope=ANONYMOUS, mode="bm25")
    with pytest.raises(BackendError, match="key may be revoked"):
        backend.rebuild()
    sealer.revoked = False
    assert "doc-vin" in parents(run(backend, "vins Allemagne", scope=ANONYMOUS, mode="bm25"))  # left intact


def test_a_caller_transaction_on_sqlite_does_not_block_the_store(tmp_path: Path) -> None:
    """A document edit flushes its rows, re-indexes, then commits: the store writes through that session
    (a second connection would wait for the caller's write lock; here it would fail after 1 s)."""
    factory = _factory(tmp_path / "db.sqlite3", timeout=1)
    backend = EmbeddedBackend(tmp_path / "index", PassageStore(factory))
    with factory() as session:
        session.add(PassageText(id="other:0", parent_id="other", title="t", text="x"))
        session.flush()  # the caller now holds SQLite's write lock
        backend.write([_p("doc:0", "doc", "exportations de fromages")])
        backend.commit()
        assert "doc" in parents(run(backend, "fromages", scope=ANONYMOUS, mode="bm25"))
        session.commit()
    assert sorted(PassageStore(factory).get(["doc:0", "other:0"])) == ["doc:0", "other:0"]

    with factory() as session:  # rolled back: the texts written through it go too (`tfe reindex` heals)
        session.add(PassageText(id="other:1", parent_id="other", title="t", text="x"))
        session.flush()
        backend.write([_p("doc:1", "doc", "un second passage", 1)])
        backend.commit()
        session.rollback()
    assert PassageStore(factory).get(["doc:1", "other:1"]) == {}

    session = factory()  # a session that wrote, was closed without a commit, then only reads
    session.add(PassageText(id="other:2", parent_id="other", title="t", text="x"))
    session.flush()
    session.close()
    session.get(PassageText, "other:0")  # a new transaction that has written nothing
    backend.write([_p("doc:2", "doc", "un troisième passage", 2)])
    backend.commit()  # written through the store's own session: kept whatever that session does
    session.close()
    assert sorted(PassageStore(factory).get(["doc:2", "other:2"])) == ["doc:2"]
    assert backend.rebuild()["passages"] == 3  # other:0, doc:0 and doc:2
    assert backend.rebuild()["passages"] == 3  # other:0, doc:0 and doc:2


def test_the_installation_database_holds_the_texts(db_settings: Settings) -> None:
    """SQLite and PostgreSQL, through the runtime's engine (migrated) and ``make_backend``."""
    engine = make_engine(db_settings)
    migrate(engine)
    factory = make_session_factory(engine)
    backend = make_backend(db_settings, factory)
    assert isinstance(backend, EmbeddedBackend)
    backend.write([replace(p) for p in corpus_passages()])
    backend.commit()
    result = run(backend, "vins Allemagne", scope=ANONYMOUS, mode="hybrid")
    assert "doc-vin" in parents(result) and result.hits[0].title and "<mark>" in result.hits[0].snippet
    store = PassageStore(factory)
    assert store.count() == len(corpus_passages()) == sum(len(b) for b in store.iter_all(batch=3))
    summary = backend.erase_parents(["doc-vin"])
    assert summary["passages"] == len([p for p in corpus_passages() if p.parent_id == "doc-vin"])
    assert store.ids_of_parents(["doc-vin"]) == [] and backend.count() == summary["passages_left"]
    backend.close()
    engine.dispose()


def test_rebuild_follows_the_store(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path / "index", PassageStore(_factory(tmp_path / "db.sqlite3")))
    backend.write([replace(p) for p in corpus_passages()])
    backend.commit()
    backend.texts.put([_p("late:0", "late", "arrivé directement dans le stock")])  # not indexed yet
    backend.texts.delete_parents(["doc-vin"])
    left = len([p for p in corpus_passages() if p.parent_id != "doc-vin"])
    seen: list[int] = []
    stats = backend.rebuild(progress=seen.append)
    assert stats["passages"] == left + 1 == sum(seen) == backend.count()
    assert stats["new_keys"] == 1 and stats["vectors_kept"] == left
    assert backend.count_missing_embeddings() == 1  # only the new passage
    assert "late" in parents(run(backend, "stock", scope=ANONYMOUS, mode="bm25"))
    assert "doc-vin" not in parents(run(backend, "vins Allemagne", scope=ANONYMOUS, mode="bm25", limit=50))
    fresh = backend.rebuild(keep_vectors=False)
    assert fresh["vectors_kept"] == 0 and backend.count_missing_embeddings() == backend.count()
    backend.write([_p("x:0", "x", "en attente")])
    with pytest.raises(BackendError, match="uncommitted"):
        backend.rebuild()
