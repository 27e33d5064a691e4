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
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Integer, String, case, cast, delete, false, func, null, or_, select, true, update
from sqlalchemy.orm import Session, sessionmaker

from taxonomy.referential import Referential
from tfe.core.db import session_scope, utcnow
from tfe.core.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    TooLargeError,
    ValidationError,
)
from tfe.core.models import Organisation
from tfe.core.netguard import check_url
from tfe.core.security import audit
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings
from veille.models import HEALTHS, SOURCE_KINDS, Item, Source, SourcePoll

__all__ = [
    "MANAGER_ROLES",
    "ImportReport",
    "PreviewView",
    "SourceActivity",
    "SourceService",
    "SourceSpec",
    "SourceView",
]

MANAGER_ROLES = frozenset({"curator", "admin"})
PREVIEW_ENTRIES = 10
_DEFAULT_INTERVAL_S = 3600

FIELDS = (
    "url",
    "kind",
    "title",
    "org",
    "visibility",
    "language",
    "sector_hints",
    "country_hints",
    "tags",
    "min_interval_s",
    "max_interval_s",
    "full_text",
    "paused",
    "auto_accept_threshold",
    "config",
)
SOURCE_VISIBILITIES = ("network", "organisation")
MIN_INTERVAL_FLOOR_S = 60
MAX_INTERVAL_CEILING_S = 7 * 86400
_CONFIG_KEYS: dict[str, frozenset[str]] = {
    "feed": frozenset(),
    "page": frozenset({"links", "title", "body", "date", "selector_type", "max_articles"}),
    "watch": frozenset({"selector", "selector_type"}),
}
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
_HINT_SCHEMES = {"sector_hints": ("naf",), "country_hints": ("country", "region")}
MAX_TAGS = 30


@dataclass
class SourceSpec:
    """What a caller asks to catalogue (or preview); ``org`` is an organisation id or slug."""

    url: str
    kind: str = "feed"
    title: str = ""
    org: int | str | None = None  # owner; the caller's organisation when absent
    visibility: str = "network"  # network: the shared catalogue; organisation: the owner's members only
    language: str | None = None
    sector_hints: list[str] = field(default_factory=list)  # NAF concept ids, codes or names
    country_hints: list[str] = field(default_factory=list)  # country or zone ids, codes or names
    min_interval_s: int | None = None
    max_interval_s: int | None = None
    full_text: bool = False
    paused: bool = False
    tags: list[str] = field(default_factory=list)
    auto_accept_threshold: float | None = None
    config: dict[str, Any] = field(default_factory=dict)  # page: links/title/body/date...; watch: selector
    discover: bool = True  # feed: an HTML page's advertised feed is catalogued instead of the page


def normalise_url(url: str) -> str:
    """The URL as catalogued: trimmed, scheme and host lowercased, default port and fragment dropped."""
    raw = (url or "").strip()
    if not raw:
        raise ValidationError("adresse (URL) manquante")
    if len(raw) > 2000 or any(c.isspace() for c in raw):
        raise ValidationError(f"adresse non valide : {raw[:200]}")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"adresse non valide : {raw[:200]} ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValidationError(f"seules les adresses http(s) sont acceptées : {raw[:200]}")
    if parts.username or parts.password:
        raise ValidationError(
            "une adresse de source ne peut pas contenir d'identifiants (utilisateur:mot de passe)"
        )
    host = (parts.hostname or "").lower()
    if not host:
        raise ValidationError(f"adresse sans nom d'hôte : {raw[:200]}")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def user_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """The part of a source's config its curators set (the poller's own state, e.g. a snapshot, left out)."""
    keys = _CONFIG_KEYS.get(kind, frozenset())
    return {k: v for k, v in (config or {}).items() if k in keys}


def interval_bounds(low: int | None, high: int | None, settings: Settings) -> tuple[int, int]:
    """Polling bounds for a new source: the given ones (checked) or the settings' defaults."""
    for name, value in (("min_interval_s", low), ("max_interval_s", high)):
        if value is not None:
            interval(name, value)
    if low is None:
        low = settings.poll_min_interval_s if high is None else min(settings.poll_min_interval_s, high)
    if high is None:
        high = max(settings.poll_max_interval_s, low)
    if low > high:
        raise ValidationError(f"intervalle minimal ({low} s) supérieur à l'intervalle maximal ({high} s)")
    return low, high


def interval(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} : un nombre entier de secondes est attendu")
    if not MIN_INTERVAL_FLOOR_S <= value <= MAX_INTERVAL_CEILING_S:
        raise ValidationError(
            f"{name} : entre {MIN_INTERVAL_FLOOR_S} s et {MAX_INTERVAL_CEILING_S} s (7 jours), pas {value}"
        )
    return value


class CatalogueRules:
    """Validation and normalisation of every field a caller may set on a source."""

    def __init__(self, settings: Settings, referential: Callable[[], Referential] | None) -> None:
        self._settings = settings
        self._referential = referential

    def url(self, value: Any) -> str:
        url = normalise_url(str(value or ""))
        check_url(url, allow_private=self._settings.fetch_allow_private)
        return url

    @staticmethod
    def kind(value: Any) -> str:
        if value not in SOURCE_KINDS:
            raise ValidationError(f"type de source inconnu {value!r} (attendu : {', '.join(SOURCE_KINDS)})")
        return str(value)

    @staticmethod
    def flag(name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError(f"{name} : oui/non (true/false) attendu")
        return value

    @staticmethod
    def threshold(value: Any) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValidationError("auto_accept_threshold : un nombre entre 0 et 1 (ou null) est attendu")
        return float(value)

    def language_or_none(self, value: Any) -> str | None:
        try:
            return self.clean_field("language", value)  # type: ignore[no-any-return]
        except ValidationError:
            return None

    def clean_field(self, name: str, value: Any) -> Any:
        if name == "title":
            title = " ".join(str(value or "").split())
            if len(title) > 500:
                raise ValidationError("titre : 500 caractères au plus")
            return title
        if name == "visibility":
            if value not in SOURCE_VISIBILITIES:
                raise ValidationError(
                    f"visibilité {value!r} non prise en charge (attendu : {', '.join(SOURCE_VISIBILITIES)})"
                )
            return value
        if name == "language":
            if value in (None, ""):
                return None
            language = str(value).strip().lower()
            if not _LANGUAGE.match(language):
                raise ValidationError(f"langue non valide : {str(value)[:20]} (code ISO 639, par ex. fr, en)")
            return language
        if name == "tags":
            return self._tags(value)
        if name in _HINT_SCHEMES:
            return self._hints(name, value)
        raise ValidationError(f"champ inconnu : {name}")

    @staticmethod
    def _strings(name: str, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise ValidationError(f"{name} : une liste est attendue")
        if not all(isinstance(v, str) for v in value):
            raise ValidationError(f"{name} : une liste de textes est attendue")
        return [" ".join(v.split()) for v in value if v.strip()]

    def _tags(self, value: Any) -> list[str]:
        tags: list[str] = []
        for tag in self._strings("tags", value):
            if "," in tag or len(tag) > 100:
                raise ValidationError(f"étiquette non valide : {tag[:100]} (100 caractères, sans virgule)")
            if tag not in tags:
                tags.append(tag)
        if len(tags) > MAX_TAGS:
            raise ValidationError(f"{MAX_TAGS} étiquettes au plus")
        return tags

    def _hints(self, name: str, value: Any) -> list[str]:
        referential = self._referential() if self._referential else None
        out: list[str] = []
        for hint in self._strings(name, value):
            found = None
            for scheme in _HINT_SCHEMES[name]:
                if referential is not None:
                    found = referential.resolve(hint, scheme)
                elif hint.startswith(scheme + ":"):
                    found = hint
                if found:
                    break
            if not found:
                what = "secteur" if name == "sector_hints" else "pays ou zone"
                raise ValidationError(f"{what} inconnu du référentiel : {hint[:100]}")
            if found not in out:
                out.append(found)
        return out

    def config(self, kind: str, given: Any, keep: dict[str, Any] | None = None) -> dict[str, Any]:
        """The kind's config, checked (required selector, selectors that compile, known keys only).

        ``keep``: the source's current config, whose internal keys (the poller's state) are carried over.
        """
        if given is None:
            given = {}
        if not isinstance(given, dict):
            raise ValidationError("config : un objet JSON est attendu")
        allowed = _CONFIG_KEYS[kind]
        unknown = sorted(set(given) - allowed)
        if unknown:
            raise ValidationError(
                f"config d'une source {kind} : clé(s) inconnue(s) {', '.join(unknown)}"
                + (f" (attendu : {', '.join(sorted(allowed))})" if allowed else " (aucune attendue)")
            )
        clean: dict[str, Any] = {}
        if kind == "page":
            from veille.crawl import validate_crawl_config

            clean = validate_crawl_config(given)
        elif kind == "watch":
            from veille.pagewatch import validate_watch_config

            clean = validate_watch_config(given)
        internal = {k: v for k, v in (keep or {}).items() if k not in allowed}
        return {**internal, **clean}

    def clean_spec(self, spec: SourceSpec) -> dict[str, Any]:
        """Every field of ``spec`` checked and normalised (the owner organisation is the service's job)."""
        kind = self.kind(spec.kind)
        clean: dict[str, Any] = {
            "url": self.url(spec.url),
            "kind": kind,
            "config": self.config(kind, spec.config),
            "full_text": self.flag("full_text", spec.full_text),
            "paused": self.flag("paused", spec.paused),
            "auto_accept_threshold": self.threshold(spec.auto_accept_threshold),
            "min_interval_s": spec.min_interval_s,
            "max_interval_s": spec.max_interval_s,
        }
        for name in ("title", "visibility", "language", "sector_hints", "country_hints", "tags"):
            clean[name] = self.clean_field(name, getattr(spec, name))
        interval_bounds(spec.min_interval_s, spec.max_interval_s, self._settings)
        return clean


def _preview(url: str, kind: str, config: dict[str, Any], settings: Settings) -> PreviewView:
    """Fetch once and describe what the source yields: a feed's entries, a listing's articles, a region."""
    if kind == "feed":
        from ingest.feeds import parse_feed
        from veille.discovery import resolve_feed

        resolved = resolve_feed(url, settings)
        parsed = parse_feed(resolved.body, resolved.url)
        entries = [
            {"title": e.title, "url": e.url, "published_at": _iso(e.published_at), "text": ""}
            for e in parsed.entries[:PREVIEW_ENTRIES]
        ]
        return PreviewView(
            url=resolved.url, kind=kind, title=parsed.title, entries=entries, discovery=resolved.discovery()
        )
    if kind == "page":
        from veille.crawl import crawl_listing

        crawled = crawl_listing(url, config, settings)
        entries = [
            {
                "title": a.title,
                "url": a.url,
                "published_at": _iso(a.published_at),
                "text": (a.text or "")[:500],
            }
            for a in crawled.articles[:PREVIEW_ENTRIES]
        ]
        return PreviewView(
            url=url, kind=kind, title="", entries=entries, errors=[str(e) for e in crawled.errors]
        )
    from veille.fetch import HTML_ACCEPT, fetch, make_client
    from veille.pagewatch import watch_region

    with make_client(settings) as client:
        page = fetch(client, url, settings, accept=HTML_ACCEPT, max_bytes=settings.max_page_bytes)
    if page.status >= 300:
        raise ValidationError(f"{url[:200]} : le serveur a répondu HTTP {page.status}")
    outcome = watch_region(page.body, page.url, config, None)
    entries = [{"title": "", "url": page.url, "published_at": None, "text": (outcome.text or "")[:2000]}]
    return PreviewView(url=page.url, kind=kind, title="", entries=entries, changed=bool(outcome.changed))


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class SourceView:
    """A catalogue entry as the caller may see it, with its health and its yield."""

    id: int
    url: str
    kind: str
    title: str
    org_id: int | None
    org_slug: str | None
    visibility: str
    language: str | None
    sector_hints: list[str]
    country_hints: list[str]
    tags: list[str]
    config: dict[str, Any]
    full_text: bool
    paused: bool
    auto_accept_threshold: float | None
    interval_s: int
    min_interval_s: int
    max_interval_s: int
    next_poll_at: dt.datetime | None
    last_polled_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_status: int | None
    last_error: str | None
    health: str
    failures: int
    items_total: int = 0
    items_per_day: float = 0.0
    discovery: dict[str, Any] | None = None  # set by ``add`` when the feed was found on an HTML page

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "kind": self.kind,
            "title": self.title,
            "org": {"id": self.org_id, "slug": self.org_slug} if self.org_id is not None else None,
            "visibility": self.visibility,
            "language": self.language,
            "sector_hints": list(self.sector_hints),
            "country_hints": list(self.country_hints),
            "tags": list(self.tags),
            "config": dict(self.config),
            "full_text": self.full_text,
            "paused": self.paused,
            "auto_accept_threshold": self.auto_accept_threshold,
            "interval_s": self.interval_s,
            "min_interval_s": self.min_interval_s,
            "max_interval_s": self.max_interval_s,
            "next_poll_at": _iso(self.next_poll_at),
            "last_polled_at": _iso(self.last_polled_at),
            "last_success_at": _iso(self.last_success_at),
            "last_status": self.last_status,
            "last_error": self.last_error,
            "health": self.health,
            "failures": self.failures,
            "items_total": self.items_total,
            "items_per_day": self.items_per_day,
            "discovery": self.discovery,
        }


@dataclass
class PreviewView:
    """What a source would yield now (fetched once, nothing saved)."""

    url: str
    kind: str
    title: str
    entries: list[dict[str, Any]] = field(default_factory=list)
    discovery: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    changed: bool | None = None  # watch: whether the region differs from the stored snapshot

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "kind": self.kind,
            "title": self.title,
            "entries": self.entries,
            "discovery": self.discovery,
            "errors": self.errors,
            "changed": self.changed,
        }


@dataclass(frozen=True)
class SourceActivity:
    """A source's recent history: its last polls and its last items in the caller's sight, newest first."""

    polls: list[dict[str, Any]]  # {started_at, status, http_status, new_items, bytes, duration_ms, error}
    items: list[dict[str, Any]]  # {id, title, url, published_at, fetched_at, curator_status}


@dataclass
class ImportReport:
    """An OPML import: sources added, already in the catalogue, and refused (with the reason)."""

    added: list[dict[str, Any]] = field(default_factory=list)  # {id, url, title}
    existing: list[dict[str, Any]] = field(default_factory=list)  # {id (null if not visible), url}
    failed: list[dict[str, Any]] = field(default_factory=list)  # {url, reason}

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "existing": self.existing, "failed": self.failed}


def require_manager(scope: AccessScope) -> None:
    """``PermissionDeniedError`` unless the caller may manage sources (curator, admin, system)."""
    if not scope.system and not scope.roles & MANAGER_ROLES:
        raise PermissionDeniedError(
            "gérer le catalogue de sources demande le rôle curateur ou administrateur"
        )


def may_manage(scope: AccessScope, source: Source) -> bool:
    if scope.system or scope.is_admin:
        return True
    return "curator" in scope.roles and source.org_id is not None and source.org_id == scope.org_id


def visible_clause(scope: AccessScope) -> Any:
    """The catalogue's read rule as a SQL condition on ``sources``."""
    if scope.system or scope.is_admin:
        return true()
    if not scope.authenticated:
        raise AuthenticationError("authentification requise pour lire le catalogue de sources")
    shared = Source.visibility.in_(("network", "public"))
    own = Source.org_id == scope.org_id if scope.org_id is not None else false()
    return or_(shared, own)


def _can_see(scope: AccessScope, source: Source) -> bool:
    if scope.system or scope.is_admin:
        return True
    return source.visibility in ("network", "public") or (
        scope.org_id is not None and source.org_id == scope.org_id
    )


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

    def _views(
        self, session: Session, rows: builtins.list[tuple[Source, str | None]], now: dt.datetime
    ) -> builtins.list[SourceView]:
        ids = [source.id for source, _ in rows]
        stats: dict[int, tuple[int, int]] = {}
        if ids:
            since = now - dt.timedelta(days=7)
            recent = func.sum(case((Item.fetched_at >= since, 1), else_=0))
            query = (
                select(Item.source_id, func.count(Item.id), recent)
                .where(Item.source_id.in_(ids))
                .group_by(Item.source_id)
            )
            stats = {sid: (int(total), int(last7 or 0)) for sid, total, last7 in session.execute(query)}
        return [self._view(source, slug, stats.get(source.id, (0, 0))) for source, slug in rows]

    @staticmethod
    def _view(
        source: Source, slug: str | None, stats: tuple[int, int], discovery: dict[str, Any] | None = None
    ) -> SourceView:
        return SourceView(
            id=source.id,
            url=source.url,
            kind=source.kind,
            title=source.title,
            org_id=source.org_id,
            org_slug=slug,
            visibility=source.visibility,
            language=source.language,
            sector_hints=[str(v) for v in source.sector_hints or []],
            country_hints=[str(v) for v in source.country_hints or []],
            tags=[str(v) for v in source.tags or []],
            config=user_config(source.kind, source.config or {}),
            full_text=source.full_text,
            paused=source.paused,
            auto_accept_threshold=source.auto_accept_threshold,
            interval_s=source.interval_s,
            min_interval_s=source.min_interval_s,
            max_interval_s=source.max_interval_s,
            next_poll_at=source.next_poll_at,
            last_polled_at=source.last_polled_at,
            last_success_at=source.last_success_at,
            last_status=source.last_status,
            last_error=source.last_error,
            health=source.health,
            failures=source.failures,
            items_total=stats[0],
            items_per_day=round(stats[1] / 7, 2),
            discovery=discovery,
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
        if kind is not None and kind not in SOURCE_KINDS:
            raise ValidationError(f"type de source inconnu {kind!r} (attendu : {', '.join(SOURCE_KINDS)})")
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
            views = self._views(session, rows, utcnow())
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
        return self._views(session, [(source, slug)], utcnow())[0]

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

    def _owner(self, session: Session, scope: AccessScope, org: int | str | None) -> Organisation | None:
        """The owner organisation: the caller's by default; another one for administrators only."""
        if org is None or org == "":
            return session.get(Organisation, scope.org_id) if scope.org_id is not None else None
        if isinstance(org, int) or str(org).isdigit():
            found = session.get(Organisation, int(org))
        else:
            found = session.scalar(select(Organisation).where(Organisation.slug == str(org).strip()))
        if found is None:
            raise ValidationError(f"organisation inconnue : {org}")
        if found.id != scope.org_id and not (scope.system or scope.is_admin):
            raise PermissionDeniedError(
                "seul un administrateur catalogue une source pour une autre organisation"
            )
        return found

    def _refuse_duplicate(
        self, session: Session, scope: AccessScope, url: str, own_id: int | None = None
    ) -> None:
        other = session.scalar(select(Source).where(Source.url == url))
        if other is None or other.id == own_id:
            return
        if _can_see(scope, other):
            raise ValidationError(f"source déjà au catalogue (id {other.id}) : {url}")
        raise ValidationError(f"source déjà au catalogue (d'une autre organisation) : {url}")

    def _new_source(self, clean: dict[str, Any], owner: Organisation | None, now: dt.datetime) -> Source:
        low, high = interval_bounds(clean.get("min_interval_s"), clean.get("max_interval_s"), self._settings)
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
            interval_s=min(max(_DEFAULT_INTERVAL_S, low), high),
            min_interval_s=low,
            max_interval_s=high,
            next_poll_at=now,
            health="unknown",
        )

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
            owner = self._owner(session, scope, spec.org)
            self._refuse_duplicate(session, scope, clean["url"])
            source = self._new_source(clean, owner, utcnow())
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
            return self._view(source, owner.slug if owner else None, (0, 0), discovery)

    def update(self, scope: AccessScope, source_id: int, changes: dict[str, Any], channel: str) -> SourceView:
        """Change some fields (``FIELDS``); returns the source after the change. Audited with old/new."""
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise ValidationError(f"champ(s) non modifiable(s) : {', '.join(unknown)}")
        with session_scope(self._sessions) as session:
            source, slug = self._managed(session, scope, source_id)
            changed = self._apply(session, scope, source, changes)
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

    def _apply(
        self, session: Session, scope: AccessScope, source: Source, changes: dict[str, Any]
    ) -> dict[str, Any]:
        rules = self._rules
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
            self._refuse_duplicate(session, scope, new["url"], own_id=source.id)
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
            if low > high:
                raise ValidationError(
                    f"intervalle minimal ({low} s) supérieur à l'intervalle maximal ({high} s)"
                )
            new["min_interval_s"], new["max_interval_s"] = low, high
            new["interval_s"] = min(max(source.interval_s, new["min_interval_s"]), new["max_interval_s"])
        if "org" in changes:
            owner = self._owner(session, scope, changes["org"])
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
                polls=[
                    {
                        "started_at": p.started_at,
                        "status": p.status,
                        "http_status": p.http_status,
                        "new_items": p.new_items,
                        "bytes": p.bytes,
                        "duration_ms": p.duration_ms,
                        "error": p.error,
                    }
                    for p in poll_rows
                ],
                items=[
                    {
                        "id": i.id,
                        "title": i.title,
                        "url": i.url,
                        "published_at": i.published_at,
                        "fetched_at": i.fetched_at,
                        "curator_status": i.curator_status,
                    }
                    for i in item_rows
                ],
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
        view = _preview(clean["url"], clean["kind"], clean.get("config", {}), self._settings)
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
        from veille.opml import parse_opml

        require_manager(scope)
        if len(data) > self._settings.max_feed_bytes:
            raise TooLargeError(
                f"fichier OPML trop volumineux ({len(data)} octets > {self._settings.max_feed_bytes})"
            )
        visibility = self._rules.clean_field("visibility", visibility)
        feeds = parse_opml(data)
        report = ImportReport()
        now = utcnow()
        with session_scope(self._sessions) as session:
            owner = self._owner(session, scope, org)
            if visibility == "organisation" and owner is None:
                raise ValidationError("une source « organisation » demande une organisation propriétaire")
            seen: dict[str, int | None] = {}
            for feed in feeds:
                try:
                    clean = self._rules.clean_spec(
                        SourceSpec(
                            url=feed.url, title=feed.title[:500], tags=feed.tags, visibility=visibility
                        )
                    )
                    clean["language"] = self._rules.language_or_none(feed.language)
                except ValidationError as exc:
                    report.failed.append({"url": feed.url, "reason": exc.message})
                    continue
                url = clean["url"]
                if url in seen:
                    report.existing.append({"id": seen[url], "url": url})
                    continue
                other = session.scalar(select(Source).where(Source.url == url))
                if other is not None:
                    seen[url] = other.id if _can_see(scope, other) else None
                    report.existing.append({"id": seen[url], "url": url})
                    continue
                source = self._new_source(clean, owner, now)
                session.add(source)
                session.flush()
                seen[url] = source.id
                report.added.append({"id": source.id, "url": url, "title": source.title})
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
        from veille.opml import OpmlFeed, write_opml

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
