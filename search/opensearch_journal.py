"""The OpenSearch backend's write journal: operations held until ``commit``, and their net effects.

Operations are ``(kind, arg)``: ``("upsert", Passage)``, ``("delete_parent", parent_id)``,
``("delete_id", passage_id)``, ``("embed", (passage_id, vector))``. ``commit`` writes their net effect to
the passage store in one transaction (``store_effect``), then replays them on the cluster in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from search.types import Passage

Op = tuple[str, Any]


def live_ids(committed: Iterable[str], ops: Iterable[Op], parent_id: str) -> set[str]:
    """The passage ids of ``parent_id`` once ``ops`` apply over the ``committed`` ones."""
    ids = set(committed)
    for kind, arg in ops:
        if kind == "upsert":
            if arg.parent_id == parent_id:
                ids.add(arg.id)
            else:
                ids.discard(arg.id)
        elif kind == "delete_parent" and arg == parent_id:
            ids.clear()
        elif kind == "delete_id":
            ids.discard(arg)
    return ids


def store_effect(ops: Iterable[Op]) -> tuple[list[Passage], set[str], set[str]]:
    """(passages to put, ids to delete, parents to delete) for ``PassageStore.write``."""
    puts: dict[str, Passage] = {}
    dead_ids: set[str] = set()
    dead_parents: set[str] = set()
    for kind, arg in ops:
        if kind == "upsert":
            puts.pop(arg.id, None)
            puts[arg.id] = arg
        elif kind == "delete_parent":
            dead_parents.add(arg)
            puts = {k: p for k, p in puts.items() if p.parent_id != arg}
        elif kind == "delete_id":
            puts.pop(arg, None)
            dead_ids.add(arg)
    return list(puts.values()), dead_ids, dead_parents
