"""``tfe indicators export``: the quarterly report of the contract, from the operator's machine;
``tfe indicators rollup``: the roll-ups of the closed weeks and months (``tfe.app.rollups``) brought up to
date now, with the watch's and quality's (``tfe.app.rollups_watch``; the hourly housekeeping job does it
too), from a day again (``--since``) or all again (``--rebuild``); one progress bar on stderr for the
whole run (on a terminal, or ``--progress``), a JSON summary on stdout; audited (``indicators.rollup``).

The operator sees every scope (as the national agency's administrators do); the CSV has one row per
(section, metric, dimensions, grain, bucket) with the value, a suppressed cell's value empty; the JSON is
the API's answer. Bad period or scope: one line on stderr, exit 2. Audited (``indicators.export``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from tfe.app.cli.common import fail, runtime
from tfe.app.indicators.periods import parse_period
from tfe.app.indicators.scopes import parse_scope, resolve
from tfe.app.indicators.service import compute
from tfe.app.rollups import run as roll_up
from tfe.core.csvcells import safe_cell
from tfe.core.security import audit
from tfe.core.security.audit import Actor

indicators_app = typer.Typer(
    help="Indicateurs du réseau, des régions et des organisations.", no_args_is_help=True
)

COLUMNS = ("section", "metric", "dimensions", "grain", "bucket", "value", "suppressed")
FORMATS = ("csv", "json")


@indicators_app.command("export")
def export(
    period: Annotated[str, typer.Option(help="2026-Q4, 2026-11, 2026-W48, 2026 ou 2026-11-01..2026-11-30")],
    scope: Annotated[str, typer.Option(help="network, region:CODE ou org:SLUG")] = "network",
    fmt: Annotated[str, typer.Option("--format", help="csv ou json")] = "csv",
    output: Annotated[Path | None, typer.Option(help="Fichier écrit (sinon la sortie standard)")] = None,
) -> None:
    """Exporte les indicateurs d'une période (cellules de moins de 5 personnes vides)."""
    if fmt not in FORMATS:
        fail(f"format inconnu {fmt!r} : attendu csv ou json")
    chosen = parse_period(period)
    parse_scope(scope)
    rt = runtime()
    with rt.session() as session:
        result = compute(session, resolve(session, scope), chosen)
        audit.record(
            session,
            "indicators.export",
            Actor.system("cli"),
            target_kind="indicators",
            target_id=result.scope.text,
            detail={"scope": result.scope.text, "period": chosen.label, "format": fmt},
        )
    if fmt == "json":
        text = json.dumps(result.as_dict(), ensure_ascii=False, indent=2) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in result.rows())
        text = buffer.getvalue()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@indicators_app.command("rollup")
def rollup(
    since: Annotated[
        str | None, typer.Option(help="Refaire les semaines et mois à partir de ce jour (AAAA-MM-JJ)")
    ] = None,
    rebuild: Annotated[bool, typer.Option(help="Tout refaire depuis le premier événement")] = False,
    progress: Annotated[
        bool | None,
        typer.Option("--progress/--no-progress", help="Barre de progression (par défaut : sur un terminal)"),
    ] = None,
) -> None:
    """Met à jour les agrégats des indicateurs (périodes terminées du journal et de la veille)."""
    day: dt.date | None = None
    if since is not None:
        try:
            day = dt.date.fromisoformat(since)
        except ValueError:
            fail(f"date invalide {since!r} : attendu AAAA-MM-JJ")
    rt = runtime()
    shown = sys.stderr.isatty() if progress is None else progress
    # one bar for the whole run: the audit trail's weeks and months, then the watch's days to years
    with tqdm(desc="agrégats", unit="période", disable=not shown, file=sys.stderr) as bar:

        def step(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        summary = roll_up(rt.session_factory, since=day, rebuild=rebuild, progress=step)
    with rt.session() as session:
        audit.record(
            session,
            "indicators.rollup",
            Actor.system("cli"),
            target_kind="indicators",
            detail={"since": since, "rebuild": rebuild, **summary},
        )
    typer.echo(json.dumps(summary))
