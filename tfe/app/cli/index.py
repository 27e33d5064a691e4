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
    as_json: JsonOpt = False,
) -> None:
    """Reconstruire l'index de recherche à partir des passages stockés (chiffrés)."""
    if batch < 1:
        fail("--batch must be at least 1")
    if no_embed and reembed:
        fail("--no-embed and --reembed exclude each other")
    rt = runtime()
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
