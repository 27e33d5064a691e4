"""Quality evaluations: retrieval on BEIR-layout sets; classification and stories on labelled files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, cast

import typer

from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime

eval_app = typer.Typer(
    help="Évaluations de qualité (recherche, classification, histoires).", no_args_is_help=True
)


@eval_app.command("retrieval")
def retrieval(
    directory: Annotated[Path, typer.Argument(help="Dossier BEIR")],
    modes: Annotated[
        str, typer.Option(help="Modes séparés par des virgules : bm25,vector,hybrid")
    ] = "bm25,vector,hybrid",
    limit_queries: Annotated[int | None, typer.Option(help="N'évalue que les N premières requêtes")] = None,
    fusion: Annotated[
        str | None,
        typer.Option(help="Fusion du mode hybride : rrf, convex ou adaptive (défaut : celle du produit)"),
    ] = None,
    alpha: Annotated[
        float | None,
        typer.Option(help="Poids du cosinus, entre 0 et 1 (BM25 : 1 - alpha) ; adaptive : poids de départ"),
    ] = None,
    cache: Annotated[
        bool,
        typer.Option(
            "--cache/--no-cache", help="Met en cache les plongements ($TFE_EVAL_CACHE ou dossier temporaire)"
        ),
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """nDCG@10, Recall@10 et MRR@10 sur un jeu au format BEIR (corpus.jsonl, queries.jsonl, qrels.tsv)."""
    from search.evaluation import embedding_cache_dir, evaluate_beir
    from search.fusion import FUSIONS
    from search.types import Mode

    for name in ("corpus.jsonl", "queries.jsonl", "qrels.tsv"):
        if not (directory / name).is_file():
            fail(f"{directory} is not a BEIR directory: {name} missing")
    wanted = tuple(m.strip() for m in modes.split(",") if m.strip())
    if not wanted or any(m not in ("bm25", "vector", "hybrid") for m in wanted):
        fail(f"unknown mode in {modes!r}; use bm25, vector, hybrid")
    if fusion is not None and fusion not in FUSIONS:
        fail(f"unknown fusion {fusion!r}; use one of {', '.join(FUSIONS)}")
    if alpha is not None and not 0.0 <= alpha <= 1.0:
        fail(f"alpha must be between 0 and 1, not {alpha}")
    rt = runtime(require_init=False)
    report = evaluate_beir(
        directory,
        rt.embedder,
        modes=cast("tuple[Mode, ...]", wanted),
        limit_queries=limit_queries,
        progress=not as_json,
        fusion_method=fusion,
        alpha=alpha,
        cache_dir=embedding_cache_dir() if cache else None,
    )
    if as_json:
        emit_json(report)
        return
    echo(json.dumps(report, indent=2, ensure_ascii=False))


@eval_app.command("classify")
def classify(
    file: Annotated[Path, typer.Argument(help="Fichier JSONL étiqueté (activités NACE ou actualités)")],
    similarity: Annotated[
        bool,
        typer.Option(
            "--similarity/--lexical-only", help="Combine la similarité e5 et la correspondance lexicale"
        ),
    ] = True,
    home_country: Annotated[
        str,
        typer.Option(
            "--home-country",
            help="Pays de l'éditeur des actualités (code ISO, ex. US) : compté seulement s'il est seul nommé",
        ),
    ] = "",
    train: Annotated[
        Path | None, typer.Option("--train", help="Apprend un modèle sur ce fichier, évalué sur FILE")
    ] = None,
    folds: Annotated[
        int | None, typer.Option("--folds", help="Courbe d'apprentissage en K plis (0, 50, 100, 200, tout)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Exactitude @1/@3 (division et section NACE) ou précision et rappel pays/zones (actualités).

    Sans --train : zéro-shot (libellés et notes de la nomenclature). Avec --train : modèle appris sur ce
    fichier, évalué sur FILE. Avec --folds K : courbe d'apprentissage par validation croisée (clé curve)."""
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
    if train is not None or folds is not None:
        from tfe.app.cli.evaluation_learned import learned_report

        report = learned_report(file, train, folds, classifier, nlp, progress=not as_json)
    elif "nace_division" in keys or "nace_class" in keys:
        report = evaluate_classification(file, classifier, nlp)
    elif "section" in keys:
        home = rt.referential.resolve(home_country, "country") if home_country else None
        if home_country and home is None:
            fail(f"pays inconnu : {home_country}")
        report = evaluate_countries(file, classifier, nlp, home)
    else:
        fail(f"{file}: expected fields nace_class/nace_division or section")
    emit_json(report) if as_json else echo(json.dumps(report, indent=2, ensure_ascii=False))


@eval_app.command("stories")
def stories(
    file: Annotated[
        Path, typer.Argument(help="Fichier JSONL de titres étiquetés par histoire (champ story)")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Regroupement incrémental en histoires : B-cubed et paires (précision, rappel, F1) par sous-ensemble."""
    from veille.story_eval import evaluate_stories

    if not file.is_file():
        fail(f"no such file: {file}")
    rt = runtime(require_init=False)
    try:
        report = evaluate_stories(file, rt.embedder, progress=not as_json)
    except ValueError as e:
        fail(str(e))
    if as_json:
        emit_json(report)
        return
    for name, sub in report["subsets"].items():
        b, p = sub["bcubed"], sub["pairwise"]
        echo(
            f"{name}: {sub['items']} titres, {sub['stories']} histoires (référence), "
            f"{sub['predicted_stories']} prédites"
        )
        echo(f"  B-cubed  P {b['precision']:.3f}  R {b['recall']:.3f}  F1 {b['f1']:.3f}")
        echo(f"  paires   P {p['precision']:.3f}  R {p['recall']:.3f}  F1 {p['f1']:.3f}")
        for base, scores in sub.get("baselines", {}).items():
            bf1, pf1 = scores["bcubed"]["f1"], scores["pairwise"]["f1"]
            echo(f"  référence {base}: B-cubed F1 {bf1:.3f}, paires F1 {pf1:.3f}")
    echo(f"{report['seconds']} s")
