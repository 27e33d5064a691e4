"""``SearchService``: the search use case the API, the pages and the CLI call; the ``GET /api/search`` shape.

``run`` is the audited use case (one ``search`` event per query, with the caller's channel); ``search``
is the same query unaudited, for internal callers (evaluation, tests).

It validates paging and mode, embeds the query, asks the backend (which applies the caller's scope
inside its query) and turns concept ids into labels with the injected ``labeler`` (the integrator
passes ``Referential.load().label``; search sits below nothing that would let it import taxonomy rules).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from search import query_syntax, understanding
from search.backend import SearchBackend
from search.embeddings import Embedder
from search.filters import FIELD_FACET
from search.orgs import org_facet, org_ids
from search.types import SORTS, Hit, SearchQuery
from tfe.core.errors import ValidationError
from tfe.core.security import audit
from tfe.core.security.scope import AccessScope

log = logging.getLogger(__name__)

MODES = ("hybrid", "bm25", "vector")
MAX_LIMIT = 100
MAX_OFFSET = 10_000  # the deepest page a caller may ask for (hits to skip)
MAX_QUERY_CHARS = query_syntax.MAX_CHARS  # longer query text is refused (400)
SIMILAR_LIMIT = 50  # more like this: neighbours per request, at most
NO_VECTOR = "pas encore de vecteur"  # more like this: why the list is empty (the parent is not embedded yet)
BROWSE_SUGGESTIONS = 3  # sectors offered to browse when a query finds nothing and nothing else helps
# Spelling is offered for keyword queries of up to this many words (each word counts: one unknown word
# already loses the exact match), and for longer questions only when they find nothing.
SPELLING_WORDS = 3
FILTER_SUGGESTIONS = 3  # recognised concepts offered as filters (« Filtrer sur : Production de vin »)

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # a typed document field's name
LANGUAGE = re.compile(r"^[a-z]{2,3}$")  # an ISO 639 code, as the normaliser detects it
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DOCUMENT_STATUSES = ("draft", "in_review", "validated", "archived")  # ged.models.STATUSES
LANGUAGE_LABELS = {
    "fr": "français",
    "en": "anglais",
    "de": "allemand",
    "es": "espagnol",
    "it": "italien",
    "pt": "portugais",
    "nl": "néerlandais",
    "zh": "chinois",
    "ja": "japonais",
    "ar": "arabe",
    "ru": "russe",
}

Labeler = Callable[[str], str]
Resolver = Callable[[str, str], "str | None"]  # (user value, scheme) -> concept id

# Which concept schemes a facet filter value may name ("11", "Allemagne", "Europe", "quote_template").
FACET_SCHEMES = {"sector": ("naf",), "country": ("country", "region"), "type": ("doctype",),
                 "filiere": ("filiere",), "signal": ("signal",)}


@dataclass(frozen=True)
class SearchParams:
    """One search request as every channel states it (filters are codes, names or concept ids)."""

    q: str = ""
    sector: tuple[str, ...] = ()
    country: tuple[str, ...] = ()
    type: tuple[str, ...] = ()
    limit: int = 10
    offset: int = 0
    mode: str = "hybrid"
    # typed document fields (``field.currency=EUR``): (name, accepted keyword values) pairs
    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # typed document fields to count per value (a facet): (name, candidate keyword values) pairs
    field_facets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    org: tuple[str, ...] = ()  # organisation slugs or ids (``run`` resolves them)
    language: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    sort: str = "relevance"
    date_from: str | None = None  # ISO day (YYYY-MM-DD), inclusive
    date_to: str | None = None
    filiere: tuple[str, ...] = ()  # filières (ids or names; a filière selects its sous-filières)
    signal: tuple[str, ...] = ()  # watch signals (``signal:tender``, ...)

    def __post_init__(self) -> None:
        # control characters (NUL included) never reach the backends, the database or the audit trail
        object.__setattr__(self, "q", query_syntax.clean(self.q) if isinstance(self.q, str) else "")

    def audit_detail(self) -> dict[str, Any]:
        return {
            "q": self.q,
            "sector": list(self.sector),
            "country": list(self.country),
            "type": list(self.type),
            "mode": self.mode,
            "limit": self.limit,
            "offset": self.offset,
            **({"fields": {name: list(values) for name, values in self.fields}} if self.fields else {}),
            **{k: list(v) for k, v in (("org", self.org), ("language", self.language)) if v},
            **({"status": list(self.status)} if self.status else {}),
            **{k: list(v) for k, v in (("filiere", self.filiere), ("signal", self.signal)) if v},
            **({"sort": self.sort} if self.sort != "relevance" else {}),
            **{k: v for k, v in (("date_from", self.date_from), ("date_to", self.date_to)) if v},
        }


def _suggestion(kind: str, label: str, q: str, filters: dict[str, list[str]], total: int) -> dict[str, Any]:
    """One suggestion: its kind and label, the query text and filters to send (as given), its total."""
    return {
        "kind": kind,
        "label": label,
        "q": q,
        "sector": list(filters.get("sector", [])),
        "country": list(filters.get("country", [])),
        "type": list(filters.get("type", [])),
        "facet": None,
        "total": total,
    }


def parse_day(name: str, value: str | date | None) -> date | None:
    """An ISO day (``YYYY-MM-DD``) or ``None``; anything else is a ``ValidationError`` naming ``name``."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str) and DAY.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationError(f"{name} must be an ISO date (YYYY-MM-DD), not {str(value)[:40]!r}")


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


class SearchService:
    """Scoped, labelled search over one backend."""

    def __init__(
        self,
        backend: SearchBackend,
        embedder: Embedder | None,
        labeler: Labeler | None = None,
        resolver: Resolver | None = None,
        recogniser: understanding.Recogniser | None = None,
    ) -> None:
        """``recogniser``: the taxonomy concepts a query text names (``taxonomy.query_concepts``; the
        integrator passes the current referential's), for boosts, synonyms and filter suggestions."""
        self.backend = backend
        self.embedder = embedder
        self.labeler = labeler
        self.resolver = resolver
        self.recogniser = recogniser

    def _resolve(self, facet: str, values: list[str]) -> list[str]:
        """Filter values as concept ids: codes, names and ids are accepted; unknown ones are an error."""
        if self.resolver is None:
            return values
        out: list[str] = []
        for value in values:
            found = next(
                (cid for scheme in FACET_SCHEMES[facet] if (cid := self.resolver(value, scheme))), None
            )
            if found is None:
                raise ValidationError(f"unknown {facet} {value!r}")
            out.append(found)
        return out

    def _label(self, concept_id: str) -> str:
        if self.labeler is None:
            return concept_id
        try:
            label = self.labeler(concept_id)
        except Exception:  # an unknown or retired concept must not break a search
            log.debug("no label for concept id=%s", concept_id)
            return concept_id
        return label or concept_id

    def _facet_label(self, facet: str, value: str) -> str:
        if facet == "org":
            return value  # ``run`` names them (``with_org_names``)
        if facet == "language":
            return LANGUAGE_LABELS.get(value, value)
        return self._label(value)

    def _concepts(self, ids: Iterable[str]) -> list[dict[str, str]]:
        return [{"id": cid, "label": self._label(cid)} for cid in ids]

    def run(
        self, session: Session, scope: AccessScope, actor: audit.Actor, params: SearchParams
    ) -> dict[str, Any]:
        """Search as ``scope`` sees the index and record the query (``search``) in the audit trail.

        ``params.org`` may name organisations by slug or id; the ``org`` facet answers slugs and names."""
        params = replace(params, org=self.org_ids(session, scope, params.org))
        result = self.search(
            params.q,
            scope,
            sector=params.sector,
            country=params.country,
            type=params.type,
            limit=params.limit,
            offset=params.offset,
            mode=params.mode,
            fields=dict(params.fields),
            field_facets=dict(params.field_facets),
            org=params.org,
            language=params.language,
            status=params.status,
            sort=params.sort,
            date_from=params.date_from,
            date_to=params.date_to,
            filiere=params.filiere,
            signal=params.signal,
        )
        result = with_org_names(session, result)
        audit.record(
            session,
            "search",
            actor,
            target_kind="search",
            detail={**params.audit_detail(), "total": result["total"]},
        )
        return result

    def search(
        self,
        text: str,
        scope: AccessScope,
        *,
        sector: Iterable[str] = (),
        country: Iterable[str] = (),
        type: Iterable[str] = (),
        limit: int = 10,
        offset: int = 0,
        mode: str = "hybrid",
        fields: Mapping[str, Iterable[str]] | None = None,
        field_facets: Mapping[str, Iterable[str]] | None = None,
        org: Iterable[str] = (),
        language: Iterable[str] = (),
        status: Iterable[str] = (),
        sort: str = "relevance",
        date_from: str | date | None = None,
        date_to: str | date | None = None,
        filiere: Iterable[str] = (),
        signal: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Search as ``scope`` sees the index; ``sector``/``country``/``type``/``filiere``/``signal`` are
        concept ids or names (OR within).

        ``fields``: typed document field name -> accepted keyword values (OR within, AND across), as
        the caller normalised them (``ged.field_schema``; search does not know the schemas).
        ``field_facets``: field name -> candidate values to count (``field_facets`` in the answer: one
        count per value with the query's other filters, that field's own filter replaced by the value;
        one backend count each, so callers ask for the few values of one type's choice fields).
        ``org``: organisation ids (``run`` resolves slugs); ``language``: ISO 639 codes; ``status``: document
        statuses; ``sort``: relevance, date (newest first) or date_asc; ``date_from``/``date_to``: ISO
        days bounding the document's or item's date, both inclusive."""
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}")
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
            raise ValidationError(f"offset must be between 0 and {MAX_OFFSET}")
        if mode not in MODES:
            raise ValidationError(f"mode must be one of {', '.join(MODES)}")
        if sort not in SORTS:
            raise ValidationError(f"sort must be one of {', '.join(SORTS)}")
        day_from, day_to = parse_day("date_from", date_from), parse_day("date_to", date_to)
        if day_from and day_to and day_from > day_to:
            raise ValidationError("date_from must not be after date_to")
        text = query_syntax.clean(text) if isinstance(text, str) else ""
        if len(text) > MAX_QUERY_CHARS:
            raise ValidationError(f"q must be at most {MAX_QUERY_CHARS} characters, not {len(text)}")
        # phrases and exclusions mean what they say: no neighbours by meaning, no synonyms, no corrections
        exact = bool(text) and query_syntax.has_operators(text)
        if exact and mode == "hybrid":
            mode = "bm25"
        if text and not query_syntax.has_words(text):
            mode = "bm25"  # signs only: nothing to look for, nothing to embed
        given = {"sector": _as_list(sector), "country": _as_list(country), "type": _as_list(type)}
        extra = {"filiere": _as_list(filiere), "signal": _as_list(signal)}  # not part of suggestions
        filters = {name: self._resolve(name, values) for name, values in extra.items() if values}
        filters |= {name: self._resolve(name, values) for name, values in given.items() if values}
        for name, values in (fields or {}).items():
            if not FIELD_NAME.match(name):
                raise ValidationError(f"unknown document field {name!r}")
            if _as_list(values):
                filters[f"{FIELD_FACET}{name}"] = _as_list(values)
        filters.update(_checked(_as_list(org), _as_list(language), _as_list(status)))
        embedding = None
        if text and mode in ("hybrid", "vector"):
            if self.embedder is None:
                mode = "bm25"  # no model configured: keyword search still answers
            else:
                embedding = self.embedder.query(text)
        query = SearchQuery(
            text=text,
            scope=scope,
            filters=filters,
            limit=limit,
            offset=offset,
            mode=mode,  # type: ignore[arg-type]
            query_embedding=embedding,
            sort=sort,  # type: ignore[arg-type]
            date_from=day_from,
            date_to=day_to,
        )
        # keyword queries: unknown words corrected before the search (the corrections are expansions)
        corrected = self.backend.spelling(query) if text and len(text.split()) <= SPELLING_WORDS else None
        understood = understanding.understand(
            text, None if exact else self.recogniser, None if exact else corrected
        )
        query = replace(query, boosts=understood.boosts, expansions=understood.expansions)
        result = self.backend.search(query)
        counted = self._field_counts(query, field_facets) if field_facets else {}
        return {
            **({"field_facets": counted} if field_facets else {}),
            "total": result.total,
            "hits": [self._hit(h) for h in result.hits],
            "facets": {
                name: [
                    {"id": value, "label": self._facet_label(name, value), "count": count}
                    for value, count in counts
                ]
                for name, counts in result.facets.items()
            },
            "suggestions": self._suggestions(query, result.total, given, corrected, understood),
            "understood": understood.public(self._label),
        }

    def _field_counts(
        self, query: SearchQuery, field_facets: Mapping[str, Iterable[str]]
    ) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for name, values in field_facets.items():
            if not FIELD_NAME.match(name):
                raise ValidationError(f"unknown document field {name!r}")
            key = f"{FIELD_FACET}{name}"
            counts = [
                {"id": value, "count": self._count(replace(query, filters={**query.filters, key: [value]}))}
                for value in dict.fromkeys(_as_list(values))
            ]
            out[name] = [c for c in counts if c["count"]]
        return out

    # ------------------------------------------------------------------ suggestions
    def org_ids(self, session: Session, scope: AccessScope, values: Iterable[str]) -> tuple[str, ...]:
        """The ``org`` filter's values (slugs or ids) as organisation ids, among those the caller may name:
        their own and those of which they may see a document or item (one scoped count each, archives
        included); the national agency names any. Any other is « unknown organisation », as one that
        does not exist: the answer does not tell which slugs exist."""
        return org_ids(session, values, visible=lambda ids: self._visible_orgs(scope, ids))

    def _visible_orgs(self, scope: AccessScope, ids: list[str]) -> set[str]:
        if scope.system or scope.national:
            return set(ids)
        own = {str(scope.org_id)} if scope.org_id is not None else set()
        probe = SearchQuery(text="", scope=scope.with_archived(), limit=1, mode="bm25", explain=False)
        return own | {
            oid for oid in ids if oid not in own and self._count(replace(probe, filters={"org": [oid]}))
        }

    def _count(self, query: SearchQuery) -> int:
        return self.backend.search(replace(query, limit=1, offset=0, explain=False, totals_only=True)).total

    def _understood(self, query: SearchQuery, text: str) -> SearchQuery:
        """``query`` for another text, with that text's boosts and expansions (no spelling)."""
        found = understanding.understand(text, self.recogniser)
        vector = query.query_embedding if text else None
        return replace(
            query, text=text, boosts=found.boosts, expansions=found.expansions, query_embedding=vector
        )

    def _suggestions(
        self,
        query: SearchQuery,
        total: int,
        given: dict[str, list[str]],
        corrected: str | None = None,
        understood: understanding.Understood | None = None,
    ) -> list[dict[str, Any]]:
        """What to try next, each with the parameters to send and how many results it gives (> 0).

        ``spelling``: the query with its unknown words corrected from the vocabulary the caller may see
        (keyword queries, or any query that finds nothing); when nothing matches, ``remove_filter``: the
        query without one of its facet filters (all the values of that facet: they are OR-ed), and
        ``browse``: the sectors most represented in what the caller may see (when nothing else helps);
        ``filter``: a concept the query names (``understood``) as a real filter, its words left out of
        the text (not for a facet the query already filters). ``corrected``: the keyword query's
        spelling, already asked for. Every count runs as the caller, inside their scope.
        """
        out: list[dict[str, Any]] = []
        short = len(query.text.split()) <= SPELLING_WORDS
        if not short and not total and query.text:
            corrected = self.backend.spelling(query)
        if corrected:
            n = self._count(replace(self._understood(query, corrected), mode="bm25", query_embedding=None))
            if n:
                out.append(_suggestion("spelling", corrected, corrected, given, n))
        out += self._filter_suggestions(query, given, corrected, understood)
        if total:
            return out
        for facet, values in given.items():
            if not values:
                continue
            # values of one facet are OR-ed: only dropping all of them widens the result set
            rest = {**given, facet: []}
            n = self._count(replace(query, filters={k: v for k, v in query.filters.items() if k != facet}))
            if n:
                label = " ou ".join(self._label(cid) for cid in query.filters[facet])
                out.append({**_suggestion("remove_filter", label, query.text, rest, n), "facet": facet})
        if not out:
            browse = self.backend.search(SearchQuery(text="", scope=query.scope, limit=1))
            for concept_id, n in browse.facets.get("sector", [])[:BROWSE_SUGGESTIONS]:
                out.append(
                    {
                        **_suggestion("browse", self._label(concept_id), "", {"sector": [concept_id]}, n),
                        "facet": "sector",
                    }
                )
        return out

    def _filter_suggestions(
        self,
        query: SearchQuery,
        given: dict[str, list[str]],
        corrected: str | None,
        understood: understanding.Understood | None,
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        base = corrected if understood and understood.corrections and corrected else query.text
        for c in (understood.concepts if understood else ())[:FILTER_SUGGESTIONS]:
            if given.get(c.facet) or query.filters.get(c.facet):
                continue  # a facet the query already filters
            rest = " ".join(f"{base[: c.start]} {base[c.end :]}".split())
            filters = {**query.filters, c.facet: [c.concept_id]}
            n = self._count(replace(self._understood(query, rest), filters=filters))
            if n:
                wanted = {**given, c.facet: [c.concept_id]}
                label = self._label(c.concept_id)
                out.append({**_suggestion("filter", label, rest, wanted, n), "facet": c.facet})
        return out

    def _hit(self, hit: Hit) -> dict[str, Any]:
        meta = hit.meta
        kind = str(meta.get("kind") or "document")
        url = f"/documents/{hit.parent_id}" if kind == "document" else f"/items/{hit.parent_id}"
        source = str(meta.get("url") or "")
        sectors = _as_list(meta.get("sector_facet")) or _as_list(meta.get("sectors"))
        doc_type = meta.get("doc_type")
        return {
            "id": hit.parent_id,
            "title": hit.title,
            "snippet": hit.snippet,
            "score": round(float(hit.score), 6),
            "type": {"id": str(doc_type), "label": self._label(str(doc_type))} if doc_type else None,
            "sectors": self._concepts(sectors),
            "countries": self._concepts(_as_list(meta.get("countries"))),
            "url": url,
            "source_url": source if source.startswith(("https://", "http://")) else None,
            "kind": kind,
            "date": str(meta["date"]) if meta.get("date") else None,
            "language": str(meta["language"]) if meta.get("language") else None,
            "explanation": self._explanation(hit.explanation),
        }

    def _explanation(self, explanation: dict[str, Any] | None) -> dict[str, Any] | None:
        """The backend's explanation (``search.types.Hit``) with a label on each matched concept."""
        if explanation is None:
            return None
        concepts = [
            {**c, "label": self._facet_label(str(c["facet"]), str(c["id"]))}
            for c in explanation.get("concepts", [])
        ]
        return {**explanation, "concepts": concepts}

    # ------------------------------------------------------------------ more like this
    def similar(self, parent_id: str, scope: AccessScope, *, limit: int = 10) -> dict[str, Any]:
        """More like this: the documents and items nearest ``parent_id`` by meaning (its passages' mean
        vector), in ``scope`` (inside the backend query), the parent itself left out; hits as ``search``'s.
        Callers check first that the caller may see the parent. ``reason``: why the list is empty when
        the parent has no vector yet (``NO_VECTOR``), else ``None``. Unaudited: the caller records it."""
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= SIMILAR_LIMIT:
            raise ValidationError(f"limit must be between 1 and {SIMILAR_LIMIT}")
        vector = self.backend.parent_vector(parent_id)
        if vector is None:
            return {"total": 0, "hits": [], "reason": NO_VECTOR}
        query = SearchQuery(
            text="",
            scope=scope,
            mode="vector",
            query_embedding=vector,
            limit=limit,
            exclude_parents=(parent_id,),
        )
        result = self.backend.search(query)
        return {"total": result.total, "hits": [self._hit(h) for h in result.hits], "reason": None}


def _checked(org: list[str], language: list[str], status: list[str]) -> dict[str, list[str]]:
    """The organisation, language and status filters, each value checked (unknown ones are errors)."""
    for value in org:
        if not (value.isascii() and value.isdigit()):
            raise ValidationError(f"unknown organisation {value!r}")
    for value in language:
        if not LANGUAGE.match(value):
            raise ValidationError(f"unknown language {value[:40]!r} (an ISO 639 code such as fr or en)")
    for value in status:
        if value not in DOCUMENT_STATUSES:
            raise ValidationError(
                f"unknown status {value[:40]!r} (expected one of {', '.join(DOCUMENT_STATUSES)})"
            )
    given = {"org": org, "language": language, "status": status}
    return {name: list(dict.fromkeys(values)) for name, values in given.items() if values}


def with_org_names(session: Session, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with its ``org`` facet's ids as organisation slugs and names."""
    facets = result.get("facets") or {}
    if "org" not in facets:
        return result
    return {**result, "facets": {**facets, "org": org_facet(session, facets["org"])}}
