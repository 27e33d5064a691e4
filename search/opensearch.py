"""``OpenSearchBackend``: the search backend on an OpenSearch cluster (opensearch-py), for when one machine
is not enough (``TFE_SEARCH_BACKEND=opensearch``, ``TFE_OPENSEARCH_URL``).

The cluster holds one index of passages (``search.opensearch_mapping``: French analysis, keyword facets,
a ``knn_vector`` field) behind the alias ``index`` (``rebuild`` fills a new generation and swaps the
alias, ``search.opensearch_maintenance``), without their texts: titles and texts stay sealed in the
passage store (``search.passage_store``, the main database) as with the embedded backend, and snippets
are cut from them (``search.opensearch_snippets``). Writes are journalled until ``commit``
(``search.opensearch_journal``), which writes the store first and then the cluster (bulk, refresh); a
commit the cluster refuses halfway leaves the store ahead of the index, which ``tfe reindex`` repairs.
Reads are ``search.opensearch_search`` and ``search.opensearch_lookup``: the scope inside every query and
aggregation, BM25 and kNN run separately and fused by ``search.fusion`` like the embedded backend. Every
call has a timeout (``timeout_s``); an unreachable, slow or failing cluster raises ``BackendError`` (503)
with a French message, and ``health`` reports the cluster's state (``/healthz``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from opensearchpy import OpenSearch, helpers
from opensearchpy import exceptions as os_errors

from search import opensearch_journal as journal
from search import opensearch_lookup as lookup
from search import opensearch_maintenance as maintenance
from search import opensearch_search as oss
from search.embeddings import DIM
from search.opensearch_mapping import ANALYZER, ANALYZERS, TEMPLATE, index_template, to_source
from search.passage_store import PassageStore
from search.types import Passage, SearchQuery, SearchResult
from tfe.core.errors import BackendError, ValidationError

log = logging.getLogger(__name__)

TIMEOUT_S = 5.0  # every request to the cluster
UNAVAILABLE = "Le moteur de recherche (OpenSearch) est indisponible pour le moment ; réessayez plus tard."
SCROLL_BATCH = 1000  # passages read from the cluster at a time (vectors, ids)
VECTOR_SEARCHES = ("knn", "exact")
FILTER_ENGINES = ("opensearch", "reference")  # the cluster's query, and the filter evaluated in Python


class OpenSearchBackend:
    """The cluster search backend (implements ``search.backend.SearchBackend``)."""

    filter_engines = FILTER_ENGINES

    def __init__(
        self,
        url: str,
        texts: PassageStore | None = None,
        *,
        index: str = "tfe-passages",
        timeout_s: float = TIMEOUT_S,
        analyzer: str = ANALYZER,
        replicas: int = 0,
        vector_search: str = "knn",
    ) -> None:
        """``analyzer``: ``tfe_french`` (production) or ``french`` (test servers that cannot run it);
        ``vector_search``: ``knn`` (the k-NN plugin's query) or ``exact`` (no plugin: scoped vectors read
        and ranked here, linear; small indexes and tests), see ``search.opensearch_search``."""
        if vector_search not in VECTOR_SEARCHES:
            raise ValueError(
                f"unknown vector search {vector_search!r}; use one of {', '.join(VECTOR_SEARCHES)}"
            )
        self.vector_search = vector_search
        if analyzer not in ANALYZERS:
            raise ValueError(f"unknown analyzer {analyzer!r}; use one of {', '.join(ANALYZERS)}")
        self.url, self.index, self.timeout_s, self.analyzer = url, index, timeout_s, analyzer
        self.replicas = replicas
        self.texts = texts if texts is not None else PassageStore.in_memory()
        self.client = OpenSearch(hosts=[url], timeout=timeout_s, max_retries=0, retry_on_timeout=False)
        self.lock = threading.RLock()
        self._ops: list[journal.Op] = []
        self._ready = False
        self._seq = time.time_ns() // 1000

    # ------------------------------------------------------------------ cluster calls
    @contextmanager
    def calling(self, what: str) -> Iterator[None]:
        """Map the client's failures to ``BackendError`` (503, French message); details go to the log."""
        try:
            yield
        except os_errors.ConnectionTimeout as e:
            log.warning("opensearch %s: timed out after %.1f s", what, self.timeout_s)
            raise BackendError(UNAVAILABLE + " (délai dépassé)") from e
        except os_errors.ConnectionError as e:
            log.warning("opensearch %s: unreachable (%s)", what, type(e).__name__)
            raise BackendError(UNAVAILABLE) from e
        except os_errors.TransportError as e:
            log.error("opensearch %s failed: status=%s error=%s", what, e.status_code, e.error)
            raise BackendError(UNAVAILABLE + f" (erreur {e.status_code})") from e

    def ensure_index(self) -> None:
        """Create the index template and the index when the cluster has neither."""
        if self._ready:
            return
        with self.calling("index setup"):
            if not self.client.indices.exists(index=self.index):
                body = index_template(f"{self.index}-*", self.analyzer, self.replicas)
                self.client.indices.put_index_template(name=self.template, body=body)
                self.client.indices.create(index=self.generation(), body={"aliases": {self.index: {}}})
            else:
                self._add_facet_fields()
        self._ready = True

    def _add_facet_fields(self) -> None:
        """Add facet keyword fields a newer version introduced (``f_filieres``, ``f_signals``) to an index
        created before them (its mapping is strict); adding fields is backward compatible."""
        body = index_template(f"{self.index}-*", self.analyzer, self.replicas)
        wanted = {k: v for k, v in body["template"]["mappings"]["properties"].items() if k.startswith("f_")}
        try:
            self.client.indices.put_index_template(name=self.template, body=body)
            self.client.indices.put_mapping(index=self.index, body={"properties": wanted})
        except os_errors.TransportError as e:  # an older cluster copy keeps working for the old facets
            log.warning("could not add facet fields to %s: %s", self.index, e)

    @property
    def template(self) -> str:
        return f"{TEMPLATE}-{self.index}"

    def generation(self) -> str:
        """A new concrete index name behind the alias ``index`` (``rebuild`` swaps generations)."""
        return f"{self.index}-{time.time_ns()}"

    def search_raw(self, body: dict[str, Any], what: str = "search") -> dict[str, Any]:
        self.ensure_index()
        with self.calling(what):
            return self.client.search(index=self.index, body=body, request_timeout=self.timeout_s)  # type: ignore[no-any-return]

    def health(self) -> dict[str, Any]:
        """``{"state": "ok"|"error", ...}`` for ``/healthz`` (never raises)."""
        try:
            with self.calling("health"):
                info = self.client.cluster.health(request_timeout=self.timeout_s)
            return {
                "state": "ok" if info.get("status") in ("green", "yellow") else "error",
                "cluster": info.get("status"),
            }
        except BackendError:
            return {"state": "error", "cluster": None}

    # ------------------------------------------------------------------ writes
    def write(self, passages: list[Passage]) -> int:
        for p in passages:
            if p.embedding is not None and np.asarray(p.embedding).size != DIM:
                raise ValidationError(f"passage {p.id}: embedding must have {DIM} dimensions")
        with self.lock:
            self._ops.extend(("upsert", p) for p in passages)
        return len(passages)

    def delete_parent(self, parent_id: str) -> int:
        with self.lock:
            n = len(
                journal.live_ids(self.ids_where({"term": {"parent_id": parent_id}}), self._ops, parent_id)
            )
            self._ops.append(("delete_parent", parent_id))
            return n

    def delete(self, ids: list[str]) -> None:
        with self.lock:
            self._ops.extend(("delete_id", i) for i in ids)

    def set_embeddings(self, ids: list[str], vectors: object) -> None:
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)
        with self.lock:
            self._ops.extend(("embed", (pid, vec.copy())) for pid, vec in zip(ids, matrix, strict=True))

    def commit(self) -> None:
        """The store first (one transaction), then the cluster in journal order, then a refresh."""
        with self.lock:
            ops, self._ops = self._ops, []
            if not ops:
                return
            self.ensure_index()
            puts, dead_ids, dead_parents = journal.store_effect(ops)
            self.texts.write(puts, delete_ids=dead_ids, delete_parents=dead_parents)
            actions: list[dict[str, Any]] = []
            for kind, arg in ops:
                if kind == "upsert":
                    actions.append(self.index_action(arg))
                elif kind == "delete_id":
                    actions.append({"_op_type": "delete", "_index": self.index, "_id": arg})
                elif kind == "embed":
                    actions.append({"embed": arg})
                else:
                    self.bulk(actions)
                    actions = []
                    with self.calling("delete"):
                        self.client.delete_by_query(
                            index=self.index,
                            body={"query": {"term": {"parent_id": arg}}},
                            refresh=True,
                            conflicts="proceed",
                            request_timeout=self.timeout_s,
                        )
            self.bulk(actions)
            with self.calling("refresh"):
                self.client.indices.refresh(index=self.index, request_timeout=self.timeout_s)

    def index_action(self, p: Passage, index: str | None = None) -> dict[str, Any]:
        self._seq += 1
        source = to_source(p, self._seq)
        return {"_op_type": "index", "_index": index or self.index, "_id": p.id, "_source": source}

    def bulk(self, actions: list[dict[str, Any]]) -> None:
        """Index, delete and embed actions in order (an embed re-indexes the stored passage with its
        vector: the cluster keeps no text to update in place)."""
        if not actions:
            return
        embeds = {a["embed"][0]: a["embed"][1] for a in actions if "embed" in a}
        stored = self.texts.get(list(embeds)) if embeds else {}
        ready: list[dict[str, Any]] = []
        for a in actions:
            if "embed" not in a:
                ready.append(a)
            elif a["embed"][0] in stored:
                p = stored[a["embed"][0]]
                p.embedding = a["embed"][1]
                ready.append(self.index_action(p))
        with self.calling("bulk"):
            _ok, errors = helpers.bulk(
                self.client, ready, raise_on_error=False, request_timeout=self.timeout_s * 4
            )
        failed = [e for e in errors if not ("delete" in e and e["delete"].get("status") == 404)]
        if failed:
            log.error("opensearch bulk: %d actions failed, first: %s", len(failed), failed[0])
            raise BackendError(UNAVAILABLE + f" ({len(failed)} écritures refusées)")

    def index_passages(self, passages: list[Passage]) -> None:
        """Write passages (their vectors included) straight to the cluster, not to the store
        (``search.opensearch_migrate``: the store already holds them)."""
        self.ensure_index()
        self.bulk([self.index_action(p) for p in passages])

    # ------------------------------------------------------------------ reads
    def ids_where(self, query: dict[str, Any], source: list[str] | None = None) -> list[str]:
        return [h["_id"] for h in self.hits_where(query, source or [])]

    def hits_where(self, query: dict[str, Any], source: list[str], limit: int | None = None) -> list[Any]:
        """Every hit of ``query`` in write order (``search_after`` pages of ``SCROLL_BATCH``)."""
        out: list[Any] = []
        after: list[Any] | None = None
        while limit is None or len(out) < limit:
            size = SCROLL_BATCH if limit is None else min(SCROLL_BATCH, limit - len(out))
            body: dict[str, Any] = {
                "query": query,
                "size": size,
                "_source": source or False,
                "sort": [{"seq": "asc"}, {"id": "asc"}],
                "track_total_hits": False,
            }
            if after is not None:
                body["search_after"] = after
            hits = self.search_raw(body, "read")["hits"]["hits"]
            out.extend(hits)
            if len(hits) < size:
                break
            after = hits[-1]["sort"]
        return out

    def count(self) -> int:
        return self._count({"match_all": {}})

    def _count(self, query: dict[str, Any]) -> int:
        self.ensure_index()
        with self.calling("count"):
            return int(self.client.count(index=self.index, body={"query": query})["count"])

    def count_missing_embeddings(self) -> int:
        return self._count({"term": {"has_vec": False}})

    def missing_embeddings(self, limit: int = 1000) -> list[Passage]:
        ids = [h["_id"] for h in self.hits_where({"term": {"has_vec": False}}, [], limit=limit)]
        found = self.texts.get(ids)
        return [found[i] for i in ids if i in found]

    def parent_vector(self, parent_id: str) -> np.ndarray | None:
        hits = self.hits_where({"term": {"parent_id": parent_id}}, ["embedding"])
        vecs = [h["_source"]["embedding"] for h in hits if h.get("_source", {}).get("embedding")]
        if not vecs:
            return None
        mean = np.asarray(vecs, dtype=np.float32).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return (mean / norm).astype(np.float32) if norm > 0 else None

    def filter_ids(self, filters: dict[str, Any] | None, engine: str = "opensearch") -> list[str]:
        """Committed passages matching a Haystack filter as the cluster selects them, or as the reference
        mask (``search.columns``) evaluates it on the stored meta (the parity tests compare them)."""
        return lookup.filter_ids(self, filters, engine)

    def search(self, query: SearchQuery) -> SearchResult:
        return oss.search(self, query)

    def spelling(self, query: SearchQuery) -> str | None:
        return lookup.spelling(self, query)

    # ------------------------------------------------------------------ maintenance
    def erase_parents(self, parent_ids: list[str]) -> dict[str, Any]:
        return maintenance.erase_parents(self, parent_ids)

    def rebuild(
        self, *, keep_vectors: bool = True, progress: Callable[[int], None] | None = None
    ) -> dict[str, Any]:
        return maintenance.rebuild(self, keep_vectors=keep_vectors, progress=progress)

    def drop(self) -> None:
        """Delete the index (every generation behind the alias) and its template (tests, operators)."""
        maintenance.drop(self)

    def pending(self) -> int:
        """Uncommitted operations."""
        return len(self._ops)

    def forget_index(self) -> None:
        """The index is gone (``drop``): the next call creates it again."""
        self._ready = False

    def close(self) -> None:
        with self.lock:
            if self._ops:
                log.warning("closing search backend with %d uncommitted operations", len(self._ops))
                self._ops = []
            self.client.close()
