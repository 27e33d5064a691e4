"""The source catalogue's rules: what a caller may ask (``SourceSpec``), how each field is checked and
normalised (``CatalogueRules``, ``normalise_url``, polling bounds), and who may read or manage a source.

Reading needs an authenticated caller: members see the network's sources and their organisation's; the
national agency's administrators see every source (``visible_clause``, ``can_see``). Managing needs the
``curator`` or ``admin`` role, for sources owned by the caller's organisation; the national agency's
administrators manage every source (``require_manager``, ``may_manage``, ``AccessScope.manages_network``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import false, or_, true

from taxonomy.referential import Referential
from tfe.core.errors import AuthenticationError, PermissionDeniedError, ValidationError
from tfe.core.netguard import check_url
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings
from veille.models import SOURCE_KINDS, Source

MANAGER_ROLES = frozenset({"curator", "admin"})
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
    return ordered_bounds(low, high)


def ordered_bounds(low: int, high: int) -> tuple[int, int]:
    """``(low, high)``, refused when the minimal interval exceeds the maximal one."""
    if low > high:
        raise ValidationError(f"intervalle minimal ({low} s) supérieur à l'intervalle maximal ({high} s)")
    return low, high


def interval(name: str, value: Any) -> int:
    """One polling bound, checked: whole seconds between the floor and the ceiling."""
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


def require_manager(scope: AccessScope) -> None:
    """``PermissionDeniedError`` unless the caller may manage sources (curator, admin, system)."""
    if not scope.system and not scope.roles & MANAGER_ROLES:
        raise PermissionDeniedError(
            "gérer le catalogue de sources demande le rôle curateur ou administrateur"
        )


def may_manage(scope: AccessScope, source: Source) -> bool:
    """National administrators manage every source; curators and administrators their organisation's."""
    if scope.manages_network:
        return True
    return bool(scope.roles & MANAGER_ROLES) and source.org_id is not None and source.org_id == scope.org_id


def visible_clause(scope: AccessScope) -> Any:
    """The catalogue's read rule as a SQL condition on ``sources``."""
    if scope.manages_network:
        return true()
    if not scope.authenticated:
        raise AuthenticationError("authentification requise pour lire le catalogue de sources")
    shared = Source.visibility.in_(("network", "public"))
    own = Source.org_id == scope.org_id if scope.org_id is not None else false()
    return or_(shared, own)


def can_see(scope: AccessScope, source: Source) -> bool:
    if scope.manages_network:
        return True
    return source.visibility in ("network", "public") or (
        scope.org_id is not None and source.org_id == scope.org_id
    )
