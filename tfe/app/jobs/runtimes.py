"""Which ``Runtime`` serves a database, for callers that only hold a session (``after_change`` is called
by the editing routes with their session alone). The web app, the CLI and the job worker register theirs;
the engine is never built here, only matched once it exists."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from tfe.core.errors import ConfigurationError

if TYPE_CHECKING:
    from tfe.app.runtime import Runtime

__all__ = ["register_runtime", "runtime_of"]

_RUNTIMES: list[weakref.ref[Runtime]] = []


def register_runtime(rt: Runtime) -> None:
    """Make ``rt`` the runtime of sessions on its engine."""
    _RUNTIMES[:] = [r for r in _RUNTIMES if r() is not None and r() is not rt]
    _RUNTIMES.append(weakref.ref(rt))


def runtime_of(bind_of: Session | sessionmaker[Session]) -> Runtime:
    """The registered runtime whose engine the session (or session factory) is bound to."""
    bind = bind_of.get_bind() if isinstance(bind_of, Session) else bind_of.kw.get("bind")
    engine = getattr(bind, "engine", bind)
    for ref in reversed(_RUNTIMES):
        found = ref()
        if found is not None and found.__dict__.get("engine") is engine:
            return found
    raise ConfigurationError("aucun environnement d'exécution pour cette base (reclassement)")
