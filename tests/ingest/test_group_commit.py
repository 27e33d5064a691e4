"""Index commits shared between threads: every write is searchable once its ``commit`` returns, with fewer
backend commits than writes when threads overlap, and a failed commit raises for the writes it covered."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ingest.pipeline import GroupCommit, group_commit
from search.embedded import EmbeddedBackend
from search.types import Passage, SearchQuery
from tfe.core.security.scope import AccessScope

SCOPE = AccessScope(user_id=1, org_id=1, roles=frozenset({"reader"}))


def _passage(i: int) -> Passage:
    meta = {"kind": "item", "visibility": "network", "org_id": None, "owner_user_id": None}
    return Passage(
        id=f"p{i}:0", parent_id=f"p{i}", title=f"titre {i}", text=f"motunique{i} export", meta=meta
    )


def test_threads_share_commits_and_every_write_is_searchable(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path / "index")
    group = group_commit(backend)
    assert group_commit(backend) is group  # one per backend, shared by its pipelines
    lock = threading.Lock()  # the ingest lock: one write at a time, commits outside it
    found: dict[int, int] = {}

    def one(i: int) -> None:
        with lock:
            backend.write([_passage(i)])
            ticket = group.wrote()
        group.commit(ticket)
        found[i] = backend.search(SearchQuery(text=f"motunique{i}", scope=SCOPE, mode="bm25")).total

    threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert found == {i: 1 for i in range(12)}
    assert 1 <= group.commits <= 12
    group.commit(group.wrote())  # nothing pending: still a commit, and still consistent
    assert backend.count() == 12
    backend.close()


class _FailingCommit(EmbeddedBackend):
    fail = True

    def commit(self) -> None:
        if self.fail:
            raise RuntimeError("disque plein")
        super().commit()


def test_a_failed_commit_raises_for_the_writes_it_covered(tmp_path: Path) -> None:
    backend = _FailingCommit(tmp_path / "index")
    group = GroupCommit(backend)
    backend.write([_passage(1)])
    ticket = group.wrote()
    with pytest.raises(RuntimeError, match="disque plein"):
        group.commit(ticket)
    backend.fail = False
    group.commit(ticket)  # not marked committed by the failure: this call commits
    assert group.commits == 1
    assert backend.search(SearchQuery(text="motunique1", scope=SCOPE, mode="bm25")).total == 1
    backend.close()
