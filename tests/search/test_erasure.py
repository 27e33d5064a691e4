"""The index keeps no original text, and ``erase_parents`` leaves no term of an erased passage in any file.

A marker word, written through the backend with other passages (one segment), is checked in the raw bytes
of every file under the index dir. Before erasure the only place it may be is Tantivy's term dictionary
(``*.term``): the index must hold its terms to find it. There it is the stemmed, accent-folded term
(``zorglubis`` for « zorglubisation ») inside an FST, whose packed transitions do not spell it out, so
even the stem is not found by ``grep``; the term is still in the dictionary (``terms_with_prefix``), and a
plain delete leaves it there until a merge. A meta value (here a URL) is a keyword term and a fast-field
value, so it is in a ``*.fast`` column too and in the vector table's metadata (as are the passage ids):
neither is text of the passage, both are gone after ``erase_parents``, as is every vector generation that
listed the passage.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import tantivy

from search.embedded import EmbeddedBackend
from search.testdata import ANONYMOUS, corpus_passages, file_store, parents, run
from search.types import Passage

MARKER = "Zorglubisation"
STEM = "zorglubis"  # the French analyzer's term for it
PARENT = "doc-erased-7f3a"
URL_WORD = "quokkafest"  # in the passages' url meta: a keyword, not text


def _marked() -> list[Passage]:
    meta = {"kind": "document", "visibility": "public", "url": f"https://example.org/{URL_WORD}"}
    return [
        Passage(f"{PARENT}:0", PARENT, f"Note {MARKER}", f"La {MARKER} des exportations de vins.", 0, meta),
        Passage(f"{PARENT}:1", PARENT, f"Note {MARKER}", "Un second passage sans le mot.", 1, meta),
    ]


def _files_with(index_dir: Path, needles: list[bytes]) -> dict[str, list[bytes]]:
    """File (relative path) -> which needles its raw bytes contain."""
    out: dict[str, list[bytes]] = {}
    for f in sorted(index_dir.rglob("*")):
        if f.is_file():
            data = f.read_bytes().lower()
            found = [n for n in needles if n.lower() in data]
            if found:
                out[str(f.relative_to(index_dir))] = found
    return out


@pytest.fixture
def marked(tmp_path: Path) -> EmbeddedBackend:
    backend = EmbeddedBackend(tmp_path / "index", file_store(tmp_path / "texts.sqlite3"))
    backend.write([replace(p) for p in corpus_passages()] + _marked())  # one commit: one segment with others
    backend.commit()
    return backend


def test_the_index_stores_no_text(marked: EmbeddedBackend, tmp_path: Path) -> None:
    result = run(marked, MARKER.lower(), scope=ANONYMOUS, mode="bm25")
    assert parents(result) == [PARENT]
    assert result.hits[0].title == f"Note {MARKER}"  # from the store
    assert f"<mark>{MARKER}</mark>" in result.hits[0].snippet  # cut from the store's text
    text_needles = [MARKER.encode(), STEM.encode(), b"exportations de vins", b"second passage"]
    found = _files_with(tmp_path / "index", text_needles)
    assert all(name.endswith(".term") for name in found), found  # only the term dictionary may hold it
    assert found == {}  # and even there the FST does not spell the stem out
    searcher = marked._index.searcher()
    # yet the term is indexed: ``text`` holds the title too, and both passages have the marker in theirs
    assert (STEM, 2) in searcher.terms_with_prefix("text", STEM)
    hits = searcher.search(tantivy.Query.term_query(marked._index.schema, "text", STEM), limit=5).hits
    assert len(hits) == 2
    assert {k for _s, a in hits for k in searcher.doc(a).to_dict()} == {"id", "key", "parent_id"}


def test_erase_parents_leaves_no_term_in_any_file(marked: EmbeddedBackend, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    needles = [MARKER.encode(), STEM.encode(), PARENT.encode(), URL_WORD.encode()]
    before = _files_with(index_dir, needles)
    assert any(name.endswith(".fast") for name in before)  # the URL meta value: a fast-field keyword
    assert any(name.startswith("vectors/") for name in before)  # ids and meta of the vector rows

    marked.delete_parent(PARENT)  # a plain delete only marks the documents deleted
    marked.commit()
    assert (STEM, 2) in marked._index.searcher().terms_with_prefix("text", STEM)
    assert _files_with(index_dir, needles) != {}

    marked.write(_marked())  # again, so that erasure has passages to remove
    marked.commit()
    summary = marked.erase_parents([PARENT])
    assert summary["parents"] == 1 and summary["passages"] == 2
    assert summary["passages_left"] == len(corpus_passages()) == marked.count()
    assert _files_with(index_dir, needles) == {}
    assert marked._index.searcher().terms_with_prefix("text", STEM) == []
    assert marked.texts.get([f"{PARENT}:0", f"{PARENT}:1"]) == {}
    assert run(marked, MARKER.lower(), scope=ANONYMOUS, mode="bm25").hits == []
    # the rest is intact, vectors included
    assert marked.missing_embeddings() == []
    assert "doc-vin" in parents(run(marked, "vins Allemagne", scope=ANONYMOUS, mode="hybrid"))
    reopened = EmbeddedBackend(index_dir, marked.texts)
    assert reopened.count() == len(corpus_passages())
    assert parents(run(reopened, "voitures électriques", scope=ANONYMOUS, mode="vector"))[0] == "doc-auto"


def test_erase_commits_pending_writes_first(marked: EmbeddedBackend) -> None:
    extra = Passage(
        "doc-late:0", "doc-late", "Tard", "Un passage écrit juste avant.", 0, {"visibility": "public"}
    )
    marked.write([extra])
    marked.erase_parents([PARENT, "doc-unknown"])
    assert marked.texts.get(["doc-late:0"])["doc-late:0"].title == "Tard"
    assert "doc-late" in parents(run(marked, "passage écrit", scope=ANONYMOUS, mode="bm25"))
