"""The source catalogue's use cases: add, list, read, edit, pause, remove, preview, OPML import/export.

One shared network catalogue (``visibility="network"``) plus each organisation's own sources
(``"organisation"``: seen by its members only). Reading needs an authenticated caller: members see the
network's sources and their organisation's, administrators see every source (they manage them all).
Managing needs the ``curator`` role (sources owned by the curator's organisation, whatever their
visibility) or ``admin`` (every source). The scope is a condition of every query; a source outside it
is ``NotFoundError`` (existence not disclosed), one in sight but not manageable ``PermissionDeniedError``.

Removing a source keeps its items (they are in stories, decisions and the search index) and detaches
them (``source_id`` null); its poll records go with it. Every write is audited (``source.add``,
``source.update``, ``source.remove``, ``source.import``), and so are reads and previews.

This module is the facade: the rules are in ``veille.source_rules``, the views in
``veille.source_views``, the write steps in ``veille.source_writes``, previews in
``veille.source_preview`` and the OPML import loop in ``veille.source_opml``.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Integer, String, cast, delete, null, select, update
from sqlalchemy.orm import Session, sessionmaker

from taxonomy.referential import Referential
from tfe.core.db import session_scope, utcnow
from tfe.core.errors import NotFoundError, PermissionDeniedError, TooLargeError, ValidationError
from tfe.core.models import Organisation
from tfe.core.security import audit
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings
from veille.models import HEALTHS, Item, Source, SourcePoll
from veille.opml import OpmlFeed, parse_opml, write_opml
from veille.source_opml import import_feeds
from veille.source_preview import PreviewView, preview
from veille.source_rules import (
    FIELDS,
    MANAGER_ROLES,
    CatalogueRules,
    SourceSpec,
    may_manage,
    require_manager,
    visible_clause,
)
from veille.source_views import (
    ImportReport,
    SourceActivity,
    SourceView,
    item_row,
    poll_row,
    source_view,
    source_views,
)
from veille.source_writes import apply_changes, new_source, owner_of, refuse_duplicate

# SourceSpec, SourceView and visible_clause are re-exported for callers outside this change
# (tfe/app/demo/watch.py, veille/alerts/validation.py).
__all__ = ["SourceService", "SourceSpec", "SourceView", "visible_clause"]


class SourceService:
    """The catalogue's use cases, for the CLI, the API and the pages alike (``channel`` tells them apart)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        referential: Callable[[], Referential] | None = None,
    ) -> None:
        self._sessions = session_factory
        self._settings = settings
        self._rules = CatalogueRules(settings, referential)

    # reads

    def _select(self, scope: AccessScope) -> Any:
        return (
            select(Source, Organisation.slug)
            .outerjoin(Organisation, Organisation.id == Source.org_id)
            .where(visible_clause(scope))
        )

    def list(
        self,
        scope: AccessScope,
        *,
        kind: str | None = None,
        health: str | None = None,
        tag: str | None = None,
        channel: str = "api",
    ) -> builtins.list[SourceView]:
        """The catalogue in the caller's sight, by title; optional filters on kind, health and one tag."""
        if kind is not None:
            self._rules.kind(kind)
        if health is not None and health not in HEALTHS:
            raise ValidationError(f"état inconnu {health!r} (attendu : {', '.join(HEALTHS)})")
        query = self._select(scope)
        if kind is not None:
            query = query.where(Source.kind == kind)
        if health is not None:
            query = query.where(Source.health == health)
        if tag:
            # tags are a JSON list: its text holds the JSON string of each tag
            query = query.where(cast(Source.tags, String).contains(json.dumps(tag.strip()), autoescape=True))
        with session_scope(self._sessions) as session:
            rows = [(s, slug) for s, slug in session.execute(query.order_by(Source.title, Source.id))]
            views = source_views(session, rows, utcnow())
            filters = {"kind": kind, "health": health, "tag": tag}
            audit.record(
                session,
                "source.list",
                audit.Actor.of_scope(scope, channel),
                target_kind="source",
                detail={"count": len(views), **{k: v for k, v in filters.items() if v}},
            )
        return views

    def _load(self, session: Session, scope: AccessScope, source_id: int) -> tuple[Source, str | None]:
        row = session.execute(self._select(scope).where(Source.id == source_id)).first()
        if row is None:
            raise NotFoundError(f"source inconnue : {source_id}")
        return row[0], row[1]

    def _loaded_view(self, session: Session, source: Source, slug: str | None) -> SourceView:
        return source_views(session, [(source, slug)], utcnow())[0]

    def get(self, scope: AccessScope, source_id: int, *, channel: str = "api") -> SourceView:
        """One source in the caller's sight (``NotFoundError`` otherwise), audited."""
        with session_scope(self._sessions) as session:
            source, slug = self._load(session, scope, source_id)
            view = self._loaded_view(session, source, slug)
            audit.record(
                session,
                "source.read",
                audit.Actor.of_scope(scope, channel),
                target_kind="source",
                target_id=str(source_id),
            )
        return view

    def _managed(self, session: Session, scope: AccessScope, source_id: int) -> tuple[Source, str | None]:
        require_manager(scope)
        source, slug = self._load(session, scope, source_id)
        if not may_manage(scope, source):
            raise PermissionDeniedError(
                f"la source {source_id} appartient à une autre organisation : seul un administrateur la gère"
            )
        return source, slug

    # writes

    def add(self, scope: AccessScope, spec: SourceSpec, channel: str) -> SourceView:
        """Catalogue one source, due for polling at once; a feed URL that answers HTML is discovered."""
        require_manager(scope)
        clean = self._rules.clean_spec(spec)
        discovery = None
        if clean["kind"] == "feed" and spec.discover:
            from ingest.feeds import parse_feed
            from veille.discovery import resolve_feed

            resolved = resolve_feed(clean["url"], self._settings)
            parsed = parse_feed(resolved.body, resolved.url)
            clean["url"] = self._rules.url(resolved.url)
            clean["title"] = clean.get("title") or parsed.title[:500]
            discovery = resolved.discovery()
        if clean["visibility"] == "organisation" and spec.org is None and scope.org_id is None:
            raise ValidationError("une source « organisation » demande une organisation propriétaire")
        with session_scope(self._sessions) as session:
            owner = owner_of(session, scope, spec.org)
            refuse_duplicate(session, scope, clean["url"])
            source = new_source(clean, owner, utcnow(), self._settings)
            session.add(source)
            session.flush()
            audit.record(
                session,
                "source.add",
                audit.Actor.of_scope(scope, channel),
                target_kind="source",
                target_id=str(source.id),
                detail={
                    "url": source.url,
                    "kind": source.kind,
                    "org_id": source.org_id,
                    "visibility": source.visibility,
                    **({"discovered_on": discovery["page_url"]} if discovery else {}),
                },
            )
            return source_view(source, owner.slug if owner else None, (0, 0), discovery)

    def update(self, scope: AccessScope, source_id: int, changes: dict[str, Any], channel: str) -> SourceView:
        """Change some fields (``FIELDS``); returns the source after the change. Audited with old/new."""
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise ValidationError(f"champ(s) non modifiable(s) : {', '.join(unknown)}")
        with session_scope(self._sessions) as session:
            source, slug = self._managed(session, scope, source_id)
            changed = apply_changes(session, scope, self._rules, source, changes)
            if "org" in changed:
                slug = session.scalar(select(Organisation.slug).where(Organisation.id == source.org_id))
            if changed:
                session.flush()
                audit.record(
                    session,
                    "source.update",
                    audit.Actor.of_scope(scope, channel),
                    target_kind="source",
                    target_id=str(source_id),
                    detail={"changed": changed},
                )
            return self._loaded_view(session, source, slug)

    def pause(self, scope: AccessScope, source_id: int, channel: str) -> SourceView:
        return self.update(scope, source_id, {"paused": True}, channel)

    def resume(self, scope: AccessScope, source_id: int, channel: str) -> SourceView:
        """Polling again, due at once."""
        return self.update(scope, source_id, {"paused": False}, channel)

    def remove(self, scope: AccessScope, source_id: int, channel: str) -> dict[str, Any]:
        """Delete the source and its poll records; its items stay, detached. Returns what was done."""
        with session_scope(self._sessions) as session:
            source, _slug = self._managed(session, scope, source_id)
            url = source.url
            result: Any = session.execute(
                update(Item).where(Item.source_id == source_id).values(source_id=None)
            )
            detached = result.rowcount
            session.execute(delete(SourcePoll).where(SourcePoll.source_id == source_id))
            session.delete(source)
            session.flush()
            audit.record(
                session,
                "source.remove",
                audit.Actor.of_scope(scope, channel),
                target_kind="source",
                target_id=str(source_id),
                detail={"url": url, "items_detached": int(detached or 0)},
            )
        return {"id": source_id, "url": url, "removed": True, "items_detached": int(detached or 0)}

    def activity(
        self, scope: AccessScope, source_id: int, *, polls: int = 20, items: int = 20, channel: str = "api"
    ) -> SourceActivity:
        """The last ``polls`` poll records and ``items`` items of a source in the caller's sight, audited.

        Items follow the items' own scope; rejected ones are left out except for curators and admins.
        """
        with session_scope(self._sessions) as session:
            self._load(session, scope, source_id)
            poll_rows = session.scalars(
                select(SourcePoll)
                .where(SourcePoll.source_id == source_id)
                .order_by(SourcePoll.started_at.desc(), SourcePoll.id.desc())
                .limit(max(0, polls))
            )
            item_query = select(Item).where(
                Item.source_id == source_id,
                scope.sql_clause(Item.visibility, Item.org_id, null().cast(Integer)),
            )
            if not scope.system and not scope.roles & MANAGER_ROLES:
                item_query = item_query.where(Item.curator_status != "rejected")
            item_rows = session.scalars(
                item_query.order_by(Item.fetched_at.desc(), Item.id.desc()).limit(max(0, items))
            )
            view = SourceActivity(
                polls=[poll_row(p) for p in poll_rows],
                items=[item_row(i) for i in item_rows],
            )
            audit.record(
                session,
                "source.activity",
                audit.Actor.of_scope(scope, channel),
                target_kind="source",
                target_id=str(source_id),
                detail={"polls": len(view.polls), "items": len(view.items)},
            )
        return view

    def authorize_poll(self, scope: AccessScope, source_id: int, channel: str) -> None:
        """Check the caller may have this source polled now (manager of it), and audit the request."""
        with session_scope(self._sessions) as session:
            self._managed(session, scope, source_id)
            audit.record(
                session,
                "source.poll",
                audit.Actor.of_scope(scope, channel),
                target_kind="source",
                target_id=str(source_id),
            )

    # preview and OPML

    def preview(self, scope: AccessScope, spec: SourceSpec, channel: str = "api") -> PreviewView:
        """Fetch the source once and show what it would yield (nothing is saved)."""
        require_manager(scope)
        clean = self._rules.clean_spec(spec)
        view = preview(clean["url"], clean["kind"], clean.get("config", {}), self._settings)
        with session_scope(self._sessions) as session:
            audit.record(
                session,
                "source.preview",
                audit.Actor.of_scope(scope, channel),
                target_kind="url",
                target_id=clean["url"][:64],
                detail={"url": clean["url"], "kind": clean["kind"], "entries": len(view.entries)},
            )
        return view

    def import_opml(
        self,
        scope: AccessScope,
        data: bytes,
        channel: str,
        *,
        org: int | str | None = None,
        visibility: str = "network",
    ) -> ImportReport:
        """Catalogue the feeds of an OPML file; each ends added, existing (same URL) or failed (reason)."""
        require_manager(scope)
        if len(data) > self._settings.max_feed_bytes:
            raise TooLargeError(
                f"fichier OPML trop volumineux ({len(data)} octets > {self._settings.max_feed_bytes})"
            )
        visibility = self._rules.clean_field("visibility", visibility)
        feeds = parse_opml(data)
        with session_scope(self._sessions) as session:
            owner = owner_of(session, scope, org)
            if visibility == "organisation" and owner is None:
                raise ValidationError("une source « organisation » demande une organisation propriétaire")
            report = import_feeds(
                session,
                scope,
                feeds,
                rules=self._rules,
                settings=self._settings,
                owner=owner,
                visibility=visibility,
            )
            audit.record(
                session,
                "source.import",
                audit.Actor.of_scope(scope, channel),
                target_kind="source",
                detail={
                    "added": [a["id"] for a in report.added],
                    "existing": len(report.existing),
                    "failed": len(report.failed),
                    "org_id": owner.id if owner else None,
                    "visibility": visibility,
                },
            )
        return report

    def export_opml(self, scope: AccessScope, *, channel: str = "api") -> bytes:
        """The feeds in the caller's sight as OPML 2.0 (pages and watches have no feed URL to export)."""
        query = self._select(scope).where(Source.kind == "feed").order_by(Source.title, Source.id)
        with session_scope(self._sessions) as session:
            feeds = [
                OpmlFeed(url=s.url, title=s.title, tags=list(s.tags or []), language=s.language)
                for s, _slug in session.execute(query)
            ]
            audit.record(
                session,
                "source.export",
                audit.Actor.of_scope(scope, channel),
                target_kind="source",
                detail={"count": len(feeds)},
            )
        return write_opml(feeds)
