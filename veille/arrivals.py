"""What happens to new watch items once stored: each joins its story, then may be accepted automatically.

Called by the poller (through the runtime) with the ids of a poll's new items, in fetch order. Story
assignment is incremental and serialised in the process (one ``StoryAssigner`` behind a lock), so two
threads never start two stories for one event; automatic acceptance follows the source's threshold
(``veille.curation.auto_accept``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from search.backend import SearchBackend
from taxonomy.referential import Referential
from tfe.core.db import session_scope
from veille.models import Item
from veille.stories import StoryAssigner

__all__ = ["Arrivals"]


class Arrivals:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        assigner: StoryAssigner,
        backend: SearchBackend,
        referential: Callable[[], Referential],
    ) -> None:
        self._sessions = session_factory
        self._assigner = assigner
        self._backend = backend
        self._referential = referential
        self._lock = threading.Lock()

    def process(self, item_ids: list[str]) -> None:
        from veille.curation import auto_accept

        for item_id in item_ids:
            with self._lock, session_scope(self._sessions) as session:
                item = session.get(Item, item_id)
                if item is None:
                    continue
                self._assigner.assign(session, item)
            with session_scope(self._sessions) as session:
                auto_accept(session, item_id, backend=self._backend, referential=self._referential())
