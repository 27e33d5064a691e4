"""Match a batch of new items and documents against many subscriptions at once, through the search backend.

The batch: watch items accepted or auto-accepted (never ``new``, never ``rejected``) whose decision falls in
the run's window, and validated documents indexed in it (``document_candidates``, by ``meta.indexed_at``).
Their passages are read back from the installation's backend (what search really indexed, with its ACL
metadata) and written into a *candidate index*: an ``EmbeddedBackend`` in a temporary directory holding that
batch only. Every subscription's query then runs through the ordinary ``SearchBackend.search`` (or, for a
subscription without text, the backend's filter engine ``filter_ids``), with the subscriber's access scope
and facet filters *inside* the query, as any search: the same analyzer, filter grammar and ACL rule.
Restricting the index to the batch is what an id filter would do, and it makes each query cost what the
batch costs, not what the whole corpus does. The query itself is ``CandidateIndex.match_parents``:
``search``'s filter and parsed text in one Tantivy query, returning parent ids from fast fields (no ranking,
snippets or documents read), held to ``search`` by the tests.

To hold for thousands of subscriptions:

- subscriptions with the same text, facets and *effective* scope run one query (``ScopeClass``): two users of
  one organisation with the same role see exactly the same candidates unless one of them owns a private
  candidate (then that user's scope is their own class), so the query runs once with one of their scopes;
- a subscription without text is a filter only: the vector table's row mask (numpy), no text ranking;
- text is matched strictly: every word of a plain query must occur (stemmed, accent-folded, stop words
  ignored), whatever its length, so an alert never fires on one common word of a long query; queries written
  with search syntax (quotes, ``OR``, ``+``/``-``, parentheses) are passed to the parser as they are.

Facet values are resolved to concept ids with the referential (codes, names or ids); a value that resolves
to nothing makes the subscription match nothing (and says so in ``MatchRequest.problem``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import tantivy
from sqlalchemy import select
from sqlalchemy.orm import Session

from search import tantivy_index as ti
from search.backend import FilterEngines, SearchBackend
from search.embedded import EmbeddedBackend
from search.filters import check, combine, facet_filter, visible_filter
from search.service import FACET_SCHEMES
from search.tantivy_filters import filter_query
from search.types import Passage, SearchQuery
from tfe.core.errors import ConfigurationError
from tfe.core.security.scope import AccessScope
from veille.models import Item

__all__ = [
    "ACCEPTED",
    "Candidate",
    "CandidateBatch",
    "MatchRequest",
    "ScopeClass",
    "alert_text",
    "document_candidates",
    "item_candidates",
    "read_passages",
    "resolve_filters",
]

log = logging.getLogger(__name__)

ACCEPTED = ("accepted", "auto_accepted")
_PASSAGE_PROBE = 8  # passage positions read per parent at first (items have one or two)
_GET_BATCH = 2000  # passage ids per ``get`` call
_SYNTAX = re.compile(r'["()\[\]{}*~^]|(^|\s)[+-]\S|\b(AND|OR|NOT)\b')
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Candidate:
    """One new item (its story, when it has one) or one new document, with its indexed passages."""

    parent_id: str
    kind: str  # "item" | "document"
    at: dt.datetime  # decision time (items) or time indexed (documents), aware UTC
    story_id: str | None = None
    passages: tuple[Passage, ...] = ()
    source_id: int | None = None  # items: their source (the ``source`` filter is applied on it)


@dataclass
class MatchRequest:
    """One subscription's query: text, facet filters (concept ids), the subscriber's scope now."""

    subscription_id: int
    text: str
    filters: dict[str, list[str]]
    scope: AccessScope
    kinds: frozenset[str] = frozenset({"item"})  # "item", "document"
    since: dt.datetime | None = None  # only candidates after this instant (aware UTC)
    problem: str | None = None  # why it can match nothing (an unknown facet value)


@dataclass(frozen=True)
class ScopeClass:
    """What makes two scopes select the same candidates (see the module docstring)."""

    org_id: int | None
    roles: frozenset[str]
    system: bool
    owner: int | None  # the user id, only when that user owns a private candidate

    @classmethod
    def of(cls, scope: AccessScope, private_owners: set[int]) -> ScopeClass:
        owner = scope.user_id if scope.user_id in private_owners else None
        anonymous = scope.user_id is None and scope.org_id is None
        return cls(scope.org_id, scope.roles, scope.system, -1 if anonymous else owner)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def alert_text(text: str) -> str:
    """The query text an alert runs: every word required for a plain query, search syntax kept as is."""
    clean = " ".join((text or "").split())
    if not clean or _SYNTAX.search(clean):
        return clean
    return " ".join(f"+{w}" for w in _WORD.findall(clean))


def resolve_filters(
    filters: dict[str, Any], resolve: Callable[[str, str], str | None]
) -> tuple[dict[str, list[str]], str | None]:
    """Saved facet values (codes, names, ids) as concept ids; the first unresolvable value as a problem."""
    out: dict[str, list[str]] = {}
    for facet, values in (filters or {}).items():
        schemes = FACET_SCHEMES.get(facet)
        if schemes is None:
            return {}, f"facette inconnue {facet!r}"
        ids: list[str] = []
        for value in values or ():
            found = next((cid for scheme in schemes if (cid := resolve(str(value), scheme))), None)
            if found is None:
                return {}, f"valeur inconnue {value!r} pour {facet}"
            if found not in ids:
                ids.append(found)
        if ids:
            out[facet] = ids
    return out, None


# -- the batch -----------------------------------------------------------------------------------------


def item_candidates(
    session: Session, since: dt.datetime, until: dt.datetime
) -> list[tuple[str, str | None, dt.datetime]]:
    """(item id, story id, decided at) of the items accepted or auto-accepted in ``(since, until]``."""
    rows = session.execute(
        select(Item.id, Item.story_id, Item.decided_at)
        .where(
            Item.curator_status.in_(ACCEPTED),
            Item.decided_at.is_not(None),
            Item.decided_at > since,
            Item.decided_at <= until,
        )
        .order_by(Item.decided_at, Item.id)
    ).all()
    return [(r[0], r[1], _utc(r[2]) or until) for r in rows]


def _getter(backend: SearchBackend) -> Callable[[list[str]], list[Passage]]:
    get = getattr(backend, "get", None)
    if not callable(get):
        raise ConfigurationError("the search backend cannot read passages back by id (alerts need it)")
    return get  # type: ignore[no-any-return]


def read_passages(backend: SearchBackend, parent_ids: Iterable[str]) -> dict[str, list[Passage]]:
    """The indexed passages of each parent (ids ``parent:position``), read back from the backend."""
    get = _getter(backend)
    out: dict[str, list[Passage]] = {}
    pending = list(dict.fromkeys(parent_ids))
    start = 0
    while pending:
        wanted = [f"{pid}:{i}" for pid in pending for i in range(start, start + _PASSAGE_PROBE)]
        found: list[Passage] = []
        for i in range(0, len(wanted), _GET_BATCH):
            found.extend(get(wanted[i : i + _GET_BATCH]))
        counts: dict[str, int] = {}
        for p in found:
            out.setdefault(p.parent_id, []).append(p)
            counts[p.parent_id] = counts.get(p.parent_id, 0) + 1
        pending = [pid for pid in pending if counts.get(pid, 0) == _PASSAGE_PROBE]
        start += _PASSAGE_PROBE
    return out


def _between(path: str, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
    return [
        {"field": path, "operator": ">", "value": since.isoformat()},
        {"field": path, "operator": "<=", "value": until.isoformat()},
    ]


def document_candidates(backend: SearchBackend, since: dt.datetime, until: dt.datetime) -> list[Candidate]:
    """Validated documents that entered the index in ``(since, until]``, with their passages.

    A document's time is ``meta.indexed_at`` (written by the ingest writer): a document uploaded today with
    a 2019 date is news today. Passages indexed before that field existed fall back to their ``date``
    (publication, else last modification). Only ``meta.status == "validated"`` is sent: drafts and archived
    documents never are, nor passages without a status (indexed before it was written: every document
    then was a draft). The ledger keeps a document from being sent twice.
    """
    if not isinstance(backend, FilterEngines):
        return []
    flt = {
        "operator": "AND",
        "conditions": [
            {"field": "meta.kind", "operator": "==", "value": "document"},
            {"field": "meta.status", "operator": "==", "value": "validated"},
            {
                "operator": "OR",
                "conditions": [
                    {"operator": "AND", "conditions": _between("meta.indexed_at", since, until)},
                    {
                        "operator": "AND",
                        "conditions": [
                            {"field": "meta.indexed_at", "operator": "==", "value": None},
                            *_between("meta.date", since, until),
                        ],
                    },
                ],
            },
        ],
    }
    ids = backend.filter_ids(flt, backend.filter_engines[0])
    passages = _getter(backend)(ids)
    by_parent: dict[str, list[Passage]] = {}
    for p in passages:
        by_parent.setdefault(p.parent_id, []).append(p)
    out = []
    for parent_id, group in by_parent.items():
        meta = group[0].meta
        when = _parse(meta.get("indexed_at")) or _parse(meta.get("date")) or until
        out.append(Candidate(parent_id, "document", when, None, tuple(group)))
    return out


def _parse(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _utc(dt.datetime.fromisoformat(value))
    except ValueError:
        return None


# -- matching ----------------------------------------------------------------------------------------


class CandidateIndex(EmbeddedBackend):
    """The embedded backend over one batch, with one more read: the parents a query selects, ids only.

    ``match_parents`` is ``search`` without ranking, grouping, facets or snippets: the same filter
    (``visible_filter(scope)`` AND the facets, translated by ``search.tantivy_filters``) *inside* the same
    Tantivy query as the same parsed text (every term required), returning the parent ids from the index's
    fast fields instead of reading documents. ``tests/veille/test_matching.py`` holds it to ``search``.
    """

    def match_parents(self, text: str, scope: AccessScope, filters: dict[str, list[str]]) -> list[str]:
        flt = combine(visible_filter(scope), facet_filter(filters))
        if flt is not None:
            check(flt)
        with self._lock:
            self._maybe_reload()
            searcher = self._index.searcher()
            n = int(searcher.num_docs)
            if n == 0:
                return []
            query = filter_query(self._index, flt)
            if text:
                words = ti.text_query(self._index, text, conjunction=True)
                query = tantivy.Query.boolean_query(
                    [
                        (tantivy.Occur.Must, words),
                        (tantivy.Occur.Must, tantivy.Query.const_score_query(query, 0.0)),
                    ]
                )
            addrs = [a for _s, a in searcher.search(query, limit=n, count=False).hits]
            if not addrs:
                return []
            keys = np.asarray(searcher.fast_field_values("key", addrs), dtype=np.int64)
            rows = self._table.rows_for_keys(keys)
            ids = self._table.ids
            return list(dict.fromkeys(ids[r].rsplit(":", 1)[0] for r in rows.tolist() if r >= 0))


@dataclass
class _Group:
    text: str
    filters: dict[str, list[str]]
    scope: AccessScope
    members: list[MatchRequest] = field(default_factory=list)


class CandidateBatch:
    """The candidate index of one run; ``match(requests)`` → subscription id → matched parent ids.

    A context manager: the temporary index is removed on exit.
    """

    def __init__(self, candidates: Sequence[Candidate], workdir: Path | None = None) -> None:
        self.candidates = {c.parent_id: c for c in candidates}
        self._dir = Path(tempfile.mkdtemp(prefix="tfe-alerts-", dir=workdir))
        self._backend: CandidateIndex | None = None
        self.queries = 0  # backend queries run (the grouped count; for the bench)
        self.private_owners = {
            int(owner)
            for c in candidates
            for p in c.passages
            if p.meta.get("visibility") == "private" and isinstance(owner := p.meta.get("owner_user_id"), int)
        }
        passages = [
            Passage(p.id, p.parent_id, p.title, p.text, p.position, dict(p.meta), None)
            for c in candidates
            for p in c.passages
        ]
        if passages:
            self._backend = CandidateIndex(self._dir)
            self._backend.write(passages)
            self._backend.commit()

    def __enter__(self) -> CandidateBatch:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def match(self, requests: Iterable[MatchRequest]) -> dict[int, list[str]]:
        """Matched candidate parent ids per subscription (within its kinds and window), oldest first."""
        out: dict[int, list[str]] = {}
        groups: dict[tuple[Any, ...], _Group] = {}
        for req in requests:
            out[req.subscription_id] = []
            if req.problem is not None or self._backend is None:
                continue
            text = alert_text(req.text)
            key = (
                text,
                tuple(sorted((k, tuple(sorted(v))) for k, v in req.filters.items())),
                ScopeClass.of(req.scope, self.private_owners),
            )
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(text, req.filters, req.scope)
            group.members.append(req)
        for group in groups.values():
            matched = self._run(group)
            for req in group.members:
                out[req.subscription_id] = self._within(matched, req)
        return out

    def _within(self, matched: list[str], req: MatchRequest) -> list[str]:
        since = _utc(req.since)
        kept = []
        for parent_id in matched:
            cand = self.candidates.get(parent_id)
            if cand is None or cand.kind not in req.kinds:
                continue
            if since is not None and cand.at <= since:
                continue
            kept.append(parent_id)
        kept.sort(key=lambda pid: (self.candidates[pid].at, pid))
        return kept

    def _run(self, group: _Group) -> list[str]:
        backend = self._backend
        assert backend is not None
        self.queries += 1
        return backend.match_parents(group.text, group.scope, group.filters)

    def search_parents(self, req: MatchRequest) -> list[str]:
        """The same match through the backend's full ``search`` (BM25, every hit with its snippet): the
        reference ``match_parents`` is held to, and ten times slower."""
        backend = self._backend
        if backend is None:
            return []
        text = alert_text(req.text)
        if not text:
            flt = combine(visible_filter(req.scope), facet_filter(req.filters))
            return list(dict.fromkeys(pid.rsplit(":", 1)[0] for pid in backend.filter_ids(flt, "vectors")))
        query = SearchQuery(text, req.scope, req.filters, limit=max(1, len(self.candidates)), mode="bm25")
        return list(dict.fromkeys(h.parent_id for h in backend.search(query).hits))
