"""Bring an embedded index written by an older version to the current layout, from what it stored itself.

Layouts: 1: Tantivy had one keyword field per product meta field and the vector table (format 1) held
those values as strings, so only they could be filtered, and ``org_id == 1`` matched the string ``"1"``.
2: every meta value is filterable and typed, in two JSON fields of the Tantivy schema
(``search.tantivy_filters``) and in the table's columns (format 2); Tantivy still stored each passage
whole. 3: Tantivy stores no text (title, text and meta live sealed in ``search.passage_store``). 4 (now):
the analyzers of 2026-12-02 (``search.tantivy_index``: more stop words, the title also in ``text``, an
unstemmed ``text_exact`` field); their names are in the schema, so a layout-3 index no longer matches it
and is rebuilt here from the passage store (it stored only ids and keys), never searched with the new
analyzer over terms the old one wrote.

Layouts 1 and 2 stored each passage whole (id, key, parent, title, text, position, meta), so an older
index is upgraded from its own documents, automatically on the first open (a log line says so): the
passages the store lacks are copied into it (sealed there), then the index is rebuilt from them into
``tantivy.upgrade/`` without stored text, keys kept, so the vector rows and their vectors stay aligned and
only the table's meta columns are recomputed; then the directories are swapped and the old one (with its
plain texts) is deleted. It runs once, under a lock file and the old index's writer lock; a crash before
the swap leaves the old index in place and the next open starts again (the copy into the store is
idempotent). An older index opened without a persistent store (``EmbeddedBackend(dir)`` alone) is refused:
its texts would only survive in memory.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import tantivy

from search import tantivy_index as ti
from search.filters import Scalar, filter_values
from search.passage_store import PassageStore
from search.types import Passage
from search.vectors import FORMAT_VERSION, VectorTable
from tfe.core.errors import BackendError

log = logging.getLogger(__name__)

LOCK_WAIT_S = 300.0  # how long an open waits for another process's upgrade or writer


def current(tantivy_dir: Path) -> bool:
    """Whether the Tantivy index under ``tantivy_dir`` (if any) has the current schema."""
    if not tantivy_dir.exists() or not tantivy.Index.exists(str(tantivy_dir)):
        return True
    try:
        tantivy.Index(ti.build_schema(), path=str(tantivy_dir), reuse=True)
    except ValueError as e:
        if "schema does not match" in str(e):
            return False
        raise
    return True


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _writer(index: tantivy.Index) -> tantivy.IndexWriter:
    """The old index's writer: while we hold it, no other process writes to what we are copying."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            return index.writer(heap_size=15_000_000, num_threads=1)
        except ValueError as e:
            if time.monotonic() >= deadline:
                raise BackendError(f"cannot upgrade the search index: it stays locked ({e})") from e
            time.sleep(0.2)


def _legacy_passage(doc: tantivy.Document) -> Passage:
    """A passage as layouts 1 and 2 stored it whole in Tantivy."""
    d = doc.to_dict()
    raw = d.get("meta_json", [b"{}"])[0]
    meta = json.loads(bytes(raw).decode("utf-8")) if raw else {}
    return Passage(
        id=d["id"][0],
        parent_id=d["parent_id"][0],
        title=(d.get("title") or [""])[0],
        text=(d.get("text") or [""])[0],
        position=int((d.get("position") or [0])[0]),
        meta=meta,
    )


def _stored(index: tantivy.Index) -> list[tuple[int, Passage]]:
    """Every stored passage with its key, in key order."""
    index.reload()
    searcher = index.searcher()
    n = int(searcher.num_docs)
    if n == 0:
        return []
    hits = searcher.search(
        tantivy.Query.all_query(), limit=n, count=False, order_by_field="key", order=tantivy.Order.Asc
    ).hits
    out = []
    for _k, addr in hits:
        doc = searcher.doc(addr)
        out.append((ti.doc_key(doc), _legacy_passage(doc)))
    return out


def _retype_table(vec_dir: Path, stored: list[tuple[int, Passage]]) -> None:
    """Recompute the vector table's meta columns from the stored meta (rows matched by key)."""
    table = VectorTable.load(vec_dir)
    if len(table) == 0 and not VectorTable.current_path(vec_dir).exists():
        return
    meta_of = {key: p.meta for key, p in stored}
    fields: dict[str, list[list[Scalar]]] = {}
    for row, key in enumerate(table.keys.tolist()):
        for path, vals in filter_values(meta_of.get(int(key), {})).items():
            fields.setdefault(path, [[] for _ in range(len(table))])[row] = vals
    table.set_fields(fields)
    table.format = FORMAT_VERSION
    table.save(vec_dir)


def _copy_missing(texts: PassageStore, stored: list[tuple[int, Passage]]) -> int:
    """Put the passages the store lacks into it (a passage it has is newer or the same); how many."""
    missing = texts.missing([p.id for _key, p in stored])
    if missing:
        texts.put([p for _key, p in stored if p.id in missing])
    return len(missing)


def _from_store(texts: PassageStore, stored: list[tuple[int, Passage]]) -> list[tuple[int, Passage]]:
    """The store's version of each stored passage (the store is the truth once ``_copy_missing`` ran; a
    layout-3 index stored no title, text or meta); one the store lacks keeps what the index stored."""
    out: list[tuple[int, Passage]] = []
    for start in range(0, len(stored), 1000):
        chunk = stored[start : start + 1000]
        found = texts.get([p.id for _key, p in chunk])
        out.extend((key, found.get(p.id, p)) for key, p in chunk)
    return out


def upgrade(index_dir: Path, texts: PassageStore, *, persistent: bool = True) -> bool:
    """Rebuild ``index_dir`` in the current layout if it has an older one, moving the texts an older
    layout stored into ``texts``; returns whether it did. ``persistent``: whether ``texts`` outlives the
    process (an older index with passages is refused otherwise: ``BackendError``)."""
    tantivy_dir = index_dir / "tantivy"
    if current(tantivy_dir):
        return False
    with _file_lock(index_dir / ".upgrade.lock"):
        if current(tantivy_dir):  # another process upgraded it while we waited
            return False
        log.warning("search index %s has an older layout: moving its texts to the passage store", index_dir)
        old = tantivy.Index.open(str(tantivy_dir))
        lock = _writer(old)
        try:
            stored = _stored(old)
            if stored and not persistent:
                raise BackendError(
                    f"the search index {index_dir} stores passage texts (an older layout): open it with the "
                    "installation's passage store (`tfe reindex` or `tfe serve` migrate it)"
                )
            copied = _copy_missing(texts, stored)
            stored = _from_store(texts, stored)
            new_dir = index_dir / "tantivy.upgrade"
            shutil.rmtree(new_dir, ignore_errors=True)
            writer = ti.open_index(new_dir).writer(heap_size=128_000_000, num_threads=0)
            for key, passage in stored:
                writer.add_document(ti.to_document(passage, key))
            writer.commit()
            writer.wait_merging_threads()
            del writer
            _retype_table(index_dir / "vectors", stored)
        finally:
            lock.rollback()
            del lock, old
        old_dir = index_dir / "tantivy.old"
        shutil.rmtree(old_dir, ignore_errors=True)
        os.replace(tantivy_dir, old_dir)
        os.replace(new_dir, tantivy_dir)
        shutil.rmtree(old_dir, ignore_errors=True)
        log.warning(
            "search index %s upgraded: %d passages, %d texts moved to the passage store; the index stores "
            "no text any more",
            index_dir,
            len(stored),
            copied,
        )
    return True
