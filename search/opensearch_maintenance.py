"""Maintenance of the OpenSearch index: rebuild from the passage store, GDPR erasure, drop.

The backend's index name is an alias over one concrete index (a *generation*, ``<index>-<ns>``). A
rebuild fills a new generation from the passage store (vectors carried over from the current one unless
told not to), then swaps the alias in one ``_aliases`` call and deletes the old generation: searches see
the old index until the swap and the whole new one after, and a rebuild that fails leaves the old one in
place. Erasure deletes the parents' passages (store, then cluster) and expunges the deleted documents
from the segments (``_forcemerge?only_expunge_deletes``), so no term of theirs stays in the index files.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tfe.core.errors import BackendError

if TYPE_CHECKING:
    from search.opensearch import OpenSearchBackend

BATCH = 1000


def generations(b: OpenSearchBackend) -> list[str]:
    """The concrete indices behind the alias (one, except during a swap)."""
    with b.calling("aliases"):
        if not b.client.indices.exists_alias(name=b.index):
            return []
        return sorted(b.client.indices.get_alias(name=b.index))


def erase_parents(b: OpenSearchBackend, parent_ids: list[str]) -> dict[str, Any]:
    t0 = time.perf_counter()
    parents = list(dict.fromkeys(str(p) for p in parent_ids))
    with b.lock:
        b.commit()
        erased = set(b.texts.ids_of_parents(parents))
        erased |= set(b.ids_where({"terms": {"parent_id": parents}})) if parents else set()
        for parent in parents:
            b.delete_parent(parent)
        b.commit()
        with b.calling("forcemerge"):
            b.client.indices.forcemerge(
                index=b.index, only_expunge_deletes=True, request_timeout=b.timeout_s * 12
            )
    return {
        "parents": len(parents),
        "passages": len(erased),
        "passages_left": b.count(),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def rebuild(
    b: OpenSearchBackend, *, keep_vectors: bool = True, progress: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """A new generation from the store, then the alias swapped (returns the ``SearchBackend.rebuild``
    counts). Uncommitted writes are refused."""
    t0 = time.perf_counter()
    with b.lock:
        if b.pending():
            raise BackendError("the search index has uncommitted writes: commit them before a rebuild")
        b.ensure_index()
        old = generations(b)
        vectors: dict[str, list[float]] = {}
        if keep_vectors:
            for h in b.hits_where({"term": {"has_vec": True}}, ["embedding"]):
                vectors[h["_id"]] = h["_source"]["embedding"]
        new = b.generation()
        with b.calling("rebuild"):
            b.client.indices.create(index=new)
        done = kept = 0
        try:
            for batch in b.texts.iter_all(BATCH):
                for p in batch:
                    vec = vectors.get(p.id)
                    p.embedding = np.asarray(vec, dtype=np.float32) if vec is not None else None
                    kept += vec is not None
                b.bulk([b.index_action(p, new) for p in batch])
                done += len(batch)
                if progress is not None:
                    progress(len(batch))
            with b.calling("rebuild"):
                b.client.indices.refresh(index=new)
                swap = [{"remove": {"index": i, "alias": b.index}} for i in old]
                b.client.indices.update_aliases(
                    body={"actions": [*swap, {"add": {"index": new, "alias": b.index}}]}
                )
        except BaseException:
            with b.calling("rebuild cleanup"):
                b.client.indices.delete(index=new, ignore_unavailable=True)
            raise
        with b.calling("rebuild"):
            for i in old:
                b.client.indices.delete(index=i, ignore_unavailable=True)
    return {
        "passages": done,
        "vectors_kept": kept,
        "new_keys": done - kept,
        "seconds": round(time.perf_counter() - t0, 3),
    }


def drop(b: OpenSearchBackend) -> None:
    for i in generations(b):
        with b.calling("drop"):
            b.client.indices.delete(index=i, ignore_unavailable=True)
    with b.calling("drop"):
        if b.client.indices.exists_index_template(name=b.template):
            b.client.indices.delete_index_template(name=b.template)
    b.forget_index()
