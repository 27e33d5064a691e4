"""``tfe taxonomy reclassify CHANGE_ID [--preview] [--json]``: what a taxonomy change does to the
classifications of documents and items (``tfe.app.jobs.reclassify``), previewed or applied here with a
progress bar (a run interrupted earlier resumes after its cursor)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from taxonomy.models import ReclassifyRun, TaxonomyChange
from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime
from tfe.core.errors import TfeError
from tfe.core.security import audit
from tfe.core.security.audit import Actor

__all__ = ["reclassify_command"]

CLI = Actor.system("cli")


def _resumable(session: Session, change_id: int) -> int | None:
    """The latest run of this change left ``running`` or ``failed`` (resumed rather than restarted)."""
    return session.scalar(
        select(ReclassifyRun.id)
        .where(ReclassifyRun.change_id == change_id, ReclassifyRun.status.in_(("running", "failed")))
        .order_by(ReclassifyRun.id.desc())
        .limit(1)
    )


def reclassify_command(
    change_id: Annotated[int, typer.Argument(help="Numéro de la modification du référentiel", min=1)],
    preview_only: Annotated[
        bool, typer.Option("--preview", help="Montre ce qui changerait, sans rien écrire.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Reclasse les documents et éléments de veille qu'une modification du référentiel peut toucher."""
    from tfe.app.jobs import reclassify

    rt = runtime()
    run_id: int | None = None
    try:
        with rt.session() as session:
            if session.get(TaxonomyChange, change_id) is None:
                fail(f"modification du référentiel {change_id} introuvable")
            run_id = None if preview_only else _resumable(session, change_id)
            if run_id is None:
                run = reclassify.preview(session, change_id, None, rt=rt)
                run_id, body = run.id, reclassify.as_dict(run)
            action = "taxonomy.reclassify.preview" if preview_only else "taxonomy.reclassify.start"
            audit.record(session, action, CLI, target_kind="taxonomy_change", target_id=str(change_id))
        if not preview_only:
            shown = sys.stderr.isatty() and not as_json
            with tqdm(desc="reclassement", unit="cible", disable=not shown, file=sys.stderr) as bar:

                def progress(done: int, total: int) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                assert run_id is not None
                body = reclassify.run(rt.session_factory, run_id, progress, rt=rt)
    except TfeError as exc:
        fail(str(exc))
    except Exception as exc:  # the run is marked failed with its cursor: running again resumes it
        fail(f"reclassement {run_id} interrompu ({type(exc).__name__}: {exc}) ; relancez pour reprendre")
    if as_json:
        emit_json(body)
        return
    echo(f"Reclassement {body['id']} ({body['status']}) : {body['done']}/{body['total']} cible(s)")
    echo(body["summary"])
