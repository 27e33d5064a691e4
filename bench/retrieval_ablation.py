"""BM25 ablation on a BEIR directory: analyzer chains, title boost and query parsing, Tantivy only.

``python bench/retrieval_ablation.py ../shared/data/eval/retrieval/piaf`` prints nDCG@10 per variant.
One index per analyzer (a few seconds each); no embeddings. The product path (``tfe eval retrieval``)
remains the reference: this loop only ranks variants of the text side quickly.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import tantivy

from search import tantivy_index as ti
from search.evaluation import _read_jsonl, ndcg_at_k, read_qrels

F = tantivy.Filter
BOOSTS = (0.2, 0.3, 0.5)


def chain(*filters: tantivy.Filter, tokenizer: tantivy.Tokenizer | None = None) -> tantivy.TextAnalyzer:
    b = tantivy.TextAnalyzerBuilder(tokenizer or tantivy.Tokenizer.simple())
    for f in filters:
        b = b.filter(f)
    return b.build()


QUESTION_WORDS = ["comment", "combien", "pourquoi", "quand", "quoi", "où"]
AUXILIARIES = ["est", "a", "été", "être", "sont", "ont", "peut", "fait"]


def french(extra: list[str], fold_first: bool = False) -> tantivy.TextAnalyzer:
    filters = [F.remove_long(40), F.lowercase(), F.stopword("french")]
    if extra:
        filters.append(F.custom_stopword(extra))
    filters += [F.ascii_fold(), F.stemmer("french")] if fold_first else [F.stemmer("french"), F.ascii_fold()]
    return chain(*filters)


ANALYZERS: dict[str, Callable[[], tantivy.TextAnalyzer]] = {
    "old: lower,stop,stem,fold": lambda: french([]),
    "+question words": lambda: french(QUESTION_WORDS),
    "+question words+auxiliaries": lambda: french(QUESTION_WORDS + AUXILIARIES),
    "+auxiliaries": lambda: french(AUXILIARIES),
    "product": ti.french_analyzer,
}


def evaluate(directory: Path, analyzers: dict[str, Callable[[], tantivy.TextAnalyzer]]) -> None:
    corpus = _read_jsonl(directory / "corpus.jsonl")
    qrels = read_qrels(directory / "qrels.tsv")
    queries = [q for q in _read_jsonl(directory / "queries.jsonl") if str(q["_id"]) in qrels]
    for name, make in analyzers.items():
        with tempfile.TemporaryDirectory() as tmp:
            sb = tantivy.SchemaBuilder()
            sb.add_text_field("id", stored=True, tokenizer_name="raw")
            sb.add_text_field("title", stored=False, tokenizer_name="a")
            sb.add_text_field("text", stored=False, tokenizer_name="a")
            index = tantivy.Index(sb.build(), path=tmp)
            index.register_tokenizer("a", make())
            w = index.writer(heap_size=100_000_000, num_threads=1)
            for d in corpus:
                w.add_document(
                    tantivy.Document(id=str(d["_id"]), title=str(d.get("title") or ""), text=str(d["text"]))
                )
            w.commit()
            w.wait_merging_threads()
            index.reload()
            searcher = index.searcher()
            for boost in BOOSTS:
                for kw_words in (3,):
                    total = 0.0
                    for q in queries:
                        text = str(q["text"])
                        conj = len(ti.sanitize(text).split()) <= kw_words
                        query = _parse(index, text, boost, conj)
                        hits = searcher.search(query, limit=10).hits
                        if conj and not hits:
                            hits = searcher.search(_parse(index, text, boost, False), limit=10).hits
                        ranked = [str(searcher.doc(a)["id"][0]) for _s, a in hits]
                        total += ndcg_at_k(ranked, qrels[str(q["_id"])])
                    print(f"{name:32s} title={boost:<4} conj<={kw_words}  nDCG@10 {total / len(queries):.4f}")


def _parse(index: tantivy.Index, text: str, boost: float, conj: bool) -> tantivy.Query:
    fields = ["title", "text"] if boost > 0 else ["text"]
    boosts = {"title": boost} if boost > 0 else {}
    words = ti.sanitize(text)
    q, _ = index.parse_query_lenient(words, fields, field_boosts=boosts, conjunction_by_default=conj)
    return q


if __name__ == "__main__":
    evaluate(Path(sys.argv[1]), ANALYZERS)
