"""An OPML file's feeds catalogued in one session: each ends added, existing (same URL) or failed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tfe.core.db import utcnow
from tfe.core.errors import ValidationError
from tfe.core.models import Organisation
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings
from veille.models import Source
from veille.opml import OpmlFeed
from veille.source_rules import CatalogueRules, SourceSpec, can_see
from veille.source_views import ImportReport
from veille.source_writes import new_source


def import_feeds(
    session: Session,
    scope: AccessScope,
    feeds: list[OpmlFeed],
    *,
    rules: CatalogueRules,
    settings: Settings,
    owner: Organisation | None,
    visibility: str,
) -> ImportReport:
    """Add the feeds not yet catalogued; a URL already there (or twice in the file) is reported existing."""
    report = ImportReport()
    now = utcnow()
    seen: dict[str, int | None] = {}
    for feed in feeds:
        try:
            clean = rules.clean_spec(
                SourceSpec(url=feed.url, title=feed.title[:500], tags=feed.tags, visibility=visibility)
            )
            clean["language"] = rules.language_or_none(feed.language)
        except ValidationError as exc:
            report.failed.append({"url": feed.url, "reason": exc.message})
            continue
        url = clean["url"]
        if url in seen:
            report.existing.append({"id": seen[url], "url": url})
            continue
        other = session.scalar(select(Source).where(Source.url == url))
        if other is not None:
            seen[url] = other.id if can_see(scope, other) else None
            report.existing.append({"id": seen[url], "url": url})
            continue
        source = new_source(clean, owner, now, settings)
        session.add(source)
        session.flush()
        seen[url] = source.id
        report.added.append({"id": source.id, "url": url, "title": source.title})
    return report
