"""Checks of what a subscriber asks for: query text, facet values, sources, channels, webhook address.

An alert runs unattended, so what the search page forgives is refused here with a clear
``ValidationError`` (400): a query Tantivy's parser cannot read (an unbalanced quote or parenthesis, a
dangling ``AND``), a sector, country, zone or document type the taxonomy does not know (named in the
message), a source the subscriber cannot see, a channel that cannot work (e-mail without an address),
a webhook URL that is not http(s), resolves to a private address (unless ``fetch_allow_private``) or
points at the platform itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

import tantivy
from sqlalchemy import select
from sqlalchemy.orm import Session

from search import tantivy_index
from taxonomy.referential import Referential
from tfe.core.errors import ValidationError
from tfe.core.models import User
from tfe.core.netguard import check_url
from tfe.core.security.scope import AccessScope
from tfe.core.settings import Settings
from veille.alerts.models import CHANNELS
from veille.catalogue import visible_clause
from veille.models import Source

__all__ = [
    "FACET_SCHEMES",
    "check_channels",
    "check_choice",
    "check_query",
    "check_sources",
    "check_webhook_url",
    "resolve_facets",
]

# facet -> (schemes its values may name, French word for messages)
FACET_SCHEMES: dict[str, tuple[tuple[str, ...], str]] = {
    "sector": (("naf",), "secteur"),
    "country": (("country", "region"), "pays ou zone"),
    "type": (("doctype",), "type de document"),
    "filiere": (("filiere",), "filière"),
    "signal": (("signal",), "signal"),
}
MAX_SOURCES = 50
_parser_index: tantivy.Index | None = None


def _parser() -> tantivy.Index:
    """An empty in-memory index with the search index's schema and analyzer, used only to parse."""
    global _parser_index
    if _parser_index is None:
        index = tantivy.Index(tantivy_index.build_schema())
        index.register_tokenizer(tantivy_index.ANALYZER, tantivy_index.french_analyzer())
        _parser_index = index
    return _parser_index


def check_query(text: str) -> str:
    """The query text, trimmed, if the search syntax parses (same escaping as the search index)."""
    clean = (text or "").strip()
    if not clean:
        return clean
    escaped = clean.replace("\\", " ").replace(":", " ")
    try:
        _parser().parse_query(escaped, tantivy_index.TEXT_FIELDS)
    except ValueError as exc:
        raise ValidationError(
            f"requête illisible : {clean[:200]!r} (guillemet, parenthèse ou opérateur AND/OR/NOT mal placé)"
        ) from exc
    return clean


def check_choice(name: str, value: str, allowed: Iterable[str]) -> str:
    options = tuple(allowed)
    if value not in options:
        raise ValidationError(f"{name} inconnu(e) : {value!r} (valeurs possibles : {', '.join(options)})")
    return value


def resolve_facets(referential: Referential, filters: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Facet values (codes, names or concept ids) as concept ids; an unknown value is named in the error."""
    out: dict[str, list[str]] = {}
    for facet, values in filters.items():
        if facet not in FACET_SCHEMES:
            raise ValidationError(f"filtre inconnu : {facet!r}")
        schemes, word = FACET_SCHEMES[facet]
        ids: list[str] = []
        for value in values:
            value = (value or "").strip()
            if not value:
                continue
            found = next((cid for s in schemes if (cid := referential.resolve(value, s))), None)
            if found is None:
                raise ValidationError(f"{word} inconnu : {value!r}")
            if found not in ids:
                ids.append(found)
        out[facet] = ids
    return out


def check_sources(session: Session, scope: AccessScope, source_ids: Iterable[int]) -> list[int]:
    """Source ids the subscriber can see (an unknown or hidden one is refused alike)."""
    wanted = list(dict.fromkeys(int(s) for s in source_ids))
    if len(wanted) > MAX_SOURCES:
        raise ValidationError(f"au plus {MAX_SOURCES} sources par alerte")
    if not wanted:
        return []
    found = set(session.scalars(select(Source.id).where(Source.id.in_(wanted), visible_clause(scope))))
    missing = [s for s in wanted if s not in found]
    if missing:
        raise ValidationError(f"source inconnue : {missing[0]}")
    return wanted


def check_channels(channels: Iterable[str], owner: User) -> list[str]:
    """Known channels, without repeats, at least one; e-mail needs the subscriber's address."""
    clean = list(dict.fromkeys(c.strip().lower() for c in channels if c and c.strip()))
    if not clean:
        raise ValidationError("choisissez au moins un canal (email, atom ou webhook)")
    for channel in clean:
        check_choice("canal", channel, CHANNELS)
    if "email" in clean and "@" not in (owner.email or ""):
        raise ValidationError("le canal e-mail demande une adresse e-mail sur votre compte")
    return clean


def check_webhook_url(url: str | None, settings: Settings) -> str:
    """A webhook URL that is http(s), public (unless allowed) and not the platform's own address."""
    raw = (url or "").strip()
    if not raw:
        raise ValidationError("le canal webhook demande une adresse (webhook_url)")
    if len(raw) > 2000:
        raise ValidationError("adresse de webhook trop longue")
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https"):
        raise ValidationError(f"le webhook doit être une adresse http(s) : {raw[:200]}")
    own = urlsplit(settings.public_url).hostname
    if parts.hostname and own and parts.hostname.lower() == own.lower():
        raise ValidationError("le webhook ne peut pas viser la plateforme elle-même")
    check_url(raw, allow_private=settings.fetch_allow_private)  # UnsafeURLError is a ValidationError
    return raw
