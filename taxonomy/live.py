"""Where the running product gets its referential: a ``ReferentialSource`` answers ``current()``.

Every consumer (the classifier, the passage writer, the search labels and name resolution) asks the
source for the current referential each time it needs one, instead of holding a ``Referential`` for the
life of the process; a source returns the same object until the taxonomy changes, so consumers can cache
what they derive from it by identity (``if ref is not self._built_for: rebuild``).

``DatabaseReferential`` is the product's source: it reads the taxonomy version stamp
(``taxonomy.version``) at most once per ``check_interval`` seconds and rebuilds from the database when
the stamp moved, so an import or a curator edit made by any process reaches every other one without a
restart. Until the database is migrated and seeded it answers the shipped files.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from taxonomy.lemmas import Lemmatise
from taxonomy.referential import Referential
from taxonomy.version import current_version

__all__ = ["DatabaseReferential", "ReferentialSource", "StaticReferential"]

log = logging.getLogger(__name__)


@runtime_checkable
class ReferentialSource(Protocol):
    """Gives the referential in force now (cheap to call: at most a version check)."""

    def current(self) -> Referential: ...


class StaticReferential:
    """A source that always answers the same referential (tests, tools, evaluations)."""

    def __init__(self, referential: Referential | None = None) -> None:
        self._referential = referential

    def current(self) -> Referential:
        if self._referential is None:
            self._referential = Referential.load()
        return self._referential


class DatabaseReferential:
    """The referential of the database, rebuilt when the taxonomy version stamp changes.

    ``session_factory`` opens a session on the system of record (``Runtime.session_factory``). Calls
    within ``check_interval`` seconds of the last check answer the cached referential without touching
    the database; while one thread rebuilds, the others keep answering the previous referential. With no
    stamp yet (schema not migrated, taxonomy never seeded), no concepts, or a database error, it answers
    the shipped files (or keeps the referential it already has, on an error).
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        check_interval: float = 1.0,
        lemmatise: Lemmatise | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._factory = session_factory
        self._interval = check_interval
        self._lemmatise = lemmatise
        self._clock = clock
        self._lock = threading.Lock()
        self._ref: Referential | None = None
        self._version: int | None = None  # the last stamp seen
        self._from_db = False
        self._checked_at = float("-inf")
        self._failing = False

    @property
    def version(self) -> int | None:
        """The taxonomy version the current referential was built from (``None``: the shipped files)."""
        return self._version if self._from_db else None

    def current(self) -> Referential:
        ref = self._ref
        if ref is not None and self._clock() - self._checked_at < self._interval:
            return ref
        if not self._lock.acquire(blocking=ref is None):
            assert ref is not None
            return ref  # another thread is checking; its answer is at most one interval late
        try:
            if self._ref is None or self._clock() - self._checked_at >= self._interval:
                self._check()
            assert self._ref is not None
            return self._ref
        finally:
            self._lock.release()

    def refresh(self) -> Referential:
        """Check the stamp now, whatever the interval (after a write in this process, in tests)."""
        with self._lock:
            self._check()
            assert self._ref is not None
            return self._ref

    def _check(self) -> None:
        try:
            with self._factory() as session:
                version = current_version(session)
                if version is None:
                    self._use_files(None)
                elif version != self._version or self._ref is None:
                    ref = Referential.from_database(session, lemmatise=self._lemmatise)
                    if len(ref):
                        self._ref, self._version, self._from_db = ref, version, True
                        log.info("taxonomy referential rebuilt from the database (version %s)", version)
                    else:
                        self._use_files(version)
            self._failing = False
        except SQLAlchemyError as exc:
            if not self._failing:
                log.warning("taxonomy version check failed (%s); keeping the referential in force", exc)
            self._failing = True
            if self._ref is None:
                self._use_files(None)
        self._checked_at = self._clock()

    def _use_files(self, version: int | None) -> None:
        self._ref, self._version, self._from_db = Referential.load(), version, False
