"""Content commands: ingest files and feeds, search, back-fill embeddings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from ingest.backfill import backfill_embeddings
from search.explain import why_fr
from search.service import SearchParams
from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime
from tfe.core.models import VISIBILITIES
from tfe.core.security import audit, identity
from tfe.core.security.audit import Actor


def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Fichiers ou dossiers")] = None,
    feed: Annotated[
        str | None, typer.Option("--feed", help="Ingère les entrées d'un flux RSS/Atom (URL ou fichier)")
    ] = None,
    doc_type: Annotated[
        str | None, typer.Option("--type", help="Type de document, par ex. quote_template")
    ] = None,
    org: Annotated[str | None, typer.Option("--org", help="Organisation propriétaire (identifiant)")] = None,
    visibility: Annotated[
        str, typer.Option(help="Visibilité : private, organisation, network, public")
    ] = "organisation",
    defer_embeddings: Annotated[
        bool,
        typer.Option(
            "--defer-embeddings",
            help="Indexe tout de suite pour BM25, calcule les vecteurs plus tard avec « tfe backfill »",
        ),
    ] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Barre de progression")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Ingère fichiers, dossiers ou un flux ; chaque entrée finit ok, doublon ou échec (code 1 si échec)."""
    if not paths and not feed:
        fail("give at least one PATH or --feed URL")
    if visibility not in VISIBILITIES:
        fail(f"unknown visibility {visibility!r}; expected one of {', '.join(VISIBILITIES)}")
    rt = runtime()
    reports = []
    if paths:
        reports.append(
            rt.documents.ingest_paths(
                paths,
                org_slug=org,
                visibility=visibility,
                doc_type=doc_type,
                embed=not defer_embeddings,
                progress=progress and not as_json,
            )
        )
    if feed:
        reports.append(
            rt.watch.ingest_feed(
                feed,
                org_slug=org,
                visibility="network" if visibility == "organisation" and org is None else visibility,
                embed=not defer_embeddings,
                progress=progress and not as_json,
            )
        )
    report = reports[0] if len(reports) == 1 else _merge(reports)
    # beyond the inline cap (or all, when deferred) passages wait for their vectors: say so, with the way out
    report["passages_without_vectors"] = rt.backend.count_missing_embeddings()
    if as_json:
        emit_json(report)
    else:
        for item in report["items"]:
            if item["status"] == "failed":
                echo(f"échec   {item['input']} : {item['reason']}")
        echo(f"{report['ok']} ok, {report['duplicate']} doublon(s), {report['failed']} échec(s)")
        if report["passages_without_vectors"]:
            echo(
                f"{report['passages_without_vectors']} passage(s) déjà cherchables par mots-clés attendent "
                "leurs vecteurs : `tfe backfill`, ou `tfe serve` qui les calcule en arrière-plan"
            )
    raise typer.Exit(1 if report["failed"] else 0)


def _merge(reports: list[dict]) -> dict:
    merged: dict = {"ok": 0, "duplicate": 0, "failed": 0, "items": []}
    for rep in reports:
        for key in ("ok", "duplicate", "failed"):
            merged[key] += rep[key]
        merged["items"].extend(rep["items"])
    return merged


def search(
    query: Annotated[str, typer.Argument(help="Texte recherché")],
    sector: Annotated[
        list[str] | None, typer.Option(help="Secteur : concept ou code NAF (répétable)")
    ] = None,
    country: Annotated[list[str] | None, typer.Option(help="Pays : code ISO ou nom (répétable)")] = None,
    doc_type: Annotated[list[str] | None, typer.Option("--type", help="Type de document (répétable)")] = None,
    limit: Annotated[int, typer.Option(help="Nombre de résultats (1 à 100)")] = 10,
    offset: Annotated[int, typer.Option(help="Résultats à sauter (pagination)")] = 0,
    mode: Annotated[str, typer.Option(help="Mode : hybrid, bm25 ou vector")] = "hybrid",
    sort: Annotated[
        str, typer.Option(help="Tri : relevance (pertinence), date (récents d'abord) ou date_asc")
    ] = "relevance",
    since: Annotated[
        str | None, typer.Option("--since", help="Datés de ce jour ou après (AAAA-MM-JJ)")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Datés de ce jour ou avant (AAAA-MM-JJ)")
    ] = None,
    org: Annotated[
        list[str] | None, typer.Option("--org", help="Organisation : slug ou identifiant (répétable)")
    ] = None,
    language: Annotated[
        list[str] | None, typer.Option("--language", help="Langue : code ISO 639, fr, en… (répétable)")
    ] = None,
    status: Annotated[
        list[str] | None,
        typer.Option("--status", help="Statut : draft, in_review, validated, archived (répétable)"),
    ] = None,
    as_user: Annotated[
        str | None, typer.Option("--as", help="Cherche avec les droits de cet utilisateur (e-mail)")
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Affiche pourquoi chaque résultat est là (mots, concepts, sens)")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Cherche dans les documents et la veille (hybride BM25 + vecteurs), avec les droits d'un utilisateur."""
    rt = runtime()
    params = SearchParams(
        q=query,
        sector=tuple(sector or ()),
        country=tuple(country or ()),
        type=tuple(doc_type or ()),
        limit=limit,
        offset=offset,
        mode=mode,
        org=tuple(org or ()),
        language=tuple(language or ()),
        status=tuple(status or ()),
        sort=sort,
        date_from=since,
        date_to=until,
    )
    with rt.session() as session:
        user = identity.find_user(session, as_user or rt.settings.admin_email)
        scope = identity.scope_for(user).with_archived("archived" in params.status)
        result = rt.search_service.run(session, scope, Actor.of_user(user, "cli"), params)
    if as_json:
        emit_json(result)
        return
    echo(f"{result['total']} résultat(s)")
    for hit in result["hits"]:
        labels = ", ".join(s["label"] for s in hit["sectors"][:2] + hit["countries"][:2])
        kind = (
            (hit.get("type") or {}).get("label", "") if isinstance(hit.get("type"), dict) else hit.get("type")
        )
        dated = f" ({hit['date'][:10]})" if hit.get("date") else ""
        echo(f"- {hit['title']}{dated}  [{kind or ''}] {labels}")
        snippet = hit["snippet"].replace("<mark>", "\033[1m").replace("</mark>", "\033[0m")
        echo(f"    {snippet}")
        if explain and (why := why_fr(hit.get("explanation"))):
            echo(f"    {why}")


def backfill(
    batch: Annotated[int, typer.Option(help="Passages par lot")] = 64,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Barre de progression")] = True,
) -> None:
    """Calcule les vecteurs des passages indexés sans vecteur (BM25 fonctionne déjà avant)."""
    rt = runtime()
    with tqdm(desc="vectors", unit="passage", disable=not progress) as bar:
        done = backfill_embeddings(rt.backend, rt.embedder, batch=batch, on_batch=bar.update)
    with rt.session() as session:
        audit.record(session, "index.backfill", Actor.system("cli"), detail={"passages": done})
    echo(f"{done} passage(s) vectorisé(s)")
