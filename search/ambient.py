"""The session of this thread that holds SQLite's write lock, so the passage store can write through it.

SQLite has one writer at a time: once a session has flushed a write, any other connection's write waits
for that transaction to end. A caller that re-indexes inside its own transaction (``ged.editing`` flushes
the edit, then rewrites the passages, then commits) would wait for itself. Every ORM session reports its
flushes and ORM-enabled DML here (per thread); ``writing_session(factory)`` answers the session of this
thread that has written to the same SQLite database and is still in its transaction, or ``None`` (nothing
pending, another database, or PostgreSQL, where row locks do not collide and a separate session is used).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

__all__ = ["writing_session"]

_local = threading.local()
_PRIVATE = ("sqlite://", "sqlite:///:memory:")  # in-memory databases: one per engine, never shared


def _pending() -> list[weakref.ref[Session]]:
    refs: list[weakref.ref[Session]] | None = getattr(_local, "sessions", None)
    if refs is None:
        refs = _local.sessions = []
    return refs


def _note(session: Session) -> None:
    refs = _pending()
    if not any(r() is session for r in refs):
        refs.append(weakref.ref(session))


def _forget(session: Session) -> None:
    _local.sessions = [r for r in _pending() if r() is not None and r() is not session]


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    _note(session)  # called only when the flush wrote something


@event.listens_for(Session, "do_orm_execute")
def _orm_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        _note(state.session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    _forget(session)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    _forget(session)


def _url(bind: Any) -> str | None:
    engine = getattr(bind, "engine", bind)
    url = getattr(engine, "url", None)
    return None if url is None else str(url)


def writing_session(factory: sessionmaker[Session]) -> Session | None:
    """This thread's session with uncommitted writes to the SQLite database of ``factory``, if any."""
    refs = _pending()
    if not refs:
        return None
    target = factory.kw.get("bind")
    target_url = _url(target)
    if target_url is None or not target_url.startswith("sqlite") or target_url in _PRIVATE:
        return None
    for ref in reversed(refs):
        session = ref()
        if session is None or not session.in_transaction():
            continue
        try:
            bind = session.get_bind()
        except Exception:  # a session without a bind: not ours
            continue
        if _url(bind) == target_url:
            return session
    return None
