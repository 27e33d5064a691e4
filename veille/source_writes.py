"""The catalogue's write steps inside one session: the owner organisation, the one-URL-once rule, a new
``Source`` row from checked fields, and a change set applied to a source (returning what changed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tfe.core.db import utcnow
from tfe.core.errors import PermissionDeniedError, ValidationError
from tfe.core.models import Organisation
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings
from veille.models import Source
from veille.source_rules import (
    CatalogueRules,
    can_see,
    interval,
    interval_bounds,
    ordered_bounds,
    user_config,
)

DEFAULT_INTERVAL_S = 3600


def owner_of(session: Session, scope: AccessScope, org: int | str | None) -> Organisation | None:
    """The owner organisation: the caller's by default; another one for administrators only."""
    if org is None or org == "":
        return session.get(Organisation, scope.org_id) if scope.org_id is not None else None
    if isinstance(org, int) or str(org).isdigit():
        found = session.get(Organisation, int(org))
    else:
        found = session.scalar(select(Organisation).where(Organisation.slug == str(org).strip()))
    if found is None:
        raise ValidationError(f"organisation inconnue : {org}")
    if found.id != scope.org_id and not scope.manages_network:
        raise PermissionDeniedError(
            "seul un administrateur de l'agence nationale catalogue une source pour une autre organisation"
        )
    return found


def refuse_duplicate(session: Session, scope: AccessScope, url: str, own_id: int | None = None) -> None:
    """``ValidationError`` when another source has this URL (its id only if the caller sees it)."""
    other = session.scalar(select(Source).where(Source.url == url))
    if other is None or other.id == own_id:
        return
    if can_see(scope, other):
        raise ValidationError(f"source déjà au catalogue (id {other.id}) : {url}")
    raise ValidationError(f"source déjà au catalogue (d'une autre organisation) : {url}")


def new_source(
    clean: dict[str, Any], owner: Organisation | None, now: dt.datetime, settings: Settings
) -> Source:
    """A source row from checked fields (``CatalogueRules.clean_spec``), due for polling at ``now``."""
    low, high = interval_bounds(clean.get("min_interval_s"), clean.get("max_interval_s"), settings)
    return Source(
        url=clean["url"],
        kind=clean["kind"],
        title=clean.get("title", ""),
        org_id=owner.id if owner else None,
        visibility=clean["visibility"],
        language=clean.get("language"),
        sector_hints=clean.get("sector_hints", []),
        country_hints=clean.get("country_hints", []),
        tags=clean.get("tags", []),
        config=clean.get("config", {}),
        full_text=clean.get("full_text", False),
        paused=clean.get("paused", False),
        auto_accept_threshold=clean.get("auto_accept_threshold"),
        interval_s=min(max(DEFAULT_INTERVAL_S, low), high),
        min_interval_s=low,
        max_interval_s=high,
        next_poll_at=now,
        health="unknown",
    )


def apply_changes(
    session: Session, scope: AccessScope, rules: CatalogueRules, source: Source, changes: dict[str, Any]
) -> dict[str, Any]:
    """Check ``changes`` and set them on ``source``; returns ``{field: [old, new]}`` for what differs."""
    now = utcnow()
    new: dict[str, Any] = {}
    for name in ("title", "visibility", "language", "sector_hints", "country_hints", "tags"):
        if name in changes:
            new[name] = rules.clean_field(name, changes[name])
    for name in ("full_text", "paused"):
        if name in changes:
            new[name] = rules.flag(name, changes[name])
    if "auto_accept_threshold" in changes:
        new["auto_accept_threshold"] = rules.threshold(changes["auto_accept_threshold"])
    if "url" in changes:
        new["url"] = rules.url(changes["url"])
        refuse_duplicate(session, scope, new["url"], own_id=source.id)
    kind = rules.kind(changes.get("kind", source.kind))
    if "kind" in changes or "config" in changes:
        new["kind"] = kind
        given = changes.get("config", user_config(source.kind, source.config or {}))
        new["config"] = rules.config(kind, given, keep=source.config if kind == source.kind else None)
    if "min_interval_s" in changes or "max_interval_s" in changes:
        low = source.min_interval_s
        high = source.max_interval_s
        if "min_interval_s" in changes:
            low = interval("min_interval_s", changes["min_interval_s"])
        if "max_interval_s" in changes:
            high = interval("max_interval_s", changes["max_interval_s"])
        new["min_interval_s"], new["max_interval_s"] = ordered_bounds(low, high)
        new["interval_s"] = min(max(source.interval_s, new["min_interval_s"]), new["max_interval_s"])
    if "org" in changes:
        owner = owner_of(session, scope, changes["org"])
        new["org_id"] = owner.id if owner else None
    changed: dict[str, Any] = {}
    for name, value in new.items():
        old = getattr(source, name)
        if old != value:
            changed["org" if name == "org_id" else name] = [old, value] if name != "config" else "…"
            setattr(source, name, value)
    if "url" in changed:  # a new address: fresh validators, due at once, health unknown again
        source.etag = source.last_modified = None
        source.failures, source.health, source.next_poll_at = 0, "unknown", now
    if changed.get("paused") and source.paused is False:
        source.next_poll_at = now
    return changed
