"""``tfe demo-activity``: weeks of the demo colleagues' simulated activity, for the dashboards."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tfe.app.cli.common import JsonOpt, echo, emit_json, fail, runtime
from tfe.app.demo.activity import DEFAULT_SEED, MAX_WEEKS, simulate_activity
from tfe.core.errors import TfeError

DEFAULT_WEEKS = 8
WeeksOpt = Annotated[
    int,
    typer.Option(
        "--weeks",
        min=0,
        max=MAX_WEEKS,
        help="Semaines d'activité simulée des collègues du réseau, jusqu'à hier (une fois par installation)",
    ),
]


def activity_line(report: dict[str, Any]) -> str:
    return (
        f"Historique : {report['weeks']} semaines simulées ({report['start']} → {report['end']}), "
        f"{report['users']} collègues, {report['searches']} recherches dont {report['empty_searches']} "
        f"sans résultat, {report['reads']} lectures, {report['downloads']} téléchargements, "
        f"{report['subscriptions']} alertes créées, {report['unsubscriptions']} désabonnements, "
        f"{report['corrections']} revues de classement, {report['alerts_sent']} envois"
    )


def demo_activity(
    weeks: WeeksOpt = DEFAULT_WEEKS,
    seed: Annotated[int, typer.Option(help="Graine du tirage (même graine, même historique)")] = DEFAULT_SEED,
    json_out: JsonOpt = False,
) -> None:
    """Simule des semaines d'activité des collègues de démonstration (comptes, recherches, lectures,
    téléchargements, alertes, revues de classement) par les chemins de la plateforme, horloge simulée.

    À lancer après le chargement de la démonstration (tfe demo), une seule fois par installation.
    """
    if weeks < 1:
        fail("--weeks must be at least 1")
    rt = runtime()
    try:
        report = simulate_activity(rt, weeks=weeks, seed=seed, progress=not json_out).as_dict()
    except TfeError as exc:  # already simulated, no demo organisations: one line
        fail(exc.message)
    if json_out:
        emit_json(report)
    else:
        echo(activity_line(report))
