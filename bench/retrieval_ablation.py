"""BM25 ablation on a BEIR directory through the product path (``search.evaluation.evaluate_beir``).

``.venv/bin/python bench/retrieval_ablation.py ../shared/data/eval/retrieval/piaf`` prints BM25 nDCG@10
(and MRR@10) for each variant of ``search.tantivy_index`` tried on 2026-12-02: the analyzer's extra stop
words, the title boost, the unstemmed field's boost and the old phrase parsing of hyphenated words. Each
variant changes one module constant (or the query builder) from the product's settings and re-indexes
the corpus (a few seconds; no embeddings). Results in docs/benchmarks.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tantivy

from search import tantivy_index as ti
from search.evaluation import evaluate_beir

_PARSE = ti.text_query


@contextmanager
def patched(**values: Any) -> Iterator[None]:
    old = {name: getattr(ti, name) for name in values}
    for name, value in values.items():
        setattr(ti, name, value)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(ti, name, value)


def _phrase_parse(index: tantivy.Index, text: str, *, conjunction: bool = False) -> tantivy.Query:
    """The query builder before 2026-12-02: hyphenated words became phrases."""
    with patched(_INNER_JOIN=__import__("re").compile(r"(?!x)x")):
        return _PARSE(index, text, conjunction=conjunction)


def _no_exact(index: tantivy.Index, text: str, *, conjunction: bool = False) -> tantivy.Query:
    """The query without the unstemmed field (title and stemmed text only)."""
    query, _errors = index.parse_query_lenient(
        ti.sanitize(text),
        ti.TEXT_FIELDS,
        field_boosts={"title": ti.TITLE_BOOST},
        conjunction_by_default=conjunction,
    )
    return query


BASE_STOPS = [w for w in ti.EXTRA_STOP_WORDS if w not in ("a", "est")]
VARIANTS: dict[str, dict[str, Any]] = {
    "product": {},
    "no extra stop words": {"EXTRA_STOP_WORDS": ["__none__"]},
    "extra stop words without a, est": {"EXTRA_STOP_WORDS": BASE_STOPS},
    "+ été": {"EXTRA_STOP_WORDS": [*ti.EXTRA_STOP_WORDS, "été"]},
    "title boost 0": {"TITLE_BOOST": 0.0},
    "title boost 0.5": {"TITLE_BOOST": 0.5},
    "exact field boost 0.2": {"EXACT_BOOST": 0.2},
    "exact field boost 1.0": {"EXACT_BOOST": 1.0},
    "no exact field": {"text_query": _no_exact},
    "title not in the text field": {"indexed_text": lambda passage: passage.text or ""},
    "hyphenated words as phrases": {"text_query": _phrase_parse},
}


def main(directory: Path, run: Callable[..., dict[str, Any]] = evaluate_beir) -> None:
    for name, values in VARIANTS.items():
        with patched(**values):
            scores = run(directory, None, modes=("bm25",), progress=False)["modes"]["bm25"]
        print(f"{name:34s} nDCG@10 {scores['ndcg@10']:.4f}  MRR@10 {scores['mrr@10']:.4f}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
