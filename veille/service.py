"""Watch use cases: ingest the entries of a feed as items (reads: ``veille.items.read_item``).

Called alike by the CLI and the demo loader (and, with the watch issue, by the poller); every run is
recorded by the ingest runner and audited here with the actor and channel it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ingest.runner import IngestRunner
from tfe.core.db import session_scope
from tfe.core.security import audit, identity
from tfe.core.settings import Settings
from veille.feeds import read_feed

__all__ = ["WatchService"]


class WatchService:
    """Feed entries into watch items through the one ingestion pipeline."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        runner: Callable[[bool], IngestRunner],
        settings: Settings,
    ) -> None:
        self._sessions = session_factory
        self._runner = runner
        self._settings = settings

    def ingest_feed(
        self,
        url_or_path: str,
        *,
        org_slug: str | None = None,
        visibility: str = "network",
        embed: bool = True,
        progress: bool = True,
        channel: str = "cli",
    ) -> dict[str, Any]:
        """Ingest the entries of one RSS/Atom feed (URL or file) as watch items."""
        org_id = None
        if org_slug is not None:
            with session_scope(self._sessions) as session:
                org_id = identity.find_org(session, org_slug).id
        feed = read_feed(url_or_path, self._settings)
        for entry in feed.entries:
            entry.org_id = org_id
            entry.visibility = visibility
        report = self._runner(embed).run_items(feed.entries, progress=progress)
        with session_scope(self._sessions) as session:
            audit.record(
                session,
                "ingest.feed",
                audit.Actor.system(channel, org_id=org_id),
                target_kind="run",
                target_id=report["run_id"],
                detail={"feed": feed.url, **{k: report[k] for k in ("ok", "duplicate", "failed")}},
            )
        return report
