"""The session of this thread that holds SQLite's write lock, so the passage store can write through it.

SQLite has one writer at a time: once a session has flushed a write, any other connection's write waits
for that transaction to end. A caller that re-indexes inside its own transaction (``ged.editing`` flushes
the edit, then rewrites the passages, then commits) would wait for itself. Every ORM session reports its
flushes and ORM-enabled DML here (per thread, with the transaction they happened in);
``writing_session(factory)`` answers the session of this thread whose current transaction has written to
the same SQLite database, or ``None`` (nothing pending, another database, or PostgreSQL, where row locks
do not collide and the store uses a session of its own).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

__all__ = ["writing_session"]

_local = threading.local()
_PRIVATE = ("sqlite://", "sqlite:///:memory:")  # in-memory databases: one per engine, never shared

Pending = tuple["weakref.ref[Session]", "weakref.ref[SessionTransaction]"]


def _pending() -> list[Pending]:
    refs: list[Pending] | None = getattr(_local, "pending", None)
    if refs is None:
        refs = _local.pending = []
    return refs


def _note(session: Session) -> None:
    tx = session.get_transaction()
    if tx is None:
        return
    refs = [r for r in _pending() if r[0]() is not None and r[0]() is not session]
    refs.append((weakref.ref(session), weakref.ref(tx)))
    _local.pending = refs


def _forget(session: Session) -> None:
    _local.pending = [r for r in _pending() if r[0]() is not None and r[0]() is not session]


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
    target_url = _url(factory.kw.get("bind"))
    if target_url is None or not target_url.startswith("sqlite") or target_url in _PRIVATE:
        return None
    for session_ref, tx_ref in reversed(refs):
        session, tx = session_ref(), tx_ref()
        if session is None or tx is None or session.get_transaction() is not tx or not tx.is_active:
            continue  # that transaction ended (closed without commit or rollback): its writes are gone
        try:
            bind = session.get_bind()
        except Exception:  # a session without a bind: not ours
            continue
        if _url(bind) == target_url:
            return session
    return None
