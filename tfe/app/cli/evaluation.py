"""Quality evaluations: retrieval on BEIR-layout sets, classification on labelled files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, cast

import typer

from tfe.app.cli.common import echo, emit_json, fail, runtime

eval_app = typer.Typer(help="Évaluations de qualité (recherche, classification).", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@eval_app.command("retrieval")
def retrieval(
    directory: Path,
    modes: Annotated[str, typer.Option(help="Comma-separated: bm25,vector,hybrid")] = "bm25,vector,hybrid",
    limit_queries: Annotated[int | None, typer.Option(help="Evaluate only the first N queries")] = None,
    as_json: JsonOpt = False,
) -> None:
    """nDCG@10, Recall@10 and MRR@10 on a BEIR layout (corpus.jsonl, queries.jsonl, qrels.tsv)."""
    from search.evaluation import evaluate_beir
    from search.types import Mode

    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"):
        if not (directory / name).is_file():
            fail(f"{directory} is not a BEIR directory: {name} missing")
    wanted = tuple(m.strip() for m in modes.split(",") if m.strip())
    if not wanted or any(m not in ("bm25", "vector", "hybrid") for m in wanted):
        fail(f"unknown mode in {modes!r}; use bm25, vector, hybrid")
    rt = runtime(require_init=False)
    report = evaluate_beir(
        directory,
        rt.embedder,
        modes=cast("tuple[Mode, ...]", wanted),
        limit_queries=limit_queries,
        progress=not as_json,
    )
    if as_json:
        emit_json(report)
        return
    echo(json.dumps(report, indent=2, ensure_ascii=False))


@eval_app.command("classify")
def classify(
    file: Path,
    similarity: Annotated[
        bool, typer.Option("--similarity/--lexical-only", help="Blend e5 similarity with lexical matching")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Accuracy@1/@3 (NACE division and section) or country/zone precision and recall (news)."""
    from taxonomy.classifier import TaxonomyClassifier
    from taxonomy.evaluation import evaluate_classification, evaluate_countries
    from taxonomy.nlp import load_nlp

    if not file.is_file():
        fail(f"no such file: {file}")
    with file.open(encoding="utf-8") as fh:
        first = fh.readline()
    try:
        keys = set(json.loads(first))
    except (json.JSONDecodeError, TypeError):
        fail(f"{file} is not a JSON-lines file")
    rt = runtime(require_init=False)
    classifier = TaxonomyClassifier(rt.referential, embed_query=rt.embedder.query if similarity else None)
    nlp = load_nlp()
    if "nace_division" in keys or "nace_class" in keys:
        report = evaluate_classification(file, classifier, nlp)
    elif "section" in keys:
        report = evaluate_countries(file, classifier, nlp)
    else:
        fail(f"{file}: expected fields nace_class/nace_division or section")
    emit_json(report) if as_json else echo(json.dumps(report, indent=2, ensure_ascii=False))
