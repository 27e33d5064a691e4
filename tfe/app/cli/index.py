"""``tfe reindex``: rebuild the search index (a derived artefact) from the sealed passage texts.

The index (Tantivy + vector table under the data dir's ``index/``) stores no text: the passages live sealed
in the database (``passage_texts``). ``tfe reindex`` recreates the index from them in one commit (readers
see the old index until then, the new one after), then embeds the passages that have no vector, in
batches that each commit (``--no-embed``: leave that to ``tfe backfill`` or ``tfe serve``). Passages that
were indexed with a vector keep it unless ``--reembed``. When the texts cannot be read (the key revoked)
it fails with one line saying so and leaves the index as it was.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from tqdm import tqdm

from ingest.backfill import backfill_embeddings
from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime
from tfe.core.security import audit
from tfe.core.security.audit import Actor


def reindex(
    no_embed: Annotated[
        bool,
        typer.Option("--no-embed", help="Ne calcule pas les vecteurs manquants (« tfe backfill » le fera)"),
    ] = False,
    reembed: Annotated[
        bool, typer.Option("--reembed", help="Recalcule aussi les vecteurs des passages qui en ont un")
    ] = False,
    batch: Annotated[int, typer.Option(help="Passages par lot de vecteurs")] = 64,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Barre de progression")] = True,
    backend_name: Annotated[
        str | None,
        typer.Option(
            "--backend",
            help="opensearch : copie les passages et les vecteurs de l'index intégré vers le cluster "
            "(TFE_OPENSEARCH_URL), reprend là où une copie interrompue s'est arrêtée",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Reconstruire l'index de recherche à partir des passages stockés (chiffrés)."""
    if batch < 1:
        fail("--batch must be at least 1")
    if no_embed and reembed:
        fail("--no-embed and --reembed exclude each other")
    if backend_name not in (None, "embedded", "opensearch"):
        fail(f"unknown backend {backend_name!r}; use embedded or opensearch")
    rt = runtime()
    if backend_name == "opensearch":
        if reembed:
            fail("--reembed does not apply to --backend opensearch (vectors are copied)")
        _to_opensearch(rt, no_embed=no_embed, batch=batch, progress=progress, as_json=as_json)
        return
    if backend_name is not None and backend_name != rt.settings.search_backend:
        fail(
            f"TFE_SEARCH_BACKEND is {rt.settings.search_backend}: "
            f"`--backend {backend_name}` cannot rebuild it"
        )
    backend = rt.backend
    t0 = time.perf_counter()
    texts = getattr(backend, "texts", None)
    total = texts.count() if texts is not None else None
    with tqdm(total=total, desc="index", unit="passage", disable=not progress) as bar:
        rebuilt = backend.rebuild(keep_vectors=not reembed, progress=bar.update)
    embedded = 0
    if not no_embed:
        missing = backend.count_missing_embeddings()
        with tqdm(total=missing, desc="vectors", unit="passage", disable=not progress or not missing) as bar:
            embedded = backfill_embeddings(backend, rt.embedder, batch=batch, on_batch=bar.update)
    summary: dict[str, Any] = {
        "passages": int(rebuilt["passages"]),
        "vectors_kept": int(rebuilt["vectors_kept"]),
        "embedded": embedded,
        "missing_vectors": backend.count_missing_embeddings(),
        "index_seconds": rebuilt["seconds"],
        "seconds": round(time.perf_counter() - t0, 3),
    }
    with rt.session() as session:
        audit.record(session, "index.rebuild", Actor.system("cli"), detail=summary)
    if as_json:
        emit_json(summary)
        return
    echo(
        f"index reconstruit : {summary['passages']} passage(s), {summary['vectors_kept']} vecteur(s) "
        f"conservé(s), {embedded} calculé(s), {summary['missing_vectors']} manquant(s)"
    )
    if summary["missing_vectors"]:
        echo("les vecteurs manquants : `tfe backfill` (ou `tfe serve`, qui les calcule en arrière-plan)")


def _to_opensearch(rt: Any, *, no_embed: bool, batch: int, progress: bool, as_json: bool) -> None:
    """``--backend opensearch``: the embedded index's passages and vectors onto the cluster
    (``search.opensearch_migrate``), then the missing vectors embedded there."""
    from search.embedded import EmbeddedBackend
    from search.opensearch import OpenSearchBackend
    from search.opensearch_migrate import migrate
    from search.passage_store import PassageStore
    from tfe.core.errors import BackendError

    settings = rt.settings
    if not settings.opensearch_url:
        fail("--backend opensearch needs TFE_OPENSEARCH_URL")
    texts = PassageStore(rt.session_factory)
    t0 = time.perf_counter()
    source = EmbeddedBackend(settings.index_dir, texts)
    target = OpenSearchBackend(
        settings.opensearch_url,
        texts,
        index=settings.opensearch_index,
        timeout_s=settings.opensearch_timeout_s,
        replicas=settings.opensearch_replicas,
    )
    try:
        with tqdm(total=texts.count(), desc="opensearch", unit="passage", disable=not progress) as bar:
            moved = migrate(source, target, batch=max(batch, 100), progress=bar.update)
        embedded = 0
        if not no_embed:
            missing = target.count_missing_embeddings()
            with tqdm(
                total=missing, desc="vectors", unit="passage", disable=not progress or not missing
            ) as bar:
                embedded = backfill_embeddings(target, rt.embedder, batch=batch, on_batch=bar.update)
        summary: dict[str, Any] = {
            **{k: moved[k] for k in ("passages", "written", "skipped", "vectors")},
            "embedded": embedded,
            "missing_vectors": target.count_missing_embeddings(),
            "index": settings.opensearch_index,
            "seconds": round(time.perf_counter() - t0, 3),
        }
    except BackendError as e:
        fail(e.message)
    finally:
        source.close()
        target.close()
    with rt.session() as session:
        audit.record(session, "index.migrate", Actor.system("cli"), detail=summary)
    if as_json:
        emit_json(summary)
        return
    echo(
        f"index copié vers OpenSearch : {summary['passages']} passage(s), {summary['written']} écrit(s), "
        f"{summary['skipped']} déjà présent(s), {summary['vectors']} vecteur(s) copié(s), "
        f"{embedded} calculé(s)"
    )
    echo("réglez maintenant TFE_SEARCH_BACKEND=opensearch (voir docs/deployment.md)")
