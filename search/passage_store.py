"""``PassageStore``: the text of every indexed passage, sealed at rest in the main database.

The search index stores no original text: its text fields are indexed but not stored. Titles, snippets,
the vectors' back-fill and ``tfe reindex`` read the passages from here (table ``passage_texts``, model
``search.models.PassageText``; ``title`` and ``text`` are ``SealedText`` columns, so they are encrypted
when the engine carries the vault). The embedded backend is the only writer: it applies a commit's
writes here (one transaction) before it commits the index, so every committed index entry has its text.

Reads of a page of hits are one ``IN`` query (chunked for long id lists). A store whose texts cannot be
opened (the key revoked, a tampered value) raises ``BackendError`` with a message that says so.

``PassageStore.in_memory()`` keeps the texts in a private in-memory SQLite database for the life of the
object: for temporary indexes (evaluation, alert candidates, tests). Installations always pass the
database's session factory (``search.factory.make_backend``).

On SQLite a caller may call the backend inside its own transaction after writing (a document edit
re-indexes before its transaction commits); a second connection would then wait for that transaction's
write lock until it times out. So on SQLite the store writes through the session of this thread that
has flushed writes to the same database and not committed yet (``search.ambient``), and commits with it;
otherwise, and always on PostgreSQL, it uses a session of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Row, bindparam, create_engine, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from search import ambient
from search.filters import keyword
from search.models import PassageText
from search.types import Passage
from tfe.core.errors import BackendError, TfeError

__all__ = ["CHUNK", "PassageStore"]

CHUNK = 500  # ids per IN list (SQLite's variable limit is far above; keeps statements small)


def _chunks(values: Sequence[str], size: int = CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


def _jsonable(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` as JSON keeps it (dates and other scalars as their string form, as the index did)."""
    out: dict[str, Any] = json.loads(json.dumps(meta, default=keyword, ensure_ascii=False))
    return out


# plain column rows (no ORM identity map: a page of hits is read on every search)
_COLUMNS = select(
    PassageText.id,
    PassageText.parent_id,
    PassageText.position,
    PassageText.title,
    PassageText.text,
    PassageText.meta,
)


# one statement for every page: the id list is bound at execution (no clause built per read)
_BY_IDS = _COLUMNS.where(PassageText.id.in_(bindparam("ids", expanding=True)))


def _passage(row: Row[Any]) -> Passage:
    pid, parent, position, title, text, meta = tuple(row)
    return Passage(
        id=pid,
        parent_id=parent,
        title=title or "",
        text=text or "",
        position=int(position or 0),
        meta=dict(meta or {}),
    )


class PassageStore:
    """Sealed passage texts by passage id (see the module docstring)."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

    @classmethod
    def in_memory(cls) -> PassageStore:
        """A private store in an in-memory SQLite database (temporary indexes and tests)."""
        engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
        PassageText.metadata.create_all(engine, tables=[PassageText.__table__])  # type: ignore[list-item]
        return cls(sessionmaker(bind=engine, expire_on_commit=False))

    # ------------------------------------------------------------------ sessions
    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with self._errors("read"):
            shared = ambient.writing_session(self._factory)
            if shared is not None:
                yield shared
                return
            with self._factory() as session:
                yield session

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        with self._errors("write"):
            shared = ambient.writing_session(self._factory)
            if shared is not None:
                yield shared
                shared.flush()
                return
            with self._factory.begin() as session:
                yield session

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except TfeError:
            raise
        except SQLAlchemyError as e:
            raise BackendError(f"cannot {what} the passage texts: {str(e).splitlines()[0]}") from e
        except Exception as e:  # the vault: a revoked key, a tampered value (never show the value)
            raise BackendError(
                f"cannot {what} the passage texts ({type(e).__name__}): the encryption key may be revoked "
                "or a stored value damaged; see `tfe keys status`"
            ) from e

    # ------------------------------------------------------------------ writes
    def write(
        self,
        put: Sequence[Passage] = (),
        *,
        delete_ids: Iterable[str] = (),
        delete_parents: Iterable[str] = (),
    ) -> None:
        """In one transaction: remove the passages of ``delete_parents`` and ``delete_ids``, then add or
        replace ``put`` (by id)."""
        parents, ids = sorted(set(delete_parents)), sorted(set(delete_ids) | {p.id for p in put})
        if not parents and not ids:
            return
        rows: list[dict[str, Any]] = [
            {
                "id": p.id,
                "parent_id": p.parent_id,
                "position": int(p.position),
                "title": p.title or "",
                "text": p.text or "",
                "meta": _jsonable(p.meta),
            }
            for p in {p.id: p for p in put}.values()
        ]
        with self._writing() as session:
            for chunk in _chunks(parents):
                session.execute(delete(PassageText).where(PassageText.parent_id.in_(chunk)))
            for chunk in _chunks(ids):
                session.execute(delete(PassageText).where(PassageText.id.in_(chunk)))
            for start in range(0, len(rows), CHUNK):
                session.execute(insert(PassageText), rows[start : start + CHUNK])

    def put(self, passages: Sequence[Passage]) -> None:
        """Add or replace passages by id."""
        self.write(passages)

    def delete_parents(self, parent_ids: Iterable[str]) -> None:
        """Remove every passage of these parents."""
        self.write(delete_parents=parent_ids)

    # ------------------------------------------------------------------ reads
    def get(self, ids: Sequence[str]) -> dict[str, Passage]:
        """The stored passages of ``ids`` by id (unknown ids are absent); one query per ``CHUNK`` ids."""
        out: dict[str, Passage] = {}
        unique = list(dict.fromkeys(ids))
        if not unique:
            return out
        with self._reading() as session:
            connection = session.connection()  # Core rows: the ORM adds nothing to plain column reads
            for chunk in _chunks(unique):
                for row in connection.execute(_BY_IDS, {"ids": chunk}):
                    out[row[0]] = _passage(row)
        return out

    def ids_of_parents(self, parent_ids: Iterable[str]) -> list[str]:
        """Ids of the stored passages of these parents (no text read)."""
        parents = sorted(set(parent_ids))
        out: list[str] = []
        with self._reading() as session:
            for chunk in _chunks(parents):
                out.extend(session.scalars(select(PassageText.id).where(PassageText.parent_id.in_(chunk))))
        return out

    def missing(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` have no stored passage (no text read)."""
        found: set[str] = set()
        with self._reading() as session:
            for chunk in _chunks(list(dict.fromkeys(ids))):
                found.update(session.scalars(select(PassageText.id).where(PassageText.id.in_(chunk))))
        return set(ids) - found

    def count(self) -> int:
        with self._reading() as session:
            return int(session.scalar(select(func.count()).select_from(PassageText)) or 0)

    def iter_all(self, batch: int = 1000) -> Iterator[list[Passage]]:
        """Every stored passage, ``batch`` at a time, in id order (keyset pagination: each batch is one
        short query, so a long rebuild holds no read transaction open)."""
        after = ""
        while True:
            with self._reading() as session:
                rows = session.execute(
                    _COLUMNS.where(PassageText.id > after).order_by(PassageText.id).limit(batch)
                )
                out = [_passage(r) for r in rows]
            if not out:
                return
            yield out
            after = out[-1].id
